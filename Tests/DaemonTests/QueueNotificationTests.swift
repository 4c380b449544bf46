import EventStore
import Foundation
import Logging
import Synchronization
import Testing
import WireTypes

@testable import Daemon

@Suite("Queue notifications on PostgreSQL")
struct QueueNotificationTests {
    /// Waits up to `timeout` for `condition`; returns how long it took, nil if it never held.
    func time(within timeout: Duration, _ condition: () -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Another daemon's store (its own sessions and listener) hears of a submit and of a cancel within a second.
    @Test func anotherDaemonHearsOfASubmitAndACancelAtOnce() async throws {
        let url = try await TestDatabase.create()
        let queue = try await TestDatabase.queue(url: url)
        let other = try await EventStore(url: url, connections: 1, logger: Logger(label: "test"))
        let runnable = Mutex([String?]())
        let cancels = Mutex([String?]())
        try other.onNotification(QueueChannel.runnable.rawValue) { run in runnable.withLock { $0.append(run) } }
        try other.onNotification(QueueChannel.cancelRequested.rawValue) { run in cancels.withLock { $0.append(run) } }
        // Listening once the session connected (it reports that with a nil).
        #expect(try await time(within: .seconds(10)) { runnable.withLock { $0 } == [nil] } != nil)
        try await Task.sleep(for: .milliseconds(300))

        let run = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml")).run.id
        let heardSubmit = try await time(within: .seconds(1)) { runnable.withLock { $0.contains(run) } }
        #expect(heardSubmit != nil, "the submit was not heard within a second")

        let lease = try #require(try await queue.claim(owner: "w"))
        _ = try await queue.cancel(run)
        let heardCancel = try await time(within: .seconds(1)) { cancels.withLock { $0.contains(run) } }
        #expect(heardCancel != nil, "the cancel was not heard within a second")
        try await queue.finish(lease, .cancelled)
        await other.shutdown()
    }
}
