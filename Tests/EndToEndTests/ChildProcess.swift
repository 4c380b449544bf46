import Foundation

/// A spawned program whose output goes to files, with the signals and exit waits the tests need.
/// posix_spawn + waitpid: the tests send SIGKILL/SIGSTOP and must see exactly what the process did.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let outputPath: String
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], outputPath: String, environment: [String: String] = [:]) throws {
        self.outputPath = outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw E2EError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// The exit status (128 + signal when killed), or nil if still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                return exitStatus
            }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs to completion and returns (status, output).
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) async throws
        -> (status: Int32, output: String)
    {
        let path = NSTemporaryDirectory() + "e2h-e2e-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let child = try ChildProcess(executable, arguments, outputPath: path, environment: environment)
        guard let status = await child.waitForExit(timeout: .seconds(300)) else {
            child.signal(SIGKILL)
            throw E2EError("\(executable) \(arguments.joined(separator: " ")) did not finish in 300 s")
        }
        return (status, child.output)
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
