/// One batch of training rows: `batchSize` rows of `length` positions, flattened row-major.
public struct TrainingBatch: Sendable {
    public var batchSize: Int
    public var length: Int
    /// Input tokens, batchSize x length.
    public var tokens: [Int32]
    /// Next tokens for the language-model head (any value where `lossMask` is 0).
    public var targets: [Int32]
    /// 1 where the language-model loss counts (e.g. solution tokens only).
    public var lossMask: [Float]
    /// Labels in [0, 1] for the scalar head; empty when the batch has none.
    public var scalarTargets: [Float]
    /// 1 where a scalar label counts (step ends, the last token); empty when the batch has none.
    public var scalarMask: [Float]
    /// What the language-model loss Σ lossMask·(−log p) is divided by; nil divides by Σ lossMask
    /// (a weighted mean). Signed weights — policy-gradient advantages — need a fixed positive
    /// constant such as the token count, because their sum can be zero or negative.
    public var lossNormalizer: Float?

    public init(
        batchSize: Int, length: Int, tokens: [Int32], targets: [Int32], lossMask: [Float],
        scalarTargets: [Float] = [], scalarMask: [Float] = [], lossNormalizer: Float? = nil
    ) {
        self.batchSize = batchSize
        self.length = length
        self.tokens = tokens
        self.targets = targets
        self.lossMask = lossMask
        self.scalarTargets = scalarTargets
        self.scalarMask = scalarMask
        self.lossNormalizer = lossNormalizer
    }
}

/// What one training step did. `loss` is the sum of the two heads' losses.
public struct StepReport: Sendable, Equatable {
    /// The step just taken, counting from 1.
    public var step: Int
    public var loss: Float
    public var languageModelLoss: Float
    public var scalarLoss: Float
    /// The global gradient norm before clipping.
    public var gradientNorm: Float
    public var learningRate: Float

    public init(
        step: Int, loss: Float, languageModelLoss: Float, scalarLoss: Float, gradientNorm: Float, learningRate: Float
    ) {
        self.step = step
        self.loss = loss
        self.languageModelLoss = languageModelLoss
        self.scalarLoss = scalarLoss
        self.gradientNorm = gradientNorm
        self.learningRate = learningRate
    }
}

/// Trains a transformer in place: forward, backward, global-norm clipping, AdamW. The state that
/// determines the next step (weights, moments, step) is exactly what `checkpoint` saves, so a restored
/// trainer continues with identical bits.
public final class Trainer {
    public let model: Transformer
    public let optimizer: AdamWConfig
    public let schedule: LearningRateSchedule
    public let gradientClip: Float
    public private(set) var step: Int
    let gradients: FloatArena
    let firstMoment: FloatArena
    let secondMoment: FloatArena
    private let pool: ComputePool
    private var buffers: (activations: Activations, gradients: ActivationGradients)?

    /// `gradientClip` <= 0 disables clipping. The pool's thread count never changes the results, only the speed.
    public init(
        model: Transformer, optimizer: AdamWConfig, schedule: LearningRateSchedule, gradientClip: Float,
        pool: ComputePool
    ) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.gradientClip = gradientClip
        step = 0
        gradients = FloatArena(count: model.layout.count)
        firstMoment = FloatArena(count: model.layout.count)
        secondMoment = FloatArena(count: model.layout.count)
        self.pool = pool
    }

    public init(restoring checkpoint: TrainingCheckpoint, pool: ComputePool) throws {
        let layout = ParameterLayout(config: checkpoint.config)
        for (name, values) in [
            ("weights", checkpoint.weights), ("first moment", checkpoint.firstMoment),
            ("second moment", checkpoint.secondMoment),
        ]
        where values.count != layout.count {
            throw EngineError(
                code: .tensorMismatch,
                message: "checkpoint \(name) hold \(values.count) values, the model needs \(layout.count)")
        }
        model = Transformer(config: checkpoint.config, parameters: FloatArena(copying: checkpoint.weights))
        optimizer = checkpoint.optimizer
        schedule = checkpoint.schedule
        gradientClip = checkpoint.gradientClip
        step = checkpoint.step
        gradients = FloatArena(count: layout.count)
        firstMoment = FloatArena(copying: checkpoint.firstMoment)
        secondMoment = FloatArena(copying: checkpoint.secondMoment)
        self.pool = pool
    }

    /// One optimizer step on `batch`.
    public func train(_ batch: TrainingBatch) -> StepReport {
        let (languageModelLoss, scalarLoss) = computeGradients(batch)
        let norm = AdamW.globalNorm(gradients.base, count: gradients.count, pool: pool)
        let scale: Float = gradientClip > 0 && norm > gradientClip ? gradientClip / norm : 1
        let rate = schedule.rate(at: step, peak: optimizer.learningRate)
        step += 1
        AdamW.update(
            layout: model.layout, parameters: model.parameters.base, gradients: gradients.base,
            m: firstMoment.base, v: secondMoment.base, config: optimizer, learningRate: rate, step: step,
            gradientScale: scale, pool: pool)
        return StepReport(
            step: step, loss: languageModelLoss + scalarLoss, languageModelLoss: languageModelLoss,
            scalarLoss: scalarLoss, gradientNorm: norm, learningRate: rate)
    }

    /// Forward and backward on `batch`: the losses, and their gradient in `gradients`.
    func computeGradients(_ batch: TrainingBatch) -> (languageModel: Float, scalar: Float) {
        let config = model.config
        let (B, T) = (batch.batchSize, batch.length)
        let rows = B * T
        precondition(
            T >= 1 && T <= config.contextLength, "batch length \(T) exceeds the context \(config.contextLength)")
        precondition(batch.tokens.count == rows, "tokens must hold batchSize x length values")
        precondition(batch.tokens.allSatisfy { $0 >= 0 && Int($0) < config.vocabularySize }, "token out of vocabulary")
        let usesLanguageModel = config.head.hasLanguageModel && !batch.lossMask.isEmpty
        let usesScalar = config.head.hasScalar && !batch.scalarMask.isEmpty
        if usesLanguageModel {
            precondition(batch.targets.count == rows && batch.lossMask.count == rows, "targets/lossMask size")
            precondition(
                zip(batch.targets, batch.lossMask).allSatisfy {
                    $1 == 0 || ($0 >= 0 && Int($0) < config.vocabularySize)
                },
                "a target where the loss counts is out of vocabulary")
        }
        if let normalizer = batch.lossNormalizer {
            precondition(normalizer > 0 && normalizer.isFinite, "lossNormalizer must be positive and finite")
        }
        if usesScalar {
            precondition(batch.scalarTargets.count == rows && batch.scalarMask.count == rows, "scalar label size")
        }

        let (activations, scratch) = buffersFor(batch: B, length: T)
        gradients.zero()
        var languageModelLoss: Float = 0
        var scalarLoss: Float = 0
        batch.tokens.withUnsafeBufferPointer { tokens in
            model.forward(tokens: tokens.baseAddress!, activations: activations, pool: pool)
            var scalarHead: (labels: UnsafePointer<Float>, mask: UnsafePointer<Float>, weight: Float)?
            if config.head.hasLanguageModel && !usesLanguageModel {
                // A two-headed model trained on scalar labels only: the language-model head gets no gradient.
                activations.logits.update(repeating: 0, count: rows * config.vocabularySize)
            }
            if usesLanguageModel {
                batch.targets.withUnsafeBufferPointer { targets in
                    batch.lossMask.withUnsafeBufferPointer { mask in
                        Losses.softmaxLogProbabilities(
                            logits: activations.logits, targets: targets.baseAddress!, rows: rows,
                            vocabulary: config.vocabularySize, logProbabilities: activations.logProbabilities,
                            pool: pool)
                        let (loss, weight) = Losses.maskedMean(
                            negated: activations.logProbabilities, mask: mask.baseAddress!, rows: rows,
                            normalizer: batch.lossNormalizer)
                        languageModelLoss = loss
                        Losses.softmaxBackward(
                            probabilities: activations.logits, targets: targets.baseAddress!, mask: mask.baseAddress!,
                            weight: weight, rows: rows, vocabulary: config.vocabularySize, pool: pool)
                    }
                }
            }
            batch.scalarTargets.withUnsafeBufferPointer { labels in
                batch.scalarMask.withUnsafeBufferPointer { mask in
                    if usesScalar {
                        let (loss, weight) = Losses.binaryCrossEntropy(
                            logits: activations.scalarLogits, labels: labels.baseAddress!, mask: mask.baseAddress!,
                            rows: rows)
                        scalarLoss = loss
                        scalarHead = (labels.baseAddress!, mask.baseAddress!, weight)
                    }
                    model.backward(
                        tokens: tokens.baseAddress!, activations: activations, scratch: scratch,
                        gradients: model.layout.view(gradients.base), scalarHead: scalarHead, pool: pool)
                }
            }
        }
        return (languageModelLoss, scalarLoss)
    }

    /// Everything needed to continue training with identical bits, plus the caller's metadata.
    public func checkpoint(metadata: [String: String]) -> TrainingCheckpoint {
        TrainingCheckpoint(
            config: model.config, step: step, optimizer: optimizer, schedule: schedule, gradientClip: gradientClip,
            weights: Array(model.parameters.buffer), firstMoment: Array(firstMoment.buffer),
            secondMoment: Array(secondMoment.buffer), metadata: metadata)
    }

    private func buffersFor(batch: Int, length: Int) -> (Activations, ActivationGradients) {
        if let buffers, buffers.activations.batch == batch, buffers.activations.length == length { return buffers }
        buffers = nil  // free the old shape first
        let made = (
            Activations(config: model.config, batch: batch, length: length, keepsLayers: true),
            ActivationGradients(config: model.config, batch: batch, length: length)
        )
        buffers = made
        return made
    }
}
