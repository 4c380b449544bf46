import Foundation
import Testing

@testable import EventStore

/// An idempotent operation whose lock wait timed out tries again within `lockWaitRetry` (`LockWaitRetry`): a lock
/// held past `lock_timeout` by a slow commit costs a wait, not a worker's attempt.
@Suite struct LockWaitRetryTests {
    @Test func pausesDoubleFromATenthOfASecondUpToTwoSecondsWithinTheBudget() {
        var retry = LockWaitRetry(budget: .seconds(20))
        var pauses: [Duration] = []
        var elapsed = Duration.zero
        while let pause = retry.pause(elapsed: elapsed) {
            pauses.append(pause)
            elapsed += pause + .seconds(1)  // each try waits out its lock_timeout
        }
        let expected: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)]
        #expect(pauses == expected + [.milliseconds(1600), .seconds(2), .seconds(2), .seconds(2), .seconds(2)])
        #expect(elapsed + .seconds(2) > .seconds(20))
    }

    @Test func aZeroBudgetGivesUpAtTheFirstTimeout() {
        var retry = LockWaitRetry(budget: .zero)
        #expect(retry.pause(elapsed: .zero) == nil)
    }

    /// A stream row held past `lock_timeout`: with a budget, the append waits it out and lands once the holder is
    /// done; with none, it fails as before. No step depends on timing: the holder lets go only after the append's
    /// first wait has timed out (seen in `pg_locks`), or, without a budget, after the append has returned.
    @Test(arguments: [true, false])
    func anAppendWaitsOutALockHeldPastTheTimeout(retrying: Bool) async throws {
        var configuration = TestDatabase.patient
        configuration.lockTimeout = .milliseconds(200)
        configuration.lockWaitRetry = retrying ? .seconds(120) : .zero
        try await withStore(connections: 2, configuration: configuration) { store, database in
            // Created through a patient store: an append's COMMIT takes the cluster-wide NOTIFY lock.
            let observer = try await database.store(connections: 1, migrate: false)
            _ = try await observer.append(stream: "s", expectedVersion: .any, events: [event()])
            let release = DispatchSemaphore(value: 0)
            let holder = await holdStreamRow(store, "s", until: release)
            let appending = Task {
                await errorCode { _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()]) }
            }
            let code: EventStoreError.Code?
            if retrying {
                try await Self.untilAWaitTimedOut(observer)
                release.signal()
                code = await appending.value
            } else {
                code = await appending.value
                release.signal()
            }
            try await holder.value
            #expect(code == (retrying ? nil : .timeout))
            #expect(try await store.read(stream: "s").count == (retrying ? 2 : 1))
            await observer.shutdown()
        }
    }

    /// Returns once a session of this database has waited for a lock and stopped waiting while the lock is still
    /// held — its wait timed out.
    static func untilAWaitTimedOut(_ observer: EventStore) async throws {
        var sawWaiting = false
        for _ in 0..<12_000 {
            let waiting = try await observer.transaction { tx in
                try tx.query(
                    """
                    SELECT count(*)::int8 AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE NOT l.granted AND a.datname = current_database()
                    """
                ).int(0, "n") ?? 0
            }
            if waiting > 0 { sawWaiting = true }
            if sawWaiting && waiting == 0 { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("no lock wait timed out within a minute")
    }
}
