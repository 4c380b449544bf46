import ArgumentParser
import BuildStamp
import Daemon
import Foundation
import Logging
import WireTypes

/// `e2hd`: the e2h daemon. Everything it needs comes from these flags (and E2H_DATABASE_URL).
@main
struct E2HD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2hd",
        abstract: "The e2h daemon: queues experiment runs, executes them, records every event in PostgreSQL.",
        discussion: """
            With no database URL, e2hd runs its own PostgreSQL cluster under the state directory (created on \
            first start). Several e2hd on several machines can share one database (--database-url): they split \
            the queue between them, and a run whose daemon died is resumed by another once its lease expires.
            """,
        version: "\(BuildStamp.version) (\(BuildStamp.commit))")

    @Option(
        help:
            "State directory: token, endpoint file, embedded cluster. Default $XDG_STATE_HOME/e2h or ~/.local/state/e2h."
    )
    var stateDir: String?

    @Option(help: "libpq URL of a PostgreSQL database to use instead of the embedded cluster (also E2H_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Address the HTTP API listens on.")
    var host = "127.0.0.1"

    @Option(help: "Port of the HTTP API (0: any free port; the endpoint file says which).")
    var port = 7707

    @Option(help: "Runs executed at once by this daemon (0: serve the API only, execute nothing).")
    var workers = 1

    @Option(help: "Seconds a claimed run's lease lasts without a heartbeat.")
    var leaseSeconds = 90.0

    @Option(help: "Seconds between heartbeats (renew the lease, see cancel requests).")
    var heartbeatSeconds = 15.0

    @Option(help: "Seconds between sweeps for runs whose lease expired.")
    var reaperSeconds = 5.0

    @Option(help: "Seconds between queue polls of an idle worker.")
    var pollSeconds = 1.0

    @Option(help: "Failed attempts (crashes, errors) after which a run is marked failed.")
    var maxAttempts = 3

    @Option(help: "Backoff before retrying a failed attempt: this many seconds, doubled per failure (at most 5 min).")
    var backoffSeconds = 5.0

    @Option(
        help:
            "Memory a run may need, in GiB; a spec estimated to need more is refused at submission (default: 80 % of this machine's memory)."
    )
    var maxRunMemoryGib: Double?

    @Option(help: "Hours of compute a run may need; a spec estimated to need more is refused at submission.")
    var maxRunHours = 48.0

    @Option(
        help: """
            What a completed run keeps: default (what a later stage, a resume or a score depends on; the other \
            checkpoints are pruned, with a tombstone in the run's record) or keep-all. A spec's `retention:` overrides it.
            """)
    var retention: RetentionMode = .standard

    @Option(
        help:
            "Compute threads per run (default: the spec's). Runs side by side share the cores: each computes on one thread while there are more runs than cores for their threads."
    )
    var threads: Int?

    @Option(help: "Name of this daemon in leases and events (default host:pid).")
    var name: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard workers >= 0, workers <= 256 else { throw ValidationError("--workers must be between 0 and 256") }
        // Each interval must be a finite, positive number of seconds no longer than a week: zero makes a busy
        // loop against the database, and a NaN or a huge value would trap in the clock arithmetic.
        let intervals: [(name: String, value: Double, minimum: Double)] = [
            ("--lease-seconds", leaseSeconds, 1), ("--heartbeat-seconds", heartbeatSeconds, 0.1),
            ("--reaper-seconds", reaperSeconds, 0.1), ("--poll-seconds", pollSeconds, 0.01),
            ("--backoff-seconds", backoffSeconds, 0.1),
        ]
        for interval in intervals
        where
            !(interval.value.isFinite && interval.value >= interval.minimum
            && interval.value <= Self.longestInterval)
        {
            throw ValidationError(
                "\(interval.name) \(interval.value) is not allowed: give seconds between \(interval.minimum) and "
                    + "\(Int(Self.longestInterval))")
        }
        guard heartbeatSeconds < leaseSeconds else {
            throw ValidationError(
                "--heartbeat-seconds (\(heartbeatSeconds)) must be shorter than --lease-seconds (\(leaseSeconds)), "
                    + "or every lease expires before it is renewed")
        }
        guard maxRunHours.isFinite, maxRunHours > 0, maxRunHours <= 24 * 365 else {
            throw ValidationError("--max-run-hours must be more than 0 and at most a year (8760)")
        }
        if let maxRunMemoryGib, !(maxRunMemoryGib.isFinite && maxRunMemoryGib > 0 && maxRunMemoryGib <= 1_048_576) {
            throw ValidationError("--max-run-memory-gib must be more than 0 and at most 1048576 (a pebibyte)")
        }
        guard maxAttempts >= 1, maxAttempts <= 1000 else {
            throw ValidationError("--max-attempts must be between 1 and 1000")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
    }

    /// A week: longer intervals are mistakes, and Duration arithmetic must never overflow.
    static let longestInterval: Double = 7 * 24 * 3600

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let settings = DaemonSettings(
            stateDirectory: stateDir ?? StateDirectory.defaultPath(),
            databaseURL: databaseURL ?? ProcessInfo.processInfo.environment["E2H_DATABASE_URL"],
            host: host, port: port, workers: workers,
            lease: .seconds(leaseSeconds), heartbeat: .seconds(heartbeatSeconds),
            reaperInterval: .seconds(reaperSeconds),
            pollInterval: .seconds(pollSeconds), maxAttempts: maxAttempts, backoff: backoffSeconds, threads: threads,
            owner: name ?? "\(ProcessInfo.processInfo.hostName):\(getpid())",
            maximumRunMemoryBytes: maxRunMemoryGib.map { $0 * 1_073_741_824 }
                ?? 0.8 * Double(ProcessInfo.processInfo.physicalMemory),
            maximumRunSeconds: maxRunHours * 3600, retention: retention)
        var logger = Logger(label: "e2hd")
        logger.logLevel = level
        do {
            try await Daemon(settings: settings, logger: logger).run()
        } catch let error as DaemonError {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
    }
}

extension RetentionMode: ExpressibleByArgument {}
