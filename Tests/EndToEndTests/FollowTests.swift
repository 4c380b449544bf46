import Foundation
import Testing
import WireTypes

/// `e2h follow` against a real e2hd: over the event stream, and by long-polling against a daemon without it;
/// `--exit-status` exits with the run's outcome.
@Suite("e2h follow", .serialized)
struct FollowTests {
    /// How many live streams the daemon opened for `e2h follow`, from its /metrics.
    static func apiStreams(_ daemon: DaemonUnderTest) async throws -> Int {
        let metrics = String(
            decoding: try await daemon.request("GET", "/metrics", token: try daemon.token).body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first {
            $0.hasPrefix("e2h_live_streams_opened_total{reader=\"api\"}")
        }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? -1
    }

    @Test func followStreamsARunFallsBackToPollingAndExitsWithTheOutcome() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start()
        let proxy = OlderDaemonProxy(upstream: daemon.url)
        let older = try await proxy.start()
        defer { proxy.stop() }
        try await withDaemons([daemon]) {
            let streamsBefore = try await Self.apiStreams(daemon)
            #expect(streamsBefore == 0)
            let run = try await daemon.e2hJSON(
                SubmitResponse.self, "submit", try SmokeRunTests.writeLongSFTSpec(for: daemon)
            ).run.id
            // Followed over the stream from the start; cancelled once it trained past a checkpoint.
            async let streamed = daemon.e2h("follow", run, "--exit-status")
            try await daemon.waitFor(run, "a checkpoint") { _, events in
                events.contains { $0.type == "CheckpointSaved" }
            }
            #expect(try await daemon.e2h("cancel", run).status == 0)
            let followed = try await streamed
            #expect(followed.status == 5, "\(followed.output)\n\(daemon.log.suffix(3000))")
            #expect(followed.output.contains("▶ sft"), "\(followed.output)")
            #expect(followed.output.contains("  checkpoint "), "\(followed.output)")
            #expect(followed.output.contains("\(run) cancelled"), "\(followed.output)")
            // Not a terminal: the progress as plain lines, with the bar, the loss and the rate.
            let progress = followed.output.split(separator: "\n").filter { $0.hasPrefix("sft policy [") }
            #expect(!progress.isEmpty, "\(followed.output)")
            #expect(progress.contains { $0.contains(" steps · loss ") }, "\(progress)")
            #expect(!followed.output.contains("\u{1B}"), "no colour or redraw outside a terminal")
            #expect(try await Self.apiStreams(daemon) == streamsBefore + 1)

            // A daemon without the stream: the same run, read by long-polling, with the same outcome.
            let polled = try await daemon.e2h("follow", run, "--exit-status", "--url", older)
            #expect(polled.status == 5, "\(polled.output)")
            #expect(polled.output.contains("▶ sft") && polled.output.contains("· RunCancelled"), "\(polled.output)")
            #expect(proxy.paths.contains("/v1/runs/\(run)/stream"))
            #expect(proxy.paths.contains("/v1/runs/\(run)/events"))
            #expect(try await Self.apiStreams(daemon) == streamsBefore + 1)

            // Resumed, and followed live by polling to its completion: exit 0.
            #expect(try await daemon.e2h("resume", run).status == 0)
            let completed = try await daemon.e2h("follow", run, "--exit-status", "--url", older)
            #expect(completed.status == 0, "\(completed.output)\n\(daemon.log.suffix(3000))")
            #expect(completed.output.contains("· RunResumed") && completed.output.contains("\(run) completed"))
            // A finished run over the stream: everything, then the end, at once.
            let replayed = try await daemon.e2h("follow", run, "--exit-status")
            #expect(replayed.status == 0 && replayed.output.contains("next: e2h compare \(run)"), "\(replayed.output)")
            #expect(replayed.output.components(separatedBy: "· RunResumed").count == 2, "\(replayed.output)")
        }
    }

    /// Following a run that waits in the queue costs next to no CPU: the stream is read as its bytes arrive (a
    /// keep-alive every 5 s). Over URLSession the follower kept a core busy for as long as the stream was open.
    @Test func followingAWaitingRunCostsNoCPU() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: DaemonUnderTest.fastLeases + ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await daemon.e2hJSON(
                SubmitResponse.self, "submit", try SmokeRunTests.writeLongSFTSpec(for: daemon)
            ).run.id
            let output = try Harness.scratchDirectory() + "/follow.out"
            let follower = try ChildProcess(
                try Harness.binDirectory + "/e2h", ["follow", run, "--state-dir", daemon.stateDirectory],
                outputPath: output)
            try await Task.sleep(for: .seconds(8))
            let seconds = try Self.cpuSeconds(of: follower.pid)
            #expect(try await daemon.e2h("cancel", run).status == 0)
            let status = await follower.waitForExit(timeout: .seconds(60))
            if status == nil { follower.signal(SIGKILL) }
            #expect(status != nil, "follow did not end with its run: \(follower.output)")
            // Starting the client costs a fraction of this; a busy loop takes most of the 8 s even on a loaded machine.
            #expect(seconds < 1.5, "e2h follow used \(seconds) s of CPU in 8 s of waiting: \(follower.output)")
        }
    }

    /// A daemon that restarts under a follower is waited for and the run followed on; one that stays away past
    /// E2H_TIMEOUT ends the follower with "unreachable" (3). The lost connections are said on standard error.
    @Test func followRidesOutARestartAndGivesUpOnADaemonThatStaysAway() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: DaemonUnderTest.fastLeases + ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let spec = try SmokeRunTests.writeLongSFTSpec(for: daemon)
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec).run.id
            let scratch = try Harness.scratchDirectory()
            let follower = try ChildProcess(
                try Harness.binDirectory + "/e2h",
                ["follow", run, "--exit-status", "--url", daemon.url, "--state-dir", daemon.stateDirectory],
                outputPath: scratch + "/restart.out")
            try await Harness.waitUntil("the follower's first line") { follower.output.contains("· RunSubmitted") }
            let port = try #require(URL(string: daemon.url)?.port)
            await daemon.stop()
            try await Harness.waitUntil("the follower to notice") { follower.output.contains("is not answering") }
            try await daemon.start(port: port)
            try await Harness.waitUntil("the follower to reconnect", timeout: .seconds(90)) {
                follower.output.contains("e2h: reconnected to e2hd at \(daemon.url)")
            }
            #expect(try await daemon.e2h("cancel", run).status == 0)
            let status = await follower.waitForExit(timeout: .seconds(60))
            if status == nil { follower.signal(SIGKILL) }
            #expect(status == 5, "\(follower.output)")
            #expect(follower.output.contains("trying again for up to 60 s (E2H_TIMEOUT)"), "\(follower.output)")
            #expect(follower.output.contains("\(run) cancelled"), "\(follower.output)")

            // Killed, and not started again: the follower gives up once E2H_TIMEOUT has passed.
            let waiting = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec).run.id
            let abandoned = try ChildProcess(
                try Harness.binDirectory + "/e2h",
                ["follow", waiting, "--url", daemon.url, "--state-dir", daemon.stateDirectory],
                outputPath: scratch + "/gone.out", environment: ["E2H_TIMEOUT": "3"])
            try await Harness.waitUntil("the second follower's first line") {
                abandoned.output.contains("· RunSubmitted")
            }
            daemon.signal(SIGKILL)
            let given = await abandoned.waitForExit(timeout: .seconds(60))
            if given == nil { abandoned.signal(SIGKILL) }
            #expect(given == 3, "\(abandoned.output)")
            #expect(abandoned.output.contains("trying again for up to 3 s"), "\(abandoned.output)")
            #expect(abandoned.output.contains("is it running?"), "\(abandoned.output)")
            try? FileManager.default.removeItem(atPath: scratch)
        }
    }

    /// User plus system CPU time of a running process, from /proc.
    static func cpuSeconds(of pid: pid_t) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
        guard let close = stat.lastIndex(of: ")") else { throw E2EError("unreadable /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw E2EError("unreadable /proc/\(pid)/stat: \(stat)")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
