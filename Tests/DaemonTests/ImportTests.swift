import Canonical
import Foundation
import RunBundle
import TestSupport
import Testing
import WireTypes

@testable import Daemon
@testable import EventStore

/// Import is all or nothing: every kind of bad bundle is refused before anything is written, and the database's
/// rows and bytes are exactly what they were.
@Suite("Import, all or nothing", .serialized)
struct ImportTests {
    /// A state directory with a receipt key: what export signs with and import checks against.
    struct Daemon {
        let directory: String
        let key: ReceiptKey
        let witness: LogWitness

        init() throws {
            directory = try ReceiptTests.stateDirectory()
            key = try ReceiptKey.loadOrCreate(stateDirectory: directory)
            witness = LogWitness(stateDirectory: directory, key: key)
        }

        func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
    }

    /// What the exported run's completion recorded as its headline.
    static let headline = RunHeadline(
        row: "sft/majority@4",
        accuracy: IntervalEstimate(
            mean: 0.17, lower: 0.127, upper: 0.2130000000000001, method: .problemBootstrap, seeds: 1, sd: nil,
            problems: 200),
        claims: ClaimTally(holds: 3, notShown: 10, reversed: 1, familyHolds: 2))

    /// A completed run with a blob-naming event, a tag, a note and training curves, exported from its own database
    /// into `<daemon>/run.tar`.
    static func exportedRun(by daemon: Daemon, scoresOnly: Bool = false) async throws -> (run: String, bundle: String) {
        let source = try await TestDatabase.queue()
        let run = try await source.submit(SubmitRequest(yaml: "name: tiny\nseed: 7\n", file: "tiny.yaml")).run.id
        let lease = try #require(try await source.claim(owner: "test"))
        let blob = try await source.store.putBlob(Data("checkpoint bytes".utf8))
        // With the metadata a worker's recorder writes, which retention and verify read.
        let events = (0..<3).map { step in
            NewEvent(
                type: "CheckpointSaved",
                payload: Data(
                    #"{"blob":"\#(blob)","model":"policy","reason":"interval","stage":"sft","step":\#(step)}"#.utf8),
                metadata: Data(#"{"attempt":1,"volatile":{},"worker":"test"}"#.utf8))
        }
        try await source.appendFenced(lease, events, progress: nil)
        try await source.store.recordMetrics(
            (0..<5).map { MetricPoint(run: run, attempt: 1, name: "sft/loss", step: Int64($0), value: 1 / Double($0)) })
        try await source.finish(lease, .completed(summary: "done", headline: headline))
        // The runs row holds the completion's headline, so a listing reads no event.
        #expect(try await RunCatalog(queue: source).details(run).headline == headline)
        _ = try await RunAnnotations(queue: source).annotate(.run(run), AnnotateRequest(add: ["baseline"], note: "n"))
        let prepared = try await RunBundleExport(queue: source, witness: daemon.witness).prepare(
            run, scoresOnly: scoresOnly)
        let path = daemon.file("run.tar")
        try await BundleEntries.write(path) { sink in try await prepared.write(to: &sink) }
        await source.store.shutdown()
        return (run, path)
    }

    /// The `events.jsonl` lines of a bundle file.
    static func bundledEvents(_ bundle: String) throws -> [BundleEventLine] {
        var lines: [BundleEventLine] = []
        try BundleFile(path: bundle).lines(BundleLayout.events) { line in
            lines.append(try BundleLayout.lineDecoder.decode(BundleEventLine.self, from: line))
        }
        return lines
    }

    /// Rows and bytes of every table an import writes, and the log head.
    static func footprint(_ queue: Queue) async throws -> [Int64] {
        let rows = try await queue.store.execute(
            """
            SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM streams) AS streams,
                (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM blobs) AS blobs,
                (SELECT coalesce(sum(size), 0) FROM blobs)::bigint AS blob_bytes,
                (SELECT count(*) FROM metrics) AS metrics, (SELECT position FROM log_head) AS head
            """)
        return try ["runs", "streams", "events", "blobs", "blob_bytes", "metrics", "head"].map {
            try rows.int64(0, $0) ?? -1
        }
    }

    enum Damage: String, CaseIterable, Sendable {
        case alteredPayload, brokenLink, missingEvent, duplicateEventID, duplicateVersion, alteredHash
        case blobNotMatchingItsName, malformedID, pathLikeID, unknownFormat, noEvents, cutShort, damagedHeader
        case strangeEntry, forgedReceipt, alteredAnnotation, badMetricLine, notATar, blobNoEventNames
        /// The recorded time is not hashed: only the check of its form refuses these.
        case timeOnSomeEvents, timeOutOfRange

        func apply(to path: String) async throws {
            var bundle = try BundleEntries(path)
            switch self {
            case .alteredPayload: try bundle.editEvents { $0[1].payload = #"{"blob":"x","step":99}"# }
            case .brokenLink: try bundle.editEvents { $0[2].previousHash = String(repeating: "0", count: 64) }
            case .missingEvent: try bundle.editEvents { $0.remove(at: 1) }
            case .duplicateEventID: try bundle.editEvents { $0[2].id = $0[1].id }
            case .duplicateVersion: try bundle.editEvents { $0[2].version = $0[1].version }
            case .alteredHash: try bundle.editEvents { $0[$0.count - 1].hash = String(repeating: "ab", count: 32) }
            case .noEvents: try bundle.editEvents { $0 = [] }
            case .timeOnSomeEvents: try bundle.editEvents { $0[1].recordedMicroseconds = nil }
            case .timeOutOfRange: try bundle.editEvents { $0[2].recordedMicroseconds = .max }
            case .blobNotMatchingItsName:
                let index = try #require(bundle.entries.firstIndex { $0.name.hasPrefix("blobs/") })
                bundle.entries[index].data = Data("other bytes".utf8)
            case .malformedID: try bundle.editManifest { $0.run.id = "0123abcd" }
            case .pathLikeID: try bundle.editManifest { $0.run.id = "../../etc/passwd" }
            case .unknownFormat: try bundle.editManifest { $0.format = "e2h-run-bundle/99" }
            case .strangeEntry: bundle.entries.append(("../outside", Data("x".utf8)))
            case .blobNoEventNames:
                let bytes = Data("a blob no event names".utf8)
                bundle.entries.append((BundleLayout.blobEntry(ContentHash.sha256Hex(bytes), bytes), bytes))
            case .forgedReceipt:
                try bundle.edit(BundleLayout.receipt, as: SignedReceipt.self) { $0.claim.runHead?.length += 1 }
            case .alteredAnnotation:
                try bundle.edit(BundleLayout.annotations) { lines in lines[0].payload = #"{"text":"forged"}"# }
            case .badMetricLine:
                let index = try #require(bundle.entries.firstIndex { $0.name == BundleLayout.metrics })
                bundle.entries[index].data += Data("{\"attempt\":1}\n".utf8)
            case .cutShort, .damagedHeader, .notATar: break
            }
            try await bundle.write(path)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            // The second entry's header: after the first's header and its content, padded to whole blocks.
            let secondHeader = Tar.blockSize * (1 + (bundle.entries[0].data.count + Tar.blockSize - 1) / Tar.blockSize)
            switch self {
            case .cutShort: bytes = bytes.prefix(bytes.count / 2)
            case .damagedHeader: bytes[secondHeader + 5] ^= 0x20  // a byte of its name
            case .notATar: bytes = Data("hello".utf8) + bytes
            default: return
            }
            try bytes.write(to: URL(fileURLWithPath: path))
        }
    }

    @Test(arguments: Damage.allCases)
    func aDamagedBundleIsRefusedAndLeavesNoTrace(_ damage: Damage) async throws {
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let (_, bundle) = try await Self.exportedRun(by: daemon)
        try await damage.apply(to: bundle)
        let target = try await TestDatabase.queue()
        // Another run already there, so "as it was" is not just "empty".
        _ = try await target.submit(SubmitRequest(yaml: "name: other\nseed: 1\n", file: "other.yaml"))
        let before = try await Self.footprint(target)
        do {
            _ = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: bundle)
            Issue.record("\(damage): the damaged bundle was imported")
        } catch let error as DaemonError {
            #expect(error.code == .badRequest, "\(damage): \(error)")
            if damage == .blobNoEventNames {
                #expect(error.message.contains("which its record does not name"), "\(error.message)")
            }
            if damage == .timeOnSomeEvents || damage == .timeOutOfRange {
                #expect(error.message.contains("a recorded time that no export writes"), "\(error.message)")
            }
        }
        #expect(try await Self.footprint(target) == before, "\(damage)")
        await target.store.shutdown()
    }

    /// A chain needs no key: these bundles are altered and their chains recomputed, as anyone can, so only what the
    /// record means can refuse them (`RecordCheck`). `.none` is recomputed too and imports, so the forging itself
    /// refuses nothing.
    enum Forgery: String, CaseIterable, Sendable {
        case none, nameNotTheRecords, specHashNotTheRecords, specNotJSON, nulInPayload, emptyType
        case firstEventNotSubmitted, nameBreaksTheRule, completedWithoutItsCompletion, priorityOutOfRange
        case escapeInNote, tagNotATag, controlInMetricName

        /// A phrase of the refusal.
        var reason: String {
            switch self {
            case .none: ""
            case .nameNotTheRecords, .specHashNotTheRecords: "but its RunSubmitted event says"
            case .specNotJSON: "spec is not a JSON object"
            case .nulInPayload: "holds a NUL character"
            case .emptyType: "not an event type's name"
            case .firstEventNotSubmitted: "not a RunSubmitted that decodes"
            case .nameBreaksTheRule: RunName.rule
            case .completedWithoutItsCompletion: "the manifest says the run is completed, but its events do not"
            case .priorityOutOfRange: "queue numbers are out of range"
            case .escapeInNote: "control character U+001B"
            case .tagNotATag: "is not a tag"
            case .controlInMetricName: "not a metric's plain name"
            }
        }

        func apply(to path: String, run: String) async throws {
            var bundle = try BundleEntries(path)
            func editSubmission(_ change: (inout RunSubmitted) -> Void) throws {
                try bundle.editEvents { lines in
                    var submitted = try! CanonicalJSON.decode(RunSubmitted.self, from: Data(lines[0].payload.utf8))
                    change(&submitted)
                    lines[0].payload = String(decoding: try! CanonicalJSON.encode(submitted), as: UTF8.self)
                }
            }
            switch self {
            case .none: break
            case .nameNotTheRecords: try bundle.editManifest { $0.run.name = "other" }
            case .specHashNotTheRecords: try bundle.editManifest { $0.run.specHash = String(repeating: "0", count: 64) }
            case .specNotJSON:
                let spec = "{oops"
                try editSubmission {
                    $0.specJson = spec
                    $0.specHash = ContentHash.sha256Hex(Data(spec.utf8))
                }
                try bundle.editManifest { $0.run.specHash = ContentHash.sha256Hex(Data(spec.utf8)) }
            case .nulInPayload: try bundle.editEvents { $0[1].payload = #"{"blob":"x\u0000","step":0}"# }
            case .emptyType: try bundle.editEvents { $0[2].type = "" }
            case .firstEventNotSubmitted: try bundle.editEvents { $0[0].type = "Bogus" }
            case .nameBreaksTheRule:
                try editSubmission { $0.name = "<script>" }
                try bundle.editManifest { $0.run.name = "<script>" }
            case .completedWithoutItsCompletion: try bundle.editEvents { $0.removeLast() }
            case .priorityOutOfRange: try bundle.editManifest { $0.run.priority = 999_999_999 }
            case .escapeInNote:
                try bundle.edit(BundleLayout.annotations) { lines in
                    let index = lines.firstIndex { $0.type == AnnotationEvent.NoteAdded.eventType }!
                    lines[index].payload = #"{"text":"\u001b[2Jgone"}"#
                }
            case .tagNotATag:
                try bundle.edit(BundleLayout.annotations) { lines in
                    let index = lines.firstIndex { $0.type == AnnotationEvent.TagsChanged.eventType }!
                    lines[index].payload = #"{"added":["BAD TAG"],"removed":[],"tags":["BAD TAG"]}"#
                }
            case .controlInMetricName:
                let index = try #require(bundle.entries.firstIndex { $0.name == BundleLayout.metrics })
                bundle.entries[index].data += Data(#"{"attempt":1,"name":"x\u0007","step":9,"value":1}"#.utf8 + [10])
            }
            try bundle.rechain(BundleLayout.events, stream: RunStreams.run(run))
            try bundle.rechain(BundleLayout.annotations, stream: RunStreams.annotations(run))
            bundle.entries.removeAll { $0.name == BundleLayout.receipt }
            try await bundle.write(path)
        }
    }

    @Test(arguments: Forgery.allCases)
    func aForgedRecordIsRefusedAndLeavesNoTrace(_ forgery: Forgery) async throws {
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let (run, bundle) = try await Self.exportedRun(by: daemon)
        try await forgery.apply(to: bundle, run: run)
        let target = try await TestDatabase.queue()
        let before = try await Self.footprint(target)
        do {
            let report = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: bundle)
            #expect(forgery == .none, "\(forgery): the forged bundle was imported")
            #expect(report.receipt == .absent && report.run.state == .completed)
        } catch let error as DaemonError {
            #expect(forgery != .none, "the recomputed chain alone was refused: \(error)")
            #expect(error.code == .badRequest, "\(forgery): \(error)")
            #expect(error.message.contains(forgery.reason), "\(forgery): \(error.message)")
            #expect(try await Self.footprint(target) == before, "\(forgery)")
        }
        await target.store.shutdown()
    }

    /// An export signs the run's head, then reads its row: a run that completed in between is written as the record
    /// at the head shows it, or its import would be refused as a manifest that disagrees with the record.
    @Test func aManifestShowsTheStateTheRecordEndsIn() {
        func ending(_ types: [String]) -> RecordEnding {
            var ending = RecordEnding()
            for type in types { ending.read(type: type) }
            return ending
        }
        let live = ending(["RunSubmitted", "RunClaimed", "CheckpointSaved"])
        #expect(
            live.finalState == nil && live.state(now: .completed) == .running && live.state(now: .running) == .running)
        let completed = ending(["RunSubmitted", "RunClaimed", "RunCompleted", "BlobsPruned"])
        #expect(completed.finalState == .completed && completed.state(now: .completed) == .completed)
        let resumed = ending(["RunSubmitted", "RunClaimed", "RunFailed", "RunResumed"])
        #expect(resumed.finalState == nil && resumed.state(now: .queued) == .queued)
        #expect(ending(["RunSubmitted", "RunClaimed", "RunFailed"]).state(now: .queued) == .failed)
    }

    @Test func anIntactBundleImportsOnceWithItsReceiptAnnotationsAndCurves() async throws {
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let (run, bundle) = try await Self.exportedRun(by: daemon)
        let target = try await TestDatabase.queue()
        let report = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: bundle)
        #expect(report.run.id == run && report.run.state == .completed)
        #expect(report.receipt == .verified, "\(report.receiptDetail)")
        #expect(report.blobs == 1 && report.metricPoints == 5 && report.annotationEvents == 2 && !report.scoresOnly)
        #expect(try await target.store.verify(stream: DaemonEvent.stream(run)) == .intact(events: 6))
        // Each event keeps the time the exporting database recorded it (they were appended in several transactions
        // there; the import appends them in one), to the microsecond.
        let imported = try await target.store.read(stream: DaemonEvent.stream(run))
        let bundled = try Self.bundledEvents(bundle)
        #expect(imported.map(\.id) == bundled.map(\.id))
        #expect(bundled.allSatisfy { $0.recordedMicroseconds != nil })
        #expect(
            imported.map { Int64(($0.recordedAt.timeIntervalSince1970 * 1e6).rounded()) }
                == bundled.map(\.recordedMicroseconds))
        #expect(Set(imported.map(\.recordedAt)).count > 1, "every event has the import's time")
        let annotations = try await RunAnnotations(queue: target).annotations(of: .run(run))
        #expect(annotations.tags == ["baseline"] && annotations.notes.map(\.text) == ["n"])
        let curve = try await target.store.metrics(run: run)
        #expect(curve.map(\.step) == [0, 1, 2, 3, 4] && curve[0].value == .infinity)
        // The same bundle again: refused as a conflict, and the first import is untouched.
        let before = try await Self.footprint(target)
        do {
            _ = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: bundle)
            Issue.record("a second import of the same run was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .conflict)
        }
        #expect(try await Self.footprint(target) == before)
        await target.store.shutdown()
    }

    @Test func anImportedCompletedRunShowsTheHeadlineItsRecordHolds() async throws {
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let (run, bundle) = try await Self.exportedRun(by: daemon)
        // The manifest's copy is not what the row is rebuilt from: the recorded RunCompleted event is.
        var edited = try BundleEntries(bundle)
        try edited.editManifest { $0.run.headline = nil }
        try await edited.write(bundle)
        let target = try await TestDatabase.queue()
        let report = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: bundle)
        #expect(report.run.headline == Self.headline)
        let listed = try await RunCatalog(queue: target).list(state: .completed, limit: 10)
        #expect(listed.first { $0.id == run }?.headline == Self.headline)
        await target.store.shutdown()
    }

    @Test func aReceiptOfAnotherDaemonIsCheckedAgainstTheEventsAndSaidSo() async throws {
        let exporter = try Daemon()
        let importer = try Daemon()
        defer {
            try? FileManager.default.removeItem(atPath: exporter.directory)
            try? FileManager.default.removeItem(atPath: importer.directory)
        }
        let (_, bundle) = try await Self.exportedRun(by: exporter)
        let target = try await TestDatabase.queue()
        let report = try await RunBundleImport(queue: target, key: importer.key).importBundle(at: bundle)
        #expect(report.receipt == .signedByAnotherKey)
        #expect(report.receiptDetail.contains(exporter.key.keyID.prefix(16)), "\(report.receiptDetail)")
        await target.store.shutdown()
    }

    @Test func scoresOnlyLeavesTheCheckpointsOutAndStillVerifies() async throws {
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let (run, bundle) = try await Self.exportedRun(by: daemon, scoresOnly: true)
        #expect(try BundleFile(path: bundle).names.allSatisfy { !$0.hasPrefix("blobs/") })
        let target = try await TestDatabase.queue()
        let report = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: bundle)
        #expect(report.scoresOnly && report.blobs == 0 && report.receipt == .verified)
        // The six events imported, and a tombstone that says the checkpoint was left out: verify counted it as
        // missing, lost, after a faithful import, and resume retried a run that could never start.
        #expect(try await target.store.verify(stream: DaemonEvent.stream(run)) == .intact(events: 7))
        let blobs = try await RunBlobRecord.read(run, from: target.store).verification(in: target.store)
        #expect(blobs.missing.isEmpty && blobs.pruned.isEmpty && blobs.leftOut?.count == 1, "\(blobs)")
        // Written with the import: the row the lifecycle locks says so.
        #expect(try await target.store.execute("SELECT id FROM runs WHERE blobs_left_out").count == 1)
        let resume = await #expect(throws: DaemonError.self) { _ = try await RunControl(queue: target).resume(run) }
        #expect(resume?.message.contains("imported from a --scores-only bundle") == true)
        await target.store.shutdown()
    }

    @Test func aJSONArchiveOfAnOlderE2HStillImports() async throws {
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
        let archive = daemon.file("old.e2h.json")
        try FileManager.default.copyItem(atPath: FuzzSmokeTests.validArchivePath, toPath: archive)
        let target = try await TestDatabase.queue()
        let report = try await RunBundleImport(queue: target, key: daemon.key).importBundle(at: archive)
        #expect(report.receipt == .absent && report.blobs == 1)
        #expect(
            try await target.store.verify(stream: DaemonEvent.stream(report.run.id))
                == .intact(events: Int64(report.run.eventCount)))
        #expect(!FileManager.default.fileExists(atPath: archive + ".bundle"), "the converted bundle is removed")
        await target.store.shutdown()
    }

    @Test func aRunWhoseChainBreaksIsNotExported() async throws {
        try await ReceiptTests.withRun { integrity, run, queue in
            // As a superuser: the append-only trigger disabled, one recorded payload edited.
            try await queue.store.transaction { tx in
                try tx.query("ALTER TABLE events DISABLE TRIGGER events_append_only")
                try tx.query("UPDATE events SET payload = '[99]' WHERE version = 2")
                try tx.query("ALTER TABLE events ENABLE TRIGGER events_append_only")
            }
            do {
                _ = try await RunBundleExport(queue: queue, witness: integrity.witness).prepare(run, scoresOnly: false)
                Issue.record("a run with a broken chain was exported")
            } catch let error as DaemonError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("does not verify at version 2"), "\(error.message)")
                #expect(error.message.contains("e2h verify \(run)"), "\(error.message)")
            }
        }
    }

    @Test func anExactIDWinsOverAPrefixOfAnother() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await queue.submit(SubmitRequest(yaml: "name: tiny\nseed: 7\n", file: "tiny.yaml")).run.id
        #expect(try await RunCatalog(queue: queue).resolve(String(run.prefix(8))) == run)
        // A row whose id is another's prefix (as an unchecked import once made): each stays addressable.
        _ = try await queue.store.execute(
            """
            INSERT INTO runs (id, name, spec_hash, max_attempts)
            SELECT left(id, 8), name, spec_hash, max_attempts FROM runs WHERE id = $1
            """, [.text(run)])
        #expect(try await RunCatalog(queue: queue).resolve(String(run.prefix(8))) == String(run.prefix(8)))
        #expect(try await RunCatalog(queue: queue).resolve(run) == run)
        await queue.store.shutdown()
    }
}

/// A bundle's entries in memory, to damage one and write the bundle again (small test bundles only).
struct BundleEntries {
    var entries: [(name: String, data: Data)]

    init(entries: [(name: String, data: Data)]) {
        self.entries = entries
    }

    init(_ path: String) throws {
        let file = try BundleFile(path: path)
        entries = try file.names.map { ($0, try file.data($0, limit: 1 << 30)) }
    }

    static func write(_ path: String, _ body: (inout FileSink) async throws -> Void) async throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var sink = FileSink(handle: handle)
        try await body(&sink)
    }

    func write(_ path: String) async throws {
        try? FileManager.default.removeItem(atPath: path)
        try await Self.write(path) { sink in
            var tar = TarStream(sink: sink, modified: 0)
            for (name, data) in entries { try await tar.entry(name, data) }
            try await tar.finish()
            sink = tar.sink
        }
    }

    mutating func edit<T: Codable>(_ name: String, as type: T.Type, _ change: (inout T) -> Void) throws {
        let index = try #require(entries.firstIndex { $0.name == name })
        var value = try BundleLayout.lineDecoder.decode(T.self, from: entries[index].data)
        change(&value)
        entries[index].data = try BundleLayout.lineEncoder.encode(value)
    }

    mutating func edit(_ name: String, _ change: (inout [BundleEventLine]) -> Void) throws {
        let index = try #require(entries.firstIndex { $0.name == name })
        var lines = try entries[index].data.split(separator: UInt8(ascii: "\n")).map {
            try BundleLayout.lineDecoder.decode(BundleEventLine.self, from: Data($0))
        }
        change(&lines)
        entries[index].data = try lines.reduce(into: Data()) {
            $0 += try BundleLayout.lineEncoder.encode($1) + Data("\n".utf8)
        }
    }

    /// Recomputes an entry's chain over its (edited) lines, as a forger can: versions from 1, each hash from the last.
    mutating func rechain(_ name: String, stream: String) throws {
        try edit(name) { BundleForgery.rechain(&$0, stream: stream) }
    }

    mutating func editEvents(_ change: (inout [BundleEventLine]) -> Void) throws {
        try edit(BundleLayout.events, change)
    }

    mutating func editManifest(_ change: (inout BundleManifest) -> Void) throws {
        try edit(BundleLayout.manifest, as: BundleManifest.self, change)
    }
}
