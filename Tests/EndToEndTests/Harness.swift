import Foundation
import Testing
import WireTypes

/// Where the built binaries and the test server are; a missing variable fails the test with what to do.
enum Harness {
    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw E2EError("\(name) is not set — run the tests with scripts/test")
        }
        return value
    }

    static var binDirectory: String { get throws { try environment("E2H_BIN_DIR") } }

    /// The repository root (for experiments/), found from this file's path.
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// A fresh database on the test server; returns its URL.
    static func createDatabase() async throws -> String {
        let server = try environment("E2H_TEST_DATABASE_URL")
        let name = "e2h_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let result = try await ChildProcess.run("/usr/bin/psql", [server, "-qc", "CREATE DATABASE \(name)"])
        guard result.status == 0 else { throw E2EError("CREATE DATABASE failed: \(result.output)") }
        guard let range = server.range(of: "/postgres?") else { throw E2EError("unexpected test URL \(server)") }
        return server.replacingCharacters(in: range, with: "/\(name)?")
    }

    static func sql(_ url: String, _ statement: String) async throws -> String {
        let result = try await ChildProcess.run("/usr/bin/psql", [url, "-qAtc", statement])
        guard result.status == 0 else { throw E2EError("psql failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls `condition` until it holds; fails the test after `timeout`.
    static func waitUntil(
        _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw E2EError("timed out waiting for \(what)")
    }

    /// A scratch directory the embedded server's unprivileged user can traverse.
    static func scratchDirectory() throws -> String {
        let path = "/tmp/e2h-e2e-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }
}

/// One e2hd process with its own state directory.
final class DaemonUnderTest: @unchecked Sendable {
    let stateDirectory: String
    let databaseURL: String?
    let extraArguments: [String]
    /// What e2hd is started under, e.g. `ip netns exec HOST` to run it on another (namespaced) host; it must exec
    /// e2hd, so that the spawned pid is e2hd's.
    let launcher: [String]
    private(set) var process: ChildProcess?
    private(set) var endpoint: DaemonEndpoint?

    /// Short leases so that expiry tests finish in seconds.
    static let fastLeases = [
        "--lease-seconds", "4", "--heartbeat-seconds", "1", "--reaper-seconds", "1", "--poll-seconds", "0.2",
        "--backoff-seconds", "0.5",
    ]

    init(stateDirectory: String, databaseURL: String?, arguments: [String] = fastLeases, launcher: [String] = []) {
        self.stateDirectory = stateDirectory
        self.databaseURL = databaseURL
        self.extraArguments = arguments
        self.launcher = launcher
    }

    var logPath: String { stateDirectory + ".log" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var token: String {
        get throws {
            try String(contentsOfFile: stateDirectory + "/token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    var url: String { endpoint?.url ?? "" }

    /// Starts e2hd and waits until it serves: on a free port, or on `port` (a restart where a client expects it).
    func start(name: String? = nil, port: Int = 0) async throws {
        var arguments = ["--state-dir", stateDirectory, "--port", "\(port)"] + extraArguments
        if let databaseURL { arguments += ["--database-url", databaseURL] }
        if let name { arguments += ["--name", name] }
        try? FileManager.default.removeItem(atPath: stateDirectory + "/" + StateDirectory.endpointFile)
        let command = launcher + [try Harness.binDirectory + "/e2hd"] + arguments
        let process = try ChildProcess(command[0], Array(command.dropFirst()), outputPath: logPath)
        self.process = process
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let data = FileManager.default.contents(atPath: stateDirectory + "/" + StateDirectory.endpointFile),
                let endpoint = try? StateDirectory.jsonDecoder.decode(DaemonEndpoint.self, from: data),
                endpoint.pid == process.pid
            {
                self.endpoint = endpoint
                return
            }
            if let status = await process.waitForExit(timeout: .milliseconds(100)) {
                throw E2EError("e2hd exited with \(status) while starting:\n\(log)")
            }
        }
        throw E2EError("e2hd did not start in 120 s:\n\(log)")
    }

    /// Runs `e2h` against this daemon.
    func e2h(_ arguments: String...) async throws -> (status: Int32, output: String) {
        try await ChildProcess.run(try Harness.binDirectory + "/e2h", arguments + ["--state-dir", stateDirectory])
    }

    /// `e2h ... --json` decoded.
    func e2hJSON<T: Decodable>(_ type: T.Type, _ arguments: String...) async throws -> T {
        let result = try await ChildProcess.run(
            try Harness.binDirectory + "/e2h", arguments + ["--json", "--state-dir", stateDirectory])
        guard result.status == 0 else { throw E2EError("e2h \(arguments) exited \(result.status): \(result.output)") }
        do {
            return try StateDirectory.jsonDecoder.decode(T.self, from: Data(result.output.utf8))
        } catch {
            throw E2EError("e2h \(arguments) printed no \(T.self): \(result.output)")
        }
    }

    func request(
        _ method: String, _ path: String, body: Data? = nil, token: String?
    ) async throws -> (status: Int, body: Data) {
        try await HTTP.request(method, url + path, body: body, token: token)
    }

    func details(_ run: String) async throws -> RunDetails {
        let response = try await request("GET", "/v1/runs/\(run)", token: try token)
        return try StateDirectory.jsonDecoder.decode(RunDetails.self, from: response.body)
    }

    func events(_ run: String) async throws -> [WireEvent] {
        var all: [WireEvent] = []
        while true {
            let response = try await request(
                "GET", "/v1/runs/\(run)/events?after=\(all.last?.version ?? 0)&limit=1000", token: try token)
            let page = try StateDirectory.jsonDecoder.decode(EventPage.self, from: response.body)
            all += page.events
            if page.events.isEmpty { return all }
        }
    }

    /// Polls until `condition` holds for the run (or fails the test after `timeout`).
    func waitFor(
        _ run: String, timeout: Duration = .seconds(180), _ what: String,
        _ condition: (RunDetails, [WireEvent]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(try await details(run), try await events(run)) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw E2EError("timed out waiting for \(what) of run \(run); daemon log:\n\(log.suffix(4000))")
    }

    func signal(_ signal: Int32) { process?.signal(signal) }

    func waitForExit(timeout: Duration) async -> Int32? { await process?.waitForExit(timeout: timeout) }

    /// SIGTERM and wait; kills it if it does not go.
    func stop() async {
        guard let process else { return }
        process.signal(SIGTERM)
        if await process.waitForExit(timeout: .seconds(40)) == nil {
            process.signal(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(5))
        }
    }
}

/// Runs `body`, then stops the daemons whether it succeeded or not. A failure keeps their scratch
/// directories (logs, state) for a look; a success removes them.
func withDaemons(_ daemons: [DaemonUnderTest], _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        for daemon in daemons { await daemon.stop() }
        throw error
    }
    for daemon in daemons {
        await daemon.stop()
        try? FileManager.default.removeItem(atPath: (daemon.stateDirectory as NSString).deletingLastPathComponent)
    }
}

/// Requests the tests send themselves. Over URLSession, not the client e2h sends with (`OutboundClient`): the API's
/// hostile tests send paths as written, and AsyncHTTPClient sends `/` for a path whose percent-escapes are not UTF-8
/// (`/v1/runs/%FF`, which must be a 400). e2h itself never writes such a path: it escapes what it sends.
enum HTTP {
    static func request(
        _ method: String, _ url: String, body: Data? = nil, token: String?
    ) async throws
        -> (status: Int, body: Data)
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
