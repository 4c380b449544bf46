import NeuralEngine

/// Stage 7: greedy accuracy per level of the SFT policy on the test problems, and of the SFT controls the spec
/// asks for — the best easy-validation checkpoint, the all-levels ceiling (the RL policies and the generative
/// verifier are scored where they are made). Then the pools of `rerank.generators`, every generator trained by
/// now: each one's test pool, reranked by every easy-trained evaluator as the rerank stage reranks the SFT
/// policy's (`RerankStage.poolRows`).
enum EvaluateStage {
    struct Output: Codable, Sendable {
        var rows: Int
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer,
        controls: [(policy: String, model: Transformer)], generators: [(policy: String, model: Transformer)],
        evaluators: EvaluatorStage.Output
    ) async throws -> Output {
        var rows = try await context.greedyScores(policy, policy: "sft", stage: .evaluate, problems: dataset.test)
        for control in controls {
            rows += try await context.greedyScores(
                control.model, policy: control.policy, stage: .evaluate, problems: dataset.test)
        }
        try await context.record(rows)
        var count = rows.count
        guard !generators.isEmpty else { return Output(rows: count) }
        let easyTrained = evaluators.evaluators.filter { $0.labels == .easy }
        var scorings: [EvaluatorScoring] = []
        for evaluator in easyTrained {
            scorings.append(try await RLStage.evaluatorScoring(named: evaluator.name, context, evaluators: evaluators))
        }
        for (index, generator) in generators.enumerated() {
            let rows = try await rerankedPool(
                context, generator: generator, index: index, evaluators: zip(easyTrained, scorings).map { $0 },
                dataset: dataset)
            try await context.record(rows)
            count += rows.count
        }
        return Output(rows: count)
    }

    /// One generator's test pool, drawn as the SFT policy's is (a generative verifier's is the pool its majority
    /// rows were counted on: the same stream), scored by every easy-trained evaluator and reranked.
    private static func rerankedPool(
        _ context: RunContext, generator: (policy: String, model: Transformer), index: Int,
        evaluators: [(EvaluatorStage.Trained, EvaluatorScoring)], dataset: Dataset
    ) async throws -> [ScoreMeasurement] {
        let spec = context.spec
        let verifier = spec.evaluators.contains { $0.name == generator.policy && $0.kind == .generative }
        let chunks = try await SampleStage.sampleSet(
            "test", problems: dataset.test, samplesPerProblem: spec.sampling.poolSize,
            stream: verifier ? RandomStream(.verifierPolicySamples) : RandomStream(.generatorPoolSamples, item: index),
            policy: generator.model, policyName: generator.policy, stage: .evaluate, context: context)
        let pool = try await SampleStage.load(chunks, samplesPerProblem: spec.sampling.poolSize, context: context)
        var scored: [RerankStage.ScoredPool] = []
        for (evaluator, scoring) in evaluators {
            let scores = try await scoring.readings(
                pool.sequences, context: context,
                reporting: ProgressTask(
                    stage: .evaluate, task: "\(generator.policy) pool scored by \(evaluator.name)", unit: "sequences",
                    total: pool.sequences.count))
            scored.append(RerankStage.ScoredPool(evaluator: evaluator, scores: scores))
        }
        let rows = try await RerankStage.poolRows(
            context, generator: generator.policy, model: generator.model, pool: pool, scored: scored,
            problems: dataset.test, stage: .evaluate)
        // A verifier's majority rows are in the record already, counted on this same pool in the evaluators stage:
        // one row per key.
        return verifier ? rows.filter { $0.method != RerankMethod.majority.rawValue } : rows
    }
}
