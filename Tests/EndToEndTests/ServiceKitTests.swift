import Foundation
import Testing
import WireTypes

/// The operations kit through the real binaries: `e2h doctor`, `e2h completion`, the systemd unit.
@Suite("Service kit", .serialized)
struct ServiceKitTests {
    @Test func doctorPassesAgainstAHealthyDaemonAndNamesWhatToFix() async throws {
        let daemon = DaemonUnderTest(
            stateDirectory: try Harness.scratchDirectory() + "/state", databaseURL: try await Harness.createDatabase(),
            arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let healthy = try await daemon.e2h("doctor")
            #expect(healthy.status == 0, "\(healthy.output)")
            for check in ["environment", "state", "token", "proxy", "daemon", "database", "auth", "disk", "cpu"] {
                #expect(
                    healthy.output.split(separator: "\n").contains { $0.hasPrefix("ok") && $0.contains(" \(check) ") },
                    "no passing \(check) check in:\n\(healthy.output)")
            }

            // A token others can read is a failure, with the command that fixes it.
            let token = daemon.stateDirectory + "/" + StateDirectory.tokenFile
            chmod(token, 0o644)
            let exposed = try await daemon.e2h("doctor")
            #expect(exposed.status == 1)
            #expect(exposed.output.contains("FAIL  token"), "\(exposed.output)")
            #expect(exposed.output.contains("chmod 600 \(token)"), "\(exposed.output)")
            chmod(token, 0o600)

            // A daemon that does not answer is a failure that says how to start one.
            await daemon.stop()
            let stopped = try await daemon.e2h("doctor")
            #expect(stopped.status == 1)
            #expect(stopped.output.contains("FAIL  daemon"), "\(stopped.output)")
        }
    }

    @Test func completionScriptsAreGeneratedFromTheCommands() async throws {
        let e2h = try Harness.binDirectory + "/e2h"
        let bash = try await ChildProcess.run(e2h, ["completion", "bash"])
        #expect(bash.status == 0)
        for command in ["submit", "compare", "doctor", "completion"] {
            #expect(bash.output.contains(command), "the bash script does not complete \(command)")
        }
        let path = try Harness.scratchDirectory() + "/e2h.bash"
        try bash.output.write(toFile: path, atomically: true, encoding: .utf8)
        let syntax = try await ChildProcess.run("/bin/bash", ["-n", path])
        #expect(syntax.status == 0, "bash cannot parse the script: \(syntax.output)")

        for shell in ["zsh", "fish"] {
            let script = try await ChildProcess.run(e2h, ["completion", shell])
            #expect(script.status == 0 && script.output.contains("compare"), "\(shell): \(script.output)")
        }
        let unknown = try await ChildProcess.run(e2h, ["completion", "tcsh"])
        #expect(unknown.status == 2, "a usage error exits 2, as `e2h --help` promises")
        #expect(unknown.output.contains("unknown shell tcsh"), "\(unknown.output)")
    }

    /// The committed unit passes `systemd-analyze verify` with the real e2hd in its ExecStart, and keeps the stop
    /// ordering that lets e2hd shut its embedded PostgreSQL down itself.
    @Test func systemdUnitVerifies() async throws {
        let unit = try String(
            contentsOfFile: Harness.repositoryRoot + "/scripts/systemd/e2hd.service", encoding: .utf8)
        #expect(unit.contains("\nKillMode=mixed\n"))
        #expect(unit.contains("\nExecStart=/usr/local/bin/e2hd "))
        let path = try Harness.scratchDirectory() + "/e2hd.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/e2hd", with: try Harness.binDirectory + "/e2hd")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let verify = try await ChildProcess.run("/usr/bin/systemd-analyze", ["verify", path])
        #expect(verify.status == 0, "systemd-analyze verify: \(verify.output)")
    }
}
