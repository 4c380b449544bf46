import Foundation
import Randomness

/// A decoder-only, pre-LayerNorm transformer whose parameters live in one flat arena. The class is
/// `@unchecked Sendable` because its arena is plain memory: training mutates it in place, and callers
/// must not train a model while another thread scores or samples it (take a `copy()` instead).
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    let layout: ParameterLayout
    let parameters: FloatArena

    /// Initializes every weight from `seed` (uniform with GPT-2's standard deviations, residual
    /// projections scaled by 1/sqrt(2 layers); LayerNorm gains 1, biases 0).
    public init(config: ModelConfig, seed: UInt64) {
        do { try config.validate() } catch { preconditionFailure("\(error)") }
        self.config = config
        layout = ParameterLayout(config: config)
        parameters = FloatArena(count: layout.count)
        var random = RandomGenerator(seed: seed, stream: 0x5EED_1417)
        for tensor in layout.tensors {
            let values = parameters.base + tensor.offset
            if let scale = tensor.initialScale {
                let halfWidth = scale * Float(3).squareRoot()  // uniform(-a, a) has standard deviation a/sqrt(3)
                for i in 0..<tensor.count { values[i] = (2 * random.nextUniform() - 1) * halfWidth }
            } else {
                values.update(repeating: tensor.constant, count: tensor.count)
            }
        }
    }

    init(config: ModelConfig, parameters: FloatArena) {
        self.config = config
        layout = ParameterLayout(config: config)
        precondition(parameters.count == layout.count, "parameter arena does not match the configuration")
        self.parameters = parameters
    }

    /// The number of trainable scalars (alignment padding in the arena excluded).
    public var parameterCount: Int { layout.tensors.reduce(0) { $0 + $1.count } }

    public func copy() -> Transformer { Transformer(config: config, parameters: parameters.copy()) }

    /// A model with another head whose trunk (embeddings, blocks, final LayerNorm) starts from this one;
    /// a head this model already has is kept, a new one is initialized from `seed`.
    public func withHead(_ head: ModelHead, seed: UInt64) -> Transformer {
        var newConfig = config
        newConfig.head = head
        let model = Transformer(config: newConfig, seed: seed)
        for tensor in model.layout.tensors {
            guard let source = layout.tensor(named: tensor.name) else { continue }
            (model.parameters.base + tensor.offset).update(from: parameters.base + source.offset, count: tensor.count)
        }
        return model
    }

    var tensors: ModelTensors { layout.view(parameters.base) }
}

extension Transformer {
    /// The forward pass up to the heads' logits: `activations.logits` (language-model head) and
    /// `activations.scalarLogits` (scalar head). Every row is computed independently of the others.
    func forward(
        tokens: UnsafePointer<Int32>, activations a: Activations, packed: PackedWeights? = nil, pool: ComputePool
    ) {
        let (B, T, C) = (a.batch, a.length, config.width)
        let rows = B * T
        let hidden = config.hiddenWidth
        let p = tensors
        let shape = Attention.Shape(batch: B, length: T, width: C, heads: config.heads)
        Layers.embed(
            out: a.encoded, tokens: tokens, batch: B, length: T, tokenEmbedding: p.tokenEmbedding,
            positionEmbedding: p.positionEmbedding, width: C, pool: pool)
        var residual = UnsafePointer(a.encoded)
        for l in 0..<config.layers {
            let w = p.blocks[l]
            let s = a.blocks[l]
            Layers.layerNorm(
                out: s.norm1, mean: s.norm1Mean, rstd: s.norm1Rstd, input: residual, weight: w.norm1Weight,
                bias: w.norm1Bias, rows: rows, width: C, pool: pool)
            Layers.linear(
                out: s.qkv, input: s.norm1, weight: w.qkvWeight, bias: w.qkvBias, rows: rows, inputWidth: C,
                outputWidth: 3 * C, packed: packed?.blocks[l].qkv, pool: pool)
            Attention.forward(out: s.attention, probabilities: s.probabilities, qkv: s.qkv, shape: shape, pool: pool)
            Layers.linear(
                out: a.projection, input: s.attention, weight: w.attentionProjectionWeight,
                bias: w.attentionProjectionBias, rows: rows, inputWidth: C, outputWidth: C,
                packed: packed?.blocks[l].attentionProjection, pool: pool)
            Layers.add(out: s.residual2, residual, a.projection, count: rows * C, pool: pool)
            Layers.layerNorm(
                out: s.norm2, mean: s.norm2Mean, rstd: s.norm2Rstd, input: s.residual2, weight: w.norm2Weight,
                bias: w.norm2Bias, rows: rows, width: C, pool: pool)
            Layers.linear(
                out: s.hidden, input: s.norm2, weight: w.mlpWeight, bias: w.mlpBias, rows: rows, inputWidth: C,
                outputWidth: hidden, packed: packed?.blocks[l].mlp, pool: pool)
            Layers.gelu(out: s.hiddenGelu, input: s.hidden, count: rows * hidden, pool: pool)
            Layers.linear(
                out: a.projection, input: s.hiddenGelu, weight: w.mlpProjectionWeight, bias: w.mlpProjectionBias,
                rows: rows, inputWidth: hidden, outputWidth: C, packed: packed?.blocks[l].mlpProjection, pool: pool)
            Layers.add(out: s.residual3, s.residual2, a.projection, count: rows * C, pool: pool)
            residual = UnsafePointer(s.residual3)
        }
        Layers.layerNorm(
            out: a.finalNorm, mean: a.finalMean, rstd: a.finalRstd, input: residual, weight: p.finalNormWeight,
            bias: p.finalNormBias, rows: rows, width: C, pool: pool)
        if let head = p.languageModelHead {
            Layers.linear(
                out: a.logits, input: a.finalNorm, weight: head, bias: nil, rows: rows, inputWidth: C,
                outputWidth: config.vocabularySize, packed: packed?.languageModelHead, pool: pool)
        }
        if let weight = p.scalarWeight, let bias = p.scalarBias {
            Losses.scalarLogits(
                out: a.scalarLogits, input: a.finalNorm, weight: weight, bias: bias, rows: rows, width: C, pool: pool)
        }
    }

    /// Accumulates into `gradients` (same layout as the parameters) the gradient of the loss whose
    /// head gradients are already in `a.logits` (dlogits) and given by the scalar-head inputs.
    func backward(
        tokens: UnsafePointer<Int32>, activations a: Activations, scratch g: ActivationGradients,
        gradients: ModelTensors, scalarHead: (labels: UnsafePointer<Float>, mask: UnsafePointer<Float>, weight: Float)?,
        pool: ComputePool
    ) {
        let (B, T, C) = (a.batch, a.length, config.width)
        let rows = B * T
        let hidden = config.hiddenWidth
        let p = tensors
        let shape = Attention.Shape(batch: B, length: T, width: C, heads: config.heads)

        g.finalNorm.update(repeating: 0, count: rows * C)
        if let head = p.languageModelHead, let dhead = gradients.languageModelHead {
            Layers.linearBackward(
                dinput: g.finalNorm, dweight: dhead, dbias: nil, dout: a.logits, input: a.finalNorm, weight: head,
                rows: rows, inputWidth: C, outputWidth: config.vocabularySize, pool: pool)
        }
        if let scalarHead, let weight = p.scalarWeight, let dweight = gradients.scalarWeight,
            let dbias = gradients.scalarBias
        {
            Losses.scalarBackward(
                dinput: g.finalNorm, dweight: dweight, dbias: dbias, input: a.finalNorm, weight: weight,
                logits: a.scalarLogits, labels: scalarHead.labels, mask: scalarHead.mask, lossWeight: scalarHead.weight,
                rows: rows, width: C, pool: pool)
        }
        let last = UnsafePointer(config.layers > 0 ? a.blocks[config.layers - 1].residual3 : a.encoded)
        g.residual.update(repeating: 0, count: rows * C)
        Layers.layerNormBackward(
            dinput: g.residual, dweight: gradients.finalNormWeight, dbias: gradients.finalNormBias, dout: g.finalNorm,
            input: last, weight: p.finalNormWeight, mean: a.finalMean, rstd: a.finalRstd, rows: rows, width: C,
            scratch: a.projection, pool: pool)

        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let w = p.blocks[l]
            let dw = gradients.blocks[l]
            let s = a.blocks[l]
            let input = UnsafePointer(l == 0 ? a.encoded : a.blocks[l - 1].residual3)
            // residual3 = residual2 + mlpProjection(gelu(mlp(norm2(residual2))))
            Layers.linearBackward(
                dinput: g.hiddenGelu, dweight: dw.mlpProjectionWeight, dbias: dw.mlpProjectionBias, dout: g.residual,
                input: s.hiddenGelu, weight: w.mlpProjectionWeight, rows: rows, inputWidth: hidden, outputWidth: C,
                pool: pool)
            Layers.geluBackward(dinput: g.hidden, input: s.hidden, dout: g.hiddenGelu, count: rows * hidden, pool: pool)
            Layers.linearBackward(
                dinput: g.norm, dweight: dw.mlpWeight, dbias: dw.mlpBias, dout: g.hidden, input: s.norm2,
                weight: w.mlpWeight, rows: rows, inputWidth: C, outputWidth: hidden, pool: pool)
            Layers.layerNormBackward(
                dinput: g.residual, dweight: dw.norm2Weight, dbias: dw.norm2Bias, dout: g.norm, input: s.residual2,
                weight: w.norm2Weight, mean: s.norm2Mean, rstd: s.norm2Rstd, rows: rows, width: C,
                scratch: a.projection, pool: pool)
            // residual2 = input + attentionProjection(attention(qkv(norm1(input))))
            Layers.linearBackward(
                dinput: g.attention, dweight: dw.attentionProjectionWeight, dbias: dw.attentionProjectionBias,
                dout: g.residual, input: s.attention, weight: w.attentionProjectionWeight, rows: rows, inputWidth: C,
                outputWidth: C, pool: pool)
            Attention.backward(
                dqkv: g.qkv, dout: g.attention, probabilities: s.probabilities, qkv: s.qkv, shape: shape, pool: pool)
            Layers.linearBackward(
                dinput: g.norm, dweight: dw.qkvWeight, dbias: dw.qkvBias, dout: g.qkv, input: s.norm1,
                weight: w.qkvWeight, rows: rows, inputWidth: C, outputWidth: 3 * C, pool: pool)
            Layers.layerNormBackward(
                dinput: g.residual, dweight: dw.norm1Weight, dbias: dw.norm1Bias, dout: g.norm, input: input,
                weight: w.norm1Weight, mean: s.norm1Mean, rstd: s.norm1Rstd, rows: rows, width: C,
                scratch: a.projection, pool: pool)
        }
        Layers.embedBackward(
            tokenGradient: gradients.tokenEmbedding, positionGradient: gradients.positionEmbedding, dout: g.residual,
            tokens: tokens, batch: B, length: T, width: C, pool: pool)
    }
}
