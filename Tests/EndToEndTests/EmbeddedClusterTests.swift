import Foundation
import Testing
import WireTypes

/// e2hd with no database URL: its own PostgreSQL under the state directory.
@Suite("Embedded PostgreSQL", .serialized)
struct EmbeddedClusterTests {
    @Test func firstStartInitializesLaterStartsReuseAndDataSurvivesKills() async throws {
        try await Self.withEmbedded(arguments: ["--workers", "0"]) { daemon, state in
            let specFile = state + ".yaml"
            try "name: kept\nseed: 5\n".write(toFile: specFile, atomically: true, encoding: .utf8)
            try await Self.exercise(daemon, state: state, specFile: specFile)
        }
    }

    static func exercise(_ daemon: DaemonUnderTest, state: String, specFile: String) async throws {
        try await daemon.start()
        #expect(daemon.log.contains("initializing embedded PostgreSQL cluster"))
        let submitted = try await daemon.e2hJSON(SubmitResponse.self, "submit", specFile, "--key", "kept")

        // A clean stop stops the cluster too; the next start reuses the data directory.
        await daemon.stop()
        #expect(await daemon.waitForExit(timeout: .seconds(1)) == 0)
        #expect(!FileManager.default.fileExists(atPath: state + "/postgres/data/postmaster.pid"))
        let logLength = daemon.log.count
        try await daemon.start()
        #expect(!daemon.log.dropFirst(logLength).contains("initializing"))
        #expect(try await daemon.e2hJSON(RunList.self, "runs").runs.map(\.id) == [submitted.run.id])

        // kill -9: the server outlives the daemon, and the next start adopts it.
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit(timeout: .seconds(10))
        try await daemon.start()
        #expect(daemon.log.contains("already running; reusing it"))
        #expect(try await daemon.e2hJSON(RunList.self, "runs").runs.map(\.id) == [submitted.run.id])

        // Daemon and server both killed: a stale postmaster.pid, recovered on the next start.
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit(timeout: .seconds(10))
        let pidText = try String(contentsOfFile: state + "/postgres/data/postmaster.pid", encoding: .utf8)
        let serverPID = try #require(pid_t(pidText.split(separator: "\n")[0]))
        kill(serverPID, SIGKILL)
        try await Task.sleep(for: .seconds(1))
        try await daemon.start()
        let again = try await daemon.e2hJSON(SubmitResponse.self, "submit", specFile, "--key", "kept")
        #expect(!again.created && again.run.id == submitted.run.id)
        await daemon.stop()
        #expect(await daemon.waitForExit(timeout: .seconds(1)) == 0)
    }

    /// The postmaster killed mid-run: e2hd notices, restarts it, `/readyz` comes back, and the run completes
    /// with the bits of an uninterrupted one (replay), with no hand on the daemon.
    @Test func aKilledPostmasterIsRestartedAndTheRunCompletesIdentically() async throws {
        try await Self.withEmbedded { daemon, state in
            try await daemon.start()
            let run = try await SmokeRunTests.submitLongSFTRunningPastACheckpoint(daemon)
            #expect(try await daemon.request("GET", "/readyz", token: nil).status == 200)
            let pidText = try String(contentsOfFile: state + "/postgres/data/postmaster.pid", encoding: .utf8)
            let serverPID = try #require(pid_t(pidText.split(separator: "\n")[0]))
            kill(serverPID, SIGKILL)
            // While the server is down the API answers 503s; poll through them.
            let deadline = ContinuousClock.now + .seconds(300)
            var state: RunState?
            while ContinuousClock.now < deadline, state != .completed {
                let response = try await daemon.request("GET", "/v1/runs/\(run)", token: try daemon.token)
                if response.status == 200 {
                    state = try StateDirectory.jsonDecoder.decode(RunDetails.self, from: response.body).state
                }
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(state == .completed, "\(daemon.log.suffix(3000))")
            #expect(daemon.log.contains("embedded PostgreSQL restarted"), "\(daemon.log.suffix(3000))")
            #expect(try await daemon.request("GET", "/readyz", token: nil).status == 200)
            let replay = try await daemon.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")
            await daemon.stop()
            #expect(await daemon.waitForExit(timeout: .seconds(1)) == 0)
        }
    }

    /// A daemon killed mid-run on its embedded server: the next start knows the lease's holder is dead (no other daemon
    /// can reach this database) and takes the run back at once, not a lease (90 s) later.
    @Test func aRestartedDaemonTakesBackTheRunsOfTheOneThatDied() async throws {
        try await Self.withEmbedded(arguments: []) { daemon, _ in
            try await daemon.start()
            let run = try await SmokeRunTests.submitLongSFTRunningPastACheckpoint(daemon)
            daemon.signal(SIGKILL)
            _ = await daemon.waitForExit(timeout: .seconds(10))
            try await daemon.start()
            let restarted = ContinuousClock.now
            try await daemon.waitFor(run, timeout: .seconds(60), "the run's second claim") { details, _ in
                details.attempt == 2
            }
            #expect(ContinuousClock.now - restarted < .seconds(45), "the run waited for its lease to expire")
            await daemon.stop()
        }
    }

    /// A postmaster that keeps dying (more than 5 deaths in 10 minutes) ends e2hd with an error exit that names the
    /// server's log, while a run's worker is blocked reconnecting — not with ServiceLifecycle's fatal error
    /// (SIGILL, exit 132), which is what a reconnect outliving the cancellation budget gave before.
    @Test func aPostmasterThatKeepsDyingEndsTheDaemonWithAnErrorNotACrash() async throws {
        try await Self.withEmbedded { daemon, state in
            try await daemon.start()
            _ = try await SmokeRunTests.submitLongSFTRunningPastACheckpoint(daemon)
            let pidFile = state + "/postgres/data/postmaster.pid"
            var killed: Set<pid_t> = []
            var status: Int32?
            let deadline = ContinuousClock.now + .seconds(240)
            while status == nil, ContinuousClock.now < deadline {
                // Kill each server the supervisor starts, as soon as its pid file names it.
                if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                    let pid = pid_t(text.split(separator: "\n").first ?? ""), !killed.contains(pid), kill(pid, 0) == 0
                {
                    kill(pid, SIGKILL)
                    killed.insert(pid)
                }
                status = await daemon.waitForExit(timeout: .milliseconds(200))
            }
            // Six deaths end it; a restart that itself fails (a loaded machine) counts as one, so fewer kills may do.
            #expect((1...6).contains(killed.count), "\(daemon.log.suffix(3000))")
            #expect(status == 1, "exit status \(String(describing: status)): \(daemon.log.suffix(3000))")
            #expect(daemon.log.contains("giving up"), "\(daemon.log.suffix(3000))")
        }
    }

    /// A daemon on its own embedded server in a scratch state directory, handed to `body`; afterwards (whatever it
    /// did) the daemon is stopped and no server is left behind, and on success the directory is removed.
    static func withEmbedded(
        arguments: [String] = DaemonUnderTest.fastLeases, _ body: (DaemonUnderTest, String) async throws -> Void
    ) async throws {
        let state = try Harness.scratchDirectory() + "/state"
        let daemon = DaemonUnderTest(stateDirectory: state, databaseURL: nil, arguments: arguments)
        do {
            try await body(daemon, state)
        } catch {
            await daemon.stop()
            await stopCluster(state)
            throw error
        }
        await daemon.stop()
        await stopCluster(state)
        try? FileManager.default.removeItem(atPath: (state as NSString).deletingLastPathComponent)
    }

    /// Leaves no server behind whatever the test did.
    static func stopCluster(_ state: String) async {
        let data = state + "/postgres/data"
        guard FileManager.default.fileExists(atPath: data + "/postmaster.pid"),
            let bin = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last
        else { return }
        _ = try? await ChildProcess.run(
            "/usr/sbin/runuser",
            ["-u", "postgres", "--", "/usr/lib/postgresql/\(bin)/bin/pg_ctl", "-D", data, "-m", "immediate", "stop"])
    }
}
