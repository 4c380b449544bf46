import Canonical
import EventStore
import Foundation
import RunBundle
import WireTypes

/// `e2h import`: a bundle spooled to a file is checked whole (`BundleCheck`), then its run row, blobs, events,
/// annotations and training curves are written in one transaction, which a failure rolls back — all or nothing,
/// in memory one blob or one page of events at a time. Events are re-appended with their ids and bytes unchanged,
/// so the chain the importing database computes equals the exporter's, which the import checks once more.
/// A JSON archive of an older e2h is converted into a bundle beside it first (`LegacyArchive`).
struct RunBundleImport: Sendable {
    let queue: Queue
    let key: ReceiptKey

    var store: EventStore { queue.store }

    func importBundle(at path: String) async throws -> ImportReport {
        do {
            if try LegacyArchive.isLegacy(path) {
                let converted = path + ".bundle"
                defer { try? FileManager.default.removeItem(atPath: converted) }
                try await LegacyArchive.convert(path, to: converted)
                return try await importChecked(at: converted)
            }
            return try await importChecked(at: path)
        } catch let error as BundleError {
            throw DaemonError(error)
        }
    }

    private func importChecked(at path: String) async throws -> ImportReport {
        let checked = try BundleCheck(key: key).check(try BundleFile(path: path))
        try Self.refuseUnnamedBlobs(try BundleFile(path: path), entries: checked.blobEntries)
        let run = checked.manifest.run
        let (state, error) = RunLifecycle.imported(run.state)
        let errors = run.errors + (error.map { [$0] } ?? [])
        let errorsJSON = String(decoding: try CanonicalJSON.encode(errors), as: UTF8.self)
        try await store.transaction { tx in
            // Opened again here: the transaction's body runs on the connection's thread.
            let file = try BundleFile(path: path)
            // The row first: it is the lock the lock order starts with, and an existing id stops the import
            // before any blob is sent.
            let inserted = try tx.query(
                """
                INSERT INTO runs (id, name, spec_hash, state, priority, attempt, failures, max_attempts, errors,
                    submitted_at, finished_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::timestamptz,
                    CASE WHEN $4 IN ('completed', 'failed', 'cancelled') THEN now() END)
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """,
                [
                    .text(run.id), .text(run.name), .text(run.specHash),
                    .text(state.rawValue), .int(Int64(run.priority)), .int(Int64(run.attempt)),
                    .int(Int64(run.failures)), .int(Int64(run.maxAttempts)), .text(errorsJSON),
                    .text(ISO8601DateFormatter().string(from: run.submittedAt)),
                ])
            guard inserted.count == 1 else {
                throw DaemonError(.conflict, "run \(run.id) already exists in this database; nothing was imported")
            }
            for name in checked.blobEntries {
                // The spooled file is read again, so its bytes are checked again too.
                let stored = try tx.putBlob(try file.data(name, limit: BundleLayout.maximumBlobSize))
                guard stored == BundleLayout.blobHash(inEntry: name) else {
                    throw DaemonError(
                        .badRequest, "the bundle's \(name) changed during the import; nothing was imported")
                }
            }
            try Self.append(
                file, BundleLayout.events, stream: DaemonEvent.stream(run.id), head: checked.runHead.hash, tx)
            // The headline comes from the verified record, as the worker's completion wrote it, not from the manifest.
            _ = try tx.query(
                """
                UPDATE runs SET headline = e2h_latest_payload($2, '\(DaemonEventType.completed.rawValue)') -> 'headline'
                WHERE id = $1 AND state = '\(RunState.completed.rawValue)'
                """, [.text(run.id), .text(DaemonEvent.stream(run.id))])
            if checked.annotationEvents > 0 {
                try Self.append(
                    file, BundleLayout.annotations, stream: AnnotationTarget.run(run.id).stream, head: nil, tx)
            }
            if file.contains(BundleLayout.metrics) {
                let decoder = BundleLayout.lineDecoder
                var points: [MetricPoint] = []
                try file.lines(BundleLayout.metrics) { line in
                    let point = try decoder.decode(BundleMetricLine.self, from: line)
                    points.append(
                        MetricPoint(
                            run: run.id, attempt: point.attempt, name: point.name, step: point.step, value: point.value)
                    )
                    if points.count == 2000 {
                        try tx.recordMetrics(points)
                        points.removeAll(keepingCapacity: true)
                    }
                }
                try tx.recordMetrics(points)
            }
        }
        if checked.manifest.scoresOnly {
            // The run is imported whatever happens here; without the tombstone, verify reports the left-out blobs as
            // missing, and says so.
            do {
                try await markLeftOut(run.id)
            } catch {
                queue.logger.warning(
                    "could not record what the scores-only bundle left out",
                    metadata: ["run": "\(run.id)", "error": "\(error)"])
            }
        }
        queue.logger.info(
            "run imported",
            metadata: ["run": "\(run.id)", "events": "\(checked.runHead.length)", "receipt": "\(checked.receipt)"])
        return ImportReport(
            run: try await RunCatalog(queue: queue).details(run.id), receipt: checked.receipt,
            receiptDetail: checked.receiptDetail, blobs: checked.blobEntries.count, metricPoints: checked.metricPoints,
            annotationEvents: Int(checked.annotationEvents), scoresOnly: checked.manifest.scoresOnly)
    }

    /// A scores-only bundle leaves the run's checkpoints and samples out on purpose: a tombstone says so, so that
    /// `verify` reports them as left out, not as lost ("30 MISSING" after a faithful import), and `resume`, which
    /// would need them, refuses the run. Appended after the import's transaction, from the record read back whole:
    /// should the daemon die in between, `verify` reports them as missing.
    private func markLeftOut(_ run: String) async throws {
        let leftOut = try await RunBlobRecord.read(run, from: store).verification(in: store).missing
        guard !leftOut.isEmpty else { return }
        let tombstone = DaemonEvent.blobsPruned(BlobsPruned(hashes: leftOut, freedBytes: 0, cause: .scoresOnlyImport))
        _ = try await store.append(
            stream: DaemonEvent.stream(run), expectedVersion: .any, events: [try tombstone.recorded()])
    }

    /// Every blob a bundle carries must be one its record names (`RunBlobs`: in an event, or in a JSON blob so named),
    /// as `e2h export` writes them: another would be stored with no run to account for it or free it.
    private static func refuseUnnamedBlobs(_ file: BundleFile, entries: [String]) throws {
        var carried: [String: String] = [:]
        for name in entries { if let hash = BundleLayout.blobHash(inEntry: name) { carried[hash] = name } }
        var pending: [String] = []
        try file.lines(BundleLayout.events) { line in
            let event = try BundleLayout.lineDecoder.decode(BundleEventLine.self, from: line)
            pending += RunBlobs.references(in: Data(event.payload.utf8))
        }
        var named = Set<String>()
        while let hash = pending.popLast() {
            guard named.insert(hash).inserted, let entry = carried[hash] else { continue }
            // A JSON blob (an object or an array) may name others; only those are read, as the export reads them.
            let first = try file.firstByte(of: entry)
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                pending += RunBlobs.references(in: try file.data(entry, limit: BundleLayout.maximumBlobSize))
            }
        }
        if let stray = entries.first(where: { !named.contains(BundleLayout.blobHash(inEntry: $0) ?? "") }) {
            throw DaemonError(
                .badRequest,
                "the bundle carries \(stray), which its record does not name (e2h export carries only the blobs a "
                    + "run's events name); nothing was imported")
        }
    }

    /// Appends an entry's events a page at a time; the server computes the chain itself, which must end at `head`
    /// (the one `BundleCheck` recomputed) when given.
    private static func append(
        _ file: BundleFile, _ name: String, stream: String, head: String?, _ tx: Transaction
    ) throws {
        let decoder = BundleLayout.lineDecoder
        var page: [NewEvent] = []
        var version: Int64 = 0
        func flush() throws {
            guard !page.isEmpty else { return }
            _ = try tx.append(
                stream: stream, expectedVersion: version == 0 ? .noStream : .exact(version), events: page)
            version += Int64(page.count)
            page.removeAll(keepingCapacity: true)
        }
        try file.lines(name) { line in
            page.append(try decoder.decode(BundleEventLine.self, from: line).newEvent)
            if page.count == 500 { try flush() }
        }
        try flush()
        if let head, try tx.streamHead(stream)?.hash != head {
            throw DaemonError(
                .badRequest, "the imported events hash differently from the bundle's; nothing was imported")
        }
    }
}
