import EventStore
import Foundation
import WireTypes

// The one place a stored event changes shape: to the API's `WireEvent`, into an export's `RunArchive.Event`, and
// from an import back to a `NewEvent` with its id and bytes unchanged (so its hash is too).

extension WireEvent {
    /// The served shape of a stored event: its payload and metadata decoded. Public for `e2h-bench page`.
    public init(_ event: RecordedEvent) {
        self.init(
            position: event.position, version: event.version, id: event.id, type: event.type,
            schemaVersion: event.schemaVersion, payload: JSONValue(jsonBytes: event.payload),
            metadata: JSONValue(jsonBytes: event.metadata), recordedAt: event.recordedAt, hash: event.hash)
    }
}

extension RunArchive.Event {
    init(_ event: RecordedEvent) {
        self.init(
            version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
            payload: event.payload, metadata: event.metadata, hash: event.hash, previousHash: event.previousHash)
    }
}

extension NewEvent {
    init(_ event: RunArchive.Event) {
        self.init(
            id: event.id, type: event.type, schemaVersion: event.schemaVersion, payload: event.payload,
            metadata: event.metadata)
    }
}
