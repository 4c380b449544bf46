import Canonical
import Foundation

extension EventStore {
    /// Recomputes the stream's hash chain from its first event and names the first link that
    /// does not hold: an edited event, a missing version, or a stream head that disagrees with
    /// the last event (a deleted tail).
    public func verify(stream: String) async throws -> ChainVerification {
        let head = try await idempotent { connection in
            try connection.execute("SELECT version, last_hash FROM streams WHERE name = $1", [.text(stream)])
        }
        guard let headVersion = try head.isEmpty ? nil : head.int64(0, "version"),
            let headHash = try head.bytes(0, "last_hash")
        else {
            throw EventStoreError(code: .invalidArgument, message: "there is no stream named \(stream)")
        }
        var previous = HashChain.genesis
        var expectedVersion: Int64 = 1
        while true {
            let page = try await read(stream: stream, fromVersion: expectedVersion, limit: 1000)
            for event in page {
                guard event.version == expectedVersion else {
                    return .broken(
                        version: expectedVersion, position: nil,
                        reason:
                            "version \(expectedVersion) is missing; the next stored event is version \(event.version)")
                }
                guard event.previousHash == Hex.encode(previous) else {
                    return .broken(
                        version: event.version, position: event.position,
                        reason: "its previous hash does not match the hash of version \(event.version - 1)")
                }
                let recomputed = HashChain.hash(previous: previous, event: event)
                guard Hex.encode(recomputed) == event.hash else {
                    return .broken(
                        version: event.version, position: event.position,
                        reason: "its content does not match its hash (the event was changed after it was appended)")
                }
                previous = recomputed
                expectedVersion += 1
            }
            if page.count < 1000 { break }
        }
        let last = expectedVersion - 1
        guard last == headVersion, previous == headHash else {
            return .broken(
                version: last + 1, position: nil,
                reason: "the stream's head says version \(headVersion), but its events end at version \(last) "
                    + "with a different hash (events were removed)")
        }
        return .intact(events: last)
    }
}
