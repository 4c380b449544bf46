import Canonical
import EventStore
import Foundation
import Pipeline

/// The blobs a run's record names (`ContentReferences`): the one place that decides which blobs travel with a run. A
/// hash that names no stored blob is either not a blob's (a split's digest) or a blob that was pruned; the plan lists
/// it as absent rather than failing, so a pruned run still exports.
struct RunBlobs: Sendable {
    struct Blob: Sendable, Equatable {
        var hash: String
        var size: Int64
        /// Its first bytes (`BlobSummary.head`): what names its kind in the bundle.
        var head: Data
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
                present.append(Blob(hash: hash, size: summary.size, head: summary.head))
                if ContentReferences.mayName(firstByte: summary.firstByte) {
                    let bytes = try await store.blob(hash)
                    pending += ContentReferences.named(in: bytes).filter { seen.insert($0).inserted }
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
}
