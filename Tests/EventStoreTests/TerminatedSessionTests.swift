import Foundation
import Synchronization
import Testing

@testable import EventStore

@Suite("Sessions terminated by the server")
struct TerminatedSessionTests {
    /// `pg_terminate_backend` of every session of a store — pooled and LISTEN — while a subscriber waits: the
    /// next append and transaction reconnect, the listener LISTENs again, and the subscriber, which polls only
    /// once an hour here, gets every event through NOTIFY, in order. No clock is read: within the time limit
    /// only a notification can deliver them (a bound of seconds once failed under the whole suite's load).
    @Test(.timeLimit(.minutes(5))) func terminatedSessionsReconnectAndTheListenerListensAgain() async throws {
        var configuration = EventStoreConfiguration()
        configuration.listenerHealthCheckInterval = .seconds(3600)
        try await withStore(connections: 2, configuration: configuration) { store, database in
            // Its own application name keeps the observer out of the sessions it terminates.
            let observer = try await EventStore(
                url: database.url + " application_name='e2h-observer'", connections: 1, logger: TestDatabase.logger)
            do {
                try await exercise(store, observer)
            } catch {
                await observer.shutdown()
                throw error
            }
            await observer.shutdown()
        }
    }

    /// A session ended in the middle of a transaction: `transaction` reports `.connection` (the body may not be
    /// safe to repeat), `idempotentTransaction` runs the body again on a new session, and the rolled-back first
    /// run leaves no gap.
    @Test func anIdempotentTransactionOutlivesItsSession() async throws {
        try await withStore(connections: 1) { store, _ in
            let runs = Mutex(0)
            let body: @Sendable (Transaction) throws -> AppendResult = { tx in
                let first = runs.withLock { runs in
                    runs += 1
                    return runs == 1
                }
                let appended = try tx.append(stream: "s", expectedVersion: .any, events: [event()])
                if first { try tx.query("SELECT pg_terminate_backend(pg_backend_pid())") }
                return appended
            }
            #expect(await errorCode { try await store.transaction(body) } == .connection)
            runs.withLock { $0 = 0 }
            let appended = try await store.idempotentTransaction(body)
            #expect(runs.withLock { $0 } == 2)
            #expect(appended.firstPosition == 1 && appended.streamVersion == 1)
            #expect(try await store.verify(stream: "s") == .intact(events: 1))
        }
    }

    private func exercise(_ store: EventStore, _ observer: EventStore) async throws {
        let listeners = """
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'e2h' AND query = 'LISTEN e2h_events'
            """
        func pids(_ sql: String) async throws -> Set<Int64> {
            let rows = try await observer.execute(sql)
            return Set(try (0..<rows.count).compactMap { try rows.int64($0, "pid") })
        }
        func waitForListener(replacing old: Set<Int64>) async throws {
            let deadline = ContinuousClock.now + .seconds(120)
            while try await pids(listeners).subtracting(old).isEmpty {
                try #require(ContinuousClock.now < deadline, "the listener did not LISTEN again")
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        let (positions, delivered) = AsyncStream.makeStream(of: Int64.self)
        let subscriber = Task {
            for try await event in try store.tail(after: 0, pollInterval: .seconds(3600)) {
                delivered.yield(event.position)
            }
        }
        defer { subscriber.cancel() }
        var received = positions.makeAsyncIterator()
        _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()])
        #expect(await received.next() == 1)
        try await waitForListener(replacing: [])

        let terminated = try await pids(
            """
            WITH store AS MATERIALIZED (
                SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'e2h'
            )
            SELECT pid FROM store WHERE pg_terminate_backend(pid)
            """)
        #expect(terminated.count >= 2, "expected a pooled and the LISTEN session: \(terminated)")
        try await waitForListener(replacing: terminated)

        _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()])
        #expect(await received.next() == 2)
        _ = try await store.transaction { tx in
            try tx.append(stream: "s", expectedVersion: .exact(2), events: [event()])
        }
        #expect(await received.next() == 3)
        #expect(try await store.verify(stream: "s") == .intact(events: 3))
        #expect(try await pids(listeners).isDisjoint(with: terminated))
    }
}
