import Foundation
import Testing
import WireTypes

/// The client's `E2H_*` defaults through the real `e2h`: each variable sets its option's default, an option on the
/// command line wins, a bad value is a usage error that names the variable, `--help` lists them and `doctor` shows
/// which are set (the token hidden).
@Suite("E2H_* environment variables", .serialized)
struct ClientEnvironmentTests {
    static let variables = [
        "E2H_URL", "E2H_TOKEN", "E2H_STATE_DIR", "E2H_OUTPUT", "E2H_COLOR", "E2H_TIMEOUT", "E2H_PRIORITY", "E2H_LIMIT",
    ]

    static func e2h(
        _ arguments: [String], _ environment: [String: String]
    ) async throws -> (
        status: Int32, output: String
    ) {
        try await ChildProcess.run(try Harness.binDirectory + "/e2h", arguments, environment: environment)
    }

    @Test func helpListsEveryVariable() async throws {
        let help = try await Self.e2h(["--help"], [:])
        for variable in Self.variables { #expect(help.output.contains(variable), "\(variable) missing from --help") }
    }

    @Test func aBadValueIsAUsageErrorNamingTheVariable() async throws {
        for (name, value) in [
            ("E2H_OUTPUT", "xml"), ("E2H_COLOR", "sometimes"), ("E2H_TIMEOUT", "0"), ("E2H_TIMEOUT", "nan"),
            ("E2H_PRIORITY", "high"), ("E2H_LIMIT", "0"),
        ] {
            let result = try await Self.e2h(["runs", "--url", "http://127.0.0.1:9"], [name: value])
            #expect(result.status == 2, "\(name)=\(value): \(result.output)")
            #expect(result.output.contains("\(name)=\(value)"), "\(name)=\(value): \(result.output)")
        }
    }

    @Test func eachVariableSetsItsDefaultAndTheCommandLineWins() async throws {
        let daemon = DaemonUnderTest(
            stateDirectory: try Harness.scratchDirectory() + "/state", databaseURL: try await Harness.createDatabase(),
            arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let spec = try APISurfaceTests.specFile(daemon)
            // E2H_STATE_DIR finds the daemon and its token, as --state-dir would.
            let state = ["E2H_STATE_DIR": daemon.stateDirectory]

            let fromVariable = try await Self.e2h(
                ["submit", spec], state.merging(["E2H_PRIORITY": "7", "E2H_OUTPUT": "json"]) { $1 })
            let first = try StateDirectory.jsonDecoder.decode(SubmitResponse.self, from: Data(fromVariable.output.utf8))
            #expect(first.run.priority == 7)
            let fromOption = try await Self.e2h(
                ["submit", spec, "--priority", "3", "--json"], state.merging(["E2H_PRIORITY": "7"]) { $1 })
            let second = try StateDirectory.jsonDecoder.decode(SubmitResponse.self, from: Data(fromOption.output.utf8))
            #expect(second.run.priority == 3)

            let limited = try await Self.e2h(["runs"], state.merging(["E2H_OUTPUT": "json", "E2H_LIMIT": "1"]) { $1 })
            #expect(
                try StateDirectory.jsonDecoder.decode(RunList.self, from: Data(limited.output.utf8)).runs.count == 1)
            let csv = try await Self.e2h(
                ["runs", "--limit", "2"], state.merging(["E2H_OUTPUT": "csv", "E2H_LIMIT": "1"]) { $1 })
            #expect(csv.status == 0 && csv.output.hasPrefix("RUN,NAME,"), "\(csv.output)")
            #expect(csv.output.split(separator: "\n").count == 3, "the header and both runs: \(csv.output)")
            // An empty variable is unset: the table again.
            let table = try await Self.e2h(["runs"], state.merging(["E2H_OUTPUT": ""]) { $1 })
            #expect(table.status == 0 && table.output.hasPrefix("RUN "), "\(table.output)")

            // E2H_URL and E2H_TOKEN stand for --url and --token; a wrong token is refused by the daemon.
            let direct = ["E2H_URL": daemon.url, "E2H_TOKEN": try daemon.token, "E2H_STATE_DIR": "/nonexistent"]
            #expect(try await Self.e2h(["show", first.run.id], direct).status == 0)
            let refused = try await Self.e2h(["show", first.run.id], direct.merging(["E2H_TOKEN": "wrong"]) { $1 })
            #expect(refused.status != 0)

            let doctor = try await Self.e2h(
                ["doctor"], direct.merging(["E2H_OUTPUT": "json", "E2H_TOKEN": try daemon.token]) { $1 })
            #expect(doctor.output.contains("E2H_OUTPUT=json"), "\(doctor.output)")
            #expect(doctor.output.contains("E2H_TOKEN=(hidden)"), "\(doctor.output)")
            #expect(!doctor.output.contains(try daemon.token), "doctor printed the token")
        }
    }
}
