import Foundation
import Logging
import Testing
import WireTypes

@testable import Daemon
@testable import EventStore

@Suite("Run queue on PostgreSQL")
struct RunQueueTests {
    static let spec = "name: tiny\nseed: 7\n"

    func submit(_ queue: Queue, priority: Int = 0, key: String? = nil) async throws -> SubmitResponse {
        try await queue.submit(
            SubmitRequest(yaml: Self.spec, file: "tiny.yaml", priority: priority, idempotencyKey: key))
    }

    func eventTypes(_ queue: Queue, _ run: String) async throws -> [String] {
        try await queue.store.readWhole(stream: DaemonEvent.stream(run)).map(\.type)
    }

    @Test func submitAppendsRunSubmittedAndIsIdempotentOnItsKey() async throws {
        let queue = try await TestDatabase.queue()
        let first = try await submit(queue, key: "k1")
        let again = try await submit(queue, key: "k1")
        #expect(first.created && !again.created)
        #expect(first.run.id == again.run.id)
        #expect(try await eventTypes(queue, first.run.id) == ["RunSubmitted"])
        #expect(try await queue.list(state: nil, limit: 10).count == 1)
        // The key with another spec is a mistake, not a repeat: it returned the first run, exit 0.
        let other = await #expect(throws: DaemonError.self) {
            _ = try await queue.submit(
                SubmitRequest(yaml: "name: tiny\nseed: 8\n", file: "tiny.yaml", idempotencyKey: "k1"))
        }
        #expect(other?.code == .conflict && other?.message.contains("of another spec") == true)
        #expect(try await queue.list(state: nil, limit: 10).count == 1)
    }

    @Test func anInvalidSpecQueuesNothingAndSaysWhere() async throws {
        let queue = try await TestDatabase.queue()
        do {
            _ = try await queue.submit(SubmitRequest(yaml: "name: x\nseeed: 3\n", file: "bad.yaml"))
            Issue.record("an invalid spec was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .invalidSpec)
            #expect(error.diagnostics.contains { $0.hasPrefix("bad.yaml:2:1") })
        }
        #expect(try await queue.list(state: nil, limit: 10).isEmpty)
    }

    @Test func claimsFollowPriorityThenSubmissionOrderAndNeverTwice() async throws {
        let queue = try await TestDatabase.queue()
        var ids: [String] = []
        for priority in [0, 0, 5, 0, 5, 0] { ids.append(try await submit(queue, priority: priority).run.id) }
        let claims = try await withThrowingTaskGroup(of: [Lease].self) { group in
            for claimer in 0..<4 {
                group.addTask {
                    var leases: [Lease] = []
                    while let lease = try await queue.claim(owner: "claimer-\(claimer)") { leases.append(lease) }
                    return leases
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claims.map(\.run).sorted() == ids.sorted())
        #expect(Set(claims.map(\.token)).count == claims.count)
        #expect(try await queue.claim(owner: "late") == nil)

        let ordered = try await TestDatabase.queue()
        var orderedIDs: [String] = []
        for priority in [0, 0, 5, 0, 5] { orderedIDs.append(try await submit(ordered, priority: priority).run.id) }
        var claimOrder: [String] = []
        while let lease = try await ordered.claim(owner: "one") { claimOrder.append(lease.run) }
        #expect(claimOrder == [orderedIDs[2], orderedIDs[4], orderedIDs[0], orderedIDs[1], orderedIDs[3]])
    }

    @Test func anExpiredLeaseIsReapedAndItsHolderFenced() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await submit(queue).run.id
        let zombie = try #require(try await queue.claim(owner: "zombie"))
        try await queue.appendFenced(
            zombie, [NewEvent(type: "StageStarted", payload: Data(#"{"stage":"split"}"#.utf8))],
            progress: RunProgress(stage: .split))
        try await TestDatabase.expireLease(of: run, in: queue)
        #expect(try await queue.reap() == 1)
        #expect(try await queue.details(run).state == .queued)

        let successor = try #require(try await queue.claim(owner: "successor"))
        #expect(successor.attempt == 2 && successor.token != zombie.token)
        await #expect(throws: EventStoreError.self) {
            try await queue.appendFenced(
                zombie, [NewEvent(type: "StageStarted", payload: Data("{}".utf8))], progress: nil)
        }
        guard case .lost = try await queue.heartbeat(zombie, progress: nil) else {
            Issue.record("the zombie's heartbeat renewed a lease it lost")
            return
        }
        await #expect(throws: EventStoreError.self) { try await queue.finish(zombie, .completed(summary: "")) }
        #expect(try await queue.details(run).state == .running)
        #expect(
            try await eventTypes(queue, run)
                == ["RunSubmitted", "RunClaimed", "StageStarted", "RunInterrupted", "RunClaimed"])
        try await queue.finish(successor, .completed(summary: "done"))
        #expect(try await queue.details(run).state == .completed)
    }

    /// A daemon stopped (SIGSTOP) or cut off after its write's fence locked the run's row holds that row in an idle
    /// transaction, and the sweep skips locked rows. Once the lease is over the reaper ends that session instead of
    /// waiting for PostgreSQL's idle-in-transaction timeout — here ten minutes, so only the cut lets the takeover
    /// happen within the two minutes the test waits.
    @Test func theReaperEndsAStalledSessionHoldingAnExpiredRunsRow() async throws {
        let url = try await TestDatabase.create()
        let queue = try await TestDatabase.queue(url: url)
        let run = try await submit(queue).run.id
        let stalled = try #require(try await queue.claim(owner: "stalled"))
        try await TestDatabase.expireLease(of: run, in: queue)
        var configuration = EventStoreConfiguration()
        configuration.idleInTransactionTimeout = .seconds(600)
        let daemon = try await EventStore(
            url: url, connections: 1, configuration: configuration, logger: Logger(label: "test"))
        // The stalled daemon's write: its fence's statement (which locks the row), then nothing.
        _ = try await daemon.pool.run { connection in
            try connection.execute("BEGIN")
            return try connection.execute(
                "UPDATE runs SET progress = progress, updated_at = now() WHERE id = $1", [.text(run)]
            ).count
        }
        let deadline = ContinuousClock.now + .seconds(120)
        var reaped = 0
        while reaped == 0 && ContinuousClock.now < deadline {
            reaped = try await queue.reap()
            if reaped == 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(reaped == 1, "the run stayed locked by a stalled session")
        #expect(try await queue.details(run).state == .queued)
        // The stalled session is gone with its transaction: when it wakes, its statement fails.
        await #expect(throws: EventStoreError.self) {
            _ = try await daemon.pool.run { try $0.execute("SELECT 1").count }
        }
        await daemon.shutdown()
        await #expect(throws: EventStoreError.self) {
            try await queue.appendFenced(
                stalled, [NewEvent(type: "StageStarted", payload: Data("{}".utf8))], progress: nil)
        }
        let successor = try #require(try await queue.claim(owner: "successor"))
        #expect(successor.attempt == 2)
        await queue.store.shutdown()
    }

    /// A running run's details say when its lease ends, so `e2h show` can tell a run whose daemon died (its last
    /// progress stays until the lease ends) from one computing; a run that is not running has none.
    @Test func aRunningRunsDetailsSayWhenItsLeaseEnds() async throws {
        let settings = TestDatabase.settings()
        let queue = try await TestDatabase.queue(settings)
        let run = try await submit(queue).run.id
        #expect(try await queue.details(run).leaseExpiresAt == nil)
        _ = try #require(try await queue.claim(owner: "w"))
        let running = try await queue.details(run)
        let expires = try #require(running.leaseExpiresAt)
        let lease = Double(settings.lease.components.seconds)
        #expect(abs(expires.timeIntervalSince(running.updatedAt) - lease) < 1, "\(expires) \(running.updatedAt)")
        try await TestDatabase.expireLease(of: run, in: queue)
        #expect(try await queue.reap() == 1)
        #expect(try await queue.details(run).leaseExpiresAt == nil)
    }

    /// The reaper tells an attempt that recorded events after its claim (requeued, not counted) from one that died
    /// before recording anything (counted): three of those in a row fail the run as a crash loop.
    @Test func theReaperCountsOnlyAttemptsWithoutProgress() async throws {
        let queue = try await TestDatabase.queue(TestDatabase.settings(maxAttempts: 3))
        let run = try await submit(queue).run.id
        for step in 0..<4 {
            let lease = try #require(try await queue.claim(owner: "w"))
            try await queue.appendFenced(
                lease, [NewEvent(type: "CheckpointSaved", payload: Data(#"{"step":\#(step)}"#.utf8))], progress: nil)
            try await TestDatabase.expireLease(of: run, in: queue)
            #expect(try await queue.reap() == 1)
            let details = try await queue.details(run)
            #expect(details.state == .queued && details.failures == 0)
        }
        for _ in 0..<3 {
            _ = try #require(try await queue.claim(owner: "w"))
            try await TestDatabase.expireLease(of: run, in: queue)
            #expect(try await queue.reap() == 1)
        }
        let details = try await queue.details(run)
        #expect(details.state == .failed && details.attempt == 7)
        #expect(details.errors.last?.contains("crash loop") == true, "\(details.errors)")
        await queue.store.shutdown()
    }

    @Test func aHeartbeatKeepsTheLeaseAndReportsACancelRequest() async throws {
        // A lease long enough that a loaded machine (every suite runs at once) cannot let it lapse before the last
        // heartbeat: CI once saw 30 s pass between the claim and the heartbeat after the cancel, when every suite
        // starts together. Expiry itself is tested with explicitly expired leases.
        let queue = try await TestDatabase.queue(TestDatabase.settings(lease: .seconds(600)))
        let run = try await submit(queue).run.id
        let lease = try #require(try await queue.claim(owner: "w"))
        let progress = RunProgress(stage: .sft, task: "policy", done: 3, total: 10, unit: "steps", loss: 0.5)
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(250))
            guard case .renewed(false) = try await queue.heartbeat(lease, progress: progress) else {
                Issue.record("heartbeat did not renew")
                return
            }
            #expect(try await queue.reap() == 0)
        }
        #expect(try await queue.details(run).progress == progress)
        let afterCancel = try await queue.cancel(run)
        #expect(afterCancel.state == .running && afterCancel.cancelRequested)
        guard case .renewed(true) = try await queue.heartbeat(lease, progress: nil) else {
            Issue.record("the heartbeat did not carry the cancel request")
            return
        }
        try await queue.finish(lease, .cancelled)
        let cancelled = try await queue.details(run)
        #expect(cancelled.state == .cancelled && cancelled.progress == nil)
        #expect(try await eventTypes(queue, run).last == "RunCancelled")
    }

    @Test func cancellingAQueuedRunIsImmediateAndResumeRequeuesIt() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await submit(queue).run.id
        #expect(try await queue.cancel(run).state == .cancelled)
        #expect(try await queue.claim(owner: "w") == nil)
        await #expect(throws: DaemonError.self) { _ = try await queue.cancel(run) }
        #expect(try await queue.resume(run).state == .queued)
        #expect(try await queue.claim(owner: "w")?.run == run)
        #expect(
            try await eventTypes(queue, run) == ["RunSubmitted", "RunCancelled", "RunResumed", "RunClaimed"])
    }

    @Test func failuresBackOffThenFailTheRunWithTheirReasons() async throws {
        let queue = try await TestDatabase.queue(TestDatabase.settings(maxAttempts: 2, backoff: 60))
        let run = try await submit(queue).run.id
        let first = try #require(try await queue.claim(owner: "w"))
        let failedAt = ContinuousClock.now
        try await queue.finish(first, .failed(reason: "boom 1", retryable: true))
        #expect(try await queue.details(run).state == .queued)
        let backoff = try await queue.store.transaction { tx in
            try tx.query(
                "SELECT extract(epoch FROM run_after - now()) AS seconds FROM runs WHERE id = $1", [.text(run)])
        }
        // 60 s from the failure, less however long this loaded machine took to get here.
        let elapsed = Double((ContinuousClock.now - failedAt).components.seconds) + 1
        let remaining = try backoff.double(0, "seconds") ?? 0
        #expect((60 - elapsed)...60.5 ~= remaining, "backoff \(remaining) s, \(elapsed) s after the failure")
        #expect(try await queue.claim(owner: "w") == nil)  // backing off
        // Skip the wait rather than sleep through it.
        _ = try await queue.store.transaction { tx in
            try tx.query("UPDATE runs SET run_after = now() WHERE id = $1", [.text(run)])
        }
        let second = try #require(try await queue.claim(owner: "w"))
        try await queue.finish(second, .failed(reason: "boom 2", retryable: true))
        let details = try await queue.details(run)
        #expect(details.state == .failed)
        #expect(details.errors == ["attempt 1: boom 1", "attempt 2: boom 2"])
        #expect(try await eventTypes(queue, run).suffix(2) == ["RunClaimed", "RunFailed"])
    }

    @Test func anInterruptedAttemptIsRequeuedWithoutCountingAsAFailure() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await submit(queue).run.id
        let lease = try #require(try await queue.claim(owner: "w"))
        try await queue.finish(lease, .interrupted(reason: "daemon w shut down"))
        let details = try await queue.details(run)
        #expect(details.state == .queued && details.failures == 0 && details.leaseOwner == nil)
        #expect(try await queue.claim(owner: "other")?.attempt == 2)
    }
}
