/// A batch of equal-length rows seen as the prefix tree they form, without building it: the rows in
/// lexicographic order and, for each, how many leading tokens it shares with the row before it. A row starts
/// its own branch of the tree at the first position where it differs from its predecessor, so the tree has
/// Σ (length − shared) nodes.
struct PrefixTree {
    let tokens: [Int32]
    let rows: Int
    let length: Int
    /// Row indices in lexicographic order of their tokens (ties in row order).
    let order: [Int]
    /// `shared[j]`: the longest common prefix of rows `order[j - 1]` and `order[j]`; 0 for the first.
    let shared: [Int]
    let nodes: Int

    init(tokens: [Int32], rows: Int, length: Int) {
        self.tokens = tokens
        self.rows = rows
        self.length = length
        let order = tokens.withUnsafeBufferPointer { t in
            (0..<rows).sorted { a, b in
                for i in 0..<length where t[a * length + i] != t[b * length + i] {
                    return t[a * length + i] < t[b * length + i]
                }
                return a < b
            }
        }
        var shared = [Int](repeating: 0, count: rows)
        tokens.withUnsafeBufferPointer { t in
            for j in order.indices.dropFirst() {
                let (a, b) = (order[j - 1] * length, order[j] * length)
                var common = 0
                while common < length && t[a + common] == t[b + common] { common += 1 }
                shared[j] = common
            }
        }
        self.order = order
        self.shared = shared
        nodes = shared.reduce(rows * length) { $0 - $1 }
    }

    /// `count` contiguous runs of `order` of nearly equal size; each is scored as a tree of its own.
    func pieces(_ count: Int) -> [Range<Int>] {
        (0..<count).map { ($0 * rows / count)..<(($0 + 1) * rows / count) }.filter { !$0.isEmpty }
    }
}

extension Transformer {
    /// Rows one prefix tree's walk holds in its KV cache (each slot is layers × 2 × context × width floats).
    static let prefixTreeSlots = 64

    /// `score` through the batch's prefix tree: position by position, every node at that depth goes through
    /// `CachedStep` once, with the KV cache of the row that opened it; a row that branches off takes a copy of
    /// its branch point's cache. Each row's outputs at a position are its node's, so the result is the batched
    /// forward pass's, bit for bit (the cached step repeats its arithmetic exactly; `PrefixTreeScoringTests`).
    func scoreByPrefixTree(_ tree: PrefixTree, pool: ComputePool) -> ScoreOutput {
        let count = tree.rows * tree.length
        let hasLanguageModel = config.head.hasLanguageModel
        let hasScalar = config.head.hasScalar
        var logProbabilities = [Float](repeating: 0, count: hasLanguageModel ? count : 0)
        var scalar = [Float](repeating: 0, count: hasScalar ? count : 0)
        guard tree.rows > 0 else { return ScoreOutput(nextTokenLogProb: logProbabilities, scalar: scalar) }
        let packed = PackedWeights(model: self, pool: pool)
        // Enough rows give each thread whole trees of its own (no synchronization inside a step); a piece
        // boundary only costs the prefix its two sides would have shared.
        let threads = pool.activeThreads
        let byPiece = threads > 1 && tree.rows >= 32 * threads
        let pieceCount = max((tree.rows + Self.prefixTreeSlots - 1) / Self.prefixTreeSlots, byPiece ? threads : 1)
        let pieces = tree.pieces(pieceCount)
        logProbabilities.withUnsafeMutableBufferPointer { logProbabilities in
            scalar.withUnsafeMutableBufferPointer { scalar in
                let out = PrefixTreeOutput(logProbabilities: logProbabilities, scalar: scalar)
                if byPiece {
                    pool.parallelForWorkers(pieces.count) { range, worker in
                        for index in range {
                            walk(tree, piece: pieces[index], packed: packed, out: out, pool: pool.serial(worker))
                        }
                    }
                } else {
                    for piece in pieces { walk(tree, piece: piece, packed: packed, out: out, pool: pool) }
                }
            }
        }
        return ScoreOutput(nextTokenLogProb: logProbabilities, scalar: scalar)
    }

    private struct PrefixTreeOutput: @unchecked Sendable {
        // Pieces write disjoint rows.
        let logProbabilities: UnsafeMutableBufferPointer<Float>
        let scalar: UnsafeMutableBufferPointer<Float>
    }

    /// One piece of `order` as a tree of its own; slot j of the cache belongs to the piece's j-th row.
    private func walk(
        _ tree: PrefixTree, piece: Range<Int>, packed: PackedWeights, out: PrefixTreeOutput, pool: ComputePool
    ) {
        let (length, n, v) = (tree.length, piece.count, config.vocabularySize)
        let step = CachedStep(model: self, packed: packed, rows: n, pool: pool)
        let rows = Array(tree.order[piece])
        // `owner[j]`: the slot of the node row j is in at the current depth (the first row of that node).
        var owner = [Int](repeating: 0, count: n)
        var nodeRow = [Int](repeating: 0, count: n)  // slot → its row in the step's outputs
        var gathered = [Float](repeating: 0, count: n * v)
        var targets = [Int32](repeating: 0, count: n)
        var logProbabilities = [Float](repeating: 0, count: n)
        tree.tokens.withUnsafeBufferPointer { tokens in
            for position in 0..<length {
                var slots: [Int] = []
                for j in 0..<n {
                    let shared = j == 0 ? 0 : tree.shared[piece.lowerBound + j]
                    if shared <= position {
                        // Row j is on a node of its own from here; where it leaves its predecessor's branch, it
                        // takes that branch's keys and values so far.
                        if shared == position && position > 0 {
                            step.copyPrefix(from: owner[j], to: j, positions: position)
                        }
                        owner[j] = j
                        nodeRow[j] = slots.count
                        slots.append(j)
                    } else {
                        owner[j] = owner[j - 1]
                    }
                }
                let logits = step.run(
                    slots: slots, tokens: slots.map { tokens[rows[$0] * length + position] }, position: position,
                    pool: pool)
                if config.head.hasScalar {
                    for j in 0..<n {
                        out.scalar[rows[j] * length + position] = Elementary.sigmoid(
                            step.scalarLogits[nodeRow[owner[j]]])
                    }
                }
                if config.head.hasLanguageModel {
                    // The softmax works in place, so each row gets its own copy of its node's logits; the last
                    // position's target is -1, as in the batched pass.
                    for j in 0..<n {
                        targets[j] = position + 1 < length ? tokens[rows[j] * length + position + 1] : -1
                    }
                    gathered.withUnsafeMutableBufferPointer { gathered in
                        for j in 0..<n {
                            (gathered.baseAddress! + j * v).update(from: logits + nodeRow[owner[j]] * v, count: v)
                        }
                        targets.withUnsafeBufferPointer { targets in
                            logProbabilities.withUnsafeMutableBufferPointer { logProbabilities in
                                Losses.softmaxLogProbabilities(
                                    logits: gathered.baseAddress!, targets: targets.baseAddress!, rows: n,
                                    vocabulary: v, logProbabilities: logProbabilities.baseAddress!, pool: pool)
                            }
                        }
                    }
                    for j in 0..<n { out.logProbabilities[rows[j] * length + position] = logProbabilities[j] }
                }
            }
        }
    }
}
