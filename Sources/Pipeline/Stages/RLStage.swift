import Foundation
import NeuralEngine

/// Stage 6: reinforcement learning from the selected SFT policy.
///
/// - PPO on questions of every level: the reward is the final answer's correctness on easy
///   questions only, plus the easy-trained process reward evaluator's mean step score on every
///   question (the paper's best setting). One optimization epoch per rollout batch, so the
///   importance ratio is 1 and the clipped surrogate's gradient is the advantage-weighted policy
///   gradient; advantages are group-relative (each question is sampled several times), so no
///   value network is needed.
/// - ReST-EM on easy questions: sample, keep the correct solutions, fine-tune the SFT policy on
///   them; repeat.
enum RLStage {
    struct Output: Codable, Sendable {
        var ppo: String?
        var restEm: String?
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer, evaluators: EvaluatorStage.Output
    ) async throws -> Output {
        var output = Output()
        if context.spec.rl.ppo.enabled && context.spec.rl.ppo.steps > 0 {
            let model = try await ppo(context, dataset: dataset, policy: policy, evaluators: evaluators)
            output.ppo = try await context.log.putBlob(model.weightsData())
            try await context.log.emit(
                context.greedyScores(model, policy: "ppo", stage: .rl, problems: dataset.test).map { $0.event() })
        }
        if context.spec.rl.restEm.enabled && context.spec.rl.restEm.iterations > 0 {
            let model = try await restEM(context, dataset: dataset, policy: policy)
            output.restEm = try await context.log.putBlob(model.weightsData())
            try await context.log.emit(
                context.greedyScores(model, policy: "rest_em", stage: .rl, problems: dataset.test).map { $0.event() })
        }
        return output
    }

    private static func ppo(
        _ context: RunContext, dataset: Dataset, policy: Transformer, evaluators: EvaluatorStage.Output
    ) async throws -> Transformer {
        let spec = context.spec.rl.ppo
        guard let evaluator = evaluators.evaluators.first(where: { $0.name == spec.processRewardEvaluator }) else {
            throw PipelineError(code: .invalidSpec, message: "no evaluator named '\(spec.processRewardEvaluator)'")
        }
        let rewardModel: Transformer
        do {
            rewardModel = try Transformer(weights: try await context.log.blob(evaluator.weights))
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(code: .corruptHistory, message: "the process reward model does not load", cause: error)
        }
        let processReward = EvaluatorScoring(
            kind: evaluator.kind, model: rewardModel, family: context.family, threads: context.threads)
        let rows = TrainingRows(family: context.family)
        let k = spec.samplesPerProblem
        let optimization = OptimizationSpec(
            steps: spec.steps, batchSize: spec.problemsPerStep * k, learningRate: spec.learningRate, warmupSteps: 0,
            scheduleSteps: spec.steps, minimumLearningRateRatio: 1, weightDecay: 0, gradientClip: 1)
        return try await TrainingLoop(stage: .rl, model: "ppo", optimization: optimization).run(
            context, initial: { policy.copy() },
            batch: { step, current in
                var random = context.random(RandomStream.ppo, step)
                let problems = (0..<spec.problemsPerStep).map { _ in
                    dataset.train[random.uniform(below: dataset.train.count)]
                }
                let sequences = context.sample(
                    current, problems: problems, firstIndex: step * spec.problemsPerStep, samplesPerProblem: k,
                    purpose: RandomStream.ppo + 1, temperature: context.spec.sampling.temperature)
                let stepScores = processReward.stepScores(sequences)
                let rewards = sequences.indices.map { row -> Double in
                    let problem = problems[row / k]
                    // Final-answer rewards exist for easy questions only; hard ones get the process reward alone.
                    let outcome =
                        context.isEasy(problem.level) && context.family.verify(sequences[row], against: problem).final
                        ? 1.0 : 0
                    return outcome + spec.processRewardWeight * StepAggregation.mean.apply(stepScores[row])
                }
                return rows.languageModelBatch(sequences, weights: tokenWeights(rewards: rewards, group: k))
            })
    }

    /// Group-relative advantages plus a small constant, as per-row loss weights.
    ///
    /// The engine divides the loss by the sum of the weights, which must stay positive, so the
    /// weights are advantages offset to average `offset`. A constant offset is a baseline shift:
    /// it adds (1/n)·Σ∇(−log π) of the policy's own samples, zero in expectation, so the gradient
    /// stays unbiased. A small offset keeps that noise small next to the advantage term, whose
    /// 1/offset scale the gradient clip and Adam's normalization absorb.
    static func tokenWeights(rewards: [Double], group: Int, offset: Double = 0.1) -> [Float] {
        var advantages = [Double](repeating: 0, count: rewards.count)
        for start in stride(from: 0, to: rewards.count, by: group) {
            let members = start..<min(start + group, rewards.count)
            let mean = members.reduce(0) { $0 + rewards[$1] } / Double(members.count)
            for row in members { advantages[row] = rewards[row] - mean }
        }
        let mean = advantages.reduce(0, +) / Double(max(advantages.count, 1))
        return advantages.map { Float($0 - mean + offset) }
    }

    private static func restEM(_ context: RunContext, dataset: Dataset, policy: Transformer) async throws -> Transformer
    {
        let spec = context.spec.rl.restEm
        let easy = dataset.train.filter { context.isEasy($0.level) }
        let rows = TrainingRows(family: context.family)
        var current = policy
        for iteration in 0..<spec.iterations {
            // E-step: the current policy's correct solutions of easy questions.
            let sequences = context.sample(
                current, problems: easy, samplesPerProblem: spec.samplesPerProblem,
                purpose: RandomStream.restEM + UInt64(iteration), temperature: context.spec.sampling.temperature)
            let kept = sequences.enumerated().filter { row, sequence in
                context.family.verify(sequence, against: easy[row / spec.samplesPerProblem]).final
            }.map(\.element)
            guard !kept.isEmpty else {
                throw PipelineError(
                    code: .invalidSpec,
                    message: "ReST-EM iteration \(iteration) found no correct easy solution to train on")
            }
            // M-step: fine-tune the SFT policy (not the previous iterate) on them, as ReST-EM does.
            current = try await TrainingLoop(stage: .rl, model: "rest_em_\(iteration)", optimization: spec.optimization)
                .run(
                    context, initial: { policy.copy() },
                    batch: { step, _ in
                        var random = context.random(RandomStream.restEM + 100 + UInt64(iteration), step)
                        return rows.languageModelBatch(
                            (0..<spec.optimization.batchSize).map { _ in kept[random.uniform(below: kept.count)] })
                    })
        }
        return current
    }
}
