import Foundation

/// One append inside an open transaction, in the order that keeps the global log trustworthy:
///
/// 1. lock the stream row (creating it when the stream is new), so appends to one stream
///    serialize and every later statement sees the stream's committed events;
/// 2. check the expected version — before any position is taken, so a loser leaves no hole;
/// 3. one final statement that inserts the events and advances the log head: the log head row is
///    locked last and held only until COMMIT, so positions are handed out in commit order and a
///    rollback gives its positions back.
///
/// Idempotency: when the ids are already stored as exactly this append (a retry after a lost
/// COMMIT reply), the stored result is returned and nothing is written.
struct StreamAppend {
    let connection: PostgresConnection
    let stream: String
    let expectedVersion: ExpectedVersion
    let events: [NewEvent]

    func run() throws -> AppendResult {
        try validate()
        guard let (version, lastHash) = try lockStream() else {
            return try existingAppend() ?? conflict(actual: nil)
        }
        switch expectedVersion {
        case .any: break
        case .noStream where version == 0: break
        case .exact(let expected) where expected == version: break
        default: return try existingAppend() ?? conflict(actual: version)
        }

        var hashes: [Data] = []
        var previousHashes: [Data] = []
        var previous = lastHash
        for (offset, event) in events.enumerated() {
            let hash = HashChain.hash(
                previous: previous, stream: stream, version: version + Int64(offset) + 1, id: event.id,
                type: event.type, schemaVersion: event.schemaVersion, payload: event.payload, metadata: event.metadata)
            previousHashes.append(previous)
            hashes.append(hash)
            previous = hash
        }
        let rows: PostgresRows
        do {
            rows = try connection.executePrepared(
                Self.insertSQL,
                [
                    .text(stream), .int(version), .uuidArray(events.map(\.id)), .textArray(events.map(\.type)),
                    .int64Array(events.map { Int64($0.schemaVersion) }), .jsonArray(events.map(\.payload)),
                    .jsonArray(events.map(\.metadata)), .bytesArray(hashes), .bytesArray(previousHashes),
                    .bytes(previous),
                ])
        } catch var error as EventStoreError {
            switch (error.sqlState, error.constraint) {
            case ("23505", "events_id_key"):
                error.code = .duplicateEventID
                error.message = "an event id of this append is being appended by another transaction: " + error.message
            case ("22P02", _):
                error.code = .invalidArgument
                error.message = "an event's payload or metadata is not valid JSON: " + error.message
            default: break
            }
            throw error
        }
        guard try rows.bool(0, "fresh") == true else {
            // The ids exist although the version matched: a retry with `.any`, or ids reused.
            guard let existing = try existingAppend() else {
                throw EventStoreError(
                    code: .query, message: "append of \(stream): event ids vanished during the append")
            }
            return existing
        }
        guard let first = try rows.int64(0, "first_position"), let last = try rows.int64(0, "last_position"),
            last - first + 1 == Int64(events.count)
        else {
            throw EventStoreError(code: .gap, message: "append of \(stream) did not receive contiguous positions")
        }
        return AppendResult(firstPosition: first, lastPosition: last, streamVersion: version + Int64(events.count))
    }

    private func validate() throws {
        guard !stream.isEmpty else {
            throw EventStoreError(code: .invalidArgument, message: "a stream name must not be empty")
        }
        guard !events.isEmpty else {
            throw EventStoreError(code: .invalidArgument, message: "an append to \(stream) needs at least one event")
        }
        guard Set(events.map(\.id)).count == events.count else {
            throw EventStoreError(code: .invalidArgument, message: "an append to \(stream) repeats an event id")
        }
        if let event = events.first(where: { $0.type.isEmpty }) {
            throw EventStoreError(code: .invalidArgument, message: "event \(event.id) has an empty type")
        }
        if case .exact(let v) = expectedVersion, v < 0 {
            throw EventStoreError(code: .invalidArgument, message: "expected version \(v) is negative")
        }
    }

    /// Locks the stream row and returns its version and last hash; creates the row when the
    /// expectation allows a new stream. Nil when the stream does not exist and must not be created.
    private func lockStream() throws -> (Int64, Data)? {
        for _ in 0..<2 {
            let locked = try connection.executePrepared(
                "SELECT version, last_hash FROM streams WHERE name = $1 FOR UPDATE", [.text(stream)])
            if let version = try locked.isEmpty ? nil : locked.int64(0, "version"),
                let hash = try locked.bytes(0, "last_hash")
            {
                return (version, hash)
            }
            switch expectedVersion {
            case .exact(let v) where v > 0: return nil
            default: break
            }
            // Waits for a concurrent creator; when it committed, the row is locked on the next turn.
            let created = try connection.executePrepared(
                """
                INSERT INTO streams (name, version, last_hash) VALUES ($1, 0, $2)
                ON CONFLICT (name) DO NOTHING RETURNING version
                """,
                [.text(stream), .bytes(HashChain.genesis)])
            if !created.isEmpty { return (0, HashChain.genesis) }
        }
        throw EventStoreError(code: .query, message: "stream \(stream) could neither be locked nor created")
    }

    /// The result of an earlier append of exactly these events to this stream, if there was one;
    /// throws when some of the ids exist otherwise.
    private func existingAppend() throws -> AppendResult? {
        let rows = try connection.executePrepared(
            "SELECT position, stream, version, id FROM events WHERE id = ANY($1::uuid[]) ORDER BY position",
            [.uuidArray(events.map(\.id))])
        if rows.isEmpty { return nil }
        var matches = rows.count == events.count
        for row in 0..<rows.count where matches {
            matches =
                try rows.string(row, "stream") == stream && rows.uuid(row, "id") == events[row].id
                && rows.int64(row, "position")! - rows.int64(0, "position")! == Int64(row)
                && rows.int64(row, "version")! - rows.int64(0, "version")! == Int64(row)
        }
        guard matches else {
            throw EventStoreError(
                code: .duplicateEventID,
                message: "\(rows.count) of the \(events.count) event ids appended to \(stream) are already stored, "
                    + "but not as this same append; event ids must be fresh for each new event")
        }
        return AppendResult(
            firstPosition: try rows.int64(0, "position")!, lastPosition: try rows.int64(rows.count - 1, "position")!,
            streamVersion: try rows.int64(rows.count - 1, "version")!)
    }

    private func conflict(actual: Int64?) throws -> AppendResult {
        let expected =
            switch expectedVersion {
            case .any: "any version"
            case .noStream: "no stream"
            case .exact(let v): "version \(v)"
            }
        throw EventStoreError(
            code: .versionConflict,
            message: "stream \(stream) is at \(actual.map { "version \($0)" } ?? "no version (it does not exist)"), "
                + "but the append expected \(expected)")
    }

    /// The last statement of an append. `fresh` guards against ids stored since the stream lock
    /// (its snapshot is taken after the lock, so it sees every committed append to the stream).
    /// The log head's trigger sends the transaction's NOTIFY.
    static let insertSQL = """
        WITH fresh AS (
            SELECT NOT EXISTS (SELECT 1 FROM events WHERE id = ANY($3::uuid[])) AS ok
        ), stream_row AS (
            UPDATE streams SET version = $2 + cardinality($3::uuid[]), last_hash = $10
            WHERE name = $1 AND (SELECT ok FROM fresh)
        ), head AS (
            UPDATE log_head SET position = position + cardinality($3::uuid[])
            WHERE singleton AND (SELECT ok FROM fresh)
            RETURNING position
        ), inserted AS (
            INSERT INTO events (position, stream, version, id, type, schema_version, payload, metadata, hash,
                                previous_hash)
            SELECT head.position - cardinality($3::uuid[]) + e.ordinal, $1, $2 + e.ordinal, e.id, e.type,
                   e.schema_version, e.payload, e.metadata, e.hash, e.previous_hash
            FROM head, unnest($3::uuid[], $4::text[], $5::int8[], $6::json[], $7::json[], $8::bytea[], $9::bytea[])
                WITH ORDINALITY AS e(id, type, schema_version, payload, metadata, hash, previous_hash, ordinal)
            RETURNING position
        )
        SELECT (SELECT ok FROM fresh) AS fresh, min(position) AS first_position, max(position) AS last_position
        FROM inserted
        """
}
