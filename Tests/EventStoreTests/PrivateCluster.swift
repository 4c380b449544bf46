import Foundation

@testable import EventStore

/// A small PostgreSQL cluster of one test's own, in a temporary directory, so that restarting
/// it disturbs no other suite. Uses the server binaries scripts/test names in
/// E2H_TEST_PG_BINDIR; as root, the server runs as the `postgres` user (it refuses root).
struct PrivateCluster {
    let directory: String
    let binaries: String
    /// Where the data directory lives: `directory/data` unless a test puts it elsewhere (e.g. on a small tmpfs).
    var dataDirectory: String { "\(directory)/\(dataPath)" }
    var dataPath = "data"
    /// Extra `-c name=value` server settings.
    var settings: [String] = []

    var url: String { "postgresql:///postgres?host=\(directory)&user=postgres" }

    static func start() async throws -> PrivateCluster {
        let cluster = try create()
        try await cluster.initialize()
        try await cluster.start()
        return cluster
    }

    /// Makes the cluster's directory (owned by `postgres` when root); `initialize` then runs initdb.
    static func create() throws -> PrivateCluster {
        guard let binaries = ProcessInfo.processInfo.environment["E2H_TEST_PG_BINDIR"], !binaries.isEmpty else {
            throw EventStoreError(
                code: .invalidArgument,
                message:
                    "E2H_TEST_PG_BINDIR is not set: run the tests with scripts/test, which names the server binaries")
        }
        let directory = "/tmp/e2h-restart-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        if getuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory)
        }
        return PrivateCluster(directory: directory, binaries: binaries)
    }

    func initialize(_ options: String...) async throws {
        try await run(
            [
                "initdb", "-D", dataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                "--no-sync",
            ] + options)
    }

    func restart() async throws { try await pgctl("restart", "-m", "fast") }
    func stop() async throws { try await pgctl("stop", "-m", "fast") }
    func start() async throws { try await pgctl("start") }

    /// A file system mounted inside `directory` (the data directory's, say), unmounted by `destroy`.
    var mountPoint: String?

    func destroy() async {
        try? await pgctl("stop", "-m", "immediate")
        // After the server has stopped: unmounted first, the data directory would vanish from under pg_ctl.
        if let mountPoint { umount2(mountPoint, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `pg_ctl status`: false once the postmaster has exited (e.g. after a PANIC it could not recover from).
    func isRunning() async -> Bool { (try? await pgctl("status")) != nil }

    private func pgctl(_ arguments: String...) async throws {
        try await run(
            [
                "pg_ctl", "-D", dataDirectory, "-l", "\(directory)/server.log", "-w", "-t", "60", "-o",
                (["listen_addresses=''", "unix_socket_directories='\(directory)'", "fsync=off"] + settings)
                    .map { "-c \($0)" }.joined(separator: " "),
            ] + arguments)
    }

    private func run(_ arguments: String...) async throws { try await run(arguments) }

    /// Runs a server binary (as `postgres` when root) on a thread of its own, off the test's pool.
    /// posix_spawn + waitpid rather than Foundation's Process, whose wait did not return here once
    /// pg_ctl had left a server running; output goes to /dev/null, the server's to server.log.
    private func run(_ arguments: [String]) async throws {
        let binary = ["\(binaries)/\(arguments[0])"] + arguments.dropFirst()
        let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + binary : binary
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            Thread {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                let argv = command.map { strdup($0) } + [nil]
                defer { argv.forEach { free($0) } }
                var pid: pid_t = 0
                let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
                guard spawned == 0 else {
                    continuation.resume(
                        throwing: EventStoreError(
                            code: .connection, message: "cannot run \(command[0]): errno \(spawned)"))
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                // Exited normally (low 7 bits 0): the exit code; killed by a signal: -1.
                continuation.resume(returning: status & 0x7f == 0 ? (status >> 8) & 0xff : -1)
            }.start()
        }
        guard status == 0 else {
            let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
            throw EventStoreError(
                code: .connection,
                message: "\(arguments.joined(separator: " ")) exited with \(status): \(log.suffix(2000))")
        }
    }
}
