import Foundation
import WireTypes

/// Small records for page tests: a run, its events, curves and a comparison, with user text that tries to
/// become markup.
enum Fixtures {
    static let hostile = #"<script>alert("x")</script> & 'n'"#
    static let runID = "0123abcd-0000-4000-8000-00000000beef"
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func run(state: RunState = .completed, name: String = hostile) -> RunDetails {
        RunDetails(
            id: runID, name: name, state: state, priority: 0, attempt: 1, failures: 0, maxAttempts: 3,
            specHash: String(repeating: "ab", count: 32), leaseOwner: nil, cancelRequested: false,
            submittedAt: start, updatedAt: start + 95, errors: [], progress: nil, eventCount: 4)
    }

    static func event(_ version: Int64, _ type: String, stage: String?, at seconds: Double) -> WireEvent {
        WireEvent(
            position: version, version: version, id: UUID(), type: type, schemaVersion: 1,
            payload: stage.map { .object(["stage": .string($0)]) } ?? .object([:]), metadata: .object([:]),
            recordedAt: start + seconds, hash: String(repeating: "c", count: 64))
    }

    static let events = [
        event(1, "RunSubmitted", stage: nil, at: 0),
        event(2, "StageStarted", stage: "split", at: 1),
        event(3, "StageCompleted", stage: "split", at: 3),
        event(4, "StageStarted", stage: "sft", at: 3),
    ]

    static let metrics = RunMetrics(
        run: runID,
        series: [
            MetricSeries(stage: "sft", model: "policy", metric: "loss", steps: [1, 2, 3], values: [2.0, 1.5, 1.2]),
            MetricSeries(
                stage: "sft", model: "policy", metric: "learning_rate", steps: [1, 2, 3], values: [0.1, 0.1, 0.1]),
            MetricSeries(stage: "evaluators", model: "orm", metric: "loss", steps: [1, 2], values: [0.7, 0.6]),
            MetricSeries(stage: "rl", model: "ppo", metric: "kl", steps: [4, 8], values: [0.01, 0.02]),
        ])

    static func row(
        method: String, evaluator: String, n: Int, levels: LevelScope, accuracy: Double
    ) -> ComparisonRow {
        ComparisonRow(
            policy: "sft", method: method, evaluator: evaluator, aggregation: "prod", n: n, levels: levels,
            accuracy: IntervalEstimate(
                mean: accuracy, lower: accuracy - 0.05, upper: accuracy + 0.05, method: .problemBootstrap, seeds: 1,
                sd: nil, problems: 30),
            difference: nil, verdict: nil)
    }

    /// Two methods at N = 1, 2, 4 on easy and hard problems.
    static let grid = ComparisonReport(
        runs: [runID], baseline: nil, resamples: 2000, headline: false,
        rows: [LevelScope.easy, .hard].flatMap { levels in
            [1, 2, 4].flatMap { n in
                [
                    row(method: "majority", evaluator: "none", n: n, levels: levels, accuracy: 0.3 + 0.05 * Double(n)),
                    row(method: "weighted", evaluator: "orm", n: n, levels: levels, accuracy: 0.32 + 0.06 * Double(n)),
                ]
            }
        })

    static let headline = ComparisonReport(
        runs: [runID], baseline: nil, resamples: 2000, headline: true,
        rows: [row(method: "weighted", evaluator: hostile, n: 4, levels: .hard, accuracy: 0.5)])
}
