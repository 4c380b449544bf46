import Canonical
import Foundation

/// A whole stream read once, with the verdict of its hash chain: what a reader that must both trust and use a
/// stream's events (compare, export) gets in one pass instead of verifying and then reading again.
public struct VerifiedStream: Sendable {
    /// Every event of the stream in version order, also those after a broken link (the reader decides what to trust).
    public var events: [RecordedEvent]
    public var verification: ChainVerification
}

extension EventStore {
    /// Recomputes the stream's hash chain from its first event and names the first link that
    /// does not hold: an edited event, a missing version, or a stream head that disagrees with
    /// the last event (a deleted tail). Pages through the events, so any stream fits in memory.
    public func verify(stream: String) async throws -> ChainVerification {
        let head = try await idempotent { connection in try connection.streamHead(stream) }
        var chain = ChainCheck(stream: stream)
        while true {
            let page = try await read(stream: stream, fromVersion: chain.lastVersion + 1, limit: 1000)
            for event in page {
                if let broken = chain.accept(event) { return broken }
            }
            if page.count < 1000 { break }
        }
        return chain.finish(headVersion: head.version, headHash: head.hash)
    }

    /// Every event of the stream and its chain's verdict (as `verify` gives it), from one snapshot of the database:
    /// the head and the events are read in one REPEATABLE READ transaction, so an append in between cannot make an
    /// intact stream look truncated.
    public func readVerified(stream: String) async throws -> VerifiedStream {
        let (head, events) = try await idempotent { connection in
            try connection.transaction { _ in
                try connection.executeScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                let head = try connection.streamHead(stream)
                let events = try Self.events(
                    connection.executePrepared(
                        "SELECT \(Self.eventColumns) FROM events WHERE stream = $1 ORDER BY version", [.text(stream)]))
                return (head, events)
            }
        }
        var chain = ChainCheck(stream: stream)
        for event in events {
            if let broken = chain.accept(event) { return VerifiedStream(events: events, verification: broken) }
        }
        return VerifiedStream(
            events: events, verification: chain.finish(headVersion: head.version, headHash: head.hash))
    }
}

extension PostgresConnection {
    /// The stream's head (version and last hash, raw), `.invalidArgument` when there is no such stream.
    fileprivate func streamHead(_ stream: String) throws -> (version: Int64, hash: Data) {
        let head = try execute("SELECT version, last_hash FROM streams WHERE name = $1", [.text(stream)])
        guard let version = try head.isEmpty ? nil : head.int64(0, "version"), let hash = try head.bytes(0, "last_hash")
        else {
            throw EventStoreError(code: .invalidArgument, message: "there is no stream named \(stream)")
        }
        return (version, hash)
    }
}
