import Canonical
import Foundation
import Testing

@testable import EventStore

/// The chain over the whole log (migrations/0002): what the server folds and what `verifyLog` recomputes agree, and
/// what each kind of tampering by a superuser looks like to it.
@Suite("Global chain")
struct GlobalChainTests {
    @Test func serverAndClientFoldTheSameHead() async throws {
        try await withStore { store, _ in
            #expect(try await store.logHead() == .genesis)
            for i in 1...4 {
                _ = try await store.append(stream: "a", expectedVersion: .any, events: [event(), event("E", "[\(i)]")])
                _ = try await store.append(stream: "b-ü", expectedVersion: .any, events: [event()])
            }
            let verification = try await store.verifyLog(checkpoints: [0, 3, 12, 99])
            #expect(verification.broken == nil)
            #expect(verification.recomputed == verification.stored)
            #expect(verification.stored.length == 12)
            #expect(verification.streams == 2)
            #expect(verification.checkpoints[0] == ChainPoint.genesis.hash)
            #expect(verification.checkpoints[12] == verification.stored.hash)
            #expect(verification.checkpoints[3] != nil && verification.checkpoints[99] == nil)
            // The witness's fold from an earlier point reaches the same head.
            let earlier = ChainPoint(length: 3, hash: try #require(verification.checkpoints[3]))
            let (hashes, head) = try await store.hashes(after: 3)
            #expect(earlier.extended(by: hashes) == head)
            #expect(ChainPoint.genesis.extended(by: hashes) == nil, "a fold that skips positions must fail")
        }
    }

    /// A database migrated before the global chain existed gets its head folded over the events it holds.
    @Test func theMigrationFoldsTheHeadOfAnExistingLog() async throws {
        let database = try await TestDatabase.create()
        let store = try await database.store(migrate: false)
        do {
            let first = MigrationSet(ledger: "schema_migrations", migrations: [Migration.bundled[0]])
            #expect(try await store.migrate(first) == [1])
            for _ in 1...3 {
                _ = try await store.append(stream: "old", expectedVersion: .any, events: [event(), event()])
            }
            #expect(try await store.migrate() == Migration.bundled.dropFirst().map(\.version))
            let verification = try await store.verifyLog()
            #expect(verification.broken == nil)
            #expect(verification.stored.length == 6 && verification.recomputed == verification.stored)
            _ = try await store.append(stream: "new", expectedVersion: .any, events: [event()])
            #expect(try await store.verifyLog().broken == nil)
        } catch {
            await store.shutdown()
            try? await database.drop()
            throw error
        }
        await store.shutdown()
        try await database.drop()
    }

    @Test func anEditedEventIsNamedByPositionAndStream() async throws {
        try await withStore { store, _ in
            for _ in 1...3 {
                _ = try await store.append(stream: "x", expectedVersion: .any, events: [event()])
                _ = try await store.append(stream: "y", expectedVersion: .any, events: [event()])
            }
            try await store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("UPDATE events SET payload = '{\"n\": 2}' WHERE stream = 'y' AND version = 2")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            let broken = try #require(try await store.verifyLog().broken)
            #expect(broken.position == 4 && broken.stream == "y")
            #expect(broken.reason.contains("changed"))
        }
    }

    @Test func aDeletedEventInTheMiddleIsAGap() async throws {
        try await withStore { store, _ in
            for _ in 1...3 { _ = try await store.append(stream: "x", expectedVersion: .any, events: [event()]) }
            _ = try await store.append(stream: "y", expectedVersion: .any, events: [event()])
            try await store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("DELETE FROM events WHERE position = 2")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            let broken = try #require(try await store.verifyLog().broken)
            #expect(broken.position == 2 && broken.reason.contains("missing"))
        }
    }

    /// The fault the issue found: a superuser deletes a run's last events and rewinds its head — the per-stream
    /// check says intact. Rewinding the log head too (its hash refolded) makes the database consistent again;
    /// only a hash signed earlier reveals it, and `verifyLog` gives what to compare it with.
    @Test func aCutTailWithRewoundHeadsIsInvisibleWithoutACheckpointAndEvidentWithOne() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "other", expectedVersion: .any, events: [event()])
            _ = try await store.append(stream: "run", expectedVersion: .any, events: [event(), event(), event()])
            let signed = try await store.logHead()
            try await cutTail(store, stream: "run", keep: 1)
            #expect(try await store.verify(stream: "run") == .intact(events: 1))
            let after = try await store.verifyLog(checkpoints: [signed.length])
            #expect(after.broken == nil)
            #expect(after.stored.length == 2)
            #expect(after.checkpoints[signed.length] == nil, "the signed position is no longer in the log")
        }
    }

    /// Rewritten history: the tail replaced by other events through the ordinary append, so every hash is the
    /// server's own. Consistent in itself; a different hash at the signed position.
    @Test func aRewrittenTailHashesDifferentlyAtTheSignedPosition() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "run", expectedVersion: .any, events: [event(), event("Scored", "[1]")])
            let signed = try await store.logHead()
            try await cutTail(store, stream: "run", keep: 1)
            _ = try await store.append(stream: "run", expectedVersion: .exact(1), events: [event("Scored", "[9]")])
            let after = try await store.verifyLog(checkpoints: [signed.length])
            #expect(after.broken == nil)
            #expect(after.stored.length == signed.length)
            #expect(after.checkpoints[signed.length] != signed.hash)
        }
    }

    @Test func anEditedLogHeadIsNamed() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .any, events: [event(), event()])
            try await store.transaction { tx in
                try tx.query("UPDATE log_head SET hash = decode(repeat('ab', 32), 'hex')")
            }
            let broken = try #require(try await store.verifyLog().broken)
            #expect(broken.position == nil && broken.reason.contains("log's head"))
        }
    }
}

/// As a superuser who knows the rules: removes `stream`'s events after version `keep` (they must be the last of
/// the log), and rewinds the stream's head and the log's head — hash refolded — so that the database is
/// consistent again.
func cutTail(_ store: EventStore, stream: String, keep: Int64) async throws {
    try await store.transaction { tx in
        try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
        try tx.query("DELETE FROM events WHERE stream = $1 AND version > $2", [.text(stream), .int(keep)])
        try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
        try tx.query(
            "UPDATE streams SET version = $2, last_hash = (SELECT hash FROM events WHERE stream = $1 AND version = $2) "
                + "WHERE name = $1", [.text(stream), .int(keep)])
        let rows = try tx.query("SELECT position, hash FROM events ORDER BY position")
        let hashes = try (0..<rows.count).map { row in
            (position: try rows.int64(row, "position") ?? 0, hash: Hex.encode(try rows.bytes(row, "hash") ?? Data()))
        }
        let head = try #require(ChainPoint.genesis.extended(by: hashes))
        try tx.query(
            "UPDATE log_head SET position = $1, hash = $2",
            [.int(head.length), .bytes(Hex.decode(head.hash) ?? Data())])
    }
}
