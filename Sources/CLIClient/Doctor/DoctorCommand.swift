import ArgumentParser
import Foundation
import NeuralEngine
import WireTypes

/// `e2h doctor`: what is installed, the environment, the state directory and token, the proxy, the daemon and its
/// database, disk space and the CPU's features — one line each, with what to do about anything wrong.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the installation, environment, state directory, token, proxy, daemon, database, disk and CPU.",
        discussion: "Exit status 1 when a check fails; warnings alone exit 0.")

    @OptionGroup var connection: ConnectionFlags

    func run() async throws {
        let environment = ClientEnvironment.current
        let state = ConnectionOptions(stateDir: connection.stateDir).stateDirectory(environment)
        let problem: String?
        do {
            try environment.check()
            problem = nil
        } catch {
            problem = error.message
        }
        var findings = [Self.installation(), Self.postgres(), .environment(environment.listing, problem: problem)]
        findings.append(.stateDirectory(path: state, permissions: Self.permissions(of: state)))
        func secret(_ secret: DoctorFinding.Secret, _ file: String) -> DoctorFinding {
            let path = (state as NSString).appendingPathComponent(file)
            return .secret(
                secret, path: path, permissions: Self.permissions(of: path),
                ownedByUser: Self.owner(of: path) == getuid())
        }
        if connection.token == nil && environment.text(ClientEnvironment.token) == nil {
            findings.append(secret(.token, StateDirectory.tokenFile))
        }
        // Where the daemon runs: a client given its URL has no state directory of its own to judge.
        if FileManager.default.fileExists(
            atPath: (state as NSString).appendingPathComponent(StateDirectory.receiptKeyFile))
        {
            findings.append(secret(.receiptKey, StateDirectory.receiptKeyFile))
        }
        findings += await daemon()
        findings.append(.disk(path: state, freeBytes: Self.freeBytes(near: state)))
        findings.append(.cpu(CPUDescription.current))
        for finding in findings { print(finding.line) }
        if findings.contains(where: { $0.status == .fail }) { throw ExitCode(1) }
    }

    /// The daemon answers, its database is ready, and it accepts our token.
    private func daemon() async -> [DoctorFinding] {
        let client: DaemonClient
        do {
            client = try connection.client()
        } catch let error as ClientError {
            return [DoctorFinding(check: "daemon", status: .fail, detail: error.message)]
        } catch {
            return [DoctorFinding(check: "daemon", status: .fail, detail: "\(error)")]
        }
        let base = client.baseURL.absoluteString
        let proxy = client.proxy
        var findings = [DoctorFinding.proxy(base: base, through: proxy)]
        guard await client.answersOK(at: "healthz") else {
            let remedy = "start e2hd (it writes its address to the state directory), or pass --url"
            return findings + [
                DoctorFinding(
                    check: "daemon", status: .fail, detail: "no answer from \(base)",
                    remedy: proxy.map {
                        remedy + "; the request went through the proxy \($0.host):\($0.port): if it cannot reach the "
                            + "daemon, add the daemon's host to no_proxy"
                    }
                        ?? remedy)
            ]
        }
        findings.append(DoctorFinding(check: "daemon", status: .ok, detail: "e2hd answers at \(base)"))
        if await client.answersOK(at: "readyz") {
            findings.append(DoctorFinding(check: "database", status: .ok, detail: "ready"))
        } else {
            findings.append(
                DoctorFinding(
                    check: "database", status: .fail, detail: "e2hd cannot reach its database",
                    remedy: "see e2hd's log; it keeps retrying (an embedded cluster is restarted by e2hd)"))
        }
        do {
            _ = try await client.getRaw("/metrics")
            findings.append(DoctorFinding(check: "auth", status: .ok, detail: "the token is accepted"))
        } catch let error as ClientError {
            findings.append(
                DoctorFinding(
                    check: "auth", status: .fail, detail: error.message,
                    remedy: "use the token of the state directory the daemon was started with"))
        } catch {
            findings.append(DoctorFinding(check: "auth", status: .fail, detail: "\(error)"))
        }
        return findings
    }

    /// e2hd beside this e2h, or on PATH.
    private static func installation() -> DoctorFinding {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let path = ProcessInfo.processInfo.environment["PATH", default: ""].split(separator: ":").map(String.init)
        let candidates = [own.path] + path
        guard let found = candidates.map({ $0 + "/e2hd" }).first(where: FileManager.default.isExecutableFile) else {
            return DoctorFinding(
                check: "e2hd", status: .warn, detail: "no e2hd beside e2h or on PATH",
                remedy: "fine if the daemon runs elsewhere; otherwise put the built e2hd on PATH (README: Two commands)"
            )
        }
        return DoctorFinding(check: "e2hd", status: .ok, detail: found)
    }

    /// The embedded cluster needs Debian's PostgreSQL server; a daemon given --database-url does not.
    private static func postgres() -> DoctorFinding {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }
        guard
            let newest = versions.sorted().last(where: {
                FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb")
            })
        else {
            return DoctorFinding(
                check: "postgresql", status: .warn, detail: "no PostgreSQL server under \(root)",
                remedy: "needed for e2hd's embedded database: run scripts/bootstrap (or give e2hd --database-url)")
        }
        return DoctorFinding(check: "postgresql", status: .ok, detail: "server \(newest) in \(root)/\(newest)/bin")
    }

    private static func permissions(of path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    private static func owner(of path: String) -> UInt32? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.ownerAccountID] as? NSNumber)?.uint32Value
    }

    /// Free bytes on the file system of `path`, or of its nearest existing parent.
    private static func freeBytes(near path: String) -> UInt64 {
        var directory = path
        while !FileManager.default.fileExists(atPath: directory) && directory != "/" {
            directory = (directory as NSString).deletingLastPathComponent
        }
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return 0 }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }
}
