import Foundation

/// A file only the daemon's user may read, written whole or not at all: to a temporary file (mode 0600,
/// flushed), then renamed over the path, so a crash leaves either the old file or the whole new one — never the
/// empty file that a failed write once left behind as a token.
enum SecretFile {
    static func write(_ bytes: [UInt8], to path: String, what: String) throws {
        let temporary = path + ".new-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DaemonError(
                .configuration,
                "cannot create the \(what) \(path): \(String(cString: strerror(errno))) — check that the state "
                    + "directory is writable by the daemon's user")
        }
        let written = bytes.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress, $0.count) }
        let flushed = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw DaemonError(
                .configuration, "cannot write the \(what) \(path): \(reason) — free disk space and start again")
        }
    }

    /// 32 bytes from the system's secure generator.
    static func randomBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in generator.next() }
    }
}
