import Canonical
import Foundation

/// The bearer token every API call but `/healthz` must carry. Created once, readable by its owner only.
struct AccessToken: Sendable {
    let value: String

    /// Reads `<stateDirectory>/token`, creating it (mode 0600, 32 random bytes as hex) on first start.
    static func loadOrCreate(stateDirectory: String) throws -> AccessToken {
        let path = (stateDirectory as NSString).appendingPathComponent("token")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return AccessToken(value: trimmed) }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let value = Hex.encode(bytes)
        // O_EXCL: two daemons starting at once on one state directory must not overwrite each other's token.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST, let raced = try? String(contentsOfFile: path, encoding: .utf8) {
                return AccessToken(value: raced.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            throw DaemonError(
                .configuration, "cannot create the token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let line = value + "\n"
        let written = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, line.utf8.count) }
        guard written == line.utf8.count else {
            throw DaemonError(.configuration, "cannot write the token file \(path)")
        }
        return AccessToken(value: value)
    }

    /// Compares in time independent of where the strings differ: both sides are hashed to equal length first.
    func matches(_ candidate: String) -> Bool {
        let expected = ContentHash.sha256(Data(value.utf8))
        let given = ContentHash.sha256(Data(candidate.utf8))
        var difference: UInt8 = 0
        for (left, right) in zip(expected, given) { difference |= left ^ right }
        return difference == 0
    }
}
