import ArgumentParser
import EventStore
import Foundation
import Logging

/// A database created for one benchmark on the server it names, migrated, and dropped on every exit path, so
/// benchmarks never touch a real store's data.
enum ScratchDatabase {
    /// The server to create it on: `url`, or $E2H_DATABASE_URL (which scripts/bench sets).
    static func server(_ url: String?) throws -> String {
        guard let server = url ?? ProcessInfo.processInfo.environment["E2H_DATABASE_URL"], !server.isEmpty else {
            throw ValidationError("no database: pass --database-url or set E2H_DATABASE_URL (scripts/bench sets it)")
        }
        return server
    }

    static func with<T>(
        server: String, label: String, connections: Int = 4, _ body: (EventStore) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        let name = "e2h_bench_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await EventStore(url: server, connections: 1, logger: logger)
        let result: T
        do {
            try await admin.execute("CREATE DATABASE \(name)")
            let store = try await EventStore(
                url: try EventStore.url(server, database: name), connections: connections, logger: logger)
            do {
                try await store.migrate()
                result = try await body(store)
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
        } catch {
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.shutdown()
            throw error
        }
        try await admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.shutdown()
        return result
    }
}
