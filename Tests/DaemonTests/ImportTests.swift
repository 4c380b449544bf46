import EventStore
import Foundation
import Testing
import WireTypes

@testable import Daemon

/// Import is all or nothing: every kind of bad archive is refused before anything is written, and the
/// database's rows and bytes are exactly what they were.
@Suite("Import, all or nothing", .serialized)
struct ImportTests {
    /// A completed run with a blob-naming event, exported from its own database.
    static func exportedRun() async throws -> RunArchive {
        let source = try await TestDatabase.queue()
        let run = try await source.submit(SubmitRequest(yaml: "name: tiny\nseed: 7\n", file: "tiny.yaml")).run.id
        let lease = try #require(try await source.claim(owner: "test"))
        let blob = try await source.store.putBlob(Data("checkpoint bytes".utf8))
        let events = (0..<3).map { step in
            NewEvent(type: "CheckpointSaved", payload: Data(#"{"blob":"\#(blob)","step":\#(step)}"#.utf8))
        }
        try await source.appendFenced(lease, events, progress: nil)
        try await source.finish(lease, .completed(summary: "done"))
        let archive = try await RunArchiver(queue: source).export(run)
        await source.store.shutdown()
        return archive
    }

    /// Rows and bytes of every table an import writes, and the log head.
    static func footprint(_ queue: Queue) async throws -> [Int64] {
        let rows = try await queue.store.execute(
            """
            SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM streams) AS streams,
                (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM blobs) AS blobs,
                (SELECT coalesce(sum(size), 0) FROM blobs)::bigint AS blob_bytes,
                (SELECT position FROM log_head) AS head
            """)
        return try ["runs", "streams", "events", "blobs", "blob_bytes", "head"].map { try rows.int64(0, $0) ?? -1 }
    }

    enum Damage: String, CaseIterable, Sendable {
        case alteredPayload, brokenLink, missingEvent, duplicateEventID, duplicateVersion, alteredHash
        case blobNotMatchingItsKey, malformedID, pathLikeID, unknownFormat, noEvents

        func apply(to archive: inout RunArchive) {
            switch self {
            case .alteredPayload: archive.events[1].payload = Data(#"{"blob":"x","step":99}"#.utf8)
            case .brokenLink: archive.events[2].previousHash = String(repeating: "0", count: 64)
            case .missingEvent: archive.events.remove(at: 1)
            case .duplicateEventID: archive.events[2].id = archive.events[1].id
            case .duplicateVersion: archive.events[2].version = archive.events[1].version
            case .alteredHash: archive.events[archive.events.count - 1].hash = String(repeating: "ab", count: 32)
            case .blobNotMatchingItsKey:
                let key = archive.blobs.keys.sorted()[0]
                archive.blobs[key] = Data("other bytes".utf8)
            case .malformedID: archive.run.id = "0123abcd"
            case .pathLikeID: archive.run.id = "../../etc/passwd"
            case .unknownFormat: archive.format = "e2h-run-archive/99"
            case .noEvents: archive.events = []
            }
        }
    }

    @Test(arguments: Damage.allCases)
    func aDamagedArchiveIsRefusedAndLeavesNoTrace(_ damage: Damage) async throws {
        var archive = try await Self.exportedRun()
        damage.apply(to: &archive)
        let target = try await TestDatabase.queue()
        // Another run already there, so "as it was" is not just "empty".
        _ = try await target.submit(SubmitRequest(yaml: "name: other\nseed: 1\n", file: "other.yaml"))
        let before = try await Self.footprint(target)
        await #expect(throws: DaemonError.self) { _ = try await RunArchiver(queue: target).import(archive) }
        #expect(try await Self.footprint(target) == before, "\(damage)")
        await target.store.shutdown()
    }

    @Test func anIntactArchiveImportsOnceAndVerifies() async throws {
        let archive = try await Self.exportedRun()
        let target = try await TestDatabase.queue()
        let imported = try await RunArchiver(queue: target).import(archive)
        #expect(imported.id == archive.run.id && imported.state == .completed)
        #expect(
            try await target.store.verify(stream: DaemonEvent.stream(imported.id))
                == .intact(events: Int64(archive.events.count)))
        // The same archive again: refused as a conflict, and the first import is untouched.
        let before = try await Self.footprint(target)
        do {
            _ = try await RunArchiver(queue: target).import(archive)
            Issue.record("a second import of the same run was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .conflict)
        }
        #expect(try await Self.footprint(target) == before)
        await target.store.shutdown()
    }

    @Test func anExactIDWinsOverAPrefixOfAnother() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await queue.submit(SubmitRequest(yaml: "name: tiny\nseed: 7\n", file: "tiny.yaml")).run.id
        #expect(try await RunCatalog(queue: queue).resolve(String(run.prefix(8))) == run)
        // A row whose id is another's prefix (as an unchecked import once made): each stays addressable.
        _ = try await queue.store.execute(
            """
            INSERT INTO runs (id, name, spec_hash, max_attempts)
            SELECT left(id, 8), name, spec_hash, max_attempts FROM runs WHERE id = $1
            """, [.text(run)])
        #expect(try await RunCatalog(queue: queue).resolve(String(run.prefix(8))) == String(run.prefix(8)))
        #expect(try await RunCatalog(queue: queue).resolve(run) == run)
        await queue.store.shutdown()
    }
}
