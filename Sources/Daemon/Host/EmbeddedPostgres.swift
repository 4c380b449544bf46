import Canonical
import Foundation
import Logging

/// The PostgreSQL cluster e2hd runs for itself when no database URL is given: created once under the state
/// directory, started on every daemon start, stopped on shutdown. It listens on a Unix socket in its own
/// directory only (no TCP), and the socket directory is private to the server's user, so trust authentication
/// reaches nobody else.
struct EmbeddedPostgres: Sendable {
    static let databaseName = "e2h"
    static let superuser = "postgres"

    let clusterDirectory: String
    let binDirectory: String
    /// Who the server runs as: nil when e2hd is not root (the server then runs as e2hd's own user).
    let serverUser: String?
    let logger: Logger

    var dataDirectory: String { clusterDirectory + "/data" }
    var url: String { "postgresql:///\(Self.databaseName)?host=\(clusterDirectory)&user=\(Self.superuser)" }

    init(stateDirectory: String, logger: Logger) throws {
        self.logger = logger
        binDirectory = try Self.findBinDirectory()
        if geteuid() == 0 {
            let user = try Self.unprivilegedUser(logger: logger)
            serverUser = user
            clusterDirectory = try Self.clusterDirectory(
                stateDirectory: stateDirectory, reachableBy: user, logger: logger)
        } else {
            serverUser = nil
            clusterDirectory = stateDirectory + "/postgres"
        }
        // The socket path is <dir>/.s.PGSQL.5432 and Unix sockets allow 107 bytes.
        guard clusterDirectory.utf8.count + 16 < 107 else {
            throw DaemonError(
                .configuration,
                "the state directory path is too long for a Unix socket (\(clusterDirectory)) — pass a shorter --state-dir"
            )
        }
    }

    /// Initializes the cluster on first use, recovers one left running or crashed, starts it, and makes sure the
    /// `e2h` database exists. Returns the libpq URL.
    func start() throws -> String {
        try prepareDirectory()
        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            try initialize()
        }
        if isRunning() {
            logger.info("embedded PostgreSQL already running; reusing it", metadata: ["dir": "\(clusterDirectory)"])
        } else {
            try removeStaleLock()
            logger.info("starting embedded PostgreSQL", metadata: ["dir": "\(clusterDirectory)"])
            try tool(
                "pg_ctl",
                [
                    "-D", dataDirectory, "-l", clusterDirectory + "/server.log", "-w", "-t", "120",
                    "-o", "-c listen_addresses='' -c unix_socket_directories='\(clusterDirectory)'", "start",
                ]
            ).runChecked("pg_ctl start (see \(clusterDirectory)/server.log)")
        }
        try waitUntilReady()
        try createDatabaseIfMissing()
        return url
    }

    /// Fast shutdown: open sessions are ended, committed data is safe.
    func stop() {
        do {
            try tool("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "30", "stop"]).runChecked("pg_ctl stop")
            logger.info("embedded PostgreSQL stopped")
        } catch {
            logger.error("could not stop embedded PostgreSQL: \(error)")
        }
    }

    // MARK: - Steps

    private func tool(_ name: String, _ arguments: [String]) -> ExternalCommand {
        ExternalCommand(binDirectory + "/" + name, arguments, asUser: serverUser)
    }

    private func prepareDirectory() throws {
        try FileManager.default.createDirectory(atPath: clusterDirectory, withIntermediateDirectories: true)
        if let serverUser {
            try ExternalCommand("/bin/chown", [serverUser, clusterDirectory], asUser: nil).runChecked("chown")
        }
        chmod(clusterDirectory, 0o700)
    }

    /// initdb into a scratch folder and rename it into place, so a crash during initdb never leaves a half-made
    /// cluster that later starts would trip over.
    private func initialize() throws {
        let scratch = clusterDirectory + "/data.initializing"
        try? FileManager.default.removeItem(atPath: scratch)
        logger.info("initializing embedded PostgreSQL cluster (first start)", metadata: ["dir": "\(clusterDirectory)"])
        try tool(
            "initdb",
            [
                "-D", scratch, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
            ]
        ).runChecked("initdb")
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try FileManager.default.moveItem(atPath: scratch, toPath: dataDirectory)
    }

    private func postmasterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces))
        else { return nil }
        return pid
    }

    /// Running means: the PID in postmaster.pid is alive *and* is a postgres process (after a crash and a reboot
    /// the PID may belong to something else, which pg_ctl would mistake for a running server), and not a zombie.
    func isRunning() -> Bool {
        guard let pid = postmasterPID(),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return false }
        // "pid (comm) state ...": a killed server nobody reaped yet is a zombie ('Z'), not a running one.
        let command = stat[stat.index(after: open)..<close]
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return command.hasPrefix("postgres") && state != "Z" && state != "X"
    }

    private func removeStaleLock() throws {
        guard postmasterPID() != nil else { return }
        logger.warning("removing the stale postmaster.pid of a crashed embedded PostgreSQL")
        try? FileManager.default.removeItem(atPath: dataDirectory + "/postmaster.pid")
        try? FileManager.default.removeItem(atPath: clusterDirectory + "/.s.PGSQL.5432.lock")
        try? FileManager.default.removeItem(atPath: clusterDirectory + "/.s.PGSQL.5432")
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let result = try tool("pg_isready", ["-h", clusterDirectory, "-U", Self.superuser, "-d", "postgres"]).run()
            if result.status == 0 { return }
            if Date() > deadline {
                throw DaemonError(
                    .embeddedDatabase,
                    "embedded PostgreSQL did not become ready — see \(clusterDirectory)/server.log")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    private func createDatabaseIfMissing() throws {
        let result = try tool("createdb", ["-h", clusterDirectory, "-U", Self.superuser, Self.databaseName]).run()
        if result.status != 0 && !result.output.contains("already exists") {
            throw DaemonError(.embeddedDatabase, "createdb failed: \(result.output)")
        }
    }

    // MARK: - Locating things

    /// The newest server installed by Debian's packages.
    static func findBinDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let candidates = versions.compactMap { Int($0) }.sorted(by: >)
            .map { "\(root)/\($0)/bin" }
            .filter { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
        guard let best = candidates.first else {
            throw DaemonError(
                .embeddedDatabase,
                "no PostgreSQL server found under \(root) — run scripts/bootstrap, or pass --database-url")
        }
        return best
    }

    /// Debian's `postgres` account, or an `e2h-postgres` system account created for the purpose.
    static func unprivilegedUser(logger: Logger) throws -> String {
        for name in ["postgres", "e2h-postgres"] where getpwnam(name) != nil { return name }
        logger.info("creating system user e2h-postgres to run the embedded PostgreSQL")
        try ExternalCommand(
            "/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "e2h-postgres"],
            asUser: nil
        ).runChecked("useradd e2h-postgres")
        return "e2h-postgres"
    }

    /// `<state>/postgres` when the server's user can reach it. A root state directory under /root usually is
    /// not reachable (0700 home), and opening up /root is not ours to do: then the cluster lives under
    /// /var/lib/e2h, named after the state directory, with a symlink from the state directory to find it.
    static func clusterDirectory(stateDirectory: String, reachableBy user: String, logger: Logger) throws -> String {
        let preferred = stateDirectory + "/postgres"
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: preferred) { return target }
        let probe = try ExternalCommand("/usr/bin/test", ["-x", stateDirectory], asUser: user).run()
        if probe.status == 0 { return preferred }
        let digest = ContentHash.sha256Hex(Data(stateDirectory.utf8))
        let fallback = "/var/lib/e2h/" + digest.prefix(16)
        try FileManager.default.createDirectory(atPath: "/var/lib/e2h", withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: preferred, withDestinationPath: fallback)
        logger.info(
            "the state directory is not reachable by \(user); the embedded cluster lives in \(fallback)",
            metadata: ["link": "\(preferred)"])
        return fallback
    }
}
