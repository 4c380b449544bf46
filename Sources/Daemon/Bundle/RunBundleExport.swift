import Canonical
import EventStore
import Foundation
import RunBundle
import WireTypes

/// `e2h export`: a run as a tar bundle (`BundleLayout`), streamed. Everything that can refuse the export — a chain
/// that does not verify, a log that no longer extends what this daemon witnessed — is checked by `prepare`, before
/// a byte is sent, so a refusal is an HTTP error and not a cut-off download. The bundle then holds the run exactly
/// up to the head its receipt signs, however far the run has moved on meanwhile.
struct RunBundleExport: Sendable {
    let queue: Queue
    let witness: LogWitness

    var store: EventStore { queue.store }

    /// A bundle ready to be written: its small entries, the heads it stops at and the blobs it carries.
    struct Prepared: Sendable {
        let store: EventStore
        let manifest: BundleManifest
        let specYAML: String
        let canonicalSpec: Data
        let receipt: SignedReceipt
        let runHead: Int64
        let annotationHead: Int64
        let blobs: [RunBlobs.Blob]

        var run: String { manifest.run.id }

        /// What the export holds of a blob at a time.
        static let blobPieceSize = 8 << 20

        /// Writes the bundle into `sink`: a blob a piece at a time, events and metrics a page at a time.
        func write<Sink: BundleSink>(to sink: inout Sink) async throws {
            var tar = TarStream(sink: sink, modified: Int64(manifest.run.submittedAt.timeIntervalSince1970))
            let pretty = JSONEncoder()
            pretty.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            pretty.dateEncodingStrategy = .iso8601
            try await tar.entry(BundleLayout.manifest, try pretty.encode(manifest) + Data("\n".utf8))
            try await tar.entry(BundleLayout.specYAML, Data(specYAML.utf8))
            try await tar.entry(BundleLayout.canonicalSpec, canonicalSpec)
            try await tar.entry(BundleLayout.receipt, try pretty.encode(receipt) + Data("\n".utf8))
            try await tar.lines(BundleLayout.events) { emit in
                try await eventLines(stream: DaemonEvent.stream(run), through: runHead, emit)
            }
            if annotationHead > 0 {
                try await tar.lines(BundleLayout.annotations) { emit in
                    try await eventLines(
                        stream: AnnotationTarget.run(run).stream, through: annotationHead, emit)
                }
            }
            try await tar.lines(BundleLayout.metrics) { emit in try await metricLines(emit) }
            for blob in blobs {
                try await tar.entry(
                    BundleLayout.blobEntry(blob.hash, prefix: blob.head, size: blob.size), size: blob.size
                ) { emit in
                    try await store.blob(blob.hash, inPiecesOf: Self.blobPieceSize) { try await emit($0) }
                }
            }
            try await tar.finish()
            sink = tar.sink
        }

        private func eventLines(
            stream: String, through head: Int64, _ emit: (Data) async throws -> Void
        ) async throws {
            let encoder = BundleLayout.lineEncoder
            var next: Int64 = 1
            while next <= head {
                let page = try await store.read(
                    stream: stream, fromVersion: next, limit: Int(min(500, head - next + 1)))
                guard !page.isEmpty else { break }
                for event in page {
                    try await emit(try encoder.encode(BundleEventLine(event)) + Data("\n".utf8))
                }
                next = page[page.count - 1].version + 1
            }
        }

        /// The training curves in (attempt, name, step) order, a page at a time (keyset paging).
        private func metricLines(_ emit: (Data) async throws -> Void) async throws {
            let encoder = BundleLayout.lineEncoder
            var after: MetricPoint?
            while true {
                let points = try await store.metrics(run: run, after: after, limit: 2000)
                for point in points {
                    let line = BundleMetricLine(
                        attempt: point.attempt, name: point.name, step: point.step, value: point.value)
                    try await emit(try encoder.encode(line) + Data("\n".utf8))
                }
                after = points.last
                if points.count < 2000 { break }
            }
        }
    }

    func prepare(_ id: String, scoresOnly: Bool) async throws -> Prepared {
        let stream = DaemonEvent.stream(id)
        if case .broken(let version, _, let reason) = try await store.verify(stream: stream) {
            throw Self.refusal(id, what: "hash chain", version: version, reason: reason)
        }
        let annotations = AnnotationTarget.run(id).stream
        let annotationHead = try await store.transaction { try $0.streamHead(annotations) }?.version ?? 0
        if annotationHead > 0, case .broken(let version, _, let reason) = try await store.verify(stream: annotations) {
            throw Self.refusal(id, what: "annotation stream (tags and notes)", version: version, reason: reason)
        }
        // Signs the head the bundle stops at; refused if the log no longer extends what this daemon witnessed.
        let receipt = try await RunIntegrity(queue: queue, witness: witness).receipt(id)
        let runHead = receipt.claim.runHead?.length ?? 0
        var run = try await RunCatalog(queue: queue).details(id)
        let submitted = try await DaemonEvent.submission(of: id, in: store)
        var named: [String] = []
        var ending = RecordEnding()
        var next: Int64 = 1
        while next <= runHead {
            let page = try await store.read(stream: stream, fromVersion: next, limit: Int(min(500, runHead - next + 1)))
            guard !page.isEmpty else { break }
            for event in page { ending.read(type: event.type) }
            if scoresOnly {
                named += try RunBlobs.outcomeReferences(in: page)
            } else {
                named += page.flatMap { ContentReferences.named(in: $0.payload) }
            }
            next = page[page.count - 1].version + 1
        }
        // The row was read after the head was signed: a run that ended in between is shown as the record shows it.
        run.state = ending.state(now: run.state)
        let plan = try await RunBlobs(store: store).plan(named: named)
        let manifest = BundleManifest(
            format: BundleLayout.format, run: run, scoresOnly: scoresOnly, absentBlobs: plan.absent)
        return Prepared(
            store: store, manifest: manifest, specYAML: submitted.specYaml,
            canonicalSpec: Data(submitted.specJson.utf8),
            receipt: receipt, runHead: runHead, annotationHead: annotationHead, blobs: plan.present)
    }

    private static func refusal(_ id: String, what: String, version: Int64, reason: String) -> DaemonError {
        DaemonError(
            .conflict,
            "run \(id)'s \(what) does not verify at version \(version) (\(reason)), so it is not exported: a bundle "
                + "must not carry altered data. `e2h verify \(id)` shows the break; a receipt made earlier "
                + "(`e2h verify \(id) --receipt FILE`) shows what changed")
    }
}
