import Canonical
import Foundation
import RunBundle
import WireTypes

/// The JSON archive (`e2h-run-archive/1`) that `e2h export` wrote before bundles: still imported, by converting it
/// into a bundle first, so that one path checks and writes every import. Such an archive is read into memory whole
/// (it is one JSON document, its blobs base64 inside it); the bundle it becomes is not.
enum LegacyArchive {
    /// Whether the file starts (after white space) with `{`: a JSON archive. A tar starts with an entry's name.
    static func isLegacy(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DaemonError(.internalError, "cannot open the spooled import \(path)")
        }
        defer { try? handle.close() }
        let start = try handle.read(upToCount: 64) ?? Data()
        return start.first { ![0x20, 0x09, 0x0a, 0x0d].contains($0) } == UInt8(ascii: "{")
    }

    /// A JSON archive is decoded whole, at about 20× its size in memory, so a larger one is refused before it is
    /// read: no archive of an older e2h came near this, and a body that starts with `{` can be any size.
    static let maximumSize: Int64 = 256 << 20

    static func convert(_ path: String, to bundle: String) async throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        if let size, size > maximumSize {
            throw DaemonError(
                .bodyTooLarge,
                "the body starts with '{', so it is read as a JSON archive of an older e2h, which is decoded whole; "
                    + "at \(size >> 20) MiB it is over the \(maximumSize >> 20) MiB such an archive may be. A bundle "
                    + "(what `e2h export` writes now) has no such limit")
        }
        let archive: RunArchive
        do {
            archive = try StateDirectory.jsonDecoder.decode(
                RunArchive.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DaemonError(.badRequest, "the request body is neither a bundle nor a JSON archive: \(error)")
        }
        guard archive.format == RunArchive.currentFormat else {
            throw DaemonError(
                .badRequest, "unknown archive format \(archive.format.prefix(80)); expected \(RunArchive.currentFormat)"
            )
        }
        guard FileManager.default.createFile(atPath: bundle, contents: nil),
            let handle = FileHandle(forWritingAtPath: bundle)
        else {
            throw DaemonError(.internalError, "cannot create \(bundle) to convert a JSON archive into")
        }
        defer { try? handle.close() }
        var tar = TarStream(
            sink: FileSink(handle: handle), modified: Int64(archive.run.submittedAt.timeIntervalSince1970))
        let manifest = BundleManifest(format: BundleLayout.format, run: archive.run, scoresOnly: false, absentBlobs: [])
        try await tar.entry(BundleLayout.manifest, try StateDirectory.jsonEncoder.encode(manifest))
        try await tar.entry(BundleLayout.specYAML, Data(archive.specYAML.utf8))
        try await tar.entry(BundleLayout.canonicalSpec, archive.canonicalSpec)
        let encoder = BundleLayout.lineEncoder
        var events = Data()
        for event in archive.events {
            guard let payload = String(data: event.payload, encoding: .utf8),
                let metadata = String(data: event.metadata, encoding: .utf8)
            else {
                throw DaemonError(.badRequest, "the archive's event \(event.id) is not UTF-8 JSON text: it was altered")
            }
            let line = BundleEventLine(
                version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
                payload: payload, metadata: metadata, hash: event.hash, previousHash: event.previousHash)
            events += try encoder.encode(line) + Data("\n".utf8)
        }
        try await tar.entry(BundleLayout.events, events)
        for (key, bytes) in archive.blobs.sorted(by: { $0.key < $1.key }) {
            guard ContentHash.isSHA256Hex(key) else {
                throw DaemonError(
                    .badRequest, "the archive's blob key \(String(key.prefix(80)).debugDescription) is not a SHA-256")
            }
            try await tar.entry(BundleLayout.blobEntry(key, bytes), bytes)
        }
        try await tar.finish()
    }
}
