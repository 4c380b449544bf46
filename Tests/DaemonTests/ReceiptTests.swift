import Canonical
import EventStore
import Foundation
import RunBundle
import Testing
import WireTypes

@testable import Daemon

/// Receipts and the witness: signed heads that reveal, to whoever holds the key, what a superuser did to the
/// database after they were made — a cut tail, a rollback, a history rewritten with every hash recomputed.
@Suite("Receipts and the log witness")
struct ReceiptTests {
    static func stateDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "e2hd-receipts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A queue on a fresh database, a key and a witness in a fresh state directory, and one run with three events.
    static func withRun(
        _ body: (RunIntegrity, String, Queue) async throws -> Void
    ) async throws {
        let queue = try await TestDatabase.queue()
        let directory = try stateDirectory()
        do {
            let witness = LogWitness(
                stateDirectory: directory, key: try ReceiptKey.loadOrCreate(stateDirectory: directory))
            let run = UUID().uuidString.lowercased()
            _ = try await queue.store.append(
                stream: DaemonEvent.stream(run), expectedVersion: .noStream,
                events: (1...3).map { NewEvent(type: "ScoreRecorded", payload: Data("[\($0)]".utf8)) })
            try await body(RunIntegrity(queue: queue, witness: witness), run, queue)
        } catch {
            await queue.store.shutdown()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        await queue.store.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test func anUntouchedRunMatchesItsReceipt() async throws {
        try await Self.withRun { integrity, run, queue in
            let receipt = try await integrity.receipt(run)
            #expect(receipt.claim.run == run && receipt.claim.runHead?.length == 3 && receipt.claim.logHead.length == 3)
            // Later appends, to this run and others, do not disturb what was signed.
            _ = try await queue.store.append(
                stream: DaemonEvent.stream(run), expectedVersion: .exact(3),
                events: [NewEvent(type: "T", payload: Data("{}".utf8))])
            _ = try await queue.store.append(
                stream: "run-other", expectedVersion: .any, events: [NewEvent(type: "T", payload: Data("{}".utf8))])
            let verification = try await integrity.verify(run, against: receipt)
            #expect(verification.intact, "\(verification.problems)")
            #expect(verification.runHead?.length == 4 && verification.logHead?.length == 5)
            #expect(try await integrity.verifyAll().intact)
        }
    }

    @Test func aCutTailIsEvident() async throws {
        try await Self.withRun { integrity, run, queue in
            let receipt = try await integrity.receipt(run)
            try await Self.cutTail(queue.store, stream: DaemonEvent.stream(run), keep: 1)
            // What the issue found: without a receipt the run still says intact.
            #expect(try await queue.store.verify(stream: DaemonEvent.stream(run)) == .intact(events: 1))
            let verification = try await integrity.verify(run, against: receipt)
            #expect(!verification.intact)
            #expect(verification.problems.contains { $0.contains("the run's chain ends at 1 events, but 3") })
            #expect(verification.problems.contains { $0.contains("the log ends at 1 events, but 3") })
            let all = try await integrity.verifyAll()
            #expect(!all.intact && all.witnessed?.length == 3, "\(all)")
            // The witness keeps the evidence: it does not move to the shortened log, and no receipt vouches for it.
            await #expect(throws: DaemonError.self) { _ = try await integrity.receipt(run) }
            #expect(try await integrity.verifyAll().witnessed?.length == 3)
        }
    }

    @Test func aRewrittenHistoryIsEvident() async throws {
        try await Self.withRun { integrity, run, queue in
            let receipt = try await integrity.receipt(run)
            try await Self.cutTail(queue.store, stream: DaemonEvent.stream(run), keep: 2)
            // The forged event goes through the ordinary append: every hash is the server's own.
            _ = try await queue.store.append(
                stream: DaemonEvent.stream(run), expectedVersion: .exact(2),
                events: [NewEvent(type: "ScoreRecorded", payload: Data("[99]".utf8))])
            #expect(try await queue.store.verify(stream: DaemonEvent.stream(run)) == .intact(events: 3))
            #expect(try await queue.store.verifyLog().broken == nil)
            let verification = try await integrity.verify(run, against: receipt)
            #expect(!verification.intact)
            #expect(verification.problems.filter { $0.contains("rewritten") }.count == 2, "\(verification.problems)")
            #expect(!(try await integrity.verifyAll().intact))
        }
    }

    /// A restore of an older copy of the whole database: every stream that grew since is rolled back with it.
    @Test func aRollbackIsEvident() async throws {
        try await Self.withRun { integrity, run, queue in
            _ = try await integrity.receipt(run)
            let other = "run-" + UUID().uuidString.lowercased()
            _ = try await queue.store.append(
                stream: other, expectedVersion: .noStream, events: [NewEvent(type: "T", payload: Data("{}".utf8))])
            try await integrity.witness.advance(queue.store)
            try await Self.cutTail(queue.store, stream: other, keep: 0)
            let all = try await integrity.verifyAll()
            #expect(!all.intact)
            #expect(all.problems.contains { $0.contains("the log ends at 3 events, but 4") }, "\(all.problems)")
        }
    }

    @Test func anEditedEventIsNamedWithOrWithoutAReceipt() async throws {
        try await Self.withRun { integrity, run, queue in
            let receipt = try await integrity.receipt(run)
            try await queue.store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("UPDATE events SET payload = '[7]' WHERE version = 2")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            #expect(!(try await integrity.verify(run, against: receipt).intact))
            let all = try await integrity.verifyAll()
            #expect(all.problems.contains { $0.contains("position 2") && $0.contains("changed") }, "\(all.problems)")
        }
    }

    @Test func anAlteredOrForeignReceiptIsRefused() async throws {
        try await Self.withRun { integrity, run, _ in
            var receipt = try await integrity.receipt(run)
            let genuine = receipt
            receipt.claim.runHead?.length = 2
            #expect(
                try await integrity.verify(run, against: receipt).problems.contains {
                    $0.contains("signature does not match")
                })
            let stranger = ReceiptKey(.init())
            // Another issuer's log head names its own log: not compared with this one, and said so (it accused this
            // database of a cut log when the issuer's log was longer).
            var elsewhere = genuine.claim
            elsewhere.logHead.length += 10
            let foreign = try await integrity.verify(run, against: try stranger.sign(elsewhere)).problems
            #expect(foreign.contains { $0.contains("signed by key") }, "\(foreign)")
            #expect(foreign.contains { $0.hasPrefix("the log was not compared") }, "\(foreign)")
            #expect(!foreign.contains { $0.contains("removed") }, "\(foreign)")
            #expect(try await integrity.verify(run, against: genuine).intact)
        }
    }

    @Test func theKeyIsKeptAndADamagedKeyFileIsNotReplaced() throws {
        let directory = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try ReceiptKey.loadOrCreate(stateDirectory: directory)
        #expect(try ReceiptKey.loadOrCreate(stateDirectory: directory).keyID == first.keyID)
        let path = directory + "/receipt-key"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try "".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DaemonError.self) { _ = try ReceiptKey.loadOrCreate(stateDirectory: directory) }
        #expect(FileManager.default.contents(atPath: path)?.isEmpty == true)
    }

    @Test func findingsSayWhatWasDone() {
        let signed = ChainHead(length: 5, hash: "aa")
        func problems(_ length: Int64, _ hash: String?, _ broken: String? = nil) -> [String] {
            ReceiptCheck(
                subject: "x", signed: signed, observed: .init(length: length, hashAtSigned: hash, broken: broken)
            )
            .problems
        }
        #expect(problems(5, "aa").isEmpty)
        #expect(problems(9, "aa").isEmpty)
        #expect(problems(3, nil).count == 1 && problems(3, nil)[0].contains("2 events were removed"))
        #expect(problems(5, "bb").count == 1 && problems(5, "bb")[0].contains("rewritten"))
        #expect(problems(9, nil, "version 2: changed").count == 1)
        #expect(problems(9, nil).count == 1 && problems(9, nil)[0].contains("cannot be recomputed"))
        let negative = ReceiptCheck(
            subject: "x", signed: ChainHead(length: -5, hash: "aa"), observed: .init(length: 9, hashAtSigned: nil))
        #expect(negative.problems == ["the receipt signs x at -5 events, which no chain has: it was altered"])
    }

    /// As a superuser who knows the rules: see EventStoreTests' `cutTail`.
    static func cutTail(_ store: EventStore, stream: String, keep: Int64) async throws {
        try await store.transaction { tx in
            try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
            try tx.query("DELETE FROM events WHERE stream = $1 AND version > $2", [.text(stream), .int(keep)])
            try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            if keep == 0 {
                try tx.query("DELETE FROM streams WHERE name = $1", [.text(stream)])
            } else {
                try tx.query(
                    "UPDATE streams SET version = $2, last_hash = "
                        + "(SELECT hash FROM events WHERE stream = $1 AND version = $2) WHERE name = $1",
                    [.text(stream), .int(keep)])
            }
            let rows = try tx.query("SELECT position, hash FROM events ORDER BY position")
            let hashes = try (0..<rows.count).map { row in
                (
                    position: try rows.int64(row, "position") ?? 0,
                    hash: Hex.encode(try rows.bytes(row, "hash") ?? Data())
                )
            }
            let head = try #require(ChainPoint.genesis.extended(by: hashes))
            try tx.query(
                "UPDATE log_head SET position = $1, hash = $2",
                [.int(head.length), .bytes(Hex.decode(head.hash) ?? Data())])
        }
    }
}
