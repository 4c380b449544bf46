import Analysis
import EventStore
import Pipeline
import WireTypes

/// The headline a run's `RunCompleted` records (`RunHeadline`), computed once from what the attempt just finished
/// with: its scores, their per-problem outcome blobs (one bulk read), and its spec's `report:` block.
struct CompletionHeadline {
    let store: EventStore

    func headline(run: String, spec: ExperimentSpec, summary: RunSummary) async throws -> RunHeadline {
        let blobs = try await store.blobs(summary.scores.outcomeHashes)
        let scores = RunScores(
            run: run, easyLevels: spec.task.easyLevels, hardLevels: spec.task.hardLevels,
            scores: try summary.scores.levelScores(blobs: blobs))
        return try Comparison.headline(
            of: scores, request: spec.headlineRequest(recorded: scores.scores.map(\.row)),
            claims: spec.report?.claims ?? [])
    }
}
