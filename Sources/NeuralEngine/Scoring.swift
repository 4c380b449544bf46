/// Per-position outputs of `Transformer.score`, each batchSize x length, row-major.
public struct ScoreOutput: Sendable {
    /// log P(tokens[t+1] | tokens[...t]) at position t; 0 at each row's last position.
    /// Empty when the model has no language-model head.
    public var nextTokenLogProb: [Float]
    /// The scalar head's probability (sigmoid) at each position; empty when the model has no scalar head.
    public var scalar: [Float]

    public init(nextTokenLogProb: [Float], scalar: [Float]) {
        self.nextTokenLogProb = nextTokenLogProb
        self.scalar = scalar
    }
}

extension Transformer {
    /// Rows scored at once: bounds the activations' memory. Rows are independent, so it changes no value. Eight
    /// rows of the running-sum experiment's 85 tokens keep a chunk's activations near the core's own caches: with 32,
    /// each element-wise pass (GELU, norms, residuals) streamed megabytes from shared memory, and the batched pass
    /// scored 15 % fewer sequences a second (`e2h-bench score`, AVX2; 4 and 16 rows were slower too).
    public static let scoringChunk = 8

    /// Forward only: for each position t of each row, log P(tokens[t+1] | tokens[...t]) and the scalar
    /// head's probability where the model has one. The pool's thread count never changes a bit.
    ///
    /// Rows that share prefixes (the N samples of one question) are scored through the prefix tree of the
    /// batch when that tree has at most `prefixTreeShare` of the batch's tokens: each distinct prefix goes
    /// through the KV-cached step once (`scoreByPrefixTree`). That step computes every row exactly as the
    /// batched forward pass does, so which way a batch goes changes no bit, only the time.
    public func score(tokens: [Int32], batchSize: Int, length: Int, pool: ComputePool) -> ScoreOutput {
        score(tokens: tokens, batchSize: batchSize, length: length, pool: pool, route: nil)
    }

    /// A prefix tree with at most this share of a batch's tokens is scored node by node. The cached step does
    /// a token at about 0.7x the batched pass's rate (`e2h-bench score`'s `score-pool`: half the tokens, 1.4x),
    /// so this is where the tree stops paying.
    static let prefixTreeShare = 0.7

    /// How `score` computes a batch; nil chooses by the batch's prefix tree (tests and `e2h-bench score` force
    /// each way).
    public enum ScoringRoute: Sendable {
        case batchedForward
        case prefixTree
    }

    public func score(
        tokens: [Int32], batchSize: Int, length: Int, pool: ComputePool, route: ScoringRoute?
    )
        -> ScoreOutput
    {
        precondition(tokens.count == batchSize * length, "tokens must hold batchSize x length values")
        precondition(length >= 1 && length <= config.contextLength, "length \(length) exceeds the context")
        precondition(tokens.allSatisfy { $0 >= 0 && Int($0) < config.vocabularySize }, "token out of vocabulary")
        func batched() -> ScoreOutput {
            scoreByBatchedForward(tokens: tokens, batchSize: batchSize, length: length, pool: pool)
        }
        // A forced batched pass skips the tree: building it sorts the batch's rows.
        if route == .batchedForward { return batched() }
        let tree = PrefixTree(tokens: tokens, rows: batchSize, length: length)
        if route == .prefixTree || Double(tree.nodes) <= Self.prefixTreeShare * Double(tokens.count) {
            return scoreByPrefixTree(tree, pool: pool)
        }
        return batched()
    }

    private func scoreByBatchedForward(tokens: [Int32], batchSize: Int, length: Int, pool: ComputePool) -> ScoreOutput {
        let hasLanguageModel = config.head.hasLanguageModel
        let hasScalar = config.head.hasScalar
        var logProbabilities = [Float](repeating: 0, count: hasLanguageModel ? tokens.count : 0)
        var scalar = [Float](repeating: 0, count: hasScalar ? tokens.count : 0)
        let chunk = min(batchSize, Self.scoringChunk)
        guard chunk > 0 else { return ScoreOutput(nextTokenLogProb: [], scalar: []) }
        let packed = PackedWeights(model: self, pool: pool)
        // Next-token targets; -1 at the last position gives log-probability 0 there.
        let targets = (0..<tokens.count).map { i in i % length == length - 1 ? Int32(-1) : tokens[i + 1] }
        let chunks = (batchSize + chunk - 1) / chunk
        // With a few chunks per thread, each thread scores whole chunks on its own (no synchronization
        // inside a forward pass); otherwise the chunks go one by one, each spread over the threads.
        let threads = pool.activeThreads
        let byChunk = threads > 1 && chunks >= 2 * threads
        var buffers = [Activations?](repeating: nil, count: pool.threads)
        tokens.withUnsafeBufferPointer { tokens in
            targets.withUnsafeBufferPointer { targets in
                logProbabilities.withUnsafeMutableBufferPointer { logProbabilities in
                    scalar.withUnsafeMutableBufferPointer { scalar in
                        buffers.withUnsafeMutableBufferPointer { buffers in
                            func scoreChunk(_ index: Int, worker: Int, pool: ComputePool) {
                                let first = index * chunk
                                let rows = min(chunk, batchSize - first)
                                let offset = first * length
                                if buffers[worker]?.batch != rows {
                                    buffers[worker] = Activations(
                                        config: config, batch: rows, length: length, keepsLayers: false)
                                }
                                let activations = buffers[worker]!
                                forward(
                                    tokens: tokens.baseAddress! + offset, activations: activations, packed: packed,
                                    pool: pool)
                                let count = rows * length
                                if hasLanguageModel {
                                    Losses.softmaxLogProbabilities(
                                        logits: activations.logits, targets: targets.baseAddress! + offset,
                                        rows: count, vocabulary: config.vocabularySize,
                                        logProbabilities: logProbabilities.baseAddress! + offset, pool: pool)
                                }
                                if hasScalar {
                                    for i in 0..<count {
                                        scalar[offset + i] = Elementary.sigmoid(activations.scalarLogits[i])
                                    }
                                }
                            }
                            if byChunk {
                                pool.parallelForWorkers(chunks) { range, worker in
                                    for index in range { scoreChunk(index, worker: worker, pool: pool.serial(worker)) }
                                }
                            } else {
                                for index in 0..<chunks { scoreChunk(index, worker: 0, pool: pool) }
                            }
                        }
                    }
                }
            }
        }
        return ScoreOutput(nextTokenLogProb: logProbabilities, scalar: scalar)
    }
}
