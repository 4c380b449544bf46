import Foundation
import Testing
import WireTypes

/// Auth, limits and errors through the real e2hd and e2h.
@Suite("API surface", .serialized)
struct APISurfaceTests {
    static let validSpec = "name: surface\nseed: 3\n"

    @Test func authLimitsAndValidationRejectWithoutSideEffects() async throws {
        let daemon = DaemonUnderTest(
            stateDirectory: try Harness.scratchDirectory() + "/state", databaseURL: try await Harness.createDatabase(),
            arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) { try await checkSurface(daemon) }
    }

    @Test func daemonsStartingAtOnceOnAnEmptyDatabaseMigrateItOnce() async throws {
        let database = try await Harness.createDatabase()
        let daemons = try (0..<3).map { _ in
            DaemonUnderTest(
                stateDirectory: try Harness.scratchDirectory() + "/state", databaseURL: database,
                arguments: ["--workers", "0"])
        }
        try await withDaemons(daemons) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for daemon in daemons { group.addTask { try await daemon.start() } }
                try await group.waitForAll()
            }
            // Each set once: the store's and the daemon's (the queue), each in its own ledger.
            #expect(
                try await Harness.sql(
                    database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
                    == "1,2,3,4")
            #expect(
                try await Harness.sql(
                    database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM daemon_migrations")
                    == "1,2,3,4,5,6,7,8,9")
            for daemon in daemons {
                #expect(try await daemon.request("GET", "/healthz", token: nil).status == 200)
            }
        }
    }

    static func specFile(_ daemon: DaemonUnderTest) throws -> String {
        let path = (daemon.stateDirectory as NSString).deletingLastPathComponent + "/valid.yaml"
        try validSpec.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A daemon that cannot bind its port exits non-zero and stops the embedded PostgreSQL it had started.
    @Test func aDaemonThatCannotBindItsPortStopsItsEmbeddedDatabase() async throws {
        let scratch = try Harness.scratchDirectory()
        let first = DaemonUnderTest(
            stateDirectory: scratch + "/first", databaseURL: try await Harness.createDatabase(),
            arguments: ["--workers", "0"])
        try await first.start()
        try await withDaemons([first]) {
            let port = try #require(URL(string: first.url)?.port)
            let state = scratch + "/second"
            let process = try ChildProcess(
                try Harness.binDirectory + "/e2hd", ["--state-dir", state, "--port", "\(port)", "--workers", "0"],
                outputPath: scratch + "/second.log")
            let status = await process.waitForExit(timeout: .seconds(120))
            let log = (try? String(contentsOfFile: scratch + "/second.log", encoding: .utf8)) ?? ""
            #expect(status != nil && status != 0, "\(log.suffix(2000))")
            // The embedded cluster's postmaster.pid is gone once pg_ctl stopped it.
            let pidFiles = (FileManager.default.enumerator(atPath: state)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix("postmaster.pid") }
            #expect(pidFiles.isEmpty, "the embedded PostgreSQL still runs: \(pidFiles)\n\(log.suffix(2000))")
        }
    }

    func checkSurface(_ daemon: DaemonUnderTest) async throws {
        let token = try daemon.token
        let submit = try StateDirectory.jsonEncoder.encode(SubmitRequest(yaml: Self.validSpec, file: "s.yaml"))

        #expect(try await daemon.request("GET", "/healthz", token: nil).status == 200)
        for badToken in [nil, "wrong", String(token.dropLast()) + "0"] where badToken != token {
            let response = try await daemon.request("POST", "/v1/runs", body: submit, token: badToken)
            #expect(response.status == 401)
            let envelope = try StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: response.body)
            #expect(envelope.error.code == "unauthorized")
            #expect(try await daemon.request("GET", "/metrics", token: badToken).status == 401)
        }

        let oversized = try StateDirectory.jsonEncoder.encode(
            SubmitRequest(yaml: "name: big\n# " + String(repeating: "x", count: 1_200_000), file: "big.yaml"))
        let tooLarge = try await daemon.request("POST", "/v1/runs", body: oversized, token: token)
        #expect(tooLarge.status == 413)
        #expect(
            try StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: tooLarge.body).error.code
                == "body_too_large")

        let invalid = try StateDirectory.jsonEncoder.encode(
            SubmitRequest(yaml: "name: bad\nseed: 1\npolicy:\n  sft:\n    stepz: 3\n", file: "bad.yaml"))
        let rejected = try await daemon.request("POST", "/v1/runs", body: invalid, token: token)
        #expect(rejected.status == 400)
        let diagnostics = try StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: rejected.body).error
            .diagnostics
        #expect(diagnostics?.contains { $0.hasPrefix("bad.yaml:5:5") } == true, "\(diagnostics ?? [])")

        // Hostile query values are 400s that name the parameter (wait=nan once killed the daemon), and every
        // error carries the request id its log line has.
        let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", try Self.specFile(daemon)).run.id
        for query in ["wait=nan", "wait=inf", "wait=-1", "wait=1e999", "limit=-1", "limit=0", "after=-5", "after=x"] {
            let response = try await daemon.request("GET", "/v1/runs/\(run)/events?\(query)", token: token)
            #expect(response.status == 400, "\(query)")
            let error = try StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: response.body).error
            #expect(error.code == "bad_request" && error.message.contains(query.prefix { $0 != "=" }), "\(query)")
            #expect(error.requestId?.count == 8, "\(query)")
        }
        for query in ["limit=-1", "limit=99999999999999999999", "status=nonsense"] {
            #expect(try await daemon.request("GET", "/v1/runs?\(query)", token: token).status == 400, "\(query)")
        }
        #expect(try await daemon.request("GET", "/healthz", token: nil).status == 200, "the daemon died")

        let missing = try await daemon.request("GET", "/v1/runs/0123abcd", token: token)
        #expect(missing.status == 404)
        #expect(try StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: missing.body).error.code == "not_found")
        // A path's id is percent-decoded, as a client that escapes every segment writes it (it was "no run").
        let escaped = run.replacingOccurrences(of: "-", with: "%2D")
        #expect(try await daemon.request("GET", "/v1/runs/\(escaped)", token: token).status == 200)
        #expect(try await daemon.request("GET", "/v1/runs/%FF", token: token).status == 400)
        // A routed path under another method is a 405 that names the methods it takes (it was a 404, as if the run
        // did not exist); a path nothing routes stays a 404.
        let wrongMethod = try await daemon.request("DELETE", "/v1/runs/\(run)", token: token)
        #expect(wrongMethod.status == 405)
        let refusal = try StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: wrongMethod.body).error
        #expect(refusal.code == "method_not_allowed" && refusal.message == "/v1/runs/\(run) takes GET, not DELETE")
        #expect(refusal.requestId?.count == 8)
        #expect(try await daemon.request("GET", "/v1/runs/\(run)/cancel", token: token).status == 405)
        #expect(try await daemon.request("GET", "/v1/nothing/here", token: token).status == 404)

        let list = try await daemon.e2hJSON(RunList.self, "runs")
        #expect(list.runs.map(\.id) == [run], "a rejected request queued a run")

        // The CLI's exit codes: 2 for a bad spec, 3 when no daemon answers.
        let directory = (daemon.stateDirectory as NSString).deletingLastPathComponent
        let badFile = directory + "/bad.yaml"
        try "name: bad\nseed: 1\npolicy:\n  sft:\n    stepz: 3\n".write(
            toFile: badFile, atomically: true, encoding: .utf8)
        let submitted = try await daemon.e2h("submit", badFile)
        #expect(submitted.status == 2)
        #expect(submitted.output.contains("bad.yaml:5:5"))
        let validated = try await ChildProcess.run(try Harness.binDirectory + "/e2h", ["validate", badFile])
        #expect(validated.status == 2)
        let unreachable = try await ChildProcess.run(
            try Harness.binDirectory + "/e2h", ["runs", "--url", "http://127.0.0.1:9", "--token", "x"])
        #expect(unreachable.status == 3)
        #expect(try await daemon.e2h("show", "deadbeef").status == 2)
    }
}
