import Analysis
import WireTypes

/// A score before it is recorded: its row, its level, and each problem's outcomes. Recording stores
/// the outcomes as a blob and emits the `ScoreRecorded` event that names it.
struct ScoreMeasurement {
    var stage: StageName
    var policy: String
    var method: String
    var evaluator: String
    var aggregation: String
    var n: Int
    var level: Int
    var outcomes: ProblemOutcomes
    /// The spec's resamples (1 for greedy decoding): a problem drawn once counts as much as one drawn
    /// `resamples` times.
    var resamples: Int

    /// The mean over problems of each problem's accuracy over its draws, computed in integers as
    /// correct picks weighted to `resamples` draws per problem over problems × resamples, so that it
    /// stays bit-identical to the figure recorded before per-problem outcomes existed.
    var accuracy: Double {
        let problems = outcomes.problems.count
        guard problems > 0 else { return 0 }
        let weight = resamples / outcomes.draws
        return Double(outcomes.hits.reduce(0, +) * weight) / Double(problems * resamples)
    }

    func recorded(outcomesBlob: String) -> ScoreRecorded {
        ScoreRecorded(
            stage: stage, policy: policy, method: method, evaluator: evaluator, aggregation: aggregation, n: n,
            level: level, accuracy: accuracy, problems: outcomes.problems.count,
            correct: Double(outcomes.hits.reduce(0, +)) / Double(outcomes.draws), outcomes: outcomesBlob)
    }
}

extension RunContext {
    /// Stores each score's outcomes and emits its `ScoreRecorded` event, in order.
    func record(_ scores: [ScoreMeasurement]) async throws {
        var events: [PipelineEvent] = []
        for score in scores {
            events.append(score.recorded(outcomesBlob: try await log.putBlob(score.outcomes.encoded())).event())
        }
        try await log.emit(events)
    }
}
