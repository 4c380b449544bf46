import Foundation
import Testing

@testable import EventStore

@Suite("Server restart")
struct RestartTests {
    /// A `pg_ctl restart` under a store: appends and transactions reconnect transparently, the
    /// subscriber resumes and misses nothing; with the server down past the reconnect timeout,
    /// an operation throws `.connection` instead of hanging.
    @Test func aRestartIsRiddenOut() async throws {
        let cluster = try await PrivateCluster.start()
        do {
            try await exercise(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    private func exercise(_ cluster: PrivateCluster) async throws {
        var configuration = EventStoreConfiguration()
        configuration.listenerHealthCheckInterval = .milliseconds(300)
        let store = try await EventStore(
            url: cluster.url, connections: 2, configuration: configuration, logger: TestDatabase.logger)
        try await store.migrate()
        let total = 60
        let subscriber = Task {
            var positions: [Int64] = []
            for try await e in try store.tail(after: 0, pollInterval: .milliseconds(200)) {
                positions.append(e.position)
                if positions.count == total { break }
            }
            return positions
        }
        for _ in 0..<20 { _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()]) }

        try await cluster.restart()
        // Every pooled session is dead now; each operation notices and reconnects.
        for _ in 0..<20 { _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()]) }
        try await cluster.restart()
        let inTransaction = try await store.transaction { tx in
            try tx.append(stream: "t", expectedVersion: .noStream, events: [event()])
        }
        #expect(inTransaction.firstPosition == 41)

        // Down for longer than a short reconnect timeout: a typed error, not a hang.
        var impatient = EventStoreConfiguration()
        impatient.reconnectTimeout = .milliseconds(500)
        let shortLived = try await EventStore(
            url: cluster.url, connections: 1, configuration: impatient, logger: TestDatabase.logger)
        try await cluster.stop()
        let started = ContinuousClock.now
        #expect(await errorCode { _ = try await shortLived.headPosition() } == .connection)
        #expect(ContinuousClock.now - started < .seconds(10))
        await shortLived.shutdown()
        // An append issued while the server is down completes once it is back.
        let pending = Task { try await store.append(stream: "s", expectedVersion: .any, events: [event()]) }
        try await Task.sleep(for: .milliseconds(500))
        try await cluster.start()
        #expect(try await pending.value.firstPosition == 42)

        for _ in 0..<18 { _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()]) }
        #expect(try await subscriber.value == Array(1...Int64(total)))
        #expect(try await store.verify(stream: "s") == .intact(events: 59))
        await store.shutdown()
    }
}
