import Foundation
import Testing

@testable import EventStore

/// Re-appending the same event ids (a retry after a lost COMMIT reply) succeeds without writing.
@Suite("Idempotent appends")
struct IdempotencyTests {
    @Test(arguments: [ExpectedVersion.noStream, .any, .exact(0)])
    func reappendingTheSameIdsReturnsTheFirstResult(expected: ExpectedVersion) async throws {
        try await withStore { store, _ in
            let events = [event("A"), event("B"), event("C")]
            let first = try await store.append(stream: "s", expectedVersion: expected, events: events)
            let again = try await store.append(stream: "s", expectedVersion: expected, events: events)
            #expect(again == first)
            #expect(try await store.readAll(after: 0, limit: 10).count == 3)
            // Later appends do not change what a retry of the first one returns.
            _ = try await store.append(stream: "s", expectedVersion: .exact(3), events: [event()])
            #expect(try await store.append(stream: "s", expectedVersion: expected, events: events) == first)
            #expect(try await store.headPosition() == 4)
        }
    }

    @Test func idsStoredOtherwiseAreRejected() async throws {
        try await withStore { store, _ in
            let a = event("A")
            let b = event("B")
            _ = try await store.append(stream: "s", expectedVersion: .any, events: [a, b])
            // Ids stored in this order and contiguously in this stream count as done.
            #expect(try await store.append(stream: "s", expectedVersion: .any, events: [b]).firstPosition == 2)
            // Another order, a superset, another stream: not what is stored.
            for events in [[b, a], [a, b, event()]] {
                #expect(
                    await errorCode { _ = try await store.append(stream: "s", expectedVersion: .any, events: events) }
                        == .duplicateEventID)
            }
            #expect(
                await errorCode { _ = try await store.append(stream: "t", expectedVersion: .any, events: [a, b]) }
                    == .duplicateEventID)
            #expect(try await store.headPosition() == 2)
        }
    }

    @Test func concurrentRetriesOfOneAppendWriteOnce() async throws {
        try await withStore { store, _ in
            let events = (0..<5).map { _ in event() }
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await store.append(stream: "s", expectedVersion: .any, events: events) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results.map(\.firstPosition)) == [1])
            #expect(try await store.headPosition() == 5)
        }
    }
}
