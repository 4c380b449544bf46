import Canonical
import Foundation
import Testing

@testable import EventStore

@Suite("Hash chain and immutability")
struct HashChainTests {
    @Test func updateAndDeleteAreRejected() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()])
            for sql in ["UPDATE events SET type = 'X'", "DELETE FROM events", "TRUNCATE events CASCADE"] {
                do {
                    try await store.transaction { tx in _ = try tx.query(sql) }
                    Issue.record("\(sql) was allowed")
                } catch let error as EventStoreError {
                    #expect(error.sqlState == "23001")
                    #expect(error.message.contains("append-only"))
                }
            }
            #expect(try await store.verify(stream: "s") == .intact(events: 1))
        }
    }

    @Test func tamperingWithAPayloadIsNamedByVerify() async throws {
        try await withStore { store, _ in
            for i in 1...5 {
                _ = try await store.append(stream: "s", expectedVersion: .any, events: [event("E", #"{"i": \#(i)}"#)])
                _ = try await store.append(stream: "other", expectedVersion: .any, events: [event()])
            }
            #expect(try await store.verify(stream: "s") == .intact(events: 5))
            // As the superuser, bypassing the append-only trigger.
            try await store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query(
                    "UPDATE events SET payload = $1 WHERE stream = 's' AND version = 3",
                    [.json(Data(#"{"i": 99}"#.utf8))])
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            guard case .broken(let version, let position, let reason) = try await store.verify(stream: "s") else {
                Issue.record("tampering was not detected")
                return
            }
            #expect(version == 3)
            #expect(position == 5)
            #expect(reason.contains("changed"))
            #expect(try await store.verify(stream: "other") == .intact(events: 5))
        }
    }

    @Test func editedMetadataAndDeletedEventsBreakTheChain() async throws {
        try await withStore { store, _ in
            _ = try await store.append(stream: "m", expectedVersion: .any, events: [event(), event(), event()])
            _ = try await store.append(stream: "d", expectedVersion: .any, events: [event(), event(), event()])
            _ = try await store.append(stream: "t", expectedVersion: .any, events: [event(), event(), event()])
            try await store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("UPDATE events SET metadata = '{\"worker\": \"evil\"}' WHERE stream = 'm' AND version = 2")
                try tx.query("DELETE FROM events WHERE stream = 'd' AND version = 2")
                try tx.query("DELETE FROM events WHERE stream = 't' AND version = 3")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            #expect(try await store.verify(stream: "m").brokenVersion == 2)
            #expect(try await store.verify(stream: "d").brokenVersion == 2)
            #expect(try await store.verify(stream: "t").brokenVersion == 3)
            #expect(await errorCode { _ = try await store.verify(stream: "missing") } == .invalidArgument)
        }
    }

    /// One read gives what `verify` and a whole read give apart: the same verdict, every event, tampered or not.
    @Test func aVerifiedReadAgreesWithVerifyAndKeepsEveryEvent() async throws {
        try await withStore { store, _ in
            // More than one page of `read`, so that a verified read is not one page by accident.
            for start in stride(from: 1, through: 1_200, by: 100) {
                _ = try await store.append(
                    stream: "ok", expectedVersion: .any,
                    events: (start..<start + 100).map { event("E", #"{"i": \#($0)}"#) })
            }
            _ = try await store.append(stream: "m", expectedVersion: .any, events: [event(), event(), event()])
            _ = try await store.append(stream: "t", expectedVersion: .any, events: [event(), event(), event()])
            try await store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("UPDATE events SET metadata = '{\"worker\": \"evil\"}' WHERE stream = 'm' AND version = 2")
                try tx.query("DELETE FROM events WHERE stream = 't' AND version = 3")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            for (name, count) in [("ok", 1_200), ("m", 3), ("t", 2)] {
                let read = try await store.readVerified(stream: name)
                #expect(read.verification == (try await store.verify(stream: name)))
                #expect(read.events.map(\.version) == (1...Int64(count)).map { $0 })
            }
            #expect(try await store.readVerified(stream: "ok").verification == .intact(events: 1_200))
            #expect(try await store.readVerified(stream: "m").verification.brokenVersion == 2)
            #expect(try await store.readVerified(stream: "t").verification.brokenVersion == 3)
            #expect(await errorCode { _ = try await store.readVerified(stream: "missing") } == .invalidArgument)
        }
    }

    /// The server computes the chain (e2h_append), Swift re-checks it (verify): both must agree
    /// byte for byte, multi-byte UTF-8 included.
    @Test func serverAndClientComputeTheSameChain() async throws {
        try await withStore { store, _ in
            let stream = "lauf-ü-🚀"
            let events = [
                NewEvent(type: "Ereignis-ß", schemaVersion: 7, payload: Data(#"{"ä":"€", "n" : 1}"#.utf8)),
                NewEvent(type: "T", schemaVersion: -3, payload: Data("[]".utf8), metadata: Data(#"{"x": null}"#.utf8)),
            ]
            _ = try await store.append(stream: stream, expectedVersion: .noStream, events: events)
            let stored = try await store.read(stream: stream)
            var previous = HashChain.genesis
            for event in stored {
                let hash = HashChain.hash(previous: previous, event: event)
                #expect(Hex.encode(hash) == event.hash)
                previous = hash
            }
            #expect(try await store.verify(stream: stream) == .intact(events: 2))
        }
    }

    @Test func theHashCoversTheEnvelope() {
        let id = UUID()
        func hash(stream: String = "s", version: Int64 = 1, type: String = "T", metadata: String = "{}") -> Data {
            HashChain.hash(
                previous: HashChain.genesis, stream: stream, version: version, id: id, type: type, schemaVersion: 1,
                payload: Data("{}".utf8), metadata: Data(metadata.utf8))
        }
        let base = hash()
        #expect(base.count == 32)
        #expect(base == hash())
        #expect(Set([base, hash(stream: "t"), hash(version: 2), hash(type: "U"), hash(metadata: "{ }")]).count == 5)
    }
}

extension ChainVerification {
    var brokenVersion: Int64? {
        if case .broken(let version, _, _) = self { return version }
        return nil
    }
}
