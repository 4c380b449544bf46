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
        guard sha256.utf8.count == 64, let digest = Hex.decode(sha256) else {
            throw EventStoreError(code: .invalidArgument, message: "'\(sha256)' is not a SHA-256 in hex (64 digits)")
        }
        let rows = try await idempotent { connection in
            try connection.executePrepared("SELECT content FROM blobs WHERE sha256 = $1", [.bytes(digest)])
        }
        guard let content = try rows.isEmpty ? nil : rows.bytes(0, "content") else {
            throw EventStoreError(code: .blobNotFound, message: "no blob \(sha256) is stored")
        }
        let stored = ContentHash.sha256(content)
        guard stored == digest else {
            throw EventStoreError(
                code: .blobCorrupted,
                message: "blob \(sha256) is corrupted: its \(content.count) stored bytes hash to \(Hex.encode(stored))")
        }
        return content
    }
}
