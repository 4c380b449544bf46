import Canonical
import Foundation

/// What the store occupies, for `/metrics`: blobs (how many, their content's bytes) and its tables on disk (with
/// indexes and out-of-line storage).
public struct StorageFigures: Sendable, Equatable {
    public var blobs: Int64
    public var blobContentBytes: Int64
    public var blobTableBytes: Int64
    public var eventTableBytes: Int64
    public var metricTableBytes: Int64

    public init(
        blobs: Int64, blobContentBytes: Int64, blobTableBytes: Int64, eventTableBytes: Int64, metricTableBytes: Int64
    ) {
        self.blobs = blobs
        self.blobContentBytes = blobContentBytes
        self.blobTableBytes = blobTableBytes
        self.eventTableBytes = eventTableBytes
        self.metricTableBytes = metricTableBytes
    }
}

/// A stored blob, described without its content.
public struct BlobSummary: Sendable, Equatable {
    public var size: Int64
    /// The content's first `headLength` bytes (all of it when shorter): enough to tell JSON (`{`, `[`) from a
    /// checkpoint, and a safetensors file by its header's length, without another round trip per blob.
    public var head: Data

    /// Sixteen: a safetensors header's 8-byte length and its first bytes (`BundleLayout` reads 9).
    public static let headLength = 16

    public init(size: Int64, head: Data) {
        (self.size, self.head) = (size, head)
    }

    /// The content's first byte; nil when it is empty.
    public var firstByte: UInt8? { head.first }
}

extension EventStore {
    /// The sizes of the blobs stored under `hashes` (lowercase hex), without reading their content; a hash with
    /// no stored blob is absent from the answer.
    public func blobSizes(_ hashes: [String]) async throws -> [String: Int64] {
        try await summaries(hashes, Self.sizeQuery).mapValues(\.size)
    }

    /// What is stored under `hashes` (lowercase hex), without reading the content: size and head; a hash with no
    /// stored blob is absent from the answer.
    public func blobSummaries(_ hashes: [String]) async throws -> [String: BlobSummary] {
        try await summaries(hashes, Self.summaryQuery)
    }

    private func summaries(_ hashes: [String], _ query: String) async throws -> [String: BlobSummary] {
        guard !hashes.isEmpty else { return [:] }
        let digests = try Self.digests(hashes)
        return try Self.summaries(
            try await idempotent { connection in try connection.executePrepared(query, [.bytesArray(digests)]) })
    }

    /// The head by `substring`, which reads a slice of a large value rather than all of it — still one out-of-line
    /// chunk per blob, which `sizeQuery` does not touch.
    static let summaryQuery = summaryQuery(head: "substring(content FROM 1 FOR \(BlobSummary.headLength))")
    static let sizeQuery = summaryQuery(head: "''::bytea")

    private static func summaryQuery(head: String) -> String {
        "SELECT sha256, size, \(head) AS head FROM blobs WHERE sha256 = ANY($1)"
    }

    static func summaries(_ rows: PostgresRows) throws -> [String: BlobSummary] {
        var summaries: [String: BlobSummary] = [:]
        for row in 0..<rows.count {
            guard let key = try rows.bytes(row, "sha256"), let size = try rows.int64(row, "size"),
                let head = try rows.bytes(row, "head")
            else {
                throw EventStoreError(code: .query, message: "a blob row has a NULL key, size or content")
            }
            summaries[Hex.encode(key)] = BlobSummary(size: size, head: head)
        }
        return summaries
    }

    static func digests(_ hashes: [String]) throws -> [Data] {
        try hashes.map { hash in
            guard ContentHash.isSHA256Hex(hash), let digest = Hex.decode(hash) else {
                throw EventStoreError(code: .invalidArgument, message: "'\(hash)' is not a SHA-256 in hex (64 digits)")
            }
            return digest
        }
    }

    /// How many blobs are stored and what the store's tables occupy.
    public func storageFigures() async throws -> StorageFigures {
        let rows = try await idempotent { connection in
            try connection.execute(
                """
                SELECT (SELECT count(*) FROM blobs) AS blobs, (SELECT coalesce(sum(size), 0) FROM blobs)::int8 AS content,
                    pg_total_relation_size('blobs') AS blobs_table, pg_total_relation_size('events') AS events_table,
                    pg_total_relation_size('metrics') AS metrics_table
                """)
        }
        return StorageFigures(
            blobs: try rows.int64(0, "blobs") ?? 0, blobContentBytes: try rows.int64(0, "content") ?? 0,
            blobTableBytes: try rows.int64(0, "blobs_table") ?? 0,
            eventTableBytes: try rows.int64(0, "events_table") ?? 0,
            metricTableBytes: try rows.int64(0, "metrics_table") ?? 0)
    }
}
