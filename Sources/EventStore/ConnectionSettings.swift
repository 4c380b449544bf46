internal import CLibPQ
import Foundation

/// Session limits and retry behaviour of an `EventStore`.
public struct EventStoreConfiguration: Sendable {
    /// `lock_timeout` of every session: how long a statement waits for a row or advisory lock —
    /// and a COMMIT for the lock that serializes NOTIFY across the whole cluster, which every append takes.
    public var lockTimeout: Duration = .seconds(10)
    /// `statement_timeout` of every session; large enough for a blob of a few hundred MiB.
    public var statementTimeout: Duration = .seconds(120)
    /// `idle_in_transaction_session_timeout`: a session that stalls inside a transaction loses it
    /// (and its locks) rather than blocking every appender behind the log head.
    public var idleInTransactionTimeout: Duration = .seconds(60)
    /// How long an idempotent operation (a fenced append, a blob, a curve point) keeps trying again after a lock
    /// wait timed out (`LockWaitRetry`) before it throws `.timeout`; zero: at the first. As long as
    /// `idleInTransactionTimeout`, so appenders behind a stalled session outlast it.
    public var lockWaitRetry: Duration = .seconds(60)
    /// How long an operation keeps trying to reconnect (e.g. across a server restart) before it
    /// throws a `.connection` error.
    public var reconnectTimeout: Duration = .seconds(30)
    /// How often the LISTEN connection is checked with a query.
    public var listenerHealthCheckInterval: Duration = .seconds(2)

    public init() {}
}

/// What every connection of one store needs to (re)connect: libpq keywords, session limits, and
/// the password to scrub from any message.
struct ConnectionSettings: Sendable {
    let keywords: [String]
    let values: [String]
    let configuration: EventStoreConfiguration
    let scrubber: CredentialScrubber
    let reconnects = ReconnectGate()
    let committedAppends = CommittedAppends()

    /// - Parameter url: a libpq URL (`postgresql://...`) or a conninfo string (`host=... dbname=...`).
    init(url: String, configuration: EventStoreConfiguration) throws {
        let password = try Self.parameters(of: url).first { $0.key == "password" }?.value
        // Defaults first: libpq lets the expanded URL override keywords before it, and the
        // encoding after it must win because results are decoded as UTF-8.
        keywords = ["connect_timeout", "fallback_application_name", "dbname", "client_encoding"]
        values = ["10", "e2h", url, "UTF8"]
        self.configuration = configuration
        self.scrubber = CredentialScrubber(password: password)
    }
}

extension ConnectionSettings {
    /// The parameters `url` (URL or conninfo) sets, as libpq parses them.
    static func parameters(of url: String) throws -> [(key: String, value: String)] {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &error) else {
            // libpq's parse error quotes no values, so it cannot leak the password.
            let reason = error.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?"
            if let error { PQfreemem(error) }
            throw EventStoreError(code: .invalidArgument, message: "invalid database URL: \(reason)")
        }
        defer { PQconninfoFree(options) }
        var parameters: [(key: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { parameters.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return parameters
    }

    /// `url` written back as a conninfo string with some parameters replaced, values quoted as
    /// libpq requires.
    static func conninfo(_ url: String, replacing replacements: [String: String]) throws -> String {
        var parameters = try parameters(of: url).filter { replacements[$0.key] == nil }
        parameters += replacements.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        return parameters.map { key, value in
            let quoted = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(key)='\(quoted)'"
        }.joined(separator: " ")
    }
}

/// Removes the connection password from text that came back from libpq or the server.
struct CredentialScrubber: Sendable {
    let password: String?

    func scrub(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        return text.replacingOccurrences(of: password, with: "********")
    }
}

extension Duration {
    /// Whole milliseconds, the unit PostgreSQL's timeout settings take.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var timeInterval: TimeInterval { Double(milliseconds) / 1000 }
}
