import Foundation
import Logging
import Testing

@testable import EventStore

/// A fresh database on the cluster that scripts/test starts, one per test, so that tests run in
/// parallel without seeing each other's events.
struct TestDatabase {
    let name: String
    let url: String

    static var serverURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["E2H_TEST_DATABASE_URL"], !url.isEmpty else {
                throw EventStoreError(
                    code: .invalidArgument,
                    message:
                        "E2H_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
            }
            return url
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "e2h.eventstore.tests")
        logger.logLevel = .error
        return logger
    }()

    /// Creates the database; the name is generated here, never taken from input.
    static func create() async throws -> TestDatabase {
        let server = try serverURL
        let name = "e2h_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await administer(server) { try await $0.execute("CREATE DATABASE \(name)") }
        return TestDatabase(name: String(name), url: try EventStore.url(server, database: String(name)))
    }

    func drop() async throws {
        let name = self.name
        try await Self.administer(try Self.serverURL) {
            try await $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// The store's settings, but with ten minutes for each server-side timeout: a test waits as long as a loaded
    /// machine makes it (CI saw a 2½-minute stall end an empty blob's INSERT at the default 120 s statement timeout,
    /// and a waiting append at the 10 s lock timeout). A test of a timeout sets its own.
    static let patient: EventStoreConfiguration = {
        var configuration = EventStoreConfiguration()
        configuration.lockTimeout = .seconds(600)
        configuration.statementTimeout = .seconds(600)
        configuration.idleInTransactionTimeout = .seconds(600)
        return configuration
    }()

    func store(
        connections: Int = 2, configuration: EventStoreConfiguration = patient, migrate: Bool = true
    ) async throws -> EventStore {
        let store = try await EventStore(
            url: url, connections: connections, configuration: configuration, logger: Self.logger)
        if migrate { try await store.migrate() }
        return store
    }

    /// Runs `body` as the cluster's superuser (CREATE/DROP DATABASE).
    static func administer(_ url: String, _ body: (EventStore) async throws -> Void) async throws {
        let admin = try await EventStore(url: url, connections: 1, logger: logger)
        do {
            try await body(admin)
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
    }
}

/// Runs `body` with a migrated store on a fresh database, then shuts down and drops it. Two
/// sessions by default: the project's suites share one cluster (max_connections 300) and run
/// in parallel. The migrations run on a session with the default settings, so that a test's
/// short timeouts apply to what it tests, not to schema set-up on a loaded machine (CI once
/// saw a migration exceed a 1.5 s statement_timeout).
func withStore(
    connections: Int = 2, configuration: EventStoreConfiguration = TestDatabase.patient,
    _ body: (EventStore, TestDatabase) async throws -> Void
) async throws {
    let database = try await TestDatabase.create()
    let setup = try await database.store(connections: 1)
    await setup.shutdown()
    let store = try await database.store(connections: connections, configuration: configuration, migrate: false)
    do {
        try await body(store, database)
    } catch {
        await store.shutdown()
        try? await database.drop()
        throw error
    }
    await store.shutdown()
    try await database.drop()
}

func event(_ type: String = "Happened", _ payload: String = #"{"n": 1}"#, id: UUID = UUID()) -> NewEvent {
    NewEvent(id: id, type: type, payload: Data(payload.utf8), metadata: Data(#"{"worker": "test"}"#.utf8))
}

/// The code of the EventStoreError `body` throws, or nil when it succeeds.
func errorCode(_ body: () async throws -> Void) async -> EventStoreError.Code? {
    do {
        try await body()
        return nil
    } catch let error as EventStoreError {
        return error.code
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// A transaction of `store` that holds stream `stream`'s row (FOR UPDATE) until `release` is signalled; returns once
/// the row is held.
func holdStreamRow(
    _ store: EventStore, _ stream: String, until release: DispatchSemaphore
) async -> Task<Void, any Error> {
    let locked = DispatchSemaphore(value: 0)
    let holder = Task {
        try await store.transaction { tx in
            _ = try tx.query("SELECT 1 FROM streams WHERE name = $1 FOR UPDATE", [.text(stream)])
            locked.signal()
            release.wait()
        }
    }
    await Task.detached { locked.wait() }.value
    return holder
}
