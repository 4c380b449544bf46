import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// `compare`: the runs' `ScoreRecorded` rows side by side, and how their canonical specs differ.
struct RunComparison {
    let queue: Queue

    private struct Key: Hashable {
        var policy, method, evaluator, aggregation: String
        var n: Int
    }

    func compare(_ ids: [String]) async throws -> CompareReport {
        var runs: [RunDetails] = []
        var specs: [ExperimentSpec] = []
        var scores: [[ScoreRecorded]] = []
        var canonical: [[String: String]] = []
        for id in ids {
            let catalog = RunCatalog(queue: queue)
            let run = try await catalog.details(try await catalog.resolve(id))
            let events = try await queue.store.readWhole(stream: DaemonEvent.stream(run.id))
            let spec = try RunReplay.recordedSpec(events)
            scores.append(
                try events.filter { $0.type == ScoreRecorded.eventType }.map {
                    try CanonicalJSON.decode(ScoreRecorded.self, from: $0.payload)
                })
            var leaves: [String: String] = [:]
            if let object = try? JSONSerialization.jsonObject(with: spec.canonicalJSON()) {
                JSONDifference.leaves(object, into: &leaves)
            }
            runs.append(run)
            specs.append(spec)
            canonical.append(leaves)
        }
        var keys: [Key] = []
        var seen: Set<Key> = []
        for rows in scores {
            for row in rows {
                let key = Key(
                    policy: row.policy, method: row.method, evaluator: row.evaluator, aggregation: row.aggregation,
                    n: row.n)
                if seen.insert(key).inserted { keys.append(key) }
            }
        }
        let rows = keys.map { key in
            CompareReport.Row(
                policy: key.policy, method: key.method, evaluator: key.evaluator, aggregation: key.aggregation,
                n: key.n,
                cells: zip(scores, specs).map { rows, spec in
                    let matching = rows.filter {
                        $0.policy == key.policy && $0.method == key.method && $0.evaluator == key.evaluator
                            && $0.aggregation == key.aggregation && $0.n == key.n
                    }
                    guard !matching.isEmpty else { return nil }
                    return CompareReport.Cell(
                        easy: Self.accuracy(matching, levels: spec.task.easyLevels),
                        hard: Self.accuracy(matching, levels: spec.task.hardLevels),
                        all: Self.accuracy(matching, levels: spec.task.easyLevels + spec.task.hardLevels))
                })
        }
        let paths = Set(canonical.flatMap(\.keys)).sorted()
        let differences = paths.compactMap { path -> CompareReport.SpecDifference? in
            let values = canonical.map { $0[path] ?? "(absent)" }
            return Set(values).count > 1 ? CompareReport.SpecDifference(path: path, values: values) : nil
        }
        return CompareReport(runs: runs, rows: rows, specDifferences: differences)
    }

    /// Pooled over the levels: problems solved over problems.
    static func accuracy(_ rows: [ScoreRecorded], levels: [Int]) -> Double? {
        let selected = rows.filter { levels.contains($0.level) }
        let problems = selected.reduce(0) { $0 + $1.problems }
        guard problems > 0 else { return nil }
        return selected.reduce(0) { $0 + $1.correct } / Double(problems)
    }
}
