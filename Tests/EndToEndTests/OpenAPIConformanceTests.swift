import Foundation
import Testing
import WireTypes

/// e2hd's answers against its OpenAPI document, on a daemon holding a finished smoke run: `scripts/api-check`
/// fetches `/openapi.yaml` without a token, validates it (openapi-spec-validator) and has schemathesis call every
/// operation for a few seconds, checking each answer's status, content type and schema, and that none is a 5xx.
/// `scripts/fuzz` runs the same for minutes. (That the document and the router name the same operations is
/// `OpenAPIDocumentTests`.)
@Suite("OpenAPI conformance", .serialized)
struct OpenAPIConformanceTests {
    /// Set by `scripts/test` once it has installed the Python tools; unset only when pip could not install them,
    /// which `scripts/test` says on its output.
    static let toolsInstalled = ProcessInfo.processInfo.environment["E2H_API_TOOLS"] != nil

    @Test(
        .enabled(
            if: toolsInstalled,
            "scripts/test could not install openapi-spec-validator and schemathesis with pip (see its output)"))
    func everyAnswerOfADaemonWithAFinishedRunConformsToTheDocument() async throws {
        let scratch = try Harness.scratchDirectory()
        let database = try await Harness.createDatabase()
        let worker = DaemonUnderTest(stateDirectory: scratch + "/state", databaseURL: database)
        try await worker.start()
        var run = ""
        try await withDaemonsKeepingScratch([worker]) {
            run = try await worker.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await worker.waitFor(run, "completion") { details, _ in details.state == .completed }
        }
        // Checked with no worker: a spec the generator happens to make valid is queued, never executed, so the
        // check costs seconds however lucky the generator is.
        let daemon = DaemonUnderTest(
            stateDirectory: scratch + "/state", databaseURL: database, arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            // What schemathesis found, each once a dead daemon (an overflow trap) or a 503 (a database error).
            let token = try daemon.token
            let overflow = try await daemon.request(
                "GET", "/v1/runs/\(run)/events?after=9223372036854775807", token: token)
            #expect(overflow.status == 400)
            let priority = Data(#"{"yaml": "name: p\nseed: 1\n", "file": "p.yaml", "priority": 9999999999}"#.utf8)
            #expect(try await daemon.request("POST", "/v1/runs", body: priority, token: token).status == 400)
            let clone = Data(#"{"overrides": [], "priority": -9999999999}"#.utf8)
            #expect(try await daemon.request("POST", "/v1/runs/\(run)/clone", body: clone, token: token).status == 400)
            let check = try await ChildProcess.run(
                Harness.repositoryRoot + "/scripts/api-check", [daemon.url, try daemon.token, run, "20"])
            #expect(check.status == 0, "\(check.output.suffix(6000))\ndaemon log:\n\(daemon.log.suffix(3000))")
            // Not vacuous: both passes ran cases, and what they did left the daemon serving and the record intact.
            #expect(check.output.contains("ids run:") && check.output.contains("ids generated:"), "\(check.output)")
            #expect(try await daemon.request("GET", "/healthz", token: nil).status == 200)
            #expect(try await daemon.details(run).state == .completed)
            let verify = try await daemon.request("GET", "/v1/runs/\(run)/verify", token: try daemon.token)
            #expect(try StateDirectory.jsonDecoder.decode(VerifyReport.self, from: verify.body).intact)
            #expect(!daemon.log.contains("request failed"), "a request failed inside e2hd:\n\(daemon.log.suffix(3000))")
        }
    }

    /// Stops the daemons after `body` but keeps their scratch directory, which the next daemon reuses.
    private func withDaemonsKeepingScratch(_ daemons: [DaemonUnderTest], _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            for daemon in daemons { await daemon.stop() }
            throw error
        }
        for daemon in daemons { await daemon.stop() }
    }
}
