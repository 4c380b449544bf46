import NeuralEngine

/// Stage 7: greedy accuracy per level of the SFT policy on the test problems, and of the SFT controls the spec
/// asks for — the best easy-validation checkpoint, the all-levels ceiling (the RL policies and the generative
/// verifier are scored where they are made).
enum EvaluateStage {
    struct Output: Codable, Sendable {
        var rows: Int
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer,
        controls: [(policy: String, model: Transformer)]
    ) async throws -> Output {
        var rows = try await context.greedyScores(policy, policy: "sft", stage: .evaluate, problems: dataset.test)
        for control in controls {
            rows += try await context.greedyScores(
                control.model, policy: control.policy, stage: .evaluate, problems: dataset.test)
        }
        try await context.record(rows)
        return Output(rows: rows.count)
    }
}
