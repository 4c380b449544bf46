import Foundation

/// The one error type of the EventStore module. `message` says what happened and, where it can,
/// what to do; it never contains a connection password (see `CredentialScrubber`).
public struct EventStoreError: Error, CustomStringConvertible, Sendable {
    /// Extensible: new codes don't break callers that switch over the ones they know.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The server cannot be reached, or the connection broke mid-operation.
        public static let connection = Code("connection")
        /// The server rejected a statement; `sqlState` says why.
        public static let query = Code("query")
        /// An append's expected version did not match the stream's version.
        public static let versionConflict = Code("versionConflict")
        /// A fenced write found its lease gone (thrown by callers that fence their appends).
        public static let fenced = Code("fenced")
        public static let migration = Code("migration")
        /// An applied migration's file changed since it was applied.
        public static let migrationChecksum = Code("migrationChecksum")
        /// The global log is not contiguous where a reader expected it to be.
        public static let gap = Code("gap")
        public static let blobCorrupted = Code("blobCorrupted")
        public static let blobNotFound = Code("blobNotFound")
        public static let invalidArgument = Code("invalidArgument")
        /// lock_timeout, statement_timeout or idle_in_transaction_session_timeout fired.
        public static let timeout = Code("timeout")
        /// Event ids that are already stored, but not as these events in this order in this stream.
        public static let duplicateEventID = Code("duplicateEventID")
        /// The database server's disk is full (SQLSTATE 53100, ENOSPC), also when it PANICked on a WAL write.
        public static let diskFull = Code("diskFull")
        /// The store was shut down.
        public static let closed = Code("closed")
    }

    public var code: Code
    public var message: String
    /// The server's SQLSTATE, when the server reported the error.
    public var sqlState: String?
    /// The constraint the server named, e.g. for a unique violation (SQLSTATE 23505).
    public var constraint: String?
    public var cause: (any Error)?

    public init(code: Code, message: String, sqlState: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.cause = cause
    }

    public var description: String {
        var text = "EventStoreError.\(code): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let cause { text += " — caused by: \(cause)" }
        return text
    }
}
