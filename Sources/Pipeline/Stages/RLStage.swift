import Foundation
import NeuralEngine

/// Stage 6: reinforcement learning from the selected SFT policy.
///
/// - PPO (`PPOTraining`): one policy per variant of `rl.ppo`, each scored greedily on the test split under its
///   own policy name.
/// - ReST-EM on easy questions: sample, keep the correct solutions, fine-tune the SFT policy on
///   them; repeat. Each iteration's policy is scored on test (`RestEMSpec.policyNames`), so the
///   paper's rows after 1 and 2 iterations come from one run.
/// - Iterative DPO, one chain per ranking (`IterativeDPO`).
enum RLStage {
    struct Output: Codable, Sendable {
        /// The single-mapping form's policy weights.
        var ppo: String?
        var restEm: String?
        /// The last iterate of each DPO ranking, in `DPOSpec.rankings` order.
        var dpo: [String]?
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
        if !context.spec.rl.restEm.policyNames.isEmpty {
            let model = try await restEM(context, dataset: dataset, policy: policy)
            output.restEm = try await context.log.putBlob(model.weightsData())
        }
        let dpo = context.spec.rl.dpo
        if dpo.iterations > 0 {
            var last: [String] = []
            for ranking in dpo.rankings {
                var scoring: EvaluatorScoring?
                if case .evaluator(let name) = ranking {
                    scoring = try await evaluatorScoring(named: name, context, evaluators: evaluators)
                }
                let model = try await IterativeDPO(context: context, spec: dpo, ranking: ranking, evaluator: scoring)
                    .run(dataset: dataset, policy: policy)
                last.append(try await context.log.putBlob(model.weightsData()))
            }
            output.dpo = last
        }
        return output
    }

    /// The trained evaluator `name`, ready to score (a reward or a ranking).
    static func evaluatorScoring(
        named name: String, _ context: RunContext, evaluators: EvaluatorStage.Output
    ) async throws -> EvaluatorScoring {
        guard let evaluator = evaluators.evaluators.first(where: { $0.name == name }) else {
            throw PipelineError(code: .invalidSpec, message: "no evaluator named '\(name)'")
        }
        let model = try await context.log.model(
            evaluator.weights, recordedAs: .weights, what: "the evaluator '\(name)'")
        return EvaluatorScoring(kind: evaluator.kind, model: model, family: context.family, compute: context.compute)
    }

    private static func restEM(_ context: RunContext, dataset: Dataset, policy: Transformer) async throws -> Transformer
    {
        let spec = context.spec.rl.restEm
        let easy = dataset.train.filter { context.isEasy($0.level) }
        var current = policy
        for iteration in 0..<spec.iterations {
            let loop = TrainingLoop(stage: .rl, model: "rest_em_\(iteration)", optimization: spec.optimization)
            if let trained = try await loop.recordedResult(context) {
                current = trained
            } else {
                current = try await restEMIteration(
                    context, loop: loop, iteration: iteration, sampling: current, fineTuning: policy, easy: easy)
            }
            try await context.record(
                try await context.greedyScores(
                    current, policy: spec.policyNames[iteration], stage: .rl, problems: dataset.test))
        }
        return current
    }

    /// One ReST-EM iteration: the E-step samples easy questions from `sampling` and keeps the correct solutions;
    /// the M-step fine-tunes `fineTuning` (the SFT policy, not the previous iterate, as ReST-EM does) on them.
    private static func restEMIteration(
        _ context: RunContext, loop: TrainingLoop, iteration: Int, sampling: Transformer, fineTuning: Transformer,
        easy: [Problem]
    ) async throws -> Transformer {
        let spec = context.spec.rl.restEm
        let sequences = try await context.sample(
            sampling, problems: easy, samplesPerProblem: spec.samplesPerProblem,
            stream: RandomStream(.restEMSamples, item: iteration), temperature: context.spec.sampling.temperature,
            reporting: ProgressTask(stage: .rl, task: "\(loop.model) samples", unit: "problems", total: easy.count))
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
        let rows = TrainingRows(family: context.family)
        return try await loop.run(
            context, initial: { fineTuning.copy() },
            batch: { step, _ in
                var random = context.random(.restEMBatches, item: iteration, index: step)
                return rows.languageModelBatch(
                    (0..<spec.optimization.batchSize).map { _ in kept[random.uniform(below: kept.count)] })
            })
    }
}
