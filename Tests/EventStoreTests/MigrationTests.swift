import Foundation
import Testing

@testable import EventStore

@Suite("Migrations")
struct MigrationTests {
    /// scripts/embed-migrations must be rerun whenever migrations/ changes.
    @Test func bundledMigrationsMatchTheFolder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        let onDisk = try files.map { file in
            let name = String(file.dropLast(4))
            return Migration(
                version: Int(name.prefix { $0.isNumber })!, name: name,
                sql: try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8))
        }
        #expect(!onDisk.isEmpty)
        #expect(Migration.bundled.map(\.name) == onDisk.map(\.name), "rerun scripts/embed-migrations")
        for (bundled, file) in zip(Migration.bundled, onDisk) {
            #expect(bundled == file, "\(file.name) differs from its bundled copy: rerun scripts/embed-migrations")
        }
    }

    /// What a partial restore leaves: a log head behind or ahead of the last event stops start-up with `.gap`,
    /// instead of appends colliding with stored positions or readers stopping at a hole.
    @Test func aLogHeadThatDisagreesWithTheLogStopsStartUp() async throws {
        try await withStore { store, _ in
            for _ in 0..<3 { _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()]) }
            for head: Int64 in [2, 5] {
                try await store.transaction { tx in try tx.query("UPDATE log_head SET position = $1", [.int(head)]) }
                do {
                    try await store.migrate()
                    Issue.record("a log head at \(head) with the last event at 3 passed the start-up check")
                } catch let error as EventStoreError {
                    #expect(error.code == .gap)
                    #expect(error.message.contains("head is at \(head) but its last event at 3"), "\(error.message)")
                }
            }
            try await store.transaction { tx in try tx.query("UPDATE log_head SET position = 3") }
            #expect(try await store.migrate() == [])
            #expect(
                try await store.append(stream: "s", expectedVersion: .exact(3), events: [event()]).firstPosition == 4)
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        let database = try await TestDatabase.create()
        let stores = try await withThrowingTaskGroup(of: EventStore.self) { group in
            for _ in 0..<5 { group.addTask { try await database.store(connections: 1, migrate: false) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == Migration.bundled.map(\.version))
        let recorded = try await stores[0].transaction { tx in
            try tx.query("SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version")
        }
        #expect(
            try (0..<recorded.count).map { try recorded.int($0, "n") } == Array(repeating: 1, count: recorded.count))
        #expect(try await stores[1].migrate() == [])
        // The schema works after the race.
        _ = try await stores[2].append(stream: "s", expectedVersion: .noStream, events: [event()])
        for store in stores { await store.shutdown() }
        try await database.drop()
    }

    @Test func aChangedAppliedMigrationIsRefused() async throws {
        try await withStore { store, _ in
            var changed = Migration.bundled
            changed[0].sql += "\n-- an edit after the fact\n"
            do {
                _ = try await store.migrate(MigrationSet(ledger: "schema_migrations", migrations: changed))
                Issue.record("a changed applied migration was accepted")
            } catch let error as EventStoreError {
                #expect(error.code == .migrationChecksum)
                #expect(error.message.contains(Migration.bundled[0].name))
            }
        }
    }

    @Test func aDatabaseFromANewerVersionIsRefused() async throws {
        try await withStore { store, _ in
            let newer =
                Migration.bundled + [Migration(version: 9999, name: "9999_future", sql: "CREATE TABLE future (x int);")]
            let applied = try await store.migrate(MigrationSet(ledger: "schema_migrations", migrations: newer))
            #expect(applied == [9999])
            #expect(await errorCode { _ = try await store.migrate() } == .migration)
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await withStore { store, _ in
            let broken =
                Migration.bundled + [
                    Migration(
                        version: 9998, name: "9998_broken", sql: "CREATE TABLE half (x int); SELECT no_such_function();"
                    )
                ]
            #expect(
                await errorCode {
                    _ = try await store.migrate(MigrationSet(ledger: "schema_migrations", migrations: broken))
                } == .migration)
            let tables = try await store.transaction { tx in
                try tx.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'half'").int(0, "n")
            }
            #expect(tables == 0)
        }
    }
}
