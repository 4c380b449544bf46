import AsyncHTTPClient
import Foundation
import OutboundHTTP
import Testing
import WireTypes

@testable import CLIClient

/// `--seeds -1..2` got ArgumentParser's "Missing value for '--seeds'": a value that starts with a dash is still the
/// option's, so the seed range's own reader says what is wrong with it.
@Test func aSeedRangeThatStartsWithADashIsTheOptionsValue() throws {
    #expect(try SweepFlags.parse(["--seeds", "-1..2"]).seeds == "-1..2")
    #expect(try SweepFlags.parse(["--seeds", "0..4", "--set", "seed=1"]).seeds == "0..4")
}

/// A request that timed out reached the daemon, which may have carried it out: its message must not say "is it
/// running?" (a submit retried by hand after that was queued twice).
@Test func aTimedOutRequestSaysItMayHaveBeenCarriedOut() throws {
    let client = try DaemonClient(
        options: ConnectionOptions(url: "http://127.0.0.1:9", token: "t", stateDir: nil))
    for late in [HTTPClientError.deadlineExceeded, .readTimeout] {
        let timedOut = client.unreachable(late)
        #expect(timedOut.code == .unreachable && timedOut.message.contains("it may still have done what was asked"))
    }
    #expect(client.unreachable(HTTPClientError.connectTimeout).message.contains("is it running?"))
}

/// A daemon that is not running refuses the connection, and `e2h` says so (how soon: `OutboundClientTests`).
@Test func aDaemonThatIsNotRunningIsSaidToBeSo() async throws {
    // Port 1: nothing listens, the connection is refused.
    let client = try DaemonClient(options: ConnectionOptions(url: "http://127.0.0.1:1", token: "t", stateDir: nil))
    let error = await #expect(throws: ClientError.self) { _ = try await client.getRaw("v1/runs") }
    #expect(
        error?.code == .unreachable && error?.message.contains("is it running?") == true, "\(String(describing: error))"
    )
}

/// A proxy variable that names no proxy `e2h` can use stops it before any command, naming the variable; one that
/// does is used for a daemon elsewhere, never for one on this machine.
@Test func theProxyVariablesAreCheckedAtStart() throws {
    let bad = #expect(throws: ClientError.self) { try ClientEnvironment(["https_proxy": "socks5://gate:1080"]).check() }
    #expect(bad?.code == .usage && bad?.message.hasPrefix("https_proxy=socks5://gate:1080") == true)
    let environment = ClientEnvironment(["http_proxy": "gate:3128"])
    #expect(throws: Never.self) { try environment.check() }
    #expect(try environment.proxy(for: URL(string: "http://e2h.lab.example:8080")!)?.host == "gate")
    #expect(try environment.proxy(for: URL(string: "http://127.0.0.1:8080")!) == nil)
}

/// Doctor names the proxy `e2h` would go through (it read none, so a daemon unreachable through a proxy looked
/// merely down), and reports a bad variable beside its other findings (it stopped before them with exit 2).
@Test func doctorNamesTheProxyAndABadVariable() throws {
    let direct = DoctorFinding.proxy(base: "http://127.0.0.1:7707", through: nil)
    #expect(direct.status == .ok && direct.detail == "requests to http://127.0.0.1:7707 go directly")
    let gate = ProxyEnvironment.Proxy(host: "gate", port: 3128, user: "ann", password: "s3cret")
    let through = DoctorFinding.proxy(base: "http://e2h.lab.example:8080", through: gate)
    #expect(through.detail.contains("through the proxy gate:3128") && !through.line.contains("s3cret"))
    let environment = ClientEnvironment(["https_proxy": "socks5://gate:1080", "E2H_LIMIT": "20"])
    let problem = #expect(throws: ClientError.self) { try environment.check() }
    let finding = DoctorFinding.environment(environment.listing, problem: problem?.message)
    #expect(finding.status == .fail && finding.detail.hasPrefix("https_proxy=socks5://gate:1080"))
    #expect(DoctorFinding.environment(environment.listing).detail == "E2H_LIMIT=20")
}

/// A daemon killed with -9 leaves daemon.json behind; whatever listens on its port later would be sent the token.
@Test func aStaleEndpointOfAnExitedDaemonIsNotUsed() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2h-endpoint-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try "t".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
    let exited = Process()
    exited.executableURL = URL(fileURLWithPath: "/bin/true")
    try exited.run()
    exited.waitUntilExit()
    func endpoint(pid: Int32) throws {
        let file = DaemonEndpoint(url: "http://127.0.0.1:7707", pid: pid)
        try StateDirectory.jsonEncoder.encode(file).write(to: URL(fileURLWithPath: directory + "/daemon.json"))
    }
    try endpoint(pid: exited.processIdentifier)
    let error = #expect(throws: ClientError.self) {
        _ = try DaemonClient(options: ConnectionOptions(url: nil, token: nil, stateDir: directory))
    }
    #expect(error?.code == .unreachable && error?.message.contains("which has exited") == true)
    try endpoint(pid: getpid())
    #expect(throws: Never.self) {
        _ = try DaemonClient(options: ConnectionOptions(url: nil, token: nil, stateDir: directory))
    }
}

/// Spaces at either end of a secret file were dropped, so signatures checked with the file's bytes failed.
@Test func aSecretFileLosesOnlyItsLineEnd() {
    #expect(HooksAdd.secret(inFile: "  s3cret with space \n") == "  s3cret with space ")
    #expect(HooksAdd.secret(inFile: "s3cret\r\n") == "s3cret" && HooksAdd.secret(inFile: "s3cret") == "s3cret")
}

/// The receipt key is a secret as the token is: doctor said all was well with it world-readable.
@Test func doctorFailsASecretOthersCanRead() {
    let open = DoctorFinding.secret(.receiptKey, path: "/s/receipt-key", permissions: 0o100644, ownedByUser: true)
    #expect(open.status == .fail && open.detail.contains("the key that signs receipts"))
    #expect(open.remedy == "chmod 600 /s/receipt-key")
    #expect(DoctorFinding.secret(.receiptKey, path: "/s/k", permissions: 0o100600, ownedByUser: true).status == .ok)
    #expect(DoctorFinding.secret(.token, path: "/s/token", permissions: 0o100640, ownedByUser: true).status == .fail)
}

/// `follow` kept the URL it started with, and gave up on a run a daemon restarted on another port completed.
@Test func aClientFoundThroughTheEndpointFileFindsTheDaemonWhereItMoved() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2h-moved-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try "t".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
    func endpoint(_ url: String) throws {
        try StateDirectory.jsonEncoder.encode(DaemonEndpoint(url: url, pid: getpid()))
            .write(to: URL(fileURLWithPath: directory + "/daemon.json"))
    }
    try endpoint("http://127.0.0.1:7001")
    let client = try DaemonClient(options: ConnectionOptions(url: nil, token: nil, stateDir: directory))
    #expect(client.rediscovered() == nil, "the file names where it is already")
    try endpoint("http://127.0.0.1:7002")
    #expect(client.rediscovered()?.baseURL.absoluteString == "http://127.0.0.1:7002")
    let given = try DaemonClient(
        options: ConnectionOptions(url: "http://127.0.0.1:7001", token: "t", stateDir: directory))
    #expect(given.rediscovered() == nil, "a URL the user gave is kept")
}
