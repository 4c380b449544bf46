import Canonical
import EventStore
import Foundation
import WireTypes

/// Everything an import checks before it writes a byte: only the entries e2h writes, the manifest's format and a
/// well-formed run id, every event line's schema, unique event ids, each chain (the run's, its annotations')
/// recomputed link by link, what the record means and the manifest's agreement with it (`RecordCheck`), every
/// metric line, every blob's bytes against the hash its name carries, that the record names every blob carried, and
/// the receipt against the events. A bundle that fails any of these is refused whole, so a rejected import leaves the
/// database as it was. The run's events are read once, here; the caller may look at each on the way (`inspect`).
public struct BundleCheck: Sendable {
    public struct Checked: Sendable {
        public var manifest: BundleManifest
        public var runHead: ChainHead
        public var annotationEvents: Int64
        public var metricPoints: Int
        public var blobEntries: [String]
        public var receipt: ImportReport.ReceiptStatus
        public var receiptDetail: String
    }

    /// The key of the importing daemon: a receipt it signed is checked in full.
    public let key: ReceiptKey

    public init(key: ReceiptKey) { self.key = key }

    public func check(_ file: BundleFile, inspect: (BundleEventLine) throws -> Void = { _ in }) throws -> Checked {
        var blobEntries: [String] = []
        let known: Set<String> = [
            BundleLayout.manifest, BundleLayout.specYAML, BundleLayout.canonicalSpec, BundleLayout.receipt,
            BundleLayout.events, BundleLayout.annotations, BundleLayout.metrics,
        ]
        for name in file.names where !known.contains(name) {
            guard BundleLayout.blobHash(inEntry: name) != nil else {
                throw BundleError(
                    .malformed,
                    "the bundle holds \(String(name.prefix(120)).debugDescription), which e2h export never writes; "
                        + "nothing was imported")
            }
            blobEntries.append(name)
        }
        let manifest = try Self.manifest(of: file)
        let id = manifest.run.id
        guard RunID.isWellFormed(id) else {
            throw BundleError(
                .malformed,
                "the bundle's run id \(String(id.prefix(80)).debugDescription) is not a run id (a lowercase UUID); "
                    + "the bundle was not made by e2h export or was altered")
        }
        var ids = Set<UUID>()
        var record = RecordCheck()
        var named = Set<String>()
        let runHead = try Self.chain(file, BundleLayout.events, stream: RunStreams.run(id), ids: &ids) {
            try record.accept($0)
            named.formUnion(ContentReferences.named(in: Data($0.payload.utf8)))
            try inspect($0)
        }
        guard runHead.length > 0 else {
            throw BundleError(.malformed, "the bundle holds no events; export the run again")
        }
        try record.check(manifest.run)
        var annotationEvents: Int64 = 0
        if file.contains(BundleLayout.annotations) {
            annotationEvents =
                try Self.chain(
                    file, BundleLayout.annotations, stream: RunStreams.annotations(id), ids: &ids,
                    inspect: RecordCheck.annotation
                )
                .length
        }
        var metricPoints = 0
        if file.contains(BundleLayout.metrics) {
            try file.lines(BundleLayout.metrics) { line in
                let point = try Self.decode(BundleMetricLine.self, line, "metric line \(metricPoints + 1)")
                metricPoints += 1
                try RecordCheck.metric(point, number: metricPoints)
            }
        }
        for name in blobEntries {
            if let size = file.size(of: name), size > BundleLayout.maximumBlobSize {
                throw BundleError(
                    .malformed,
                    "the bundle's \(name) holds \(size) bytes, more than a stored blob can (\(BundleLayout.maximumBlobSize), "
                        + "PostgreSQL's limit on one value); e2h never records such a blob, so nothing was imported")
            }
            let digest = try file.sha256(name)
            guard digest == BundleLayout.blobHash(inEntry: name) else {
                throw BundleError(
                    .malformed,
                    "the bundle's \(name) does not match its name (its bytes hash to \(digest)); nothing was imported")
            }
        }
        try Self.refuseUnnamed(blobEntries, named: named, file)
        let (receipt, detail) = try checkReceipt(file, run: id, head: runHead)
        return Checked(
            manifest: manifest, runHead: runHead, annotationEvents: annotationEvents, metricPoints: metricPoints,
            blobEntries: blobEntries, receipt: receipt, receiptDetail: detail)
    }

    /// The bundle's manifest, of a format this e2h reads; what it says is checked against the record by `check`.
    public static func manifest(of file: BundleFile) throws -> BundleManifest {
        let manifest = try decode(BundleManifest.self, file.data(BundleLayout.manifest, limit: 16 << 20), "manifest")
        guard manifest.format == BundleLayout.format else {
            throw BundleError(
                .malformed, "unknown bundle format \(manifest.format.prefix(80)); expected \(BundleLayout.format)")
        }
        return manifest
    }

    /// Every blob carried must be one the record names, in an event or in a JSON blob so named, as `e2h export`
    /// writes them: another would be stored with no run to account for it or free it.
    private static func refuseUnnamed(_ entries: [String], named: Set<String>, _ file: BundleFile) throws {
        var carried: [String: String] = [:]
        for name in entries { if let hash = BundleLayout.blobHash(inEntry: name) { carried[hash] = name } }
        var pending = Array(named)
        var reached = Set<String>()
        while let hash = pending.popLast() {
            guard reached.insert(hash).inserted, let entry = carried[hash] else { continue }
            if ContentReferences.mayName(firstByte: try file.firstByte(of: entry)) {
                pending += ContentReferences.named(in: try file.data(entry, limit: BundleLayout.maximumBlobSize))
            }
        }
        if let stray = entries.first(where: { !reached.contains(BundleLayout.blobHash(inEntry: $0) ?? "") }) {
            throw BundleError(
                .malformed,
                "the bundle carries \(stray), which its record does not name (e2h export carries only the blobs a "
                    + "run's events name); nothing was imported")
        }
    }

    /// A receipt signed by this daemon is checked in full; one signed by another only against the events (its
    /// signature needs that daemon's key, which never leaves its state directory).
    private func checkReceipt(
        _ file: BundleFile, run: String, head: ChainHead
    ) throws -> (ImportReport.ReceiptStatus, String) {
        guard file.contains(BundleLayout.receipt) else {
            return (.absent, "the bundle carries no receipt (a JSON archive of an older e2h)")
        }
        let receipt = try Self.decode(SignedReceipt.self, file.data(BundleLayout.receipt, limit: 64 << 10), "receipt")
        var problems: [String] = []
        if receipt.claim.run != run { problems.append("it is for run \(receipt.claim.run ?? "(none)"), not \(run)") }
        if receipt.claim.runHead != head {
            problems.append(
                "it signs the run at version \(receipt.claim.runHead?.length ?? 0), but the bundle's events end at "
                    + "version \(head.length) with hash \(head.hash.prefix(12))…")
        }
        let ours = receipt.keyId == key.keyID
        if ours, let problem = key.signatureProblem(receipt) { problems.append(problem) }
        guard problems.isEmpty else {
            throw BundleError(
                .malformed,
                "the bundle's receipt does not match it: " + problems.joined(separator: "; ")
                    + ". The bundle or its receipt was altered; nothing was imported")
        }
        if ours {
            return (
                .verified,
                "signed by this daemon's key \(key.keyID) on \(receipt.claim.issuedAt); the signature and the run's "
                    + "head (version \(head.length)) check"
            )
        }
        return (
            .signedByAnotherKey,
            "signed by key \(receipt.keyId.prefix(16)) on \(receipt.claim.issuedAt), not this daemon's (\(key.keyID)): "
                + "it matches the events, but only the daemon that exported the run can check its signature"
        )
    }

    /// Recomputes a stream's chain over an entry's lines, handing each event to `inspect`; returns its head. Event ids
    /// must be unique across both.
    private static func chain(
        _ file: BundleFile, _ name: String, stream: String, ids: inout Set<UUID>,
        inspect: (BundleEventLine) throws -> Void
    ) throws -> ChainHead {
        var chain = ChainCheck(stream: stream)
        var seen = ids
        var timed: Bool?
        try file.lines(name) { line in
            let event = try decode(BundleEventLine.self, line, "\(name) line \(chain.lastVersion + 1)")
            guard seen.insert(event.id).inserted else {
                throw BundleError(.malformed, "the bundle holds event \(event.id) twice: it was altered")
            }
            // An export gives every event its time, and a bundle from before e2h kept it none; the store appends
            // an entry's events with their times or without, and only a time it can hold.
            let time = event.recordedMicroseconds
            guard timed.map({ $0 == (time != nil) }) ?? true, time.map({ (0...Self.latestTime).contains($0) }) ?? true
            else {
                throw BundleError(
                    .malformed,
                    "event \(event.version) of the bundle's \(name) has a recorded time that no export writes: "
                        + "it was altered; nothing was imported")
            }
            timed = time != nil
            if case .broken(let version, _, let reason) = chain.accept(
                version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
                payload: Data(event.payload.utf8), metadata: Data(event.metadata.utf8), hash: event.hash,
                previousHash: event.previousHash)
            {
                throw BundleError(
                    .malformed,
                    "the bundle's \(name) does not verify at version \(version): \(reason); nothing was imported")
            }
            try inspect(event)
        }
        ids = seen
        return ChainHead(length: chain.lastVersion, hash: chain.lastHash)
    }

    /// 9999-12-31T23:59:59.999999Z in microseconds since 1970: the latest recorded time a bundle may carry.
    static let latestTime: Int64 = 253_402_300_799_999_999

    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ what: String) throws -> T {
        do {
            return try BundleLayout.lineDecoder.decode(T.self, from: data)
        } catch {
            throw BundleError(
                .malformed, "the bundle's \(what) is not what e2h export writes: \(error); nothing was imported")
        }
    }
}

/// Run ids are lowercase UUIDs, made by the daemon at submission.
public enum RunID {
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.utf8.count == 36, let uuid = UUID(uuidString: text) else { return false }
        return uuid.uuidString.lowercased() == text
    }
}
