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

    /// A stream row held for longer than `lock_timeout`: the append waits it out and lands once the holder is done —
    /// and with no budget it fails as before.
    @Test(arguments: [true, false])
    func anAppendWaitsOutALockHeldPastTheTimeout(retrying: Bool) async throws {
        var configuration = TestDatabase.patient
        configuration.lockTimeout = .milliseconds(200)
        configuration.lockWaitRetry = retrying ? .seconds(120) : .zero
        try await withStore(connections: 2, configuration: configuration) { store, database in
            // Created through a patient store: an append's COMMIT takes the cluster-wide NOTIFY lock.
            let patient = try await database.store(connections: 1, migrate: false)
            _ = try await patient.append(stream: "s", expectedVersion: .any, events: [event()])
            await patient.shutdown()
            let locked = DispatchSemaphore(value: 0)
            let holder = Task {
                try await store.transaction { tx in
                    _ = try tx.query("SELECT 1 FROM streams WHERE name = 's' FOR UPDATE")
                    locked.signal()
                    // Five lock timeouts' worth: the append's first wait times out while the row is held.
                    Thread.sleep(forTimeInterval: 1)
                }
            }
            await Task.detached { locked.wait() }.value
            let code = await errorCode {
                _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()])
            }
            try await holder.value
            if retrying {
                #expect(code == nil)
                #expect(try await store.read(stream: "s").count == 2)
            } else {
                #expect(code == .timeout)
                #expect(try await store.read(stream: "s").count == 1)
            }
        }
    }
}
