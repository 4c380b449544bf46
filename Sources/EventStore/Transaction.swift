import Canonical
import Foundation

/// A database transaction, valid only inside the body of `EventStore.transaction`, on the
/// connection's own thread: don't keep it or hand it to another thread.
public final class Transaction {
    private let session: PostgresConnection
    /// Set by `appendThenCommit`: the body's work is committed, and nothing more may run in it.
    private(set) var isCommitted = false
    /// Events this transaction's appends wrote: counted in the store's `eventsAppended` once it commits.
    private(set) var appended = 0

    init(connection: PostgresConnection) {
        self.session = connection
    }

    /// The session, for the statements of this transaction; refused once `appendThenCommit` has committed it.
    var connection: PostgresConnection {
        get throws {
            guard !isCommitted else {
                throw EventStoreError(
                    code: .invalidArgument,
                    message:
                        "the transaction was already committed by appendThenCommit, which must be the body's last call")
            }
            return session
        }
    }

    /// Runs one statement; values travel only as parameters (`$1`, `$2`, ...).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        try connection.execute(sql, parameters)
    }

    /// Appends to `stream` inside this transaction; see `EventStore.append`. Lock order: whatever
    /// the body locked before (e.g. the run row), then the stream row, then the log head, which
    /// stays locked until COMMIT — so append last and commit soon: every appender waits on it
    /// (`appendThenCommit` sends the COMMIT with the append).
    /// A `.versionConflict` leaves the transaction usable; a `.duplicateEventID` with SQLSTATE
    /// 23505 (the same ids being appended concurrently) aborts it, and a retry of the whole
    /// transaction then finds the ids stored.
    public func append(stream: String, expectedVersion: ExpectedVersion, events: [NewEvent]) throws -> AppendResult {
        let done = try StreamAppend(
            connection: connection, stream: stream, expectedVersion: expectedVersion, events: events
        ).run()
        appended += done.written
        return done.result
    }

    /// Appends to `stream` (at any version) and commits the transaction, both sent in one round trip, so the
    /// stream row and the log head — which every appender waits on — are locked only while the server works:
    /// a writer stopped or cut off before it could send COMMIT holds them no longer. The body's last call:
    /// nothing may run in the transaction after it. Events already stored (a retry after a lost COMMIT reply)
    /// are not written again, and the body's other statements commit. No expected version: a conflict found
    /// after the COMMIT was sent could no longer roll the body back.
    @discardableResult
    public func appendThenCommit(stream: String, events: [NewEvent]) throws -> AppendResult {
        var append = try StreamAppend(connection: connection, stream: stream, expectedVersion: .any, events: events)
        append.commits = true
        // Whatever happens, the transaction is over or aborted: no statement may follow.
        isCommitted = true
        let done = try append.run()
        appended += done.written
        return done.result
    }

    /// The stream's version and last hash (lowercase hex), or nil when there is no such stream.
    public func streamHead(_ stream: String) throws -> (version: Int64, hash: String)? {
        let rows = try connection.execute("SELECT version, last_hash FROM streams WHERE name = $1", [.text(stream)])
        guard !rows.isEmpty, let version = try rows.int64(0, "version"), let hash = try rows.bytes(0, "last_hash")
        else { return nil }
        return (version, Hex.encode(hash))
    }

    /// Stores `bytes` under their SHA-256 inside this transaction (rolled back with it), returning the hex
    /// digest; content already stored is not sent again.
    @discardableResult
    public func putBlob(_ bytes: Data) throws -> String {
        let digest = ContentHash.sha256(bytes)
        let present = try connection.executePrepared(
            "SELECT 1 AS present FROM blobs WHERE sha256 = $1", [.bytes(digest)])
        if present.isEmpty {
            try connection.executePrepared(
                "INSERT INTO blobs (sha256, size, content) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
                [.bytes(digest), .int(Int64(bytes.count)), .bytes(bytes)])
        }
        return Hex.encode(digest)
    }
}

extension PostgresConnection {
    /// BEGIN, body, COMMIT; ROLLBACK when the body throws. A connection found broken at BEGIN
    /// (a server restart since the last use) is reopened and BEGIN retried: nothing ran yet.
    func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        do {
            try executeScript("BEGIN")
        } catch let error as EventStoreError where error.code == .connection {
            try reopen()
            try executeScript("BEGIN")
        }
        let transaction = Transaction(connection: self)
        let value: T
        do {
            value = try body(transaction)
        } catch {
            rollback()
            throw error
        }
        if transaction.isCommitted {
            settings.committedAppends.add(transaction.appended)
            return value
        }
        if isInFailedTransaction {
            rollback()
            throw EventStoreError(
                code: .query,
                message: "the transaction was rolled back: a statement in it failed and the error was not rethrown")
        }
        do {
            try executeScript("COMMIT")
        } catch var error as EventStoreError where error.code == .connection {
            error.message =
                "the connection broke during COMMIT, so the transaction may or may not have committed: "
                + error.message
            throw error
        }
        settings.committedAppends.add(transaction.appended)
        return value
    }

    private func rollback() {
        guard isOpen else { return }
        do { try executeScript("ROLLBACK") } catch { close() }
    }
}
