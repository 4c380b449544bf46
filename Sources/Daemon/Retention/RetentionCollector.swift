import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// Applies the retention policy to finished runs: each releases what the policy prunes with a tombstone in its own
/// stream, and a released blob is deleted once no record holds it (`BlobRelease`). A completed run is pruned in the
/// transaction that records its completion; `e2h gc` prunes every finished run (failed and cancelled ones keep what
/// a resume needs) or, dry, only reports.
struct RetentionCollector: Sendable {
    let queue: Queue
    var mode: RetentionMode

    var store: EventStore { queue.store }

    /// One run's coming tombstone, planned outside the transaction that writes it.
    struct Release: Sendable {
        var run: String
        var name: String
        var record: RunBlobRecord
        var hashes: [String]
        /// Checked under the run's lock: nothing was appended to the run since the plan.
        var expectsVersion: Bool
    }

    /// The release of a run whose attempt just completed, to apply in the transaction recording its completion;
    /// nil when the policy keeps everything.
    func releaseAtCompletion(of run: String) async throws -> Release? {
        let record = try await RunBlobRecord.read(run, from: store)
        let hashes = try record.release(mode)
        guard !hashes.isEmpty else { return nil }
        return Release(run: run, name: "", record: record, hashes: hashes, expectsVersion: false)
    }

    /// Every finished run (replay jobs have no blobs), oldest first, pruned by the policy (a spec's own `retention:`
    /// first) — or, dry, what that would release and free.
    func collect(dryRun: Bool) async throws -> CollectReport {
        let rows = try await store.transaction { tx in
            let rows = try tx.query(
                """
                SELECT id, name FROM runs
                WHERE replay_of IS NULL AND state IN ('completed', 'failed', 'cancelled')
                ORDER BY submission_order
                """)
            return try (0..<rows.count).map {
                (try RunTable.required(rows.string($0, "id"), "id"), try rows.string($0, "name") ?? "")
            }
        }
        var releases: [Release] = []
        for (run, name) in rows {
            do {
                let record = try await RunBlobRecord.read(run, from: store)
                let hashes = try record.release(record.retention ?? mode)
                releases.append(Release(run: run, name: name, record: record, hashes: hashes, expectsVersion: true))
            } catch {
                // One record this e2h cannot read for retention (not written by its pipeline) stops no other run.
                queue.logger.warning("retention: run left as it is", metadata: ["run": "\(run)", "error": "\(error)"])
            }
        }
        let applied = releases
        let runs = try await store.transaction { tx in try Self.apply(applied, in: tx, dryRun: dryRun) }
        for run in runs where run.releasedBlobs > 0 && !dryRun {
            queue.logger.info(
                "retention: run pruned",
                metadata: [
                    "run": "\(run.run)", "released": "\(run.releasedBlobs)", "freedBytes": "\(run.freedBytes)",
                ])
        }
        return CollectReport(dryRun: dryRun, retention: mode, runs: runs)
    }

    /// Inside one transaction: locks the releasing runs' rows, then the released blobs (so that no attempt records
    /// an event naming one of them meanwhile: `Leases.appendFenced` locks the blobs its events name), finds who
    /// still holds them, deletes the rest and appends each run's tombstone. Dry: only reads.
    static func apply(_ releases: [Release], in tx: Transaction, dryRun: Bool) throws -> [CollectReport.Run] {
        var live: [Release] = []
        for release in releases where !release.hashes.isEmpty {
            let rows = try tx.query(
                "SELECT state FROM runs WHERE id = $1 \(dryRun ? "" : "FOR UPDATE")", [.text(release.run)])
            guard rows.count == 1, let state = try rows.string(0, "state").flatMap(RunState.init(rawValue:)),
                state.isFinal
            else { continue }
            if release.expectsVersion,
                try tx.streamHead(DaemonEvent.stream(release.run))?.version
                    != release.record.version
            {
                continue  // resumed and appended to since the plan: the next collection plans it again
            }
            live.append(release)
        }
        var all: [String] = []
        var seen: Set<String> = []
        for release in live { all += release.hashes.filter { seen.insert($0).inserted } }
        if !dryRun { try tx.lockBlobs(all, .forDeletion) }
        let mentions = try Self.mentions(of: all, in: tx)
        let release = BlobRelease(
            releases: live.map { (DaemonEvent.stream($0.run), $0.hashes) }, mentions: mentions)
        let deletable = release.deletable.flatMap(\.hashes)
        let sizes = try tx.blobSizes(deletable)
        if !dryRun { try tx.deleteBlobs(deletable) }
        var freed: [String: (blobs: Int, bytes: Int64)] = [:]
        for (release, deleted) in zip(live, release.deletable) {
            let bytes = deleted.hashes.reduce(Int64(0)) { $0 + (sizes[$1] ?? 0) }
            freed[release.run] = (deleted.hashes.count, bytes)
            if !dryRun {
                let tombstone = DaemonEvent.blobsPruned(BlobsPruned(hashes: release.hashes, freedBytes: bytes))
                _ = try tx.append(
                    stream: DaemonEvent.stream(release.run), expectedVersion: .any, events: [try tombstone.recorded()])
            }
        }
        let liveRuns = Set(live.map(\.run))
        return try releases.map { release in
            let releasedNow = liveRuns.contains(release.run) ? release.hashes : []
            // What the run no longer holds, stored or not (another run may hold it), is not counted as the run's.
            let gone = Set(release.record.released + releasedNow)
            let held = try release.record.plan(.keepAll).named.filter { !gone.contains($0) }
            return CollectReport.Run(
                run: release.run, name: release.name, releasedBlobs: releasedNow.count,
                freedBlobs: freed[release.run]?.blobs ?? 0, freedBytes: freed[release.run]?.bytes ?? 0,
                blobBytes: try tx.blobSizes(held).values.reduce(0, +),
                eventBytes: try tx.storedBytes(stream: DaemonEvent.stream(release.run)))
        }
    }

    /// Every event that names one of `hashes`, in any stream (the store matches their text: the log's other records
    /// are not all the pipeline's — an imported run, a future event type). Read after the blobs are locked: it sees
    /// every event naming them.
    private static func mentions(of hashes: [String], in tx: Transaction) throws -> [BlobRelease.Mention] {
        let mentions = try tx.mentions(of: hashes).map {
            BlobRelease.Mention(
                stream: $0.stream, hash: $0.digest, tombstone: $0.type == DaemonEventType.blobsPruned.rawValue)
        }
        func key(_ m: BlobRelease.Mention) -> (String, String, Int) { (m.stream, m.hash, m.tombstone ? 1 : 0) }
        return Set(mentions).sorted { key($0) < key($1) }
    }
}
