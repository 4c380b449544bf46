import Canonical
import Foundation
import WireTypes

/// A `RunRecorder` in memory, for unit tests and scratch replays.
///
/// `stopWhen` lets a test interrupt a run at a chosen point: it sees the events appended so far, how many
/// times the executor has polled, and the latest progress report (e.g. inside a scoring loop), and may
/// answer a stop reason.
public actor InMemoryRecorder: RunRecorder {
    public typealias StopCondition =
        @Sendable (_ events: [PipelineEvent], _ polls: Int, _ progress: RunProgress?) -> StopReason?

    public private(set) var events: [PipelineEvent]
    public private(set) var metrics: [TrainingMetric] = []
    public private(set) var polls = 0
    /// Every progress report, in order: tests check what a client would have seen.
    public private(set) var progressReports: [RunProgress] = []
    /// Stored blobs by SHA-256: with `events`, everything needed to resume or replay the run elsewhere.
    public private(set) var blobs: [String: Data]
    private var stopWhen: StopCondition?

    /// A recorder that starts from a record (empty for a fresh run).
    public init(events: [PipelineEvent] = [], blobs: [String: Data] = [:], stopWhen: StopCondition? = nil) {
        self.events = events
        self.blobs = blobs
        self.stopWhen = stopWhen
    }

    /// A recorder that starts from another one's events and blobs: a resumed run.
    public init(resuming other: InMemoryRecorder, stopWhen: StopCondition? = nil) async {
        self.init(events: await other.events, blobs: await other.blobs, stopWhen: stopWhen)
    }

    public func history() -> [PipelineEvent] { events }

    public func append(_ newEvents: [PipelineEvent]) { events += newEvents }

    public func putBlob(_ bytes: Data) -> String {
        let hash = ContentHash.sha256Hex(bytes)
        blobs[hash] = bytes
        return hash
    }

    public func blob(_ sha256: String) throws -> Data {
        guard let bytes = blobs[sha256] else {
            throw PipelineError(code: .corruptHistory, message: "blob \(sha256) is not in the recorder")
        }
        return bytes
    }

    public func recordMetrics(_ points: [TrainingMetric]) { metrics += points }

    public func report(_ progress: RunProgress) { progressReports.append(progress) }

    public func stopRequested() -> StopReason? {
        polls += 1
        return stopWhen?(events, polls, progressReports.last)
    }
}
