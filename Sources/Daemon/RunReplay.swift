import EventStore
import Foundation
import Logging
import Pipeline
import WireTypes

/// `replay --verify`: re-executes a run from the spec its `RunSubmitted` event recorded, into a scratch
/// in-memory recorder, and compares every pipeline event's payload with the recorded one.
struct RunReplay {
    let store: EventStore
    let threads: Int?
    let logger: Logger

    func replay(run id: String, completed: Bool) async throws -> ReplayReport {
        let recordedEvents = try await store.readWhole(stream: DaemonEvents.stream(id))
        let spec = try Self.recordedSpec(recordedEvents)
        let recorded = Self.comparable(recordedEvents.map { ($0.type, $0.payload) })
        let scratch = InMemoryRecorder()
        var logger = self.logger
        logger[metadataKey: "replay"] = "\(id)"
        let threads = self.threads
        logger.info("replaying run from its recorded spec")
        let replayLogger = logger
        _ = try await RunExecutor(spec: spec, recorder: scratch, threads: threads, logger: replayLogger).run()
        let replayed = Self.comparable(await scratch.events.map { ($0.type, $0.payload) })
        // A run still in progress is compared as far as it got.
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
        guard let submitted = events.first(where: { $0.type == DaemonEvents.submitted }),
            let object = try? JSONSerialization.jsonObject(with: submitted.payload) as? [String: Any],
            let specJSON = object["spec_json"] as? String
        else {
            throw DaemonError(.conflict, "the run's stream has no readable RunSubmitted event to replay from")
        }
        do {
            return try ExperimentSpec(canonicalJSON: Data(specJSON.utf8))
        } catch {
            throw DaemonError(.conflict, "the recorded spec no longer decodes", cause: error)
        }
    }

    /// Pipeline events whose payloads are deterministic: the daemon's own events and the checkpoints taken only
    /// because a stop was requested are left out.
    static func comparable(_ events: [(type: String, payload: Data)]) -> [(type: String, payload: Data)] {
        events.filter { event in
            if DaemonEvents.all.contains(event.type) { return false }
            if event.type == "CheckpointSaved",
                let object = try? JSONSerialization.jsonObject(with: event.payload) as? [String: Any],
                object["reason"] as? String == "interrupt"
            {
                return false
            }
            return true
        }
    }
}
