import Canonical
import Foundation

extension EventStore {
    /// Stores `bytes` once under their SHA-256 (lowercase hex), which it returns. Concurrent puts
    /// of the same content are safe: the key makes the second a no-op.
    public func putBlob(_ bytes: Data) async throws -> String {
        // Checking first (inside Transaction.putBlob) spares sending tens of MiB again for content already stored.
        try await idempotentTransaction { tx in try tx.putBlob(bytes) }
    }

    /// The blob stored under `sha256`, checked against its hash (`.blobCorrupted` when it does
    /// not match, `.blobNotFound` when there is none).
    public func blob(_ sha256: String) async throws -> Data {
        let digest = try Self.digest(sha256)
        let rows = try await idempotent { connection in
            try connection.executePrepared("SELECT content FROM blobs WHERE sha256 = $1", [.bytes(digest)])
        }
        guard let content = try rows.isEmpty ? nil : rows.bytes(0, "content") else {
            throw EventStoreError(code: .blobNotFound, message: "no blob \(sha256) is stored")
        }
        try Self.check(content, against: digest, named: sha256)
        return content
    }

    /// The blob stored under `sha256`, handed to `body` a piece of at most `pieceSize` bytes at a time as it is read
    /// (by `substring`, which reads only that slice of an out-of-line value): a checkpoint of any size is held one
    /// piece at a time, not two or three times whole. The whole is checked against its hash after the last piece
    /// (`.blobCorrupted`: what `body` made of the pieces must then be discarded); `.blobNotFound` when there is no
    /// such blob, or it was deleted while being read.
    public func blob(
        _ sha256: String, inPiecesOf pieceSize: Int, _ body: (Data) async throws -> Void
    ) async throws {
        let digest = try Self.digest(sha256)
        guard pieceSize > 0 else {
            throw EventStoreError(code: .invalidArgument, message: "a blob's pieces need a positive size")
        }
        var hash = ContentHash.Incremental()
        var read: Int64 = 0
        while true {
            let offset = read
            let rows = try await idempotent { connection in
                try connection.executePrepared(
                    "SELECT size, substring(content FROM $2::int4 FOR $3::int4) AS piece FROM blobs WHERE sha256 = $1",
                    [.bytes(digest), .int(offset + 1), .int(Int64(pieceSize))])
            }
            guard !rows.isEmpty, let size = try rows.int64(0, "size"), let piece = try rows.bytes(0, "piece") else {
                throw EventStoreError(code: .blobNotFound, message: "no blob \(sha256) is stored")
            }
            hash.update(piece)
            try await body(piece)
            read += Int64(piece.count)
            if read >= size || piece.isEmpty { break }
        }
        try Self.check(hash: hash.digest(), of: read, against: digest, named: sha256)
    }

    /// The blobs stored under `hashes` (lowercase hex; repeats allowed), keyed by hash, in one query: what a reader of
    /// many small blobs (a run's per-problem outcomes) needs instead of a round trip each. Every blob is checked
    /// against its hash like `blob(_:)`; a missing one is `.blobNotFound`, naming how many are missing.
    public func blobs(_ hashes: [String]) async throws -> [String: Data] {
        guard !hashes.isEmpty else { return [:] }
        let digests = try hashes.map(Self.digest)
        // Distinct keys in first-seen order keep the parameter (and the server's work) independent of repeats.
        var seen: Set<Data> = []
        let distinct = digests.filter { seen.insert($0).inserted }
        let rows = try await idempotent { connection in
            try connection.executePrepared(
                "SELECT sha256, content FROM blobs WHERE sha256 = ANY($1)", [.bytesArray(distinct)])
        }
        var found: [String: Data] = [:]
        for row in 0..<rows.count {
            guard let key = try rows.bytes(row, "sha256"), let content = try rows.bytes(row, "content") else {
                throw EventStoreError(code: .query, message: "a blob row has a NULL key or content")
            }
            let name = Hex.encode(key)
            try Self.check(content, against: key, named: name)
            found[name] = content
        }
        let missing = distinct.map(Hex.encode).filter { found[$0] == nil }
        if let first = missing.first {
            throw EventStoreError(
                code: .blobNotFound,
                message: "no blob \(first) is stored"
                    + (missing.count > 1 ? " (nor \(missing.count - 1) more of the \(distinct.count) asked for)" : ""))
        }
        return found
    }

    private static func digest(_ sha256: String) throws -> Data {
        guard sha256.utf8.count == 64, let digest = Hex.decode(sha256) else {
            throw EventStoreError(code: .invalidArgument, message: "'\(sha256)' is not a SHA-256 in hex (64 digits)")
        }
        return digest
    }

    private static func check(_ content: Data, against digest: Data, named name: String) throws {
        try check(hash: ContentHash.sha256(content), of: Int64(content.count), against: digest, named: name)
    }

    /// `.blobCorrupted` unless `stored`, the hash of the `count` bytes read, is the blob's name.
    private static func check(hash stored: Data, of count: Int64, against digest: Data, named name: String) throws {
        guard stored == digest else {
            throw EventStoreError(
                code: .blobCorrupted,
                message: "blob \(name) is corrupted: its \(count) stored bytes hash to \(Hex.encode(stored))")
        }
    }
}
