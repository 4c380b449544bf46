import Canonical
import EventStore
import Foundation
import Logging
import NeuralEngine
import Pipeline
import WireTypes

/// A replay job's work: re-executes a run from the spec its `RunSubmitted` recorded, into a scratch in-memory
/// recorder, and compares every pipeline event's payload with the recorded one. A worker executes it under the
/// replay job's lease, like a run, so a stop (cancel, shutdown) reaches its loops the same way.
public struct RunReplay: Sendable {
    public enum Outcome: Sendable, Equatable {
        case verdict(ReplayReport)
        case stopped(StopReason)
    }

    let store: EventStore
    let threads: Int?
    let share: CoreShare?
    let logger: Logger

    public init(store: EventStore, threads: Int?, share: CoreShare? = nil, logger: Logger) {
        self.store = store
        self.threads = threads
        self.share = share
        self.logger = logger
    }

    /// - Parameters:
    ///   - recordedState: the run's state now; one that has not completed is compared as far as it got.
    ///   - stop: polled by the executor, like a run's recorder.
    ///   - provenance: the replay's own attempt's, reported beside the recorded side's at a divergence.
    public func replay(
        run id: String, recordedState: RunState, provenance: Provenance?, stop: @escaping @Sendable () -> StopReason?
    ) async throws -> Outcome {
        let recordedEvents = try await store.readWhole(stream: DaemonEvent.stream(id))
        let spec = try Self.recordedSpec(recordedEvents)
        let comparableEvents = recordedEvents.filter(Self.isComparable)
        let recorded = comparableEvents.map { (type: $0.type, payload: $0.payload) }
        let scratch = InMemoryRecorder(stopWhen: { _, _, _ in stop() })
        logger.info("replaying run from its recorded spec", metadata: ["replayed": "\(id)"])
        let outcome = try await RunExecutor(
            spec: spec, recorder: scratch, threads: threads, share: share, logger: logger
        ).run()
        if case .stopped(let reason) = outcome { return .stopped(reason) }
        let replayed = await scratch.events.filter { Self.isComparable(type: $0.type, payload: $0.payload) }
            .map { (type: $0.type, payload: $0.payload) }
        var report = Self.compare(
            run: id, recorded: recorded, replayed: replayed, completed: recordedState == .completed)
        report.recordedState = recordedState
        if var divergence = report.divergence {
            // The attempt that recorded the differing event; past the record's end, the one that recorded its last.
            let attempts = try RecordedProvenance.attempts(recordedEvents)
            let event: RecordedEvent? =
                comparableEvents.indices.contains(divergence.index - 1)
                ? comparableEvents[divergence.index - 1] : comparableEvents.last
            divergence.recordedProvenance = event.flatMap { RecordedProvenance.of($0, among: attempts) }
            divergence.replayedProvenance = provenance
            report.divergence = divergence
        }
        return .verdict(report)
    }

    /// The first difference between the recorded and the replayed pipeline events, if any.
    static func compare(
        run id: String, recorded: [(type: String, payload: Data)], replayed: [(type: String, payload: Data)],
        completed: Bool
    ) -> ReplayReport {
        let count = completed ? max(recorded.count, replayed.count) : recorded.count
        for index in 0..<count {
            guard index < recorded.count, index < replayed.count else {
                let missing = index < recorded.count ? recorded[index] : replayed[index]
                return ReplayReport(
                    run: id, identical: false, comparedEvents: index,
                    divergence: .init(
                        index: index + 1, eventType: missing.type, field: "",
                        recorded: index < recorded.count ? missing.type : "(no event)",
                        replayed: index < replayed.count ? missing.type : "(no event)"))
            }
            let (left, right) = (recorded[index], replayed[index])
            if left.type != right.type {
                return ReplayReport(
                    run: id, identical: false, comparedEvents: index,
                    divergence: .init(
                        index: index + 1, eventType: left.type, field: "type", recorded: left.type, replayed: right.type
                    ))
            }
            if let difference = JSONDifference.first(left.payload, right.payload) {
                return ReplayReport(
                    run: id, identical: false, comparedEvents: index,
                    divergence: .init(
                        index: index + 1, eventType: left.type, field: difference.path, recorded: difference.left,
                        replayed: difference.right))
            }
        }
        return ReplayReport(run: id, identical: true, comparedEvents: count, divergence: nil)
    }

    static func recordedSpec(_ events: [RecordedEvent]) throws -> ExperimentSpec {
        guard let first = events.first, first.type == DaemonEventType.submitted.rawValue,
            let submitted = try? CanonicalJSON.decode(RunSubmitted.self, from: first.payload)
        else {
            throw DaemonError(.conflict, "the run's stream has no readable RunSubmitted event to replay from")
        }
        do {
            return try ExperimentSpec(canonicalJSON: Data(submitted.specJson.utf8))
        } catch {
            throw DaemonError(.conflict, "the recorded spec no longer decodes", cause: error)
        }
    }

    static func isComparable(_ event: RecordedEvent) -> Bool { isComparable(type: event.type, payload: event.payload) }

    /// A pipeline event whose payload is deterministic: the daemon's own events (provenance included, in
    /// `RunClaimed`) and the checkpoints taken only because a stop was requested are left out.
    static func isComparable(type: String, payload: Data) -> Bool {
        !DaemonEventType.isDaemonEvent(type) && !CheckpointSaved.isInterrupt(type: type, payload: payload)
    }
}
