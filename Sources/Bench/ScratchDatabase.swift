import ArgumentParser
import EventStore
import Foundation
import Logging

/// A database created on the benchmark server for one benchmark and dropped after it, whatever happens: the
/// figures of one run never depend on what an earlier one left behind.
enum ScratchDatabase {
    /// The server: `--database-url`, else $E2H_DATABASE_URL (which scripts/bench sets to a throwaway cluster).
    static func server(_ option: String?) throws -> String {
        guard let server = option ?? ProcessInfo.processInfo.environment["E2H_DATABASE_URL"], !server.isEmpty else {
            throw ValidationError("no database: pass --database-url or set E2H_DATABASE_URL (scripts/bench sets it)")
        }
        return server
    }

    /// Runs `body` with a fresh database on `server` (its URL, and a store on it with `connections` sessions), then
    /// closes the store and drops the database.
    static func with<T>(
        server: String, connections: Int, logger: Logger, _ body: (_ url: String, _ store: EventStore) async throws -> T
    ) async throws -> T {
        let name = "e2h_bench_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await EventStore(url: server, connections: 1, logger: logger)
        try await admin.execute("CREATE DATABASE \(name)")
        let result: T
        do {
            let url = try EventStore.url(server, database: name)
            let store = try await EventStore(url: url, connections: connections, logger: logger)
            do {
                result = try await body(url, store)
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
