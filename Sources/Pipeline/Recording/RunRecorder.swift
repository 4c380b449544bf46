import Foundation
import WireTypes

/// One event the pipeline emits.
public struct PipelineEvent: Sendable, Equatable {
    /// "DatasetSplitCreated", "CheckpointSaved", ...
    public var type: String
    /// Canonical JSON (sorted keys), a deterministic function of the spec and seed.
    public var payload: Data
    /// JSON of facts that vary between executions (durations, throughput); never compared.
    public var volatile: Data

    public init(type: String, payload: Data, volatile: Data = Data("{}".utf8)) {
        self.type = type
        self.payload = payload
        self.volatile = volatile
    }
}

/// Why a run stopped before completing.
public enum StopReason: String, Sendable, Codable {
    case cancelled, shutdown
}

/// One point of a high-rate training curve, kept out of the event stream.
public struct TrainingMetric: Sendable, Codable, Equatable {
    public var name: String
    public var step: Int
    public var value: Double

    public init(name: String, step: Int, value: Double) {
        self.name = name
        self.step = step
        self.value = value
    }
}

/// Where a run's record lives. The daemon implements it with the event store (fenced appends);
/// `InMemoryRecorder` serves tests and scratch replays.
public protocol RunRecorder: Sendable {
    /// This run's events so far, in order. Types the pipeline does not emit may appear; they are ignored.
    func history() async throws -> [PipelineEvent]
    /// Appends atomically; throws when the run's lease is lost.
    func append(_ events: [PipelineEvent]) async throws
    /// Stores bytes once and returns their SHA-256 (hex).
    func putBlob(_ bytes: Data) async throws -> String
    func blob(_ sha256: String) async throws -> Data
    /// Records curve points; recording the same (name, step) again must be harmless.
    func recordMetrics(_ points: [TrainingMetric]) async throws
    /// Polled between training rounds and between batches of sampling and scoring (a fraction of a second of
    /// compute apart); non-nil asks the executor to checkpoint what it can and return.
    func stopRequested() async -> StopReason?
    /// Where the run is now. Best effort and never part of the record: a recorder keeps the latest report
    /// for whoever asks (the daemon stores it with the run's queue row); a lost report is harmless.
    func report(_ progress: RunProgress) async
}
