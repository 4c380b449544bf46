import Canonical
import EventStore
import Foundation
import WireTypes

/// What a run bundle holds, by name: the one definition the writer and the reader share.
///
/// - `manifest.json`: the format, the run's queue row and how the bundle was made (`BundleManifest`);
/// - `spec.yaml`, `spec.json`: the spec as submitted and its canonical form (also inside the first event);
/// - `receipt.json`: the run's head and the log's, signed by the exporting daemon (`e2h receipt`);
/// - `events.jsonl`: the run's events in version order, one `BundleEventLine` a line;
/// - `annotations.jsonl`: the run's tags and notes, their own hash-chained stream, in the same shape;
/// - `metrics.jsonl`: the training curves, one `BundleMetricLine` a line;
/// - `blobs/<sha256>.safetensors` (tensor files) or `.bin` (anything else): every blob the events name.
public enum BundleLayout {
    public static let format = "e2h-run-bundle/1"
    public static let manifest = "manifest.json"
    public static let specYAML = "spec.yaml"
    public static let canonicalSpec = "spec.json"
    public static let receipt = "receipt.json"
    public static let events = "events.jsonl"
    public static let annotations = "annotations.jsonl"
    public static let metrics = "metrics.jsonl"
    public static let blobDirectory = "blobs/"
    /// The most bytes one blob can hold: the store keeps it as one `bytea`, whose values PostgreSQL limits to 1 GiB.
    public static let maximumBlobSize: Int64 = 1 << 30 - 1

    /// `blobs/<hash>.safetensors` when the bytes are a safetensors file (an 8-byte little-endian header length,
    /// then that much JSON), `blobs/<hash>.bin` otherwise.
    public static func blobEntry(_ hash: String, _ bytes: Data) -> String {
        blobEntry(hash, prefix: bytes, size: Int64(bytes.count))
    }

    /// `blobEntry` from the blob's first `safetensorsPrefix` bytes (or all, when it is shorter) and its size.
    public static func blobEntry(_ hash: String, prefix: Data, size: Int64) -> String {
        blobDirectory + hash + (isSafetensors(prefix: prefix, size: size) ? ".safetensors" : ".bin")
    }

    /// How much of a blob's start `isSafetensors` reads.
    public static let safetensorsPrefix = 9

    /// The blob hash an entry name carries, or nil when the name is not a blob's.
    public static func blobHash(inEntry name: String) -> String? {
        guard name.hasPrefix(blobDirectory) else { return nil }
        let file = name.dropFirst(blobDirectory.count)
        let hash = String(file.prefix { $0 != "." })
        let suffix = file.dropFirst(hash.count)
        guard ContentHash.isSHA256Hex(hash), suffix == ".safetensors" || suffix == ".bin" else { return nil }
        return hash
    }

    private static func isSafetensors(prefix: Data, size: Int64) -> Bool {
        guard size > 9, prefix.count >= safetensorsPrefix else { return false }
        let length = prefix.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return length <= UInt64(size - 8) && prefix[prefix.startIndex + 8] == UInt8(ascii: "{")
    }

    /// Metric values may be NaN or infinite (a diverged loss); JSON has no such numbers, so they travel as strings.
    public static var lineEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static var lineDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// `manifest.json`.
public struct BundleManifest: Codable, Sendable {
    public var format: String
    public var run: RunDetails
    /// The blobs were left out except the per-problem outcomes that scores need (`e2h export --scores-only`).
    public var scoresOnly: Bool
    /// Hashes the events name that no stored blob has: digests that never named a blob (a split's), and blobs pruned
    /// before the export. Listed so that a reader knows they were not forgotten.
    public var absentBlobs: [String]

    public init(format: String, run: RunDetails, scoresOnly: Bool, absentBlobs: [String]) {
        self.format = format
        self.run = run
        self.scoresOnly = scoresOnly
        self.absentBlobs = absentBlobs
    }
}

/// One event of `events.jsonl` or `annotations.jsonl`. `payload` and `metadata` are the stored JSON text as
/// strings, byte for byte (the hash chain covers those bytes, which re-encoding a parsed value could change);
/// `jq '.payload | fromjson'` reads them.
public struct BundleEventLine: Codable, Sendable, Equatable {
    public var version: Int64
    public var id: UUID
    public var type: String
    public var schemaVersion: Int
    public var payload: String
    public var metadata: String
    public var hash: String
    public var previousHash: String
    /// When the exporting database recorded the event, in microseconds since 1970-01-01 UTC (exactly what it keeps);
    /// the import records the event at that time. Absent in bundles from before e2h kept it: those import at the
    /// import's time.
    public var recordedMicroseconds: Int64?

    public init(
        version: Int64, id: UUID, type: String, schemaVersion: Int, payload: String, metadata: String, hash: String,
        previousHash: String, recordedMicroseconds: Int64? = nil
    ) {
        self.version = version
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.payload = payload
        self.metadata = metadata
        self.hash = hash
        self.previousHash = previousHash
        self.recordedMicroseconds = recordedMicroseconds
    }
}

extension BundleEventLine {
    public init(_ event: RecordedEvent) throws {
        guard let payload = String(data: event.payload, encoding: .utf8),
            let metadata = String(data: event.metadata, encoding: .utf8)
        else {
            throw BundleError(
                .unwritable,
                "event \(event.version) of \(event.stream) is not UTF-8 JSON text; it cannot be exported")
        }
        self.init(
            version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
            payload: payload, metadata: metadata, hash: event.hash, previousHash: event.previousHash,
            recordedMicroseconds: Int64((event.recordedAt.timeIntervalSince1970 * 1e6).rounded()))
    }

    /// The event to append on import: same id and bytes, so the importing database computes the same chain, and
    /// the time it was first recorded.
    public var newEvent: NewEvent {
        NewEvent(
            id: id, type: type, schemaVersion: schemaVersion, payload: Data(payload.utf8),
            metadata: Data(metadata.utf8),
            recordedAt: recordedMicroseconds.map { Date(timeIntervalSince1970: Double($0) / 1e6) })
    }
}

/// One point of `metrics.jsonl`; the run is the bundle's.
public struct BundleMetricLine: Codable, Sendable, Equatable {
    public var attempt: Int
    public var name: String
    public var step: Int64
    public var value: Double

    public init(attempt: Int, name: String, step: Int64, value: Double) {
        self.attempt = attempt
        self.name = name
        self.step = step
        self.value = value
    }
}
