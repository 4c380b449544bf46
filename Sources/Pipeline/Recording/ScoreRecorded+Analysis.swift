public import Analysis
import Canonical
public import Foundation

extension ScoreRecorded {
    /// The row this score belongs to, as `compare` names it.
    public var row: RowKey {
        RowKey(policy: policy, method: method, evaluator: evaluator, aggregation: aggregation, n: n)
    }

    /// This score with its outcome blob (the bytes stored under `outcomes`) decoded: what `compare` reads.
    public func levelScore(outcomesBlob: Data) throws(AnalysisError) -> RunScores.LevelScore {
        RunScores.LevelScore(row: row, level: level, outcomes: try ProblemOutcomes(decoding: outcomesBlob))
    }

    /// The scores among a stream's events, in record order.
    public static func recorded(in events: [(type: String, payload: Data)]) throws -> [ScoreRecorded] {
        try events.filter { $0.type == eventType }.map {
            try CanonicalJSON.decode(ScoreRecorded.self, from: $0.payload)
        }
    }
}

extension Array where Element == ScoreRecorded {
    /// The blobs these scores refer to, each once, in first-seen order: one bulk read for a whole run.
    public var outcomeHashes: [String] {
        var seen: Set<String> = []
        return map(\.outcomes).filter { seen.insert($0).inserted }
    }

    /// Each score with its outcome blob decoded, from `blobs` keyed by hash (what `EventStore.blobs` returns).
    public func levelScores(blobs: [String: Data]) throws -> [RunScores.LevelScore] {
        try map { score in
            guard let blob = blobs[score.outcomes] else {
                throw AnalysisError(
                    .malformedOutcomes, "the outcomes of \(score.row) (blob \(score.outcomes)) were not read")
            }
            return try score.levelScore(outcomesBlob: blob)
        }
    }
}
