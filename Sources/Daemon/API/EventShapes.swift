import EventStore
import Foundation
import RunBundle
import WireTypes

// The one place a stored event changes shape for the API: a `WireEvent` (a bundle's lines are `BundleEventLine`).

extension WireEvent {
    /// The served shape of a stored event: its payload and metadata decoded. Public for `e2h-bench page`.
    public init(_ event: RecordedEvent) {
        self.init(
            position: event.position, version: event.version, id: event.id, type: event.type,
            schemaVersion: event.schemaVersion, payload: JSONValue(jsonBytes: event.payload),
            metadata: JSONValue(jsonBytes: event.metadata), recordedAt: event.recordedAt, hash: event.hash)
    }
}
