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
        var chain = ChainCheck(stream: stream)
        while true {
            let page = try await read(stream: stream, fromVersion: chain.lastVersion + 1, limit: 1000)
            for event in page {
                if let broken = chain.accept(event) { return broken }
            }
            if page.count < 1000 { break }
        }
        let last = chain.lastVersion
        guard last == headVersion, chain.lastHash == Hex.encode(headHash) else {
            return .broken(
                version: last + 1, position: nil,
                reason: "the stream's head says version \(headVersion), but its events end at version \(last) "
                    + "with a different hash (events were removed)")
        }
        return .intact(events: last)
    }
}
