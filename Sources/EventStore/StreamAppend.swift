import Foundation

/// One append: a call of `e2h_append` (migrations/0001, last changed in 0004), which locks the stream row, checks
/// the expected version and the ids, extends the hash chain and advances the log head last, in
/// one round trip. It runs inside the caller's transaction, or as its own statement.
///
/// Idempotency: when the ids are already stored, in this order and contiguously, in this stream
/// (a retry after a lost COMMIT reply), their stored positions are returned and nothing is
/// written; ids stored in any other way are a `.duplicateEventID` error.
struct StreamAppend {
    let connection: PostgresConnection
    let stream: String
    let expectedVersion: ExpectedVersion
    let events: [NewEvent]
    /// Whether the append's COMMIT goes with it, in one pipeline (`Transaction.appendThenCommit`).
    var commits = false

    /// Where the events are, and how many this call wrote (none when it found them stored already).
    func run() throws -> (result: AppendResult, written: Int) {
        try validate()
        let expected: Int64 =
            switch expectedVersion {
            case .any: -1
            case .noStream: 0
            case .exact(let version): version
            }
        // Events recorded now leave out the times (the call every e2hd makes, also against a store before 0004).
        let recorded = events.compactMap(\.recordedAt)
        let sql = """
            SELECT outcome, first_position, last_position, stream_version
            FROM e2h_append($1::text, $2::int8, $3::uuid[], $4::text[], $5::int8[], $6::json[], $7::json[]\
            \(recorded.isEmpty ? "" : ", $8::float8[]"))
            """
        let parameters: [PostgresValue] =
            [
                .text(stream), .int(expected), .uuidArray(events.map(\.id)), .textArray(events.map(\.type)),
                .int64Array(events.map { Int64($0.schemaVersion) }), .jsonArray(events.map(\.payload)),
                .jsonArray(events.map(\.metadata)),
            ] + (recorded.isEmpty ? [] : [.doubleArray(recorded.map(\.timeIntervalSince1970))])
        let rows: PostgresRows
        do {
            rows =
                try commits
                ? connection.executePreparedThenCommit(sql, parameters) : connection.executePrepared(sql, parameters)
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
        switch try rows.string(0, "outcome") {
        case "appended":
            guard let first = try rows.int64(0, "first_position"), let last = try rows.int64(0, "last_position"),
                let version = try rows.int64(0, "stream_version"), last - first + 1 == Int64(events.count)
            else {
                throw EventStoreError(code: .gap, message: "append of \(stream) did not receive contiguous positions")
            }
            return (AppendResult(firstPosition: first, lastPosition: last, streamVersion: version), events.count)
        case "conflict":
            return (try existingAppend() ?? conflict(actual: try rows.int64(0, "stream_version")), 0)
        case "exists":
            guard let existing = try existingAppend() else {
                throw EventStoreError(
                    code: .query, message: "append of \(stream): event ids vanished during the append")
            }
            return (existing, 0)
        case let outcome:
            throw EventStoreError(code: .query, message: "e2h_append returned an unknown outcome \(outcome ?? "NULL")")
        }
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
        let timed = events.count { $0.recordedAt != nil }
        guard timed == 0 || timed == events.count else {
            throw EventStoreError(
                code: .invalidArgument,
                message: "an append to \(stream) gives some events their recorded time and not others: give all or none"
            )
        }
        if case .exact(let v) = expectedVersion, v < 0 {
            throw EventStoreError(code: .invalidArgument, message: "expected version \(v) is negative")
        }
    }

    /// Where these events already are, if all are stored in this order, contiguously, in this
    /// stream; nil when none is stored; throws when some are stored otherwise.
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
                    + "but not as these events in this order; event ids must be fresh for each new event")
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
}
