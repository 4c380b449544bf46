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
        let file = try BundleFile(path: path)
        // A scores-only bundle's record is read as it is checked, to say what the bundle left out.
        let manifest = try BundleCheck.manifest(of: file)
        var record = manifest.scoresOnly ? RunBlobRecord(run: manifest.run.id) : nil
        let checked = try BundleCheck(key: key).check(file) { event in
            do {
                try record?.accept(
                    type: event.type, version: event.version, payload: Data(event.payload.utf8),
                    metadata: Data(event.metadata.utf8))
            } catch {
                throw DaemonError(
                    .badRequest,
                    "the bundle's event \(event.version) does not say which blobs it names; nothing was imported",
                    cause: error)
            }
        }
        let leftOut: LeftOut? =
            if let record { try await LeftOut(of: record, carried: checked.blobEntries, file, store) } else { nil }
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
            try leftOut?.write(run.id, after: checked.runHead.length, tx)
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
        queue.logger.info(
            "run imported",
            metadata: ["run": "\(run.id)", "events": "\(checked.runHead.length)", "receipt": "\(checked.receipt)"])
        return ImportReport(
            run: try await RunCatalog(queue: queue).details(run.id), receipt: checked.receipt,
            receiptDetail: checked.receiptDetail, blobs: checked.blobEntries.count, metricPoints: checked.metricPoints,
            annotationEvents: Int(checked.annotationEvents), scoresOnly: checked.manifest.scoresOnly)
    }

    /// A scores-only bundle leaves the run's checkpoints and samples out on purpose. The import's transaction records
    /// what it left out, in a tombstone that `verify` reads (it reported them as lost: "30 MISSING" after a faithful
    /// import) and in the run's row, which the lifecycle reads to refuse a resume that would need them.
    struct LeftOut: Sendable {
        /// What the record names and no tombstone released: the bundle left out those the database does not hold.
        var named: [String]

        init(of record: RunBlobRecord, carried entries: [String], _ file: BundleFile, _ store: EventStore) async throws
        {
            var record = record
            var carried: [String: String] = [:]
            for name in entries { if let hash = BundleLayout.blobHash(inEntry: name) { carried[hash] = name } }
            try await record.fetchStageOutputs(from: store) { hash in
                try carried[hash].map { try file.data($0, limit: BundleLayout.maximumBlobSize) }
            }
            let released = Set(record.released)
            do {
                named = try record.plan(.keepAll).named.filter { !released.contains($0) }
            } catch {
                throw DaemonError(
                    .badRequest, "the bundle's record does not say which blobs it keeps; nothing was imported",
                    cause: error)
            }
        }

        /// In the import's transaction, once the run's blobs and events are written at `version`.
        func write(_ run: String, after version: Int64, _ tx: Transaction) throws {
            guard !named.isEmpty else { return }
            let stored = try tx.blobSizes(named)
            let absent = named.filter { stored[$0] == nil }
            guard !absent.isEmpty else { return }
            let tombstone = DaemonEvent.blobsPruned(
                BlobsPruned(hashes: absent, freedBytes: 0, cause: .scoresOnlyImport))
            _ = try tx.append(
                stream: DaemonEvent.stream(run), expectedVersion: .exact(version), events: [try tombstone.recorded()])
            _ = try tx.query("UPDATE runs SET blobs_left_out = true WHERE id = $1", [.text(run)])
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
