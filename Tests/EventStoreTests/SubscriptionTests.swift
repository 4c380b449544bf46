import Foundation
import Testing

@testable import EventStore

@Suite("Subscriptions")
struct SubscriptionTests {
    @Test func oneSmallNotificationPerTransaction() async throws {
        try await withStore { store, database in
            let listener = PostgresConnection(
                settings: try ConnectionSettings(url: database.url, configuration: .init()), logger: TestDatabase.logger
            )
            try listener.open()
            try listener.execute("LISTEN \(NotificationListener.channel)")
            try await store.transaction { tx in
                _ = try tx.append(stream: "a", expectedVersion: .any, events: [event()])
                _ = try tx.append(stream: "b", expectedVersion: .any, events: [event(), event()])
            }
            _ = try await store.append(stream: "a", expectedVersion: .any, events: [event()])
            // Notifications are delivered with the next message from the server.
            try listener.execute("SELECT 1")
            #expect(
                try listener.consumeNotifications() == [NotificationListener.channel, NotificationListener.channel])
            listener.close()
        }
    }

    @Test func aLostNotificationIsMadeUpByPolling() async throws {
        var configuration = EventStoreConfiguration()
        configuration.pollInterval = .milliseconds(200)
        try await withStore(configuration: configuration) { store, _ in
            try await store.transaction { tx in
                _ = try tx.query("ALTER TABLE log_head DISABLE TRIGGER log_head_advanced")
            }
            let subscriber = Task {
                var types: [String] = []
                for try await e in store.subscribe(after: 0) {
                    types.append(e.type)
                    if types.count == 3 { break }
                }
                return types
            }
            for type in ["A", "B", "C"] {
                try await Task.sleep(for: .milliseconds(100))
                _ = try await store.append(stream: "s", expectedVersion: .any, events: [event(type)])
            }
            let started = ContinuousClock.now
            #expect(try await subscriber.value == ["A", "B", "C"])
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aSubscriptionStartsAfterItsPosition() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .any, events: (0..<5).map { _ in event() })
            var positions: [Int64] = []
            for try await e in store.subscribe(after: 3) {
                positions.append(e.position)
                if positions.count == 2 { break }
            }
            #expect(positions == [4, 5])
        }
    }
}
