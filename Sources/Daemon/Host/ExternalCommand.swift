import Foundation

/// Runs a program to completion and captures what it printed (PostgreSQL's initdb, pg_ctl, createdb).
///
/// posix_spawn + waitpid rather than Foundation's Process: `pg_ctl start` leaves a server behind that inherits
/// the child's descriptors, and Process then never reports the child's exit.
struct ExternalCommand {
    struct Result {
        var status: Int32
        var output: String
    }

    let executable: String
    let arguments: [String]

    /// As root, PostgreSQL refuses to run: its tools run as `user` through runuser.
    init(_ executable: String, _ arguments: [String], asUser user: String?) {
        if let user {
            self.executable = "/usr/sbin/runuser"
            self.arguments = ["-u", user, "--", executable] + arguments
        } else {
            self.executable = executable
            self.arguments = arguments
        }
    }

    func run() throws -> Result {
        // Output goes to a file that the server left behind by `pg_ctl start` cannot keep open for us.
        let outputPath = NSTemporaryDirectory() + "e2hd-command-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw DaemonError(
                .embeddedDatabase,
                "cannot start \(executable): \(String(cString: strerror(spawned))) — run scripts/bootstrap")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitStatus, output: String(decoding: data, as: UTF8.self))
    }

    @discardableResult
    func runChecked(_ what: String) throws -> String {
        let result = try run()
        guard result.status == 0 else {
            throw DaemonError(
                .embeddedDatabase, "\(what) failed (exit \(result.status)): \(result.output.suffix(2000))")
        }
        return result.output
    }
}
