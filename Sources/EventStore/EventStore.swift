import Foundation
import Logging
import Synchronization

/// The event store on PostgreSQL. Thread-safe: every method may be called from any task. libpq
/// work runs on the pool's dedicated threads (`connections` of them, one session each) and on
/// one listener thread once somebody registers for a notification; call `shutdown` to end them. `Transaction` is
/// the one type that is not thread-safe: it lives only inside a `transaction` body.
public final class EventStore: Sendable {
    let pool: ConnectionPool
    let settings: ConnectionSettings
    let logger: Logger
    private let listener: Mutex<NotificationListener?> = Mutex(nil)

    /// Connects once, without retrying, so that a wrong URL fails at once; the other sessions
    /// open on first use, and every session reconnects after losing its server.
    /// - Parameter url: a libpq URL (`postgresql://user@host/db?...`) or conninfo string.
    public init(
        url: String, connections: Int = 4, configuration: EventStoreConfiguration = .init(), logger: Logger
    ) async throws {
        guard connections >= 1 else {
            throw EventStoreError(code: .invalidArgument, message: "an event store needs at least one connection")
        }
        settings = try ConnectionSettings(url: url, configuration: configuration)
        self.logger = logger
        pool = ConnectionPool(size: connections, settings: settings, logger: logger)
        do {
            try await pool.run { connection in try connection.open() }
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    /// Applies the bundled migrations that the database lacks, then checks that the log head agrees
    /// with the log (`.gap` if not); returns the versions applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let applied = try await migrate(.eventStore)
        try await idempotent { connection in try connection.checkLogHead() }
        return applied
    }

    /// Applies the migrations of `set` that the database lacks, each once, recorded in the set's ledger; returns
    /// the versions applied.
    @discardableResult
    public func migrate(_ set: MigrationSet) async throws -> [Int] {
        try await pool.run { connection in
            try connection.ensureOpen()
            return try Migrator(set: set).migrate(on: connection)
        }
    }

    /// Runs `body` in one transaction on a pool thread: COMMIT when it returns, ROLLBACK when it
    /// throws. A connection found dead at BEGIN is reopened transparently; one that breaks later
    /// throws `.connection` (the body is not re-run, since it may not be idempotent).
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await pool.run { connection in
            try connection.ensureOpen()
            return try connection.transaction(body)
        }
    }

    /// `transaction` for a body that is safe to run twice — one that writes only what a re-run finds
    /// already written or refuses, like a lease-fenced append of client-generated event ids. A
    /// session the server ended mid-transaction (`pg_terminate_backend`, a restart), even during
    /// COMMIT, then costs a re-run of the body on a fresh session instead of an error: a
    /// long-running caller would otherwise fail its whole job on one connection blip. So does a lock
    /// wait that timed out, within `EventStoreConfiguration.lockWaitRetry` (`LockWaitRetry`).
    @discardableResult
    public func idempotentTransaction<T: Sendable>(
        _ body: @escaping @Sendable (Transaction) throws -> T
    ) async throws -> T {
        try await idempotent { connection in try connection.transaction(body) }
    }

    /// Appends `events` to `stream` atomically, if the stream is at `expectedVersion`
    /// (`.versionConflict` otherwise). Re-appending events whose ids are already stored (in this
    /// order, in this stream) returns where they are without writing: so this method retries
    /// by itself after a broken connection, and callers may retry after any `.connection` error.
    public func append(
        stream: String, expectedVersion: ExpectedVersion, events: [NewEvent]
    ) async throws
        -> AppendResult
    {
        // One statement, so its own transaction: one round trip and one commit.
        try await idempotent { connection in
            let append = StreamAppend(
                connection: connection, stream: stream, expectedVersion: expectedVersion, events: events)
            let done: (result: AppendResult, written: Int)
            do {
                done = try append.run()
            } catch let error as EventStoreError where error.code == .duplicateEventID && error.sqlState == "23505" {
                // Another transaction was storing the same ids (a concurrent retry); now that it
                // has finished, the same append either finds them as its own or fails properly.
                done = try append.run()
            }
            // Its own statement: committed once it returned.
            connection.settings.committedAppends.add(done.written)
            return done.result
        }
    }

    /// Events this store's sessions appended and committed since it was opened, whoever appended them
    /// (`CommittedAppends`).
    public var eventsAppended: Int { settings.committedAppends.count }

    /// From now on a session that lost its server fails its operation at once (within a second for one already
    /// retrying) instead of reconnecting for `reconnectTimeout`, and a statement the server has not answered for
    /// `ReconnectGate.grace` is cut: for a process on its way out, whose threads blocked in a reconnect or on a
    /// server that stopped answering would otherwise outlive its shutdown deadline. Healthy statements are
    /// unaffected.
    public func stopReconnecting() { settings.reconnects.close() }

    /// Closes every connection after the queued work; notification handlers are called no more.
    public func shutdown() async {
        let listener = self.listener.withLock { current in
            defer { current = nil }
            return current
        }
        await listener?.stop()
        await pool.shutdown()
    }

    /// Runs an operation that may safely run twice; after a broken connection it is retried
    /// once on a fresh session (reconnecting for up to `reconnectTimeout`).
    @discardableResult
    func idempotent<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let logger = self.logger
        let start = ContinuousClock.now
        var retry = LockWaitRetry(budget: settings.configuration.lockWaitRetry)
        while true {
            do {
                return try await pool.run { connection in
                    try connection.ensureOpen()
                    do {
                        return try body(connection)
                    } catch let error as EventStoreError where error.code == .connection {
                        logger.warning(
                            "PostgreSQL connection lost; reconnecting", metadata: ["error": "\(error.message)"])
                        try connection.reopen()
                        return try body(connection)
                    }
                }
            } catch let error as EventStoreError where error.sqlState == Self.lockNotAvailable {
                // The transaction was rolled back whole, so the body runs again from the start.
                guard let pause = retry.pause(elapsed: .now - start) else { throw error }
                logger.notice("a lock wait timed out; trying again", metadata: ["pause": "\(pause)"])
                try await Task.sleep(for: pause)
            }
        }
    }

    /// SQLSTATE lock_not_available: `lock_timeout` fired.
    static let lockNotAvailable = "55P03"

    /// The listener shared by all notification handlers, started by the first.
    func sharedListener() -> NotificationListener {
        listener.withLock { current in
            if let current { return current }
            let started = NotificationListener(settings: settings, logger: logger)
            current = started
            return started
        }
    }
}

extension EventStore {
    /// Runs one statement outside any transaction block (autocommit), e.g. `CREATE DATABASE`,
    /// which PostgreSQL refuses inside one. Not retried after a broken connection.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await pool.run { connection in
            try connection.ensureOpen()
            return try connection.execute(sql, parameters)
        }
    }

    /// The same connection parameters as `url` (a URL or conninfo string), for another database
    /// on the same server: a conninfo string.
    public static func url(_ url: String, database: String) throws -> String {
        try ConnectionSettings.conninfo(url, replacing: ["dbname": database])
    }
}
