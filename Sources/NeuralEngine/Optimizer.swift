/// AdamW hyperparameters: decoupled weight decay (applied to matrices and embeddings only) and
/// bias-corrected moments.
public struct AdamWConfig: Codable, Sendable, Hashable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(
        learningRate: Float = 3e-4, beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8,
        weightDecay: Float = 0.1
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// Linear warm-up from 0 to the peak over `warmupSteps`, then cosine decay to
/// `minimumRatio x peak` at `totalSteps` (and flat after).
public struct LearningRateSchedule: Codable, Sendable, Hashable {
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimumRatio: Float

    public init(warmupSteps: Int, totalSteps: Int, minimumRatio: Float = 0.1) {
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumRatio = minimumRatio
    }

    /// The rate for the 0-based `step`.
    public func rate(at step: Int, peak: Float) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        let cosine = 0.5 * (1 + Elementary.cos(Double.pi * progress))
        return peak * Float(Double(minimumRatio) + (1 - Double(minimumRatio)) * cosine)
    }
}

enum AdamW {
    /// One update of every parameter. `gradientScale` folds global-norm clipping into the update.
    /// Each element is independent, so the split across threads cannot change a bit.
    static func update(
        layout: ParameterLayout, parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, config: AdamWConfig, learningRate: Float,
        step: Int, gradientScale: Float, pool: ComputePool
    ) {
        // Bias corrections 1 - beta^t by repeated squaring in Double: exact enough, and no libm pow.
        let correction1 = Float(1 - power(Double(config.beta1), step))
        let correction2 = Float(1 - power(Double(config.beta2), step))
        let (beta1, beta2, epsilon) = (config.beta1, config.beta2, config.epsilon)
        let tensors = layout.tensors
        pool.parallelFor(tensors.count) { range in
            for tensor in tensors[range] {
                let decay = tensor.decays ? config.weightDecay : 0
                for i in tensor.offset..<(tensor.offset + tensor.count) {
                    let g = gradients[i] * gradientScale
                    let mi = beta1 * m[i] + (1 - beta1) * g
                    let vi = beta2 * v[i] + (1 - beta2) * g * g
                    m[i] = mi
                    v[i] = vi
                    let mHat = mi / correction1
                    let vHat = vi / correction2
                    parameters[i] -= learningRate * (mHat / (vHat.squareRoot() + epsilon) + decay * parameters[i])
                }
            }
        }
    }

    /// sqrt(Σ g²) summed in Double over fixed 4096-element chunks, chunks added in order.
    static func globalNorm(_ gradients: UnsafePointer<Float>, count: Int, pool: ComputePool) -> Float {
        let chunk = 4096
        let chunks = (count + chunk - 1) / chunk
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(1, chunks))
        defer { partial.deallocate() }
        pool.parallelFor(chunks) { range in
            for c in range {
                var sum: Double = 0
                for i in (c * chunk)..<min(count, (c + 1) * chunk) {
                    let g = Double(gradients[i])
                    sum += g * g
                }
                partial[c] = sum
            }
        }
        var total: Double = 0
        for c in 0..<chunks { total += partial[c] }
        return Float(total.squareRoot())
    }

    static func power(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        var factor = base
        var e = exponent
        while e > 0 {
            if e & 1 == 1 { result *= factor }
            factor *= factor
            e >>= 1
        }
        return result
    }
}
