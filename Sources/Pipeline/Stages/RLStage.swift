import Foundation
import NeuralEngine

/// Stage 6: reinforcement learning from the selected SFT policy.
///
/// - PPO (`PPOTraining`): one policy per variant of `rl.ppo`, each scored greedily on the test split under its
///   own policy name.
/// - ReST-EM on easy questions: sample, keep the correct solutions, fine-tune the SFT policy on
///   them; repeat.
enum RLStage {
    struct Output: Codable, Sendable {
        /// The single-mapping form's policy weights.
        var ppo: String?
        var restEm: String?
        /// The list form's policy weights, in `rl.ppo` order.
        var ppoVariants: [TrainedPolicy]?
    }

    struct TrainedPolicy: Codable, Sendable {
        var name: String
        var weights: String
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer, evaluators: EvaluatorStage.Output
    ) async throws -> Output {
        var output = Output()
        for (index, variant) in context.spec.rl.ppo.enumerated() where variant.enabled && variant.iterations > 0 {
            let model = try await PPOTraining(spec: variant, variant: index).train(
                context, dataset: dataset, policy: policy, evaluators: evaluators)
            let weights = try await context.log.putBlob(model.weightsData())
            if variant.name == nil {
                output.ppo = weights
            } else {
                output.ppoVariants =
                    (output.ppoVariants ?? []) + [TrainedPolicy(name: variant.policyName, weights: weights)]
            }
            try await context.record(
                try await context.greedyScores(model, policy: variant.policyName, stage: .rl, problems: dataset.test))
        }
        if context.spec.rl.restEm.enabled && context.spec.rl.restEm.iterations > 0 {
            let model = try await restEM(context, dataset: dataset, policy: policy)
            output.restEm = try await context.log.putBlob(model.weightsData())
            try await context.record(
                try await context.greedyScores(model, policy: "rest_em", stage: .rl, problems: dataset.test))
        }
        return output
    }

    private static func restEM(_ context: RunContext, dataset: Dataset, policy: Transformer) async throws -> Transformer
    {
        let spec = context.spec.rl.restEm
        let easy = dataset.train.filter { context.isEasy($0.level) }
        let rows = TrainingRows(family: context.family)
        var current = policy
        for iteration in 0..<spec.iterations {
            // E-step: the current policy's correct solutions of easy questions.
            let sequences = try await context.sample(
                current, problems: easy, samplesPerProblem: spec.samplesPerProblem,
                stream: RandomStream(.restEMSamples, item: iteration), temperature: context.spec.sampling.temperature,
                reporting: ProgressTask(
                    stage: .rl, task: "rest_em_\(iteration) samples", unit: "problems", total: easy.count))
            let kept = sequences.enumerated().filter { row, sequence in
                context.judge(sequence, against: easy[row / spec.samplesPerProblem]).final
            }.map(\.element)
            guard !kept.isEmpty else {
                throw PipelineError(
                    code: .invalidSpec,
                    message: """
                        ReST-EM iteration \(iteration) found no correct easy solution in \(spec.samplesPerProblem) \
                        sample(s) of each of \(easy.count) problems, so it has nothing to train on — train the SFT \
                        policy longer or raise rl.rest_em.samples_per_problem
                        """)
            }
            // M-step: fine-tune the SFT policy (not the previous iterate) on them, as ReST-EM does.
            current = try await TrainingLoop(stage: .rl, model: "rest_em_\(iteration)", optimization: spec.optimization)
                .run(
                    context, initial: { policy.copy() },
                    batch: { step, _ in
                        var random = context.random(.restEMBatches, item: iteration, index: step)
                        return rows.languageModelBatch(
                            (0..<spec.optimization.batchSize).map { _ in kept[random.uniform(below: kept.count)] })
                    })
        }
        return current
    }
}
