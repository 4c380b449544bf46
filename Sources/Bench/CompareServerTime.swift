import Analysis
import Canonical
import Daemon
import EventStore
import Foundation
import Pipeline

/// The daemon's compare path on a real store, for the "≤ 1 s of server time": each run's stream read
/// once with its chain's verdict, its outcome blobs fetched in one query and decoded, then the statistics — the
/// calls `RunComparison` makes for each run, less resolving the run's id in the queue table (one indexed row).
struct CompareServerTime {
    let store: EventStore

    /// Records each run as a stream of `ScoreRecorded` events and stores their outcome blobs; returns the streams.
    func record(_ runs: [[(RowKey, Int, Data)]]) async throws -> [String] {
        var streams: [String] = []
        for (index, run) in runs.enumerated() {
            let hashes = try await store.transaction { tx in try run.map { try tx.putBlob($0.2) } }
            let events = try zip(run, hashes).map { score, hash in
                let ((key, level, _), outcomes) = (score, hash)
                let payload = ScoreRecorded(
                    stage: .rerank, policy: key.policy, method: key.method, evaluator: key.evaluator,
                    aggregation: key.aggregation, n: key.n, level: level, accuracy: 0, problems: 150, correct: 0,
                    outcomes: outcomes)
                return NewEvent(type: ScoreRecorded.eventType, payload: try CanonicalJSON.encode(payload))
            }
            let stream = "bench-run-\(index)"
            for start in stride(from: 0, to: events.count, by: 500) {
                _ = try await store.append(
                    stream: stream, expectedVersion: .any, events: Array(events[start..<min(start + 500, events.count)])
                )
            }
            streams.append(stream)
        }
        return streams
    }

    /// Reads, checks and decodes every run's scores and compares them as the daemon does, through its own
    /// `loadInOrder`.
    func compare(streams: [String], request: ComparisonRequest) async throws {
        let group = try await loadInOrder(streams) { try await scores(of: $0) }
        _ = try Comparison.compare(runs: group, request: request)
    }

    private func scores(of stream: String) async throws -> RunScores {
        let read = try await store.readVerified(stream: stream)
        guard case .intact = read.verification else {
            throw BenchFailure("the benchmark's own stream \(stream) does not verify: \(read.verification)")
        }
        let recorded = try ScoreRecorded.recorded(in: read.events.map { ($0.type, $0.payload) })
        let scores = try recorded.levelScores(blobs: try await store.blobs(recorded.outcomeHashes))
        return RunScores(run: stream, easyLevels: [1, 2, 3], hardLevels: [4, 5], scores: scores)
    }
}
