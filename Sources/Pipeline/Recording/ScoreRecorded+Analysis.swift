public import Analysis
import Foundation

extension ScoreRecorded {
    /// The row this score belongs to, as `compare` names it.
    public var row: RowKey {
        RowKey(policy: policy, method: method, evaluator: evaluator, aggregation: aggregation, n: n)
    }

    /// This score with its outcome blob (the bytes stored under `outcomes`) decoded: what `compare` reads.
    public func levelScore(outcomesBlob: Data) throws(AnalysisError) -> RunScores.LevelScore {
        RunScores.LevelScore(row: row, level: level, outcomes: try ProblemOutcomes(decoding: outcomesBlob))
    }
}
