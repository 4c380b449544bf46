import NeuralEngine

/// Stage 7: greedy accuracy per level of the SFT policy on the test problems, and of the best easy-validation
/// checkpoint when the spec asks for that control (the RL policies and the generative verifier are scored where
/// they are made).
enum EvaluateStage {
    struct Output: Codable, Sendable {
        var rows: Int
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer, best: Transformer?
    ) async throws -> Output {
        var rows = try await context.greedyScores(policy, policy: "sft", stage: .evaluate, problems: dataset.test)
        if let best {
            rows += try await context.greedyScores(
                best, policy: SFTStage.bestControl, stage: .evaluate, problems: dataset.test)
        }
        try await context.record(rows)
        return Output(rows: rows.count)
    }
}
