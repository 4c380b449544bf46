import Canonical
import EventStore
import WireTypes

/// The provenance a run's stream recorded: one per attempt, read from its `RunClaimed` events.
enum RecordedProvenance {
    /// Every attempt of the stream, oldest first. A claim that does not decode is a broken record, not a missing
    /// provenance: it throws.
    static func attempts(_ events: [RecordedEvent]) throws -> [AttemptProvenance] {
        try events.filter { $0.type == RunClaimed.type.rawValue }.map { event in
            let claim = try CanonicalJSON.decode(RunClaimed.self, from: event.payload)
            return AttemptProvenance(attempt: claim.attempt, worker: claim.worker, provenance: claim.provenance)
        }
    }

    /// The provenance of the attempt that recorded `event` (a pipeline event names its attempt in its metadata).
    static func of(_ event: RecordedEvent, among attempts: [AttemptProvenance]) -> Provenance? {
        struct Author: Decodable { var attempt: Int? }
        guard let attempt = (try? CanonicalJSON.decode(Author.self, from: event.metadata))?.attempt else { return nil }
        return attempts.last { $0.attempt == attempt }?.provenance
    }
}
