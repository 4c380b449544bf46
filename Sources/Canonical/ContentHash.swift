import Crypto
import Foundation

/// SHA-256 as e2h names content: lowercase hex. Blob addresses, spec hashes and migration checksums are all
/// this one function, so two places that address the same bytes always agree.
public enum ContentHash {
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        Hex.encode(sha256(bytes))
    }

    /// `sha256Hex` of bytes that arrive in pieces (a bundle's entry read from disk a piece at a time): the same
    /// address the whole bytes would get.
    public struct Incremental {
        private var hasher = SHA256()

        public init() {}

        public mutating func update(_ piece: some DataProtocol) { hasher.update(data: piece) }

        public func hex() -> String { Hex.encode(digest()) }

        /// The 32 bytes of the digest.
        public func digest() -> Data { Data(hasher.finalize()) }
    }

    /// The 32 bytes of the digest.
    public static func sha256(_ bytes: some DataProtocol) -> Data {
        Data(SHA256.hash(data: bytes))
    }

    /// Whether two secrets (tokens, signatures) are equal, in time that does not depend on where or whether they
    /// differ, nor on the secret's length: both are hashed to 32 bytes first and every byte is compared. The one
    /// comparison for everything an attacker may try to guess byte by byte.
    public static func secretsMatch(_ expected: String, _ given: String) -> Bool {
        let left = sha256(Data(expected.utf8))
        let right = sha256(Data(given.utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }

    /// True for text shaped like a `sha256Hex` result (64 lowercase hex digits).
    public static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
