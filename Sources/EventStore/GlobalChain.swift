import Crypto
import Foundation

/// The chain over the whole log (migrations/0002): `head = SHA-256(previous head ‖ position ‖ event hash)`, folded
/// over every event in position order from 32 zero bytes, the position as Int64 big endian and the event hash being
/// its stream-chain hash. The server extends it in `e2h_append`; this is the recomputation `verifyLog` and a
/// witness use. A per-stream chain cannot see its own tail cut off; this one commits to every stream at once, so
/// a signed copy of it kept outside the database makes any shortened or rewritten log evident.
enum GlobalChain {
    static func hash(previous: Data, position: Int64, eventHash: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: EncodedParameter.bigEndian(position))
        hasher.update(data: eventHash)
        return Data(hasher.finalize())
    }
}

/// A point of a chain: how many events it covers (a stream's version, the log's position) and the hash there,
/// lowercase hex.
public struct ChainPoint: Sendable, Equatable, Hashable {
    public var length: Int64
    public var hash: String

    public init(length: Int64, hash: String) {
        self.length = length
        self.hash = hash
    }

    /// The point of an empty chain.
    public static let genesis = ChainPoint(length: 0, hash: String(repeating: "0", count: 64))
}
