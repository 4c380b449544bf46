import Canonical
import Foundation

/// Walks one stream's events in version order and names the first link that does not hold. The single
/// implementation of the chain rules: `verify` feeds it events read from the database, and an import feeds it
/// an archive's events before anything is written, so a rejected archive leaves no trace.
public struct ChainCheck: Sendable {
    public let stream: String
    private var previous = HashChain.genesis
    private var nextVersion: Int64 = 1

    public init(stream: String) {
        self.stream = stream
    }

    /// The last version accepted so far (0 before any).
    public var lastVersion: Int64 { nextVersion - 1 }
    /// The hash of the last accepted event (64 zeros before any), lowercase hex.
    public var lastHash: String { Hex.encode(previous) }

    /// Accepts the next event, or returns why the chain breaks there. `position` only labels the break.
    public mutating func accept(
        version: Int64, id: UUID, type: String, schemaVersion: Int, payload: Data, metadata: Data, hash: String,
        previousHash: String, position: Int64? = nil
    ) -> ChainVerification? {
        guard version == nextVersion else {
            return .broken(
                version: nextVersion, position: nil,
                reason: "version \(nextVersion) is missing; the next event is version \(version)")
        }
        guard previousHash == Hex.encode(previous) else {
            return .broken(
                version: version, position: position,
                reason: "its previous hash does not match the hash of version \(version - 1)")
        }
        let recomputed = HashChain.hash(
            previous: previous, stream: stream, version: version, id: id, type: type, schemaVersion: schemaVersion,
            payload: payload, metadata: metadata)
        guard Hex.encode(recomputed) == hash else {
            return .broken(
                version: version, position: position,
                reason: "its content does not match its hash (the event was changed after it was appended)")
        }
        previous = recomputed
        nextVersion += 1
        return nil
    }

    public mutating func accept(_ event: RecordedEvent) -> ChainVerification? {
        accept(
            version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
            payload: event.payload, metadata: event.metadata, hash: event.hash, previousHash: event.previousHash,
            position: event.position)
    }
}

extension ChainCheck {
    /// The verdict once every event was accepted: intact only if the events end where the stream's head says
    /// (`headHash` raw); otherwise the tail was deleted.
    func finish(headVersion: Int64, headHash: Data) -> ChainVerification {
        guard lastVersion == headVersion, lastHash == Hex.encode(headHash) else {
            return .broken(
                version: lastVersion + 1, position: nil,
                reason: "the stream's head says version \(headVersion), but its events end at version \(lastVersion) "
                    + "with a different hash (events were removed)")
        }
        return .intact(events: lastVersion)
    }
}
