import NeuralEngine

/// Stage 7: greedy accuracy per level of the SFT policy on the test problems (the RL policies and
/// the generative verifier are scored where they are made).
enum EvaluateStage {
    struct Output: Codable, Sendable {
        var rows: Int
    }

    static func run(_ context: RunContext, dataset: Dataset, policy: Transformer) async throws -> Output {
        let rows = try await context.greedyScores(policy, policy: "sft", stage: .evaluate, problems: dataset.test)
        try await context.record(rows)
        return Output(rows: rows.count)
    }
}
