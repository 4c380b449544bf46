/// The forward pass's buffers for one batch shape, carved out of one arena. With `keepsLayers`
/// false (scoring), every layer reuses the same block buffers, since nothing needs them afterwards.
final class Activations {
    struct Block {
        var norm1, norm1Mean, norm1Rstd, qkv, probabilities, attention: UnsafeMutablePointer<Float>
        var residual2, norm2, norm2Mean, norm2Rstd, hidden, hiddenGelu, residual3: UnsafeMutablePointer<Float>
    }

    let batch: Int
    let length: Int
    let arena: FloatArena
    let encoded: UnsafeMutablePointer<Float>
    let blocks: [Block]
    let finalNorm, finalMean, finalRstd: UnsafeMutablePointer<Float>
    /// Logits, turned into probabilities in place by the loss.
    let logits: UnsafeMutablePointer<Float>
    let logProbabilities: UnsafeMutablePointer<Float>
    let scalarLogits: UnsafeMutablePointer<Float>
    /// Output of a projection before it is added to the residual stream.
    let projection: UnsafeMutablePointer<Float>

    var rows: Int { batch * length }

    init(config: ModelConfig, batch: Int, length: Int, keepsLayers: Bool) {
        self.batch = batch
        self.length = length
        let rows = batch * length
        let c = config.width
        let hidden = config.hiddenWidth
        var sizes: [Int] = []
        func reserve(_ count: Int) -> Int {
            sizes.append((count + 15) / 16 * 16 + 16)  // +16: vector loads may read one vector past a row
            return sizes.count - 1
        }
        let encodedSlot = reserve(rows * c)
        let blockSize = [
            rows * c, rows, rows, rows * 3 * c, batch * config.heads * length * length, rows * c,
            rows * c, rows * c, rows, rows, rows * hidden, rows * hidden, rows * c,
        ]
        var blockSlots: [[Int]] = []
        for l in 0..<config.layers where keepsLayers || l == 0 {
            blockSlots.append(blockSize.map(reserve))
        }
        let finalSlots = [rows * c, rows, rows].map(reserve)
        let logitsSlot = reserve(rows * config.vocabularySize)
        let logProbabilitySlot = reserve(rows)
        let scalarSlot = reserve(rows)
        let projectionSlot = reserve(rows * c)

        var offsets: [Int] = []
        var total = 0
        for size in sizes {
            offsets.append(total)
            total += size
        }
        arena = FloatArena(count: total)
        let base = arena.base
        func at(_ slot: Int) -> UnsafeMutablePointer<Float> { base + offsets[slot] }
        encoded = at(encodedSlot)
        let distinct = blockSlots.map { s in
            Block(
                norm1: at(s[0]), norm1Mean: at(s[1]), norm1Rstd: at(s[2]), qkv: at(s[3]), probabilities: at(s[4]),
                attention: at(s[5]), residual2: at(s[6]), norm2: at(s[7]), norm2Mean: at(s[8]), norm2Rstd: at(s[9]),
                hidden: at(s[10]), hiddenGelu: at(s[11]), residual3: at(s[12]))
        }
        blocks = (0..<config.layers).map { distinct[keepsLayers ? $0 : 0] }
        finalNorm = at(finalSlots[0])
        finalMean = at(finalSlots[1])
        finalRstd = at(finalSlots[2])
        logits = at(logitsSlot)
        logProbabilities = at(logProbabilitySlot)
        scalarLogits = at(scalarSlot)
        projection = at(projectionSlot)
    }
}

/// Gradients of the activations during backward. Layers run one at a time, so one set of
/// per-layer buffers serves them all.
final class ActivationGradients {
    let arena: FloatArena
    let residual, norm, qkv, attention, hidden, hiddenGelu, finalNorm: UnsafeMutablePointer<Float>

    init(config: ModelConfig, batch: Int, length: Int) {
        let rows = batch * length
        let c = config.width
        let sizes = [
            rows * c, rows * c, rows * 3 * c, rows * c, rows * config.hiddenWidth, rows * config.hiddenWidth,
            rows * c,
        ]
        arena = FloatArena(count: sizes.reduce(0, +))
        var offset = 0
        var pointers: [UnsafeMutablePointer<Float>] = []
        for size in sizes {
            pointers.append(arena.base + offset)
            offset += size
        }
        (residual, norm, qkv, attention, hidden, hiddenGelu, finalNorm) =
            (pointers[0], pointers[1], pointers[2], pointers[3], pointers[4], pointers[5], pointers[6])
    }
}
