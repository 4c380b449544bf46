import Canonical
import EventStore
import Foundation
import Pipeline
import Synchronization
import WireTypes

/// The executor's `RunRecorder` for one attempt: the run's stream in the event store, every write fenced on
/// the attempt's lease. Once the lease is lost it asks the executor to stop, and every later write throws.
public final class LeasedRecorder: RunRecorder {
    private struct State {
        var stop: StopReason?
        var leaseLost = false
        /// The pipeline's latest report, stored with the run's row at the next write or heartbeat.
        var reported: RunProgress?
        /// The bytes of the blobs stored since the last append, by hash: what the next append names (a checkpoint,
        /// then its `CheckpointSaved`), kept so that it can store them again if another run's retention deleted
        /// identical content meanwhile. Dropped at every append, so an attempt holds a few blobs at most.
        var storedSinceAppend: [String: Data] = [:]
    }

    /// Who wrote a pipeline event, and the executor's volatile facts (timings), outside the payload.
    struct Metadata: Codable, Equatable {
        var attempt: Int
        var worker: String
        var volatile: [String: VolatileFact]
    }

    let lease: Lease
    let leases: Leases
    private let state = Mutex(State())

    public init(lease: Lease, leases: Leases) {
        self.lease = lease
        self.leases = leases
    }

    var store: EventStore { leases.queue.store }

    // MARK: - Control

    func requestStop(_ reason: StopReason) {
        state.withLock { state in
            // A shutdown must not turn a requested cancel into a requeue.
            if state.stop != .cancelled { state.stop = reason }
        }
    }

    func leaseLost() { state.withLock { $0.leaseLost = true } }

    var isLeaseLost: Bool { state.withLock { $0.leaseLost } }

    /// The pipeline's latest progress report.
    var reportedProgress: RunProgress? { state.withLock { $0.reported } }

    // MARK: - RunRecorder

    public func history() async throws -> [PipelineEvent] {
        try await store.readWhole(stream: DaemonEvent.stream(lease.run))
            .filter { !DaemonEventType.isDaemonEvent($0.type) }
            .map { PipelineEvent(type: $0.type, payload: $0.payload, volatile: try Self.volatile($0.metadata)) }
    }

    public func append(_ events: [PipelineEvent]) async throws {
        if isLeaseLost { throw Leases.leaseLost(lease) }
        let newEvents = try events.map { event in
            NewEvent(
                type: event.type, payload: event.payload,
                metadata: try CanonicalJSON.encode(
                    Metadata(
                        attempt: lease.attempt, worker: lease.owner,
                        volatile: try JSONDecoder().decode([String: VolatileFact].self, from: event.volatile))))
        }
        let blobs = try events.flatMap { try $0.blobReferences() }
        let restorable = state.withLock { $0.storedSinceAppend }
        try await fenced {
            try await self.leases.appendFenced(
                self.lease, newEvents, blobs: blobs, restorable: restorable, progress: self.reportedProgress)
        }
        state.withLock { state in for hash in restorable.keys { state.storedSinceAppend[hash] = nil } }
    }

    public func putBlob(_ bytes: Data) async throws -> String {
        let hash = try await store.putBlob(bytes)
        state.withLock { $0.storedSinceAppend[hash] = bytes }
        return hash
    }

    public func blob(_ sha256: String) async throws -> Data {
        try await store.blob(sha256)
    }

    /// Curve points under this attempt's number, fenced like events: a worker that lost its lease writes no
    /// points either. Re-run after a lost connection, since a re-recorded point is a no-op: a terminated
    /// session failed whole attempts here (DatabaseFailureTests).
    public func recordMetrics(_ points: [TrainingMetric]) async throws {
        guard !points.isEmpty else { return }
        if isLeaseLost { throw Leases.leaseLost(lease) }
        let lease = self.lease
        let stored = points.map {
            MetricPoint(run: lease.run, attempt: lease.attempt, name: $0.name, step: Int64($0.step), value: $0.value)
        }
        try await fenced { try await self.leases.recordMetricsFenced(lease, stored) }
        leases.queue.metrics.trainingSteps(Set(points.map(\.step)).count)
    }

    public func report(_ progress: RunProgress) async { state.withLock { $0.reported = progress } }

    public func stopRequested() async -> StopReason? { currentStop }

    /// Why the attempt should stop now, if it should.
    var currentStop: StopReason? {
        state.withLock { state in
            if let stop = state.stop { return stop }
            // Lost lease: stop at once; whatever the executor then tries to write is refused by the fence.
            return state.leaseLost ? .shutdown : nil
        }
    }

    /// A fenced write; a refusal marks the lease lost.
    private func fenced(_ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as EventStoreError where error.code == .fenced {
            leases.queue.metrics.writeFenced()
            leaseLost()
            throw error
        }
    }

    /// The volatile facts in an event's metadata (`VolatileFact`: durations, reusable work), outside what determinism
    /// compares.
    static func volatile(_ metadata: Data) throws -> Data {
        try CanonicalJSON.encode(try JSONDecoder().decode(Metadata.self, from: metadata).volatile)
    }
}
