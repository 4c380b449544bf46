import Foundation
import Testing

@testable import EventStore

@Suite("Append and read")
struct AppendTests {
    @Test func appendsAndReadsBackVerbatim() async throws {
        try await withStore { store, _ in
            // Odd spacing and key order must survive: the payload is stored and hashed verbatim.
            let payload = #"{ "z":1,  "a" : [1, 2.50] , "ü": "\u00e9" }"#
            let before = Date()
            let first = try await store.append(
                stream: "run-1", expectedVersion: .noStream, events: [event("A", payload), event("B")])
            #expect(first == AppendResult(firstPosition: 1, lastPosition: 2, streamVersion: 2))
            let second = try await store.append(stream: "run-2", expectedVersion: .any, events: [event("C")])
            #expect(second == AppendResult(firstPosition: 3, lastPosition: 3, streamVersion: 1))

            let run1 = try await store.read(stream: "run-1")
            let after = Date()
            #expect(run1.map(\.type) == ["A", "B"])
            #expect(run1.map(\.version) == [1, 2])
            #expect(String(decoding: run1[0].payload, as: UTF8.self) == payload)
            #expect(run1[0].previousHash == String(repeating: "0", count: 64))
            #expect(run1[1].previousHash == run1[0].hash)
            // The server's clock is this machine's; a second either side allows for its rounding, not for load (a
            // fixed "within 60 s of now" failed once when this test took two minutes in CI).
            #expect(run1[0].recordedAt >= before - 1 && run1[0].recordedAt <= after + 1, "\(run1[0].recordedAt)")
            #expect(try await store.read(stream: "run-1", fromVersion: 2, limit: 10).map(\.type) == ["B"])
            #expect(try await store.readAll(after: 0, limit: 10).map(\.position) == [1, 2, 3])
            #expect(try await store.readAll(after: 2, limit: 10).map(\.type) == ["C"])
            #expect(try await store.headPosition() == 3)
            #expect(try await store.verify(stream: "run-1") == .intact(events: 2))
        }
    }

    @Test func rejectsInvalidAppends() async throws {
        try await withStore { store, _ in
            #expect(
                await errorCode { _ = try await store.append(stream: "s", expectedVersion: .any, events: []) }
                    == .invalidArgument)
            let id = UUID()
            #expect(
                await errorCode {
                    _ = try await store.append(
                        stream: "s", expectedVersion: .any, events: [event(id: id), event(id: id)])
                } == .invalidArgument)
            #expect(
                await errorCode {
                    _ = try await store.append(stream: "s", expectedVersion: .any, events: [event("A", "{not json")])
                } == .invalidArgument)
            let head = try await store.headPosition()
            #expect(head == 0)
        }
    }

    @Test func staleExpectedVersionConflicts() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .noStream, events: [event()])
            #expect(
                await errorCode {
                    _ = try await store.append(stream: "s", expectedVersion: .noStream, events: [event()])
                } == .versionConflict)
            #expect(
                await errorCode {
                    _ = try await store.append(stream: "s", expectedVersion: .exact(0), events: [event()])
                } == .versionConflict)
            #expect(
                await errorCode {
                    _ = try await store.append(stream: "s", expectedVersion: .exact(2), events: [event()])
                } == .versionConflict)
            #expect(
                await errorCode {
                    _ = try await store.append(stream: "new", expectedVersion: .exact(3), events: [event()])
                } == .versionConflict)
            let result = try await store.append(stream: "s", expectedVersion: .exact(1), events: [event()])
            #expect(result.streamVersion == 2)
        }
    }

    @Test func sameExpectedVersionTwiceExactlyOneWins() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .noStream, events: [event()])
            let outcomes = try await withThrowingTaskGroup(of: EventStoreError.Code?.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        await errorCode {
                            _ = try await store.append(stream: "s", expectedVersion: .exact(1), events: [event()])
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.filter { $0 == .versionConflict }.count == 5)
            #expect(try await store.read(stream: "s").map(\.version) == [1, 2])
        }
    }

    @Test func concurrentCreationOfOneStreamExactlyOneWins() async throws {
        try await withStore { store, _ in
            let outcomes = try await withThrowingTaskGroup(of: EventStoreError.Code?.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        await errorCode {
                            _ = try await store.append(
                                stream: "new", expectedVersion: .noStream, events: [event(), event()])
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.filter { $0 == .versionConflict }.count == 5)
            #expect(try await store.readAll(after: 0, limit: 100).map(\.position) == [1, 2])
        }
    }
}
