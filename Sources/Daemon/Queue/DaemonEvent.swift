import Canonical
import EventStore
import Foundation
import RunBundle
import WireTypes

/// A daemon event with its typed payload: how the queue's audit trail is written and read back.
enum DaemonEvent: Sendable, Equatable {
    case submitted(RunSubmitted)
    case claimed(RunClaimed)
    case interrupted(RunInterrupted)
    case resumed(RunResumed)
    case cancelled(RunCancelled)
    case failed(RunFailed)
    case completed(RunCompleted)
    case replayed(RunReplayed)
    case groupSubmitted(GroupSubmitted)
    case blobsPruned(BlobsPruned)

    var type: DaemonEventType {
        switch self {
        case .submitted: .submitted
        case .claimed: .claimed
        case .interrupted: .interrupted
        case .resumed: .resumed
        case .cancelled: .cancelled
        case .failed: .failed
        case .completed: .completed
        case .replayed: .replayed
        case .groupSubmitted: .groupSubmitted
        case .blobsPruned: .blobsPruned
        }
    }

    /// Who wrote an event, outside its payload.
    struct Author: Codable, Sendable, Equatable {
        var worker: String?
        var attempt: Int?
    }

    /// The event to append; an encoding failure throws rather than record something else.
    func recorded(by author: Author = Author()) throws -> NewEvent {
        let payload: Data
        switch self {
        case .submitted(let value): payload = try CanonicalJSON.encode(value)
        case .claimed(let value): payload = try CanonicalJSON.encode(value)
        case .interrupted(let value): payload = try CanonicalJSON.encode(value)
        case .resumed(let value): payload = try CanonicalJSON.encode(value)
        case .cancelled(let value): payload = try CanonicalJSON.encode(value)
        case .failed(let value): payload = try CanonicalJSON.encode(value)
        case .completed(let value): payload = try CanonicalJSON.encode(value)
        case .replayed(let value): payload = try CanonicalJSON.encode(value)
        case .groupSubmitted(let value): payload = try CanonicalJSON.encode(value)
        case .blobsPruned(let value): payload = try CanonicalJSON.encode(value)
        }
        return NewEvent(type: type.rawValue, payload: payload, metadata: try CanonicalJSON.encode(author))
    }

    /// A run's stream in the event store.
    static func stream(_ run: String) -> String { RunStreams.run(run) }

    /// The run's `RunSubmitted`, read from its first event: the one record of the spec.
    static func submission(of run: String, in store: EventStore) async throws -> RunSubmitted {
        let first = try await store.read(stream: stream(run), fromVersion: 1, limit: 1).first
        return try submission(of: run, first: first.map { ($0.type, $0.payload) })
    }

    /// The same, read inside a transaction (a claim records the spec's threads in its provenance).
    static func submission(of run: String, in tx: Transaction) throws -> RunSubmitted {
        let first = try tx.read(stream: stream(run), fromVersion: 1, limit: 1).first
        return try submission(of: run, first: first.map { ($0.type, $0.payload) })
    }

    private static func submission(
        of run: String, first event: (type: String, payload: Data)?
    ) throws
        -> RunSubmitted
    {
        guard let event, event.type == DaemonEventType.submitted.rawValue else {
            throw DaemonError(.conflict, "run \(run) has no RunSubmitted event: its stream does not start with one")
        }
        do {
            return try CanonicalJSON.decode(RunSubmitted.self, from: event.payload)
        } catch {
            throw DaemonError(.conflict, "run \(run)'s RunSubmitted event does not decode", cause: error)
        }
    }
}
