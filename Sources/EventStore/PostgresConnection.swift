internal import CLibPQ
import Foundation
import Logging

/// One libpq connection. Not thread-safe: each instance is owned by one dedicated thread (a
/// `ConnectionPool` worker or the `NotificationListener`), because libpq calls block.
final class PostgresConnection {
    let settings: ConnectionSettings
    private let logger: Logger
    private var handle: OpaquePointer?
    /// Statement names of the statements prepared on this session, by SQL text.
    private var prepared: [String: String] = [:]

    init(settings: ConnectionSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    deinit { close() }

    /// True when the session is usable as far as libpq knows; a server restart is only noticed
    /// when the next statement fails.
    var isOpen: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    var socket: Int32 { handle.map { PQsocket($0) } ?? -1 }

    var configuration: EventStoreConfiguration { settings.configuration }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared = [:]
    }

    /// Opens the session if it is not open, retrying until the configured reconnect timeout.
    func ensureOpen() throws {
        if isOpen { return }
        try reopen()
    }

    /// Drops the session and connects again, retrying with backoff while the server is
    /// unreachable or starting up; throws the last `.connection` error at the deadline.
    func reopen() throws {
        close()
        let deadline = Date().addingTimeInterval(settings.configuration.reconnectTimeout.timeInterval)
        var delay = 0.05
        while true {
            do {
                try open()
                return
            } catch var error as EventStoreError where error.code == .connection {
                guard settings.reconnects.isOpen else {
                    error.message += " — not retrying: this process is shutting down"
                    throw error
                }
                guard Date() < deadline else {
                    // A server that PANICs on a failed WAL write tells its client nothing (libpq sees the socket
                    // close), and may stay down if recovery needs disk space too: its log is where the reason is.
                    error.message +=
                        " — if the server stopped by itself, its log says why: after a PANIC on a full disk (ENOSPC),"
                        + " free space on its disk, then restart it"
                    throw error
                }
                logger.debug("connecting to PostgreSQL failed; retrying", metadata: ["error": "\(error.message)"])
                Thread.sleep(forTimeInterval: min(delay, max(0, deadline.timeIntervalSinceNow)))
                // At most a second between attempts, so a closed gate is seen within one.
                delay = min(delay * 2, 1)
            }
        }
    }

    /// One connection attempt: connects and configures the session.
    func open() throws {
        close()
        let keywords = settings.keywords.map { strdup($0) }
        let values = settings.values.map { strdup($0) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let conn = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { k in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let conn else {
            throw EventStoreError(code: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = settings.scrubber.scrub(Self.trimmed(PQerrorMessage(conn)))
            PQfinish(conn)
            throw EventStoreError(
                code: .connection,
                message:
                    "cannot connect to PostgreSQL (check the database URL and that the server is running): \(message)")
        }
        handle = conn
        // Server notices go to the logger instead of libpq's default, stderr. The connection
        // outlives its handle, so the unretained pointer stays valid for every callback.
        PQsetNoticeReceiver(
            conn,
            { context, result in
                guard let context, let result else { return }
                let connection = Unmanaged<PostgresConnection>.fromOpaque(context).takeUnretainedValue()
                connection.logNotice(result)
            }, Unmanaged.passUnretained(self).toOpaque())
        do {
            try configureSession()
        } catch {
            close()
            throw error
        }
    }

    private func configureSession() throws {
        let c = settings.configuration
        // plan_cache_mode: a session lives for days while the log grows from nothing. A cached
        // generic plan made while `events` was tiny keeps its sequential scan (measured: a
        // 100-event append slowing from 5 to 45 ms within 16 s on a fresh database), so the
        // prepared reads are planned for each execution. (e2h_append sets its own planning.)
        _ = try execute(
            """
            SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
                   set_config('idle_in_transaction_session_timeout', $3, false), set_config('TimeZone', 'UTC', false),
                   set_config('plan_cache_mode', 'force_custom_plan', false)
            """,
            [
                .text("\(c.lockTimeout.milliseconds)ms"), .text("\(c.statementTimeout.milliseconds)ms"),
                .text("\(c.idleInTransactionTimeout.milliseconds)ms"),
            ])
    }

    private func logNotice(_ result: OpaquePointer) {
        let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? "NOTICE"
        let message = settings.scrubber.scrub(Self.trimmed(PQresultErrorMessage(result)))
        if severity == "WARNING" {
            logger.warning("PostgreSQL: \(message)")
        } else {
            logger.debug("PostgreSQL: \(message)")
        }
    }

    /// Runs one parameterized statement (the unnamed statement: parsed each time).
    @discardableResult
    func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        let handle = try openHandle()
        let encoded = try parameters.map(EncodedParameter.init)
        let result = blocking(handle) {
            Self.withWireParameters(encoded) { types, values, lengths, formats in
                PQexecParams(handle, sql, Int32(encoded.count), types, values, lengths, formats, 1)
            }
        }
        return try rows(from: result)
    }

    /// Runs a statement prepared once per session, for hot paths. The parameter types of the
    /// first call are the statement's types, so callers keep them fixed (no `.null`).
    @discardableResult
    func executePrepared(_ sql: String, _ parameters: [PostgresValue]) throws -> PostgresRows {
        let handle = try openHandle()
        let encoded = try parameters.map(EncodedParameter.init)
        let name = try statementName(sql, encoded, handle)
        let result = blocking(handle) {
            Self.withWireParameters(encoded) { _, values, lengths, formats in
                PQexecPrepared(handle, name, Int32(encoded.count), values, lengths, formats, 1)
            }
        }
        return try rows(from: result)
    }

    /// Runs a prepared statement and then COMMIT, sent together in one libpq pipeline: the server commits
    /// without waiting for the client, so the locks the statement takes are never held across a round trip —
    /// not while the client reads the statement's result, nor while a stopped or partitioned client could not
    /// send its COMMIT. When the statement fails, the COMMIT is skipped and the transaction is left aborted
    /// for the caller's ROLLBACK; when the COMMIT fails, the server has rolled back.
    func executePreparedThenCommit(_ sql: String, _ parameters: [PostgresValue]) throws -> PostgresRows {
        let handle = try openHandle()
        let encoded = try parameters.map(EncodedParameter.init)
        let name = try statementName(sql, encoded, handle)
        guard PQenterPipelineMode(handle) == 1 else { throw connectionError(handle) }
        let sent = Self.withWireParameters(encoded) { _, values, lengths, formats in
            PQsendQueryPrepared(handle, name, Int32(encoded.count), values, lengths, formats, 1) == 1
                && PQsendQueryParams(handle, "COMMIT", 0, nil, nil, nil, nil, 1) == 1 && PQpipelineSync(handle) == 1
        }
        let (statement, commit, sync) = blocking(handle) {
            let statement = sent ? Self.queryResult(handle) : nil
            let commit = statement == nil ? nil : Self.queryResult(handle)
            return (statement, commit, commit == nil ? nil : PQgetResult(handle))
        }
        let synced = sync.map { PQresultStatus($0) == PGRES_PIPELINE_SYNC } ?? false
        if let sync { PQclear(sync) }
        guard let statement, let commit, synced, PQexitPipelineMode(handle) == 1 else {
            var error = connectionError(handle)
            error.message =
                "the connection broke during COMMIT, so the transaction may or may not have committed: "
                + error.message
            [statement, commit].forEach { $0.map(PQclear) }
            close()
            throw error
        }
        defer { PQclear(commit) }
        let rows = try rows(from: statement)
        let status = PQresultStatus(commit)
        guard status == PGRES_COMMAND_OK else { throw error(from: commit) }
        return rows
    }

    /// The name of `sql` prepared on this session, preparing it on first use with the parameter types of
    /// `encoded`.
    private func statementName(_ sql: String, _ encoded: [EncodedParameter], _ handle: OpaquePointer) throws -> String {
        if let known = prepared[sql] { return known }
        let name = "e2h_\(prepared.count + 1)"
        let types = encoded.map(\.type)
        _ = try rows(from: blocking(handle) { PQprepare(handle, name, sql, Int32(types.count), types) })
        prepared[sql] = name
        return name
    }

    /// The first result of the next query in a pipeline, after reading the rest up to its end marker (nil); nil
    /// when the connection broke.
    private static func queryResult(_ handle: OpaquePointer) -> OpaquePointer? {
        guard let first = PQgetResult(handle) else { return nil }
        while let extra = PQgetResult(handle) { PQclear(extra) }
        return first
    }

    /// Runs SQL text through the simple-query protocol, which allows several statements and no
    /// parameters: for migration files and transaction control.
    func executeScript(_ sql: String) throws {
        let handle = try openHandle()
        _ = try rows(from: blocking(handle) { PQexec(handle, sql) })
    }

    /// A blocking libpq call on this session, which a closed reconnect gate cuts once it has waited its grace.
    private func blocking<T>(_ handle: OpaquePointer, _ call: () -> T) -> T {
        settings.reconnects.blocking(on: PQsocket(handle), call)
    }

    /// Inside a transaction block that a failed statement aborted.
    var isInFailedTransaction: Bool { handle.map { PQtransactionStatus($0) == PQTRANS_INERROR } ?? false }

    /// Reads what the server sent and returns the notifications received: (channel, payload).
    func consumeNotifications() throws -> [(channel: String, payload: String)] {
        let handle = try openHandle()
        guard PQconsumeInput(handle) == 1 else { throw connectionError(handle) }
        var received: [(channel: String, payload: String)] = []
        while let notification = PQnotifies(handle) {
            received.append(
                (String(cString: notification.pointee.relname), String(cString: notification.pointee.extra)))
            PQfreemem(notification)
        }
        return received
    }

    private func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw EventStoreError(code: .connection, message: "the connection to PostgreSQL is closed")
        }
        return handle
    }

    private func connectionError(_ handle: OpaquePointer) -> EventStoreError {
        EventStoreError(
            code: .connection,
            message:
                "lost the connection to PostgreSQL: \(settings.scrubber.scrub(Self.trimmed(PQerrorMessage(handle))))")
    }

    private func rows(from result: OpaquePointer?) throws -> PostgresRows {
        guard let result else { throw connectionError(try openHandle()) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw error(from: result)
        }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var names: [String] = []
        var types: [UInt32] = []
        for c in 0..<columnCount {
            names.append(String(cString: PQfname(result, Int32(c))))
            types.append(PQftype(result, Int32(c)))
        }
        var cells: [Data?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for r in 0..<Int32(rowCount) {
            for c in 0..<Int32(columnCount) {
                if PQgetisnull(result, r, c) == 1 {
                    cells.append(nil)
                } else {
                    cells.append(Data(bytes: PQgetvalue(result, r, c), count: Int(PQgetlength(result, r, c))))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(
            columnNames: names, columnTypes: types, cells: cells, count: rowCount, affectedRows: affected)
    }

    private func error(from result: OpaquePointer) -> EventStoreError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { settings.scrubber.scrub(String(cString: $0)) }
        }
        let sqlState = field(UInt8(ascii: "C"))
        var message = field(UInt8(ascii: "M")) ?? settings.scrubber.scrub(Self.trimmed(PQresultErrorMessage(result)))
        if let detail = field(UInt8(ascii: "D")) { message += " — \(detail)" }
        if let hint = field(UInt8(ascii: "H")) { message += " (hint: \(hint))" }
        let broken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        var error = EventStoreError(
            code: Self.code(sqlState: sqlState, broken: broken), message: message, sqlState: sqlState)
        if sqlState == nil { error.message = "lost the connection to PostgreSQL: \(message)" }
        if error.code == .diskFull {
            // Also when the server PANICked on a WAL write and dropped the connection: the transaction did not commit.
            error.message =
                "PostgreSQL's disk is full (ENOSPC): \(message) — free space on the database server's disk (or grow"
                + " it), restart PostgreSQL if it stopped, then retry: an append retried with the same event ids is"
                + " never stored twice"
        }
        error.constraint = field(UInt8(ascii: "n"))
        return error
    }

    static func code(sqlState: String?, broken: Bool) -> EventStoreError.Code {
        // Every error the server sends carries a SQLSTATE; one without is libpq's own, about the exchange itself
        // ("server closed the connection unexpectedly" can come with PQstatus still OK on a stale session).
        guard let sqlState else { return .connection }
        switch sqlState {
        case "57014", "55P03", "25P03": return .timeout
        case "57P01", "57P02", "57P03": return .connection
        case "53100": return .diskFull
        default: return sqlState.hasPrefix("08") || broken ? .connection : .query
        }
    }

    private static func trimmed(_ message: UnsafeMutablePointer<CChar>?) -> String {
        message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown libpq error"
    }

    /// Lays the parameters out as the C arrays libpq takes, valid for the duration of `body`: each value is read
    /// where it lies (pinned one after another, so all are pinned while `body` runs), not gathered into a copy.
    private static func withWireParameters<R>(
        _ parameters: [EncodedParameter],
        _ body: (
            UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        let types = parameters.map(\.type)
        let lengths = parameters.map { Int32($0.bytes?.count ?? 0) }
        let formats = parameters.map(\.format)
        var values = [UnsafePointer<CChar>?](repeating: nil, count: parameters.count)
        func pin(from index: Int) -> R {
            guard index < parameters.count else { return body(types, values, lengths, formats) }
            guard let bytes = parameters[index].bytes else { return pin(from: index + 1) }
            return bytes.withUnsafeBytes { raw in
                // libpq reads a nil value as NULL: an empty value points at a byte it never reads.
                values[index] = raw.baseAddress?.assumingMemoryBound(to: CChar.self) ?? emptyValue
                return pin(from: index + 1)
            }
        }
        return pin(from: 0)
    }

    /// What an empty, non-NULL value points at.
    nonisolated(unsafe) private static let emptyValue: UnsafePointer<CChar> = UnsafePointer(strdup("")!)
}
