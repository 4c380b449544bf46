/// What a spec will at least cost, worked out from its numbers alone before it is queued: a spec can ask for a
/// model far larger than the machine or for years of compute, and nothing else would notice until a worker ran out
/// of memory or the run never ended.
///
/// Both figures are lower bounds, so a refusal is never wrong: memory counts only what must be resident at the
/// peak (one model in training with its gradients and two AdamW moments, two more held for sampling and scoring,
/// one training batch's activations, the recorded sample pools); time counts the dense floating-point operations
/// (6 per parameter per trained token, 2 per sampled or scored token) at the engine's measured GEMM peak
/// (`gemm-512` in the README) on every thread of the spec. Arithmetic is in Double: a spec's numbers may be
/// large enough to overflow an Int product.
public struct ResourceEstimate: Sendable, Equatable {
    /// The engine's peak measured rate per thread: 467 GFLOP/s on 2 threads (README, `gemm-512`).
    public static let peakOperationsPerThreadSecond = 2.3e11

    /// Parameters of one policy-shaped model (language-model head).
    public var parameters: Double
    /// Bytes that must be resident at the peak.
    public var memoryBytes: Double
    /// Floating-point operations of the whole run.
    public var operations: Double
    public var threads: Int

    /// Seconds at the engine's peak rate on the spec's threads (fewer are impossible).
    public var seconds: Double { operations / (Double(threads) * Self.peakOperationsPerThreadSecond) }

    public init(_ spec: ExperimentSpec) {
        let model = spec.policy.model
        let tokens = Double(spec.task.family.family.sequenceLength)
        let vocabulary = Double(Vocabulary.size)
        let width = Double(model.width)
        let hidden = width * Double(model.mlpMultiplier)
        let layers = Double(model.layers)
        // ParameterLayout's tensors: embeddings, per block two norms, attention and MLP with biases, final norm, head.
        let block =
            4 * width + (3 * width * width + 3 * width) + (width * width + width) + (hidden * width + hidden)
            + (width * hidden + width)
        let parameters = vocabulary * width + tokens * width + layers * block + 2 * width + vocabulary * width

        let levels = Double(spec.task.levels.count)
        let easyLevels = Double(spec.task.easyLevels.count)
        let pools =
            levels * Double(spec.task.validationPerLevel + spec.task.testPerLevel) * Double(spec.sampling.poolSize)
        let trainingSamples =
            easyLevels * Double(spec.task.trainPerLevel) * Double(spec.sampling.trainingSamplesPerProblem)
        let samples = pools + trainingSamples
        let evaluators = Double(spec.evaluators.count)

        // Per trained token: the residual stream and its norms, q/k/v, attention out and projection (≈ 10 widths),
        // the MLP's hidden layer before and after its activation, attention scores and probabilities per head over
        // the context; then the logits and their gradient.
        let activationsPerToken =
            layers * ((10 + 2 * Double(model.mlpMultiplier)) * width + 2 * Double(model.heads) * tokens)
            + 2 * vocabulary
        let largestBatch = Double(
            ([spec.policy.sft.batchSize, spec.rl.restEm.optimization.batchSize, 2 * spec.rl.dpo.optimization.batchSize]
                + spec.evaluators.map(\.optimization.batchSize))
                .max() ?? 1)
        // A PPO value model trains beside its policy: a second set of weights, gradients and AdamW moments.
        let trainedAtOnce: Double = spec.rl.ppo.contains { $0.enabled && $0.advantages == .gae } ? 2 : 1
        let floats = 6 * parameters * trainedAtOnce + largestBatch * tokens * activationsPerToken
        // Sample pools: tokens as Int32, and one Float score per token and evaluator.
        let poolBytes = samples * tokens * 4 * (1 + evaluators)
        let memoryBytes = 4 * floats + poolBytes

        func trained(_ optimization: OptimizationSpec) -> Double {
            6 * parameters * Double(optimization.steps) * Double(optimization.batchSize) * tokens
        }
        let sampled = 2 * parameters * tokens
        let checkpoints = Double(spec.policy.sft.steps / spec.checkpointInterval + 1)
        let selection =
            checkpoints * easyLevels * Double(spec.task.validationPerLevel)
            * Double(spec.policy.selection.samplesPerProblem) * sampled
        var operations =
            trained(spec.policy.sft) + selection + spec.evaluators.map { trained($0.optimization) }.reduce(0, +)
        if spec.evaluators.contains(where: { $0.initialization == .format }) {
            // The format-only base model trains with SFT's recipe.
            operations += trained(spec.policy.sft)
        }
        operations += samples * sampled * (1 + evaluators)
        if spec.rerank.methods.contains(.likelihood) {
            // Likelihood voting scores the test pools once more, with the policy.
            operations += levels * Double(spec.task.testPerLevel) * Double(spec.sampling.poolSize) * sampled
        }
        if !spec.rerank.generators.isEmpty {
            // Each reranked generator's test pool: drawn, scored by every easy-trained evaluator and, for likelihood
            // voting, by the generator itself.
            let pool = levels * Double(spec.task.testPerLevel) * Double(spec.sampling.poolSize)
            let readers =
                Double(spec.evaluators.filter { $0.labels == .easy }.count)
                + (spec.rerank.methods.contains(.likelihood) ? 1 : 0)
            operations += Double(spec.rerank.generators.count) * pool * sampled * (1 + readers)
        }
        for ppo in spec.rl.ppo where ppo.enabled {
            let rollout = Double(ppo.problemsPerIteration) * Double(ppo.samplesPerProblem)
            // Sampling, the old and the reference log-probabilities, then epochs of forward and backward passes; the
            // value model's pass and updates where they are asked for.
            var passes = 3 * sampled + Double(ppo.epochs) * 3 * sampled
            if ppo.advantages == .gae { passes += sampled + Double(ppo.epochs) * 3 * sampled }
            operations += Double(ppo.iterations) * rollout * passes
        }
        let restEm = spec.rl.restEm
        if restEm.enabled {
            let drawn = easyLevels * Double(spec.task.trainPerLevel) * Double(restEm.samplesPerProblem) * sampled
            operations += Double(restEm.iterations) * (drawn + trained(restEm.optimization))
        }
        let dpo = spec.rl.dpo
        for ranking in dpo.rankings where dpo.iterations > 0 {
            let questions = (ranking == .easyAnswers ? easyLevels : levels) * Double(spec.task.trainPerLevel)
            let drawn = questions * Double(dpo.samplesPerProblem) * sampled
            let ranked = ranking == .easyAnswers ? 0 : drawn
            // A step trains on 2 × batch rows and scores them under the policy and the reference first.
            let steps = Double(dpo.optimization.steps) * 2 * Double(dpo.optimization.batchSize) * 2 * sampled
            operations += Double(dpo.iterations) * (drawn + ranked + 2 * trained(dpo.optimization) + steps)
        }
        self.parameters = parameters
        self.memoryBytes = memoryBytes
        self.operations = operations
        threads = spec.threads
    }

    /// Why a daemon with these limits must refuse the spec, or nil when it fits.
    public func refusal(maximumMemoryBytes: Double, maximumSeconds: Double) -> String? {
        var reasons: [String] = []
        if memoryBytes > maximumMemoryBytes {
            reasons.append(
                "it needs at least \(Self.gibibytes(memoryBytes)) of memory (a model of \(Self.count(parameters)) "
                    + "parameters trained with AdamW, its training batch and the sample pools), more than the "
                    + "\(Self.gibibytes(maximumMemoryBytes)) this daemon allows per run (--max-run-memory-gib): make "
                    + "policy.model smaller (width, layers) or lower the batch_size values, sampling.n or "
                    + "task.test_per_level")
        }
        if seconds > maximumSeconds {
            reasons.append(
                "it needs at least \(Self.duration(seconds)) of compute on \(threads) thread\(threads == 1 ? "" : "s") "
                    + "(\(Self.count(operations)) floating-point operations at the engine's peak rate), more than the "
                    + "\(Self.duration(maximumSeconds)) this daemon allows per run (--max-run-hours): lower the steps "
                    + "of policy.sft and the evaluators, rl.ppo.iterations, sampling.n or the per-level counts of task, "
                    + "or raise threads")
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; and ")
    }

    static func gibibytes(_ bytes: Double) -> String { format(bytes / 1_073_741_824, "GiB") }

    static func duration(_ seconds: Double) -> String {
        if seconds >= 4 * 86_400 { return format(seconds / 86_400, "days") }
        if seconds >= 2 * 3_600 { return format(seconds / 3_600, "hours") }
        return format(seconds / 60, "minutes")
    }

    /// Scientific notation above a million ("4.2e9"): precise digits would suggest a precision the estimate lacks.
    static func count(_ value: Double) -> String {
        guard value.isFinite, value >= 1e6 else { return value.isFinite ? String(Int(value.rounded())) : "∞" }
        var mantissa = value
        var exponent = 0
        while mantissa >= 10 {
            mantissa /= 10
            exponent += 1
        }
        return "\(format(mantissa, ""))e\(exponent)"
    }

    private static func format(_ value: Double, _ unit: String) -> String {
        let tenths = (value * 10).rounded() / 10
        let text = tenths >= 100 ? String(Int(tenths)) : String(tenths)
        return unit.isEmpty ? text : "\(text) \(unit)"
    }
}
