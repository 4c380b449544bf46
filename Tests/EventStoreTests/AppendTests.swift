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

    /// An imported event keeps the time it was first recorded, to the microsecond; an append gives all its events
    /// their time or none. The seven-argument call of e2hd binaries from before migration 0004 still appends, at the
    /// server's time.
    @Test func aCopiedEventKeepsItsRecordedTime() async throws {
        try await withStore { store, _ in
            let times = [
                Date(timeIntervalSince1970: 1_700_000_000.123_456), Date(timeIntervalSince1970: 1_700_000_061),
            ]
            var copies = [event("A"), event("B")]
            for index in copies.indices { copies[index].recordedAt = times[index] }
            _ = try await store.append(stream: "original-copy", expectedVersion: .noStream, events: [copies[0]])
            _ = try await store.append(stream: "other", expectedVersion: .noStream, events: [copies[1]])
            let copied = try await store.read(stream: "original-copy") + store.read(stream: "other")
            #expect(
                copied.map { Int64(($0.recordedAt.timeIntervalSince1970 * 1e6).rounded()) } == [
                    1_700_000_000_123_456, 1_700_000_061_000_000,
                ])
            var mixed = [event("C"), event("D")]
            mixed[0].recordedAt = times[0]
            #expect(
                await errorCode { _ = try await store.append(stream: "s", expectedVersion: .any, events: mixed) }
                    == .invalidArgument)
            let before = Date()
            let older = try await store.execute(
                """
                SELECT outcome FROM e2h_append(
                    'legacy'::text, 0::int8, ARRAY[gen_random_uuid()], ARRAY['E'], ARRAY[1::int8], ARRAY['{}'::json],
                    ARRAY['{}'::json])
                """)
            #expect(try older.string(0, "outcome") == "appended")
            let legacy = try await store.read(stream: "legacy")
            #expect(legacy.count == 1 && legacy[0].recordedAt >= before - 1, "\(legacy)")
            #expect(try await store.verify(stream: "legacy") == .intact(events: 1))
        }
    }

    /// The store counts what it committed, whoever appended: an append on its own, in a transaction, with its
    /// COMMIT; not a rolled-back transaction's, nor an idempotent retry that found its events stored.
    @Test func theStoreCountsTheEventsItCommitted() async throws {
        try await withStore { store, _ in
            #expect(store.eventsAppended == 0)
            let pair = [event(), event()]
            _ = try await store.append(stream: "a", expectedVersion: .noStream, events: pair)
            #expect(store.eventsAppended == 2)
            _ = try await store.append(stream: "a", expectedVersion: .any, events: pair)
            #expect(store.eventsAppended == 2, "a retry that wrote nothing was counted")
            struct Abandoned: Error {}
            await #expect(throws: Abandoned.self) {
                try await store.transaction { tx in
                    _ = try tx.append(stream: "b", expectedVersion: .noStream, events: [event(), event()])
                    throw Abandoned()
                }
            }
            #expect(store.eventsAppended == 2, "a rolled-back append was counted")
            try await store.transaction { tx in
                _ = try tx.append(stream: "b", expectedVersion: .noStream, events: [event(), event(), event()])
                _ = try tx.append(stream: "c", expectedVersion: .noStream, events: [event()])
            }
            #expect(store.eventsAppended == 6)
            try await store.transaction { tx in _ = try tx.appendThenCommit(stream: "c", events: [event()]) }
            #expect(store.eventsAppended == 7)
            #expect(try await store.headPosition() == 7)
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
