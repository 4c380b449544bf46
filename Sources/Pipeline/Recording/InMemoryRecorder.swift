import Foundation

/// A `RunRecorder` in memory, for unit tests and scratch replays.
///
/// `stopWhen` lets a test interrupt a run at a chosen point: it sees the events appended so far
/// and how many times the executor has polled, and may answer a stop reason.
public actor InMemoryRecorder: RunRecorder {
    public typealias StopCondition = @Sendable (_ events: [PipelineEvent], _ polls: Int) -> StopReason?

    public private(set) var events: [PipelineEvent]
    public private(set) var metrics: [TrainingMetric] = []
    public private(set) var polls = 0
    private var blobs: [String: Data]
    private var stopWhen: StopCondition?

    public init(stopWhen: StopCondition? = nil) {
        self.events = []
        self.blobs = [:]
        self.stopWhen = stopWhen
    }

    /// A recorder that starts from another one's events and blobs: a resumed run.
    public init(resuming other: InMemoryRecorder, stopWhen: StopCondition? = nil) async {
        self.events = await other.events
        self.blobs = await other.blobStore
        self.stopWhen = stopWhen
    }

    /// A recorder holding `events` (e.g. an edited copy of another record) and another one's blobs.
    public init(events: [PipelineEvent], blobsOf other: InMemoryRecorder) async {
        self.events = events
        self.blobs = await other.blobStore
        self.stopWhen = nil
    }

    var blobStore: [String: Data] { blobs }

    public func history() -> [PipelineEvent] { events }

    public func append(_ newEvents: [PipelineEvent]) { events += newEvents }

    public func putBlob(_ bytes: Data) -> String {
        let hash = CanonicalJSON.sha256Hex(bytes)
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

    public func stopRequested() -> StopReason? {
        polls += 1
        return stopWhen?(events, polls)
    }
}
