/// Where each named parameter tensor lives in a flat arena. Parameters, gradients and both AdamW
/// moments share this layout, so one set of offsets addresses all four.
struct ParameterLayout: Sendable {
    struct Tensor: Sendable {
        var name: String
        var shape: [Int]
        var offset: Int
        var count: Int
        /// Matrices and embeddings get weight decay; biases and LayerNorm gains do not.
        var decays: Bool
        /// Standard deviation of the initial values; nil means a constant (`constant`).
        var initialScale: Float?
        var constant: Float
    }

    struct Block: Sendable {
        var norm1Weight = 0, norm1Bias = 0, qkvWeight = 0, qkvBias = 0
        var attentionProjectionWeight = 0, attentionProjectionBias = 0
        var norm2Weight = 0, norm2Bias = 0, mlpWeight = 0, mlpBias = 0
        var mlpProjectionWeight = 0, mlpProjectionBias = 0
    }

    let config: ModelConfig
    private(set) var tensors: [Tensor] = []
    private(set) var count = 0
    private(set) var tokenEmbedding = 0
    private(set) var positionEmbedding = 0
    private(set) var blocks: [Block] = []
    private(set) var finalNormWeight = 0
    private(set) var finalNormBias = 0
    private(set) var languageModelHead: Int?
    private(set) var scalarWeight: Int?
    private(set) var scalarBias: Int?

    init(config: ModelConfig) {
        self.config = config
        let c = config.width
        let hidden = config.hiddenWidth
        let standard: Float = 0.02
        // GPT-2's scaling of the projections that write into the residual stream.
        let residual = standard / Float(2 * config.layers).squareRoot()
        tokenEmbedding = add("wte", [config.vocabularySize, c], decays: true, scale: standard)
        positionEmbedding = add("wpe", [config.contextLength, c], decays: true, scale: standard)
        for l in 0..<config.layers {
            let p = "h.\(l)."
            var block = Block()
            block.norm1Weight = add(p + "ln_1.weight", [c], constant: 1)
            block.norm1Bias = add(p + "ln_1.bias", [c], constant: 0)
            block.qkvWeight = add(p + "attn.c_attn.weight", [3 * c, c], decays: true, scale: standard)
            block.qkvBias = add(p + "attn.c_attn.bias", [3 * c], constant: 0)
            block.attentionProjectionWeight = add(p + "attn.c_proj.weight", [c, c], decays: true, scale: residual)
            block.attentionProjectionBias = add(p + "attn.c_proj.bias", [c], constant: 0)
            block.norm2Weight = add(p + "ln_2.weight", [c], constant: 1)
            block.norm2Bias = add(p + "ln_2.bias", [c], constant: 0)
            block.mlpWeight = add(p + "mlp.c_fc.weight", [hidden, c], decays: true, scale: standard)
            block.mlpBias = add(p + "mlp.c_fc.bias", [hidden], constant: 0)
            block.mlpProjectionWeight = add(p + "mlp.c_proj.weight", [c, hidden], decays: true, scale: residual)
            block.mlpProjectionBias = add(p + "mlp.c_proj.bias", [c], constant: 0)
            blocks.append(block)
        }
        finalNormWeight = add("ln_f.weight", [c], constant: 1)
        finalNormBias = add("ln_f.bias", [c], constant: 0)
        if config.head.hasLanguageModel {
            languageModelHead = add("lm_head.weight", [config.vocabularySize, c], decays: true, scale: standard)
        }
        if config.head.hasScalar {
            scalarWeight = add("scalar_head.weight", [c], decays: true, scale: standard)
            scalarBias = add("scalar_head.bias", [1], constant: 0)
        }
    }

    private mutating func add(
        _ name: String, _ shape: [Int], decays: Bool = false, scale: Float? = nil, constant: Float = 0
    )
        -> Int
    {
        let offset = count
        let size = shape.reduce(1, *)
        tensors.append(
            Tensor(
                name: name, shape: shape, offset: offset, count: size, decays: decays, initialScale: scale,
                constant: constant))
        // Keep every tensor 64-byte aligned so SIMD loads of whole rows never straddle a line needlessly.
        count += (size + 15) / 16 * 16
        return offset
    }

    func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Pointers to every tensor of a model whose arena (parameters, gradients or a moment) starts at `base`.
    func view(_ base: UnsafeMutablePointer<Float>) -> ModelTensors { ModelTensors(layout: self, base: base) }
}

/// Named pointers into one arena with the `ParameterLayout` shape.
struct ModelTensors {
    struct Block {
        var norm1Weight, norm1Bias, qkvWeight, qkvBias: UnsafeMutablePointer<Float>
        var attentionProjectionWeight, attentionProjectionBias: UnsafeMutablePointer<Float>
        var norm2Weight, norm2Bias, mlpWeight, mlpBias: UnsafeMutablePointer<Float>
        var mlpProjectionWeight, mlpProjectionBias: UnsafeMutablePointer<Float>
    }

    var tokenEmbedding, positionEmbedding: UnsafeMutablePointer<Float>
    var blocks: [Block]
    var finalNormWeight, finalNormBias: UnsafeMutablePointer<Float>
    var languageModelHead, scalarWeight, scalarBias: UnsafeMutablePointer<Float>?

    init(layout: ParameterLayout, base: UnsafeMutablePointer<Float>) {
        tokenEmbedding = base + layout.tokenEmbedding
        positionEmbedding = base + layout.positionEmbedding
        blocks = layout.blocks.map { b in
            Block(
                norm1Weight: base + b.norm1Weight, norm1Bias: base + b.norm1Bias, qkvWeight: base + b.qkvWeight,
                qkvBias: base + b.qkvBias, attentionProjectionWeight: base + b.attentionProjectionWeight,
                attentionProjectionBias: base + b.attentionProjectionBias, norm2Weight: base + b.norm2Weight,
                norm2Bias: base + b.norm2Bias, mlpWeight: base + b.mlpWeight, mlpBias: base + b.mlpBias,
                mlpProjectionWeight: base + b.mlpProjectionWeight, mlpProjectionBias: base + b.mlpProjectionBias)
        }
        finalNormWeight = base + layout.finalNormWeight
        finalNormBias = base + layout.finalNormBias
        languageModelHead = layout.languageModelHead.map { base + $0 }
        scalarWeight = layout.scalarWeight.map { base + $0 }
        scalarBias = layout.scalarBias.map { base + $0 }
    }
}
