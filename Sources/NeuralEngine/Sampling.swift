import Randomness

/// How sampled tokens are chosen from the logits.
public struct SamplingOptions: Sendable, Hashable {
    /// 0 (or less) means greedy: the most likely token, lowest id on ties; no random draw is made.
    public var temperature: Float
    /// Keep only the k most likely tokens (lowest ids first on ties) before drawing; nil keeps all.
    public var topK: Int?
    /// A row ends after the model writes one of these (forced tokens never end a row).
    public var stopTokens: [Int32]

    public init(temperature: Float = 1, topK: Int? = nil, stopTokens: [Int32] = []) {
        self.temperature = temperature
        self.topK = topK
        self.stopTokens = stopTokens
    }
}

extension Transformer {
    /// Rows generated together: bounds the KV cache's memory. Rows are independent, so it changes no token.
    static let samplingChunk = 64

    /// Batched sampling with a KV cache. `templates[i]` is the full sequence layout of row i: values
    /// >= 0 are forced tokens (the prompt, and environment-supplied tokens at fixed positions), -1 marks
    /// a position the model writes; position 0 must be forced and a template may not exceed the
    /// context. Generation of a row ends at a stop token the model wrote or at the end of its
    /// template; the result holds the row's tokens up to there. Row i draws from
    /// RandomGenerator(seed: seed, stream: streams[i]), so a row's tokens depend on neither the batch
    /// it is in nor the pool's thread count.
    public func sample(
        templates: [[Int32]], streams: [UInt64], seed: UInt64, options: SamplingOptions, pool: ComputePool
    ) -> [[Int32]] {
        generate(templates: templates, streams: streams, seed: seed, options: options, pool: pool, cached: true)
    }

    /// The sampler. `cached: false` recomputes the whole prefix at every position instead of using the
    /// KV cache (the reference the cache is tested against); `observe` sees each row's logits before
    /// each position it fills.
    func generate(
        templates: [[Int32]], streams: [UInt64], seed: UInt64, options: SamplingOptions, pool: ComputePool,
        cached: Bool,
        observe: ((_ row: Int, _ position: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)? = nil
    ) -> [[Int32]] {
        precondition(config.head.hasLanguageModel, "sampling needs a language-model head")
        precondition(streams.count == templates.count, "one RNG stream per template")
        for template in templates {
            precondition(!template.isEmpty && template[0] >= 0, "a template must start with a forced token")
            precondition(template.count <= config.contextLength, "a template is longer than the context")
            precondition(
                template.allSatisfy { $0 >= -1 && Int($0) < config.vocabularySize }, "template token out of range")
        }
        // Rows are independent, so with enough of them each thread takes its own groups of rows through
        // whole positions, with no synchronization inside a step; a few rows share every step instead.
        // Large batches get several groups per thread, so a thread slowed down by another process
        // leaves its unclaimed groups to the others.
        let threads = pool.activeThreads
        let perThread = templates.count >= 256 * threads ? 4 : 1
        let groups = observe == nil ? max(1, min(templates.count / 16, threads * perThread)) : 1
        let packed = PackedWeights(model: self, pool: pool)
        if groups == 1 {
            return generateRows(
                0..<templates.count, templates: templates, streams: streams, seed: seed, options: options,
                packed: packed, pool: pool, cached: cached, observe: observe)
        }
        var results = [[Int32]](repeating: [], count: templates.count)
        results.withUnsafeMutableBufferPointer { out in
            // At most 4 groups per thread, so each piece of the loop is one group.
            pool.parallelForWorkers(groups) { range, worker in
                for group in range {
                    let rows = (group * templates.count / groups)..<((group + 1) * templates.count / groups)
                    let sampled = generateRows(
                        rows, templates: templates, streams: streams, seed: seed, options: options, packed: packed,
                        pool: pool.serial(worker), cached: cached, observe: nil)
                    for (row, tokens) in zip(rows, sampled) { out[row] = tokens }
                }
            }
        }
        return results
    }

    private func generateRows(
        _ rowRange: Range<Int>, templates: [[Int32]], streams: [UInt64], seed: UInt64, options: SamplingOptions,
        packed: PackedWeights, pool: ComputePool, cached: Bool,
        observe: ((_ row: Int, _ position: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?
    ) -> [[Int32]] {
        let v = config.vocabularySize
        var results = rowRange.map { [templates[$0][0]] }
        // One cache for all chunks: a position is always written before it is read.
        let step =
            cached
            ? CachedStep(model: self, packed: packed, rows: min(Self.samplingChunk, rowRange.count), pool: pool) : nil
        var first = rowRange.lowerBound
        while first < rowRange.upperBound {
            let rows = Array(first..<min(rowRange.upperBound, first + Self.samplingChunk))
            var generators = rows.map { RandomGenerator(seed: seed, stream: streams[$0]) }
            var active = rows.indices.filter { templates[rows[$0]].count > 1 }  // chunk-local indices
            // `owner[local]`: the cache slot that holds row `local`'s tokens so far (before position 0, none do).
            var owner = [Int](repeating: 0, count: rows.count)
            // The step's output row that row `active[m]` reads its logits from (cached steps).
            var outputRow: [Int] = []
            var position = 0
            while !active.isEmpty {
                let logits: UnsafePointer<Float>
                var uncached: Activations?
                if let step {
                    // Rows with the same tokens so far have the same logits (the N samples of a question share
                    // long prefixes), so the step runs once per distinct prefix, in the slot of the first row
                    // that has it; a row whose token differs from its group's goes on in its own slot, with a
                    // copy of the group's keys and values. Each row still draws from its own generator.
                    var computed: [Int] = []
                    var group: [Int: Int] = [:]  // (owner, token) → index into `computed`
                    outputRow.removeAll(keepingCapacity: true)
                    for local in active {
                        let token = Int(results[rows[local] - rowRange.lowerBound][position])
                        let key = owner[local] * v + token
                        if let index = group[key] {
                            outputRow.append(index)
                            owner[local] = computed[index]
                        } else {
                            if position > 0 && owner[local] != local {
                                step.copyPrefix(from: owner[local], to: local, positions: position)
                            }
                            group[key] = computed.count
                            outputRow.append(computed.count)
                            computed.append(local)
                            owner[local] = local
                        }
                    }
                    logits = step.run(
                        slots: computed, tokens: computed.map { results[rows[$0] - rowRange.lowerBound][position] },
                        position: position, pool: pool)
                } else {
                    let activations = Activations(
                        config: config, batch: active.count, length: position + 1, keepsLayers: false)
                    let prefix = active.flatMap { results[rows[$0] - rowRange.lowerBound] }
                    prefix.withUnsafeBufferPointer {
                        forward(tokens: $0.baseAddress!, activations: activations, packed: packed, pool: pool)
                    }
                    uncached = activations
                    logits = UnsafePointer(activations.logits)
                }
                let rowStride = cached ? v : (position + 1) * v
                let rowOffset = cached ? 0 : position * v
                var stillActive: [Int] = []
                for (m, local) in active.enumerated() {
                    let row = rows[local]
                    let next = position + 1
                    let rowLogits = logits + (cached ? outputRow[m] : m) * rowStride + rowOffset
                    observe?(row, next, UnsafeBufferPointer(start: rowLogits, count: v))
                    let forced = templates[row][next]
                    let token =
                        forced >= 0
                        ? forced : Self.choose(rowLogits, vocabulary: v, options: options, random: &generators[local])
                    results[row - rowRange.lowerBound].append(token)
                    let stopped = forced < 0 && options.stopTokens.contains(token)
                    if !stopped && next + 1 < templates[row].count { stillActive.append(local) }
                }
                withExtendedLifetime(uncached) {}
                active = stillActive
                position += 1
            }
            first += rows.count
        }
        return results
    }

    /// The next token from one row's logits: greedy at temperature 0, else a draw from the
    /// temperature-scaled softmax over the top-k logits.
    static func choose(
        _ logits: UnsafePointer<Float>, vocabulary v: Int, options: SamplingOptions, random: inout RandomGenerator
    ) -> Int32 {
        if options.temperature <= 0 {
            var best = 0
            for i in 1..<v where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var scaled = (0..<v).map { logits[$0] / options.temperature }
        if let k = options.topK, k > 0, k < v {
            // Keep the k largest, lowest ids first among equal values: everything above the k-th
            // largest value, then ties at that value in id order until k are kept.
            let threshold = scaled.sorted(by: >)[k - 1]
            var tiesLeft = k - scaled.lazy.filter { $0 > threshold }.count
            for i in 0..<v where scaled[i] <= threshold {
                if scaled[i] == threshold && tiesLeft > 0 {
                    tiesLeft -= 1
                } else {
                    scaled[i] = -.infinity
                }
            }
        }
        return scaled.withUnsafeMutableBufferPointer { p in
            _ = Losses.softmaxRow(p.baseAddress!, v, target: -1)
            let u = random.nextUniform()
            var cumulative: Float = 0
            var last = 0
            for i in 0..<v where p[i] > 0 {
                cumulative += p[i]
                last = i
                if u < cumulative { return Int32(i) }
            }
            return Int32(last)
        }
    }
}

/// One position of the forward pass for a set of rows, reading and extending their KV cache. It
/// calls the same layer functions as the full forward pass, on the same values, which is why it
/// reproduces the uncached logits exactly.
final class CachedStep {
    let model: Transformer
    let packed: PackedWeights
    /// Rows the cache holds (slots 0..<rows).
    let rows: Int
    let capacity: Int
    let keyStride: Int
    // Per layer and row: keys transposed per head [head][headSize][keyStride], values [capacity][width].
    let keys, values: UnsafeMutablePointer<Float>
    let x, norm, mean, rstd, qkv, attention, projection, hidden, hiddenGelu, logits: UnsafeMutablePointer<Float>
    /// The scalar head's logit per row of the last `run`, when the model has a scalar head.
    let scalarLogits: UnsafeMutablePointer<Float>

    /// The buffers are the pool's cache (`ComputePool.cache`): a position is always written before it is read,
    /// so what an earlier call left there is never seen.
    init(model: Transformer, packed: PackedWeights, rows: Int, pool: ComputePool) {
        self.model = model
        self.packed = packed
        let config = model.config
        capacity = config.contextLength
        let keyStride = (capacity + 15) / 16 * 16
        self.keyStride = keyStride
        let c = config.width
        let sizes = [
            config.layers * rows * c * keyStride, config.layers * rows * capacity * c, rows * c, rows * c, rows, rows,
            rows * 3 * c, rows * c, rows * c, rows * config.hiddenWidth, rows * config.hiddenWidth,
            rows * config.vocabularySize, rows,
        ]
        var offsets: [Int] = []
        var total = 0
        for size in sizes {
            offsets.append(total)
            total += (size + 15) / 16 * 16 + 16
        }
        let base = pool.cache(count: total)
        let p = offsets.map { base + $0 }
        (keys, values, x, norm, mean, rstd, qkv, attention) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
        (projection, hidden, hiddenGelu, logits, scalarLogits) = (p[8], p[9], p[10], p[11], p[12])
        self.rows = rows
    }

    /// Gives slot `target` the keys and values slot `source` holds at positions 0..<positions: a row that
    /// shared `source`'s prefix until now goes on from there on its own.
    func copyPrefix(from source: Int, to target: Int, positions: Int) {
        let c = model.config.width
        for l in 0..<model.config.layers {
            let layerKeys = keys + l * rows * c * keyStride
            let from = layerKeys + source * c * keyStride
            let to = layerKeys + target * c * keyStride
            // Per layer and slot, keys are c rows (head by head, dimension by dimension) of keyStride positions.
            for i in 0..<c { (to + i * keyStride).update(from: from + i * keyStride, count: positions) }
            let layerValues = values + l * rows * capacity * c
            (layerValues + target * capacity * c).update(
                from: layerValues + source * capacity * c, count: positions * c)
        }
    }

    /// Feeds `tokens[m]` at `position` for cache rows `slots[m]`; returns the language-model head's logits, one
    /// row per slot (when the model has that head), and leaves the scalar head's in `scalarLogits`.
    @discardableResult
    func run(slots: [Int], tokens: [Int32], position: Int, pool: ComputePool) -> UnsafePointer<Float> {
        let config = model.config
        let (C, H) = (config.width, config.heads)
        let hs = C / H
        let m = slots.count
        let hiddenWidth = config.hiddenWidth
        let p = model.tensors
        for (row, token) in tokens.enumerated() {
            let o = x + row * C
            let e = p.tokenEmbedding + Int(token) * C
            let q = p.positionEmbedding + position * C
            for i in 0..<C { o[i] = e[i] + q[i] }
        }
        for l in 0..<config.layers {
            let w = p.blocks[l]
            Layers.layerNorm(
                out: norm, mean: mean, rstd: rstd, input: x, weight: w.norm1Weight, bias: w.norm1Bias, rows: m,
                width: C, pool: pool)
            Layers.linear(
                out: qkv, input: norm, weight: w.qkvWeight, bias: w.qkvBias, rows: m, inputWidth: C,
                outputWidth: 3 * C, packed: packed.blocks[l].qkv, pool: pool)
            let layerKeys = keys + l * rows * C * keyStride
            let layerValues = values + l * rows * capacity * C
            pool.parallelForWorkers(m) { range, worker in
                let probabilities = pool.scratch(1 + worker, count: H * keyStride)
                for row in range {
                    let slot = slots[row]
                    let source = qkv + row * 3 * C
                    let v = layerValues + slot * capacity * C
                    (v + position * C).update(from: source + 2 * C, count: C)
                    for h in 0..<H {
                        let k = layerKeys + (slot * H + h) * hs * keyStride
                        Attention.transposeKeys(
                            of: source + C + h * hs, rowStride: 3 * C, length: 1, headSize: hs, into: k + position,
                            keyStride: keyStride)
                        Attention.probabilities(
                            query: source + h * hs, transposedKeys: k, keyStride: keyStride, count: position + 1,
                            headSize: hs, into: probabilities + h * keyStride)
                    }
                    if hs % 16 == 0 {
                        Attention.weightedValuesAllHeads(
                            probabilities, probabilityStride: keyStride, values: v, count: position + 1, width: C,
                            headSize: hs, out: attention + row * C)
                    } else {
                        for h in 0..<H {
                            Attention.weightedValues(
                                probabilities + h * keyStride, values: v + h * hs, valueStride: C,
                                count: position + 1, headSize: hs, out: attention + row * C + h * hs)
                        }
                    }
                }
            }
            Layers.linear(
                out: projection, input: attention, weight: w.attentionProjectionWeight,
                bias: w.attentionProjectionBias, rows: m, inputWidth: C, outputWidth: C,
                packed: packed.blocks[l].attentionProjection, pool: pool)
            Layers.add(out: x, x, projection, count: m * C, pool: pool)
            Layers.layerNorm(
                out: norm, mean: mean, rstd: rstd, input: x, weight: w.norm2Weight, bias: w.norm2Bias, rows: m,
                width: C, pool: pool)
            Layers.linear(
                out: hidden, input: norm, weight: w.mlpWeight, bias: w.mlpBias, rows: m, inputWidth: C,
                outputWidth: hiddenWidth, packed: packed.blocks[l].mlp, pool: pool)
            Layers.gelu(out: hiddenGelu, input: hidden, count: m * hiddenWidth, pool: pool)
            Layers.linear(
                out: projection, input: hiddenGelu, weight: w.mlpProjectionWeight, bias: w.mlpProjectionBias,
                rows: m, inputWidth: hiddenWidth, outputWidth: C, packed: packed.blocks[l].mlpProjection, pool: pool)
            Layers.add(out: x, x, projection, count: m * C, pool: pool)
        }
        Layers.layerNorm(
            out: norm, mean: mean, rstd: rstd, input: x, weight: p.finalNormWeight, bias: p.finalNormBias, rows: m,
            width: C, pool: pool)
        if let head = p.languageModelHead {
            Layers.linear(
                out: logits, input: norm, weight: head, bias: nil, rows: m, inputWidth: C,
                outputWidth: config.vocabularySize, packed: packed.languageModelHead, pool: pool)
        }
        if let weight = p.scalarWeight, let bias = p.scalarBias {
            Losses.scalarLogits(
                out: scalarLogits, input: norm, weight: weight, bias: bias, rows: m, width: C, pool: pool)
        }
        return UnsafePointer(logits)
    }
}
