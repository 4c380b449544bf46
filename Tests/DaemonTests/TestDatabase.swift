import Foundation
import Logging
import Testing
import WireTypes

@testable import Daemon
@testable import EventStore

/// A fresh database per suite on the server `scripts/test` started, so suites run in parallel.
enum TestDatabase {
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["E2H_TEST_DATABASE_URL"], !url.isEmpty else {
            Issue.record("E2H_TEST_DATABASE_URL is not set — run the tests with scripts/test")
            throw DaemonError(.configuration, "E2H_TEST_DATABASE_URL is not set — run the tests with scripts/test")
        }
        return url
    }

    /// Creates `e2h_<random>` and returns its URL.
    static func create() async throws -> String {
        let server = try serverURL()
        let name = "e2h_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let admin = try await EventStore(url: server, connections: 1, logger: Logger(label: "test"))
        do {
            // CREATE DATABASE cannot run in a transaction: straight on the pool's connection.
            _ = try await admin.pool.run { try $0.execute("CREATE DATABASE \(name)") }
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
        guard let range = server.range(of: "/postgres?") else {
            throw DaemonError(.configuration, "unexpected test URL \(server)")
        }
        return server.replacingCharacters(in: range, with: "/\(name)?")
    }

    /// Daemon settings for a test. The default lease outlasts any stall of a loaded machine (when every suite starts
    /// at once, CI has seen more than 30 s pass between two of a test's writes): tests that need a lease to end
    /// end it explicitly (`expireLease`).
    static func settings(
        lease: Duration = .seconds(600), maxAttempts: Int = 3, backoff: Double = 0, owner: String = "test"
    ) -> DaemonSettings {
        DaemonSettings(
            stateDirectory: "/nonexistent", databaseURL: nil, host: "127.0.0.1", port: 0, workers: 1, lease: lease,
            heartbeat: .seconds(1), reaperInterval: .seconds(1), pollInterval: .milliseconds(100),
            maxAttempts: maxAttempts, backoff: backoff, threads: 1, owner: owner)
    }

    /// Ends a run's lease now, as a missed heartbeat would: tests that wait for a short lease to run out are at
    /// the mercy of a loaded machine, which can let it run out before the test is ready too.
    static func expireLease(of run: String, in queue: Queue) async throws {
        try await queue.store.execute(
            "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [.text(run)])
    }

    /// A store on a fresh database migrated as the daemon migrates it, and a queue over it.
    static func queue(_ settings: DaemonSettings = settings(), url: String? = nil) async throws -> Queue {
        let url = if let url { url } else { try await create() }
        let store = try await EventStore(url: url, connections: 8, logger: Logger(label: "test"))
        _ = try await Queue.migrate(store)
        return Queue(store: store, settings: settings, metrics: DaemonMetrics(), logger: Logger(label: "test"))
    }
}

/// The queue's parts, called as the daemon calls them; one line each keeps the tests about behaviour.
extension Queue {
    func submit(_ request: SubmitRequest) async throws -> SubmitResponse {
        try await RunSubmission(queue: self).submit(request)
    }
    func details(_ id: String) async throws -> RunDetails { try await RunCatalog(queue: self).details(id) }
    func list(state: RunState?, limit: Int) async throws -> [RunDetails] {
        try await RunCatalog(queue: self).list(state: state, limit: limit)
    }
    func claim(owner: String) async throws -> Lease? { try await Leases(queue: self).claim(owner: owner) }
    func heartbeat(_ lease: Lease, progress: RunProgress?) async throws -> HeartbeatResult {
        try await Leases(queue: self).heartbeat(lease, progress: progress)
    }
    func appendFenced(_ lease: Lease, _ events: [NewEvent], progress: RunProgress?) async throws {
        try await Leases(queue: self).appendFenced(lease, events, progress: progress)
    }
    func finish(_ lease: Lease, _ ending: RunLifecycle.AttemptEnding) async throws {
        try await Leases(queue: self).finish(lease, ending)
    }
    func cancel(_ id: String) async throws -> RunDetails { try await RunControl(queue: self).cancel(id) }
    func resume(_ id: String) async throws -> RunDetails { try await RunControl(queue: self).resume(id) }
    func reap() async throws -> Int { try await LeaseReaper(queue: self).reap() }
}
