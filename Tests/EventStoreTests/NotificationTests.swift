import Foundation
import Synchronization
import Testing

@testable import EventStore

@Suite("Notifications and tails of the log")
struct NotificationTests {
    @Test func oneSmallNotificationPerTransaction() async throws {
        try await withStore { store, database in
            let listener = PostgresConnection(
                settings: try ConnectionSettings(url: database.url, configuration: .init()), logger: TestDatabase.logger
            )
            try listener.open()
            try listener.execute("LISTEN \(EventStore.appendedChannel)")
            try await store.transaction { tx in
                _ = try tx.append(stream: "a", expectedVersion: .any, events: [event()])
                _ = try tx.append(stream: "b", expectedVersion: .any, events: [event(), event()])
            }
            _ = try await store.append(stream: "a", expectedVersion: .any, events: [event()])
            // Notifications are delivered with the next message from the server.
            try listener.execute("SELECT 1")
            #expect(
                try listener.consumeNotifications().map(\.channel) == [
                    EventStore.appendedChannel, EventStore.appendedChannel,
                ])
            listener.close()
        }
    }

    /// A client's own channel: each committed NOTIFY reaches its handler with the payload; a rolled-back one never.
    @Test func aClientHearsItsChannelOnCommitOnly() async throws {
        try await withStore { store, _ in
            let heard = Mutex([String?]())
            try store.onNotification("e2h_test_channel2") { payload in heard.withLock { $0.append(payload) } }
            // The listening session connects (a nil: anything before may have been missed) and listens.
            #expect(try await eventually { heard.withLock { $0 } == [nil] }, "the listener did not connect")
            try await Task.sleep(for: .milliseconds(500))
            try await store.transaction { tx in try tx.notify("e2h_test_channel2", payload: "first") }
            await #expect(throws: EventStoreError.self) {
                try await store.transaction { tx in
                    try tx.notify("e2h_test_channel2", payload: "rolled back")
                    throw EventStoreError(code: .invalidArgument, message: "roll back")
                }
            }
            try await store.transaction { tx in try tx.notify("e2h_test_channel2", payload: "second") }
            #expect(try await eventually { heard.withLock { $0 }.count == 3 })
            #expect(heard.withLock { $0 } == [nil, "first", "second"])
            #expect(throws: EventStoreError.self) { try store.onNotification("not a channel") { _ in } }
        }
    }

    /// A handler registered once the listener has connected is told (nil) when its LISTEN is in place, as one
    /// registered before the connection is: until then its channel's notifications were missed. Before this, a
    /// registration that lost the race to a fresh listener's connect heard no nil at all.
    @Test func aHandlerRegisteredAfterTheConnectHearsThatItMayHaveMissedSome() async throws {
        try await withStore { store, _ in
            let first = Mutex([String?]())
            let second = Mutex([String?]())
            try store.onNotification("e2h_test_early") { payload in first.withLock { $0.append(payload) } }
            #expect(try await eventually(tries: 600) { first.withLock { $0 } == [nil] }, "the listener did not connect")
            try store.onNotification("e2h_test_late") { payload in second.withLock { $0.append(payload) } }
            #expect(
                try await eventually(tries: 600) { second.withLock { $0 } == [nil] }, "the late handler heard no nil")
            try await store.transaction { tx in try tx.notify("e2h_test_late", payload: "heard") }
            #expect(try await eventually(tries: 600) { second.withLock { $0 }.count == 2 })
            #expect(second.withLock { $0 } == [nil, "heard"])
            #expect(first.withLock { $0 } == [nil])
        }
    }

    /// With the log's trigger off no NOTIFY is sent, so only the tail's polling can deliver the events; without it the
    /// tail is cancelled at a deadline and returns less. The deadline is generous (a bound of 5 s once failed under the
    /// whole suite's load) and counts from the appends, not from the test's start (setting up a database under that
    /// load took over two minutes).
    @Test func aLostNotificationIsMadeUpByPolling() async throws {
        try await withStore { store, _ in
            try await store.transaction { tx in
                _ = try tx.query("ALTER TABLE log_head DISABLE TRIGGER log_head_advanced")
            }
            let subscriber = Task {
                var types: [String] = []
                for try await e in try store.tail(after: 0, pollInterval: .milliseconds(200)) {
                    types.append(e.type)
                    if types.count == 3 { break }
                }
                return types
            }
            for type in ["A", "B", "C"] {
                try await Task.sleep(for: .milliseconds(100))
                _ = try await store.append(stream: "s", expectedVersion: .any, events: [event(type)])
            }
            let deadline = Task {
                try? await Task.sleep(for: .seconds(60))
                subscriber.cancel()
            }
            #expect(try await subscriber.value == ["A", "B", "C"], "polling did not deliver the events within 60 s")
            deadline.cancel()
        }
    }

    @Test func aTailStartsAfterItsPosition() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .any, events: (0..<5).map { _ in event() })
            var positions: [Int64] = []
            for try await e in try store.tail(after: 3) {
                positions.append(e.position)
                if positions.count == 2 { break }
            }
            #expect(positions == [4, 5])
        }
    }
}

/// Whether `condition` holds within `tries` checks 0.1 s apart.
func eventually(tries: Int = 100, _ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<tries where !condition() { try await Task.sleep(for: .milliseconds(100)) }
    return condition()
}
