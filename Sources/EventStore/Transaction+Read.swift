import Canonical
import Foundation

/// What a client of the store reads of the log inside its own transactions, so that it never names the store's
/// tables (inside its SQL, the `e2h_stream_version` family of migrations/0003 serves the same purpose).
extension Transaction {
    /// Up to `limit` events of `stream` from `fromVersion`, in version order, as this transaction sees them.
    public func read(stream: String, fromVersion: Int64 = 1, limit: Int = 1000) throws -> [RecordedEvent] {
        try EventStore.events(
            connection.executePrepared(
                "SELECT \(EventStore.eventColumns) FROM events WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3",
                [.text(stream), .int(fromVersion), .int(Int64(limit))]))
    }

    /// The stream's latest event of `type`, or nil when it has none.
    public func latest(stream: String, type: String) throws -> RecordedEvent? {
        try EventStore.events(
            connection.executePrepared(
                """
                SELECT \(EventStore.eventColumns) FROM events WHERE stream = $1 AND type = $2
                ORDER BY version DESC LIMIT 1
                """, [.text(stream), .text(type)])
        ).first
    }

    /// The bytes the stream's events take as stored (payloads and metadata).
    public func storedBytes(stream: String) throws -> Int64 {
        try connection.executePrepared(
            """
            SELECT coalesce(sum(pg_column_size(payload) + pg_column_size(metadata)), 0)::int8 AS bytes
            FROM events WHERE stream = $1
            """, [.text(stream)]
        ).int64(0, "bytes") ?? 0
    }

    /// Where an event names a digest: its stream and type, and the digest.
    public struct Mention: Hashable, Sendable {
        public var stream: String
        public var type: String
        public var digest: String
    }

    /// Every event, in any stream, whose payload or metadata names one of `digests` (lowercase hex SHA-256), by a
    /// match of 64 hex digits over its text: no decoder of one kind of event is trusted to find them all.
    public func mentions(of digests: [String]) throws -> [Mention] {
        guard !digests.isEmpty else { return [] }
        let rows = try query(
            """
            SELECT DISTINCT e.stream, e.type, m.found[1] AS digest
            FROM events e
            CROSS JOIN LATERAL regexp_matches(e.payload::text || ' ' || e.metadata::text, '[0-9a-f]{64}', 'g') AS m(found)
            WHERE m.found[1] = ANY($1::text[])
            ORDER BY 1, 2, 3
            """, [.textArray(digests)])
        return try (0..<rows.count).map { row in
            guard let stream = try rows.string(row, "stream"), let type = try rows.string(row, "type"),
                let digest = try rows.string(row, "digest")
            else { throw EventStoreError(code: .query, message: "a mention of a digest has a NULL column") }
            return Mention(stream: stream, type: type, digest: digest)
        }
    }

    /// How `lockBlobs` locks: against deletion only (a writer about to name them), or for deletion.
    public enum BlobLock: String, Sendable {
        case againstDeletion = "FOR KEY SHARE"
        case forDeletion = "FOR UPDATE"
    }

    /// Locks the blobs stored under `hashes` (lowercase hex) until this transaction ends, in hash order (so two
    /// lockers cannot deadlock), and returns those that are stored.
    @discardableResult
    public func lockBlobs(_ hashes: [String], _ lock: BlobLock) throws -> Set<String> {
        guard !hashes.isEmpty else { return [] }
        let rows = try query(
            "SELECT sha256 FROM blobs WHERE sha256 = ANY($1) ORDER BY sha256 \(lock.rawValue)",
            [.bytesArray(try EventStore.digests(hashes))])
        return Set(try (0..<rows.count).compactMap { try rows.bytes($0, "sha256").map(Hex.encode) })
    }

    /// The sizes of the blobs stored under `hashes`, as `EventStore.blobSizes` says, seen by this transaction.
    public func blobSizes(_ hashes: [String]) throws -> [String: Int64] {
        guard !hashes.isEmpty else { return [:] }
        return try EventStore.summaries(query(EventStore.sizeQuery, [.bytesArray(try EventStore.digests(hashes))]))
            .mapValues(\.size)
    }

    /// Deletes the blobs stored under `hashes`; the caller has made sure nothing still names them.
    public func deleteBlobs(_ hashes: [String]) throws {
        guard !hashes.isEmpty else { return }
        try query("DELETE FROM blobs WHERE sha256 = ANY($1)", [.bytesArray(try EventStore.digests(hashes))])
    }
}
