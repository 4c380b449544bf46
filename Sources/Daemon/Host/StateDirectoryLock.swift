import Foundation
import WireTypes

/// One daemon per state directory: the embedded cluster, the token and the endpoint file are its own.
/// The lock is an flock on `daemon.lock`, released by the kernel when the process dies however it dies.
final class StateDirectoryLock: Sendable {
    let path: String
    private let descriptor: Int32

    init(stateDirectory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: stateDirectory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw DaemonError(
                .configuration,
                "the state directory \(stateDirectory) is a file, not a directory — move the file, or pass another --state-dir"
            )
        }
        do {
            try FileManager.default.createDirectory(
                atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw DaemonError(.configuration, "cannot create the state directory \(stateDirectory)", cause: error)
        }
        path = (stateDirectory as NSString).appendingPathComponent("daemon.lock")
        // CLOEXEC: the embedded server must not inherit the lock and hold it after this process dies.
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DaemonError(.configuration, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw DaemonError(
                .configuration,
                "another e2hd is running with the state directory \(stateDirectory) — stop it, or pass another --state-dir"
            )
        }
    }

    deinit { close(descriptor) }

    /// Writes `daemon.json` so `e2h` finds this daemon; written to a scratch file and renamed, so a reader never
    /// sees half of it.
    func publish(endpoint: DaemonEndpoint, stateDirectory: String) throws {
        let file = (stateDirectory as NSString).appendingPathComponent(StateDirectory.endpointFile)
        let data = try StateDirectory.jsonEncoder.encode(endpoint)
        try data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    func withdraw(stateDirectory: String) {
        let file = (stateDirectory as NSString).appendingPathComponent(StateDirectory.endpointFile)
        try? FileManager.default.removeItem(atPath: file)
    }
}
