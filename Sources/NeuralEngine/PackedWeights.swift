/// Every matmul weight of a model packed once for the GEMM, for passes that reuse the same weights
/// many times (sampling runs one small forward per position; scoring runs many chunks). Valid only
/// while the weights do not change.
final class PackedWeights {
    struct Block {
        var qkv, attentionProjection, mlp, mlpProjection: GEMM.PackedPanels
    }

    let arena: FloatArena
    let blocks: [Block]
    let languageModelHead: GEMM.PackedPanels?

    init(model: Transformer, pool: ComputePool) {
        let config = model.config
        let (c, hidden) = (config.width, config.hiddenWidth)
        let shapes = [(3 * c, c), (c, c), (hidden, c), (c, hidden)]  // (outputs n, inputs k) per block matrix
        let perBlock = shapes.reduce(0) { $0 + GEMM.PackedPanels.storage(k: $1.1, n: $1.0) }
        let head = config.head.hasLanguageModel ? GEMM.PackedPanels.storage(k: c, n: config.vocabularySize) : 0
        arena = FloatArena(count: perBlock * config.layers + head)
        var next = arena.base
        func pack(_ weight: UnsafePointer<Float>, outputs n: Int, inputs k: Int) -> GEMM.PackedPanels {
            let packed = GEMM.pack(.transposed(weight, columns: k), k: k, n: n, into: next, pool: pool)
            next += GEMM.PackedPanels.storage(k: k, n: n)
            return packed
        }
        let p = model.tensors
        blocks = p.blocks.map { w in
            Block(
                qkv: pack(w.qkvWeight, outputs: 3 * c, inputs: c),
                attentionProjection: pack(w.attentionProjectionWeight, outputs: c, inputs: c),
                mlp: pack(w.mlpWeight, outputs: hidden, inputs: c),
                mlpProjection: pack(w.mlpProjectionWeight, outputs: c, inputs: hidden))
        }
        languageModelHead = p.languageModelHead.map { pack($0, outputs: config.vocabularySize, inputs: c) }
    }
}
