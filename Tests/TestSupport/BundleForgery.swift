import Canonical
import EventStore
import Foundation
import RunBundle

/// What a forger can do to a bundle's event lines without any key: recompute their chain. The import tests and the
/// shutdown test make their altered bundles with it; an import must refuse such a bundle for what its record says,
/// since its chain holds.
public enum BundleForgery {
    /// Versions from 1, and each link's hashes from the one before, over `lines` as they now are.
    public static func rechain(_ lines: inout [BundleEventLine], stream: String) {
        var previous = HashChain.genesis
        for index in lines.indices {
            lines[index].version = Int64(index + 1)
            lines[index].previousHash = Hex.encode(previous)
            previous = HashChain.hash(
                previous: previous, stream: stream, version: lines[index].version, id: lines[index].id,
                type: lines[index].type, schemaVersion: lines[index].schemaVersion,
                payload: Data(lines[index].payload.utf8), metadata: Data(lines[index].metadata.utf8))
            lines[index].hash = Hex.encode(previous)
        }
    }
}
