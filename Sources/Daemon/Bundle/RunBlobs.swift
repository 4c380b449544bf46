import Canonical
import EventStore
import Foundation
import Pipeline

/// The blobs a run's record names: the one place that decides which blobs travel with a run. Events name blobs
/// by their SHA-256 in hex anywhere in a payload; JSON blobs (stage outputs, sample sets) name further blobs
/// (checkpoints). A hash that names no stored blob is either not a blob's (a split's digest) or a blob that was
/// pruned; the plan lists it as absent rather than failing, so a pruned run still exports.
struct RunBlobs: Sendable {
    struct Blob: Sendable, Equatable {
        var hash: String
        var size: Int64
    }

    /// What the bundle carries, in hash order (independent of how the references were found), and what it names
    /// without carrying.
    struct Plan: Sendable, Equatable {
        var present: [Blob]
        var absent: [String]
    }

    let store: EventStore

    /// The blobs `named` (hashes found in events), and those named by JSON blobs among them, transitively. Only
    /// JSON blobs are read (to find their references); a checkpoint's bytes are not touched until it is written out.
    func plan(named: [String]) async throws -> Plan {
        var seen = Set<String>()
        var present: [Blob] = []
        var absent: [String] = []
        var pending = named.filter { seen.insert($0).inserted }
        while !pending.isEmpty {
            let batch = Array(pending.prefix(500))
            pending.removeFirst(batch.count)
            let summaries = try await store.blobSummaries(batch.filter(ContentHash.isSHA256Hex))
            for hash in batch {
                guard let summary = summaries[hash] else { continue }
                present.append(Blob(hash: hash, size: summary.size))
                // A JSON blob (an object or an array) may name others.
                if summary.firstByte == UInt8(ascii: "{") || summary.firstByte == UInt8(ascii: "[") {
                    let bytes = try await store.blob(hash)
                    pending += Self.references(in: bytes).filter { seen.insert($0).inserted }
                }
            }
            absent += batch.filter { summaries[$0] == nil }
        }
        return Plan(present: present.sorted { $0.hash < $1.hash }, absent: absent.sorted())
    }

    /// The per-problem outcome blobs the run's scores name: all that `--scores-only` carries, so that `compare` works
    /// on the imported run.
    static func outcomeReferences(in events: [RecordedEvent]) throws -> [String] {
        try ScoreRecorded.recorded(in: events.map { ($0.type, $0.payload) }).outcomeHashes
    }

    /// Strings that look like SHA-256 hex digests, anywhere in a JSON document, in document order.
    static func references(in data: Data) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return []
        }
        var found: [String] = []
        func walk(_ value: Any) {
            switch value {
            case let string as String:
                if ContentHash.isSHA256Hex(string) { found.append(string) }
            case let array as [Any]: array.forEach(walk)
            // Keys sorted: the order found never depends on a dictionary's.
            case let object as [String: Any]: object.keys.sorted().forEach { walk(object[$0]!) }
            default: break
            }
        }
        walk(object)
        return found
    }
}
