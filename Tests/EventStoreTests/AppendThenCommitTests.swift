import Foundation
import Testing

@testable import EventStore

/// `Transaction.appendThenCommit` sends an append and its COMMIT in one round trip, so a writer that stalls after
/// it (stopped, cut off, descheduled) holds no lock that other appenders wait on.
@Suite("Append and commit in one round trip")
struct AppendThenCommitTests {
    /// A transaction whose body stalls after its append, until `release`; returns once the append has returned.
    private func stallAfterAppend(
        _ store: EventStore, commitWithAppend: Bool, release: DispatchSemaphore
    ) async -> Task<Void, any Error> {
        let appended = DispatchSemaphore(value: 0)
        let writer = Task {
            try await store.transaction { tx in
                if commitWithAppend {
                    try tx.appendThenCommit(stream: "stalled", events: [event()])
                } else {
                    _ = try tx.append(stream: "stalled", expectedVersion: .any, events: [event()])
                }
                appended.signal()
                release.wait()
            }
        }
        await Task.detached { appended.wait() }.value
        return writer
    }

    /// Every COMMIT of an append also waits for the cluster-wide NOTIFY lock, which other tests' commits can hold for
    /// longer than half a second on a loaded machine (CI saw this test fail so). So only the control's append, which
    /// must time out, runs under a short lock timeout; everything else waits up to 30 s, which still fails the test,
    /// rather than hanging it, if a stalled writer held the log head.
    @Test func aWriterStalledAfterItsAppendBlocksNoOtherAppender() async throws {
        var configuration = TestDatabase.patient
        configuration.lockTimeout = .seconds(30)
        configuration.lockWaitRetry = .zero
        try await withStore(connections: 2, configuration: configuration) { store, database in
            var short = configuration
            short.lockTimeout = .milliseconds(500)
            let impatient = try await database.store(connections: 1, configuration: short, migrate: false)
            // The control: a stall between a plain append and its COMMIT holds the log head, and every other
            // appender times out. This is what the test would see if appendThenCommit sent its COMMIT later.
            let held = DispatchSemaphore(value: 0)
            let plain = await stallAfterAppend(store, commitWithAppend: false, release: held)
            #expect(
                await errorCode {
                    _ = try await impatient.append(stream: "blocked", expectedVersion: .any, events: [event()])
                }
                    == .timeout)
            held.signal()
            try await plain.value
            await impatient.shutdown()

            let release = DispatchSemaphore(value: 0)
            let writer = await stallAfterAppend(store, commitWithAppend: true, release: release)
            // The stalled writer's event is committed and its locks are gone: another append goes through.
            let other = try await store.append(stream: "other", expectedVersion: .any, events: [event()])
            #expect(try await store.read(stream: "stalled").count == 2)
            release.signal()
            try await writer.value
            #expect(other.streamVersion == 1)
            #expect(try await store.read(stream: "blocked").isEmpty)
            #expect(try await store.verify(stream: "stalled") == .intact(events: 2))
            #expect(try await store.verify(stream: "other") == .intact(events: 1))
        }
    }

    @Test func nothingRunsAfterItAndARetryIsNotStoredTwice() async throws {
        try await withStore(connections: 1) { store, _ in
            let events = [event("A"), event("B")]
            let first = try await store.transaction { tx in try tx.appendThenCommit(stream: "s", events: events) }
            // A retry after a lost COMMIT reply finds its events where they are.
            let again = try await store.transaction { tx in try tx.appendThenCommit(stream: "s", events: events) }
            #expect(again == first)
            let refused = await errorCode {
                try await store.transaction { tx in
                    try tx.appendThenCommit(stream: "s", events: [event("C")])
                    _ = try tx.query("SELECT 1")
                }
            }
            #expect(refused == .invalidArgument)
            // What it committed stays committed.
            #expect(try await store.read(stream: "s").map(\.type) == ["A", "B", "C"])
        }
    }

    @Test func aFailedAppendRollsBackTheWholeBody() async throws {
        try await withStore(connections: 1) { store, _ in
            let code = await errorCode {
                try await store.transaction { tx in
                    _ = try tx.append(stream: "first", expectedVersion: .noStream, events: [event()])
                    try tx.appendThenCommit(stream: "second", events: [event("Bad", "{not json")])
                }
            }
            #expect(code == .invalidArgument)
            #expect(try await store.read(stream: "first").isEmpty)
            // The session is usable afterwards.
            _ = try await store.transaction { tx in try tx.appendThenCommit(stream: "first", events: [event()]) }
            #expect(try await store.read(stream: "first").count == 1)
        }
    }
}
