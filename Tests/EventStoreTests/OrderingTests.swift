import Foundation
import Testing

@testable import EventStore

/// Global positions are gap-free and in commit order, so readers can assert `next == last + 1`.
@Suite("Global order")
struct OrderingTests {
    /// Transaction A appends and stays open; B appends meanwhile. B must not become visible
    /// before A: B waits on the log head until A commits, and gets the later position.
    @Test func aTransactionHeldOpenAfterItsAppendIsNeverOvertaken() async throws {
        // Sessions for A, for B (waiting), and for the readers. B waits on A for as long as the machine keeps the test
        // from releasing A, which the test store's patient timeouts allow.
        try await withStore(connections: 4) { store, _ in
            let appended = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let a = Task {
                try await store.transaction { tx in
                    let result = try tx.append(stream: "a", expectedVersion: .any, events: [event("A")])
                    appended.signal()
                    release.wait()
                    return result
                }
            }
            await Task.detached { appended.wait() }.value
            let b = Task { try await store.append(stream: "b", expectedVersion: .any, events: [event("B")]) }
            let seen = Task {
                var types: [String] = []
                for try await e in try store.tail(after: 0) {
                    types.append(e.type)
                    if types.count == 2 { break }
                }
                return types
            }
            try await Task.sleep(for: .milliseconds(500))
            // Neither event is visible while A is open, although B is not blocked by any row of its stream.
            #expect(try await store.readAll(after: 0, limit: 10).isEmpty)
            release.signal()
            let (ra, rb) = (try await a.value, try await b.value)
            #expect(ra.firstPosition == 1)
            #expect(rb.firstPosition == 2)
            #expect(try await seen.value == ["A", "B"])
        }
    }

    @Test func rollbackConflictAndDuplicateLeaveNoHole() async throws {
        try await withStore { store, _ in
            let first = event()
            _ = try await store.append(stream: "s", expectedVersion: .noStream, events: [first])
            // A rollback after the append.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.transaction { tx in
                    _ = try tx.append(stream: "t", expectedVersion: .any, events: [event(), event()])
                    throw Abort()
                }
            }
            // An OCC loser.
            #expect(
                await errorCode {
                    _ = try await store.append(stream: "s", expectedVersion: .noStream, events: [event()])
                } == .versionConflict)
            // A duplicate id: once as a retry (no new positions), once reused in another stream.
            _ = try await store.append(stream: "s", expectedVersion: .noStream, events: [first])
            #expect(
                await errorCode { _ = try await store.append(stream: "u", expectedVersion: .any, events: [first]) }
                    == .duplicateEventID)
            let last = try await store.append(stream: "s", expectedVersion: .exact(1), events: [event()])
            #expect(last.firstPosition == 2)
            #expect(try await store.readAll(after: 0, limit: 10).map(\.position) == [1, 2])
            #expect(try await store.headPosition() == 2)
        }
    }

    @Test func eightWritersAndTwoTailers() async throws {
        try await withStore(connections: 8) { store, _ in
            let writers = 8
            let perWriter = 2_000
            let total = writers * perWriter
            let tailers = (0..<2).map { _ in
                Task {
                    var positions: [Int64] = []
                    var versions: [String: Int64] = [:]
                    positions.reserveCapacity(total)
                    for try await e in try store.tail(after: 0) {
                        positions.append(e.position)
                        #expect(versions[e.stream, default: 0] + 1 == e.version)
                        versions[e.stream] = e.version
                        if positions.count == total { break }
                    }
                    return positions
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        // Batches of 1 to 20 events, so commits of different sizes interleave.
                        var written = 0
                        var batch = 1 + w
                        while written < perWriter {
                            let size = min(batch % 20 + 1, perWriter - written)
                            let events = (0..<size).map { _ in event() }
                            _ = try await store.append(
                                stream: "writer-\(w)", expectedVersion: .exact(Int64(written)), events: events)
                            written += size
                            batch += 7
                        }
                    }
                }
                try await group.waitForAll()
            }
            for tailer in tailers {
                let positions = try await tailer.value
                #expect(positions == Array(1...Int64(total)))
            }
            #expect(try await store.headPosition() == Int64(total))
        }
    }

    @Test func readAllRaisesOnAGapInsteadOfSkipping() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .any, events: [event(), event(), event()])
            try await store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("DELETE FROM events WHERE position = 2")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            #expect(try await store.readAll(after: 0, limit: 1).map(\.position) == [1])
            #expect(await errorCode { _ = try await store.readAll(after: 0, limit: 10) } == .gap)
            #expect(await errorCode { _ = try await store.readAll(after: 1, limit: 10) } == .gap)
        }
    }
}
