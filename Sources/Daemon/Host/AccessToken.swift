import Canonical
import Foundation

/// The bearer token every API call but `/healthz` must carry. Created once, readable by its owner only.
struct AccessToken: Sendable {
    /// Where the token came from, for the start-up log.
    enum Origin: Sendable, Equatable {
        case existing
        case created
        /// The file held no usable token (empty or short: a failed write, a hand edit) and was replaced.
        case replaced(reason: String)
    }

    /// A token shorter than this is no secret worth the name: 32 random bytes make 64 hex digits.
    static let minimumLength = 32

    let value: String
    let origin: Origin

    /// Reads `<stateDirectory>/token`, creating it (mode 0600, 32 random bytes as hex) on first start and
    /// replacing it atomically when it holds no usable token. The caller holds the state directory's lock, so
    /// no other daemon writes the file meanwhile.
    static func loadOrCreate(stateDirectory: String) throws -> AccessToken {
        let path = (stateDirectory as NSString).appendingPathComponent("token")
        guard FileManager.default.fileExists(atPath: path) else {
            return AccessToken(value: try write(path: path), origin: .created)
        }
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw DaemonError(
                .configuration,
                "cannot read the token file \(path): make it readable by the daemon's user only (chmod 600) or "
                    + "remove it, and a new token is made at the next start")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let usable =
            trimmed.count >= minimumLength && trimmed.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 }
        guard usable else {
            let reason = trimmed.isEmpty ? "the token file was empty" : "the token file held no usable token"
            return AccessToken(value: try write(path: path), origin: .replaced(reason: reason))
        }
        return AccessToken(value: trimmed, origin: .existing)
    }

    /// A new token, 32 random bytes as hex, written atomically (`SecretFile`).
    private static func write(path: String) throws -> String {
        let value = Hex.encode(SecretFile.randomBytes())
        try SecretFile.write(Array((value + "\n").utf8), to: path, what: "token file")
        return value
    }

    /// Compares in time independent of where the strings differ (`ContentHash.secretsMatch`).
    func matches(_ candidate: String) -> Bool { ContentHash.secretsMatch(value, candidate) }
}
