import Canonical
import Foundation

extension EventStore {
    static let eventColumns =
        "position, stream, version, id, type, schema_version, payload, metadata, recorded_at, hash, previous_hash"

    /// Events of one stream from `fromVersion` on, in version order.
    public func read(stream: String, fromVersion: Int64 = 1, limit: Int = 1000) async throws -> [RecordedEvent] {
        try await idempotent { connection in
            try Self.events(
                connection.executePrepared(
                    "SELECT \(Self.eventColumns) FROM events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3",
                    [.text(stream), .int(fromVersion), .int(Int64(limit))]))
        }
    }

    /// Up to `limit` events of the global log after `position`, in position order. Positions are
    /// gap-free, so a missing one is an error (`.gap`) rather than something to skip.
    public func readAll(after position: Int64, limit: Int) async throws -> [RecordedEvent] {
        let events = try await idempotent { connection in
            try Self.events(
                connection.executePrepared(
                    "SELECT \(Self.eventColumns) FROM events WHERE position > $1 ORDER BY position LIMIT $2",
                    [.int(position), .int(Int64(limit))]))
        }
        for (offset, event) in events.enumerated() where event.position != position + Int64(offset) + 1 {
            throw EventStoreError(
                code: .gap,
                message: "the event log has a gap: expected position \(position + Int64(offset) + 1), found "
                    + "\(event.position); positions are gap-free by construction, so the log was altered")
        }
        return events
    }

    /// The position of the last committed event (0 for an empty log).
    public func headPosition() async throws -> Int64 {
        try await idempotent { connection in
            try connection.executePrepared("SELECT position FROM log_head", []).int64(0, "position") ?? 0
        }
    }

    static func events(_ rows: PostgresRows) throws -> [RecordedEvent] {
        try (0..<rows.count).map { row in
            func required<T>(_ value: T?, _ column: String) throws -> T {
                guard let value else {
                    throw EventStoreError(code: .query, message: "event column \(column) is NULL")
                }
                return value
            }
            return RecordedEvent(
                position: try required(rows.int64(row, "position"), "position"),
                stream: try required(rows.string(row, "stream"), "stream"),
                version: try required(rows.int64(row, "version"), "version"),
                id: try required(rows.uuid(row, "id"), "id"),
                type: try required(rows.string(row, "type"), "type"),
                schemaVersion: try required(rows.int(row, "schema_version"), "schema_version"),
                payload: try required(rows.bytes(row, "payload"), "payload"),
                metadata: try required(rows.bytes(row, "metadata"), "metadata"),
                recordedAt: try required(rows.date(row, "recorded_at"), "recorded_at"),
                hash: Hex.encode(try required(rows.bytes(row, "hash"), "hash")),
                previousHash: Hex.encode(try required(rows.bytes(row, "previous_hash"), "previous_hash")))
        }
    }
}

extension EventStore {
    /// The current version (number of events) of each named stream that exists; streams without events are absent.
    /// What a client of the store may know of its streams without reading their events.
    public func versions(of streams: [String]) async throws -> [String: Int64] {
        guard !streams.isEmpty else { return [:] }
        let rows = try await transaction { tx in
            try tx.query("SELECT name, version FROM streams WHERE name = ANY($1)", [.textArray(streams)])
        }
        var versions: [String: Int64] = [:]
        for row in 0..<rows.count {
            if let name = try rows.string(row, "name"), let version = try rows.int64(row, "version") {
                versions[name] = version
            }
        }
        return versions
    }
}
