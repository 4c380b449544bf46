import Foundation
import Testing
import WireTypes

/// `e2h replay` queues a job that a worker executes like a run: a daemon without workers never executes one,
/// a replay waits for a free worker, a cancel stops it, and a crash of its daemon only delays its verdict.
@Suite("Replays as jobs", .serialized)
struct ReplayJobTests {
    func requestReplay(of run: String, on daemon: DaemonUnderTest) async throws -> RunDetails {
        let response = try await daemon.request("POST", "/v1/runs/\(run)/replay", token: try daemon.token)
        #expect(response.status == 202, "\(String(decoding: response.body, as: UTF8.self))")
        return try StateDirectory.jsonDecoder.decode(SubmitResponse.self, from: response.body).run
    }

    @Test func aDaemonWithoutWorkersQueuesAReplayButNeverExecutesIt() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: DaemonUnderTest.fastLeases + ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            // A queued run has recorded nothing to compare with; a cancelled one has its record so far.
            let early = try await daemon.request("POST", "/v1/runs/\(run)/replay", token: try daemon.token)
            #expect(early.status == 409 && String(decoding: early.body, as: UTF8.self).contains("is queued"))
            #expect(try await daemon.e2h("cancel", run).status == 0)
            let asked = ContinuousClock.now
            let replay = try await requestReplay(of: run, on: daemon)
            // Answered at once: queued, not executed by the request.
            #expect(ContinuousClock.now - asked < .seconds(5))
            #expect(replay.replayOf == run && replay.state == .queued)
            try await Task.sleep(for: .seconds(3))
            #expect(try await daemon.details(replay.id).state == .queued)
            #expect(try await daemon.events(replay.id).map(\.type) == ["RunSubmitted"])
            #expect(try await daemon.e2h("cancel", replay.id).status == 0)
            #expect(try await daemon.details(replay.id).state == .cancelled)
        }
    }

    /// One worker: a replay waits while a run holds it, then runs, and a cancel stops it mid-execution.
    @Test func aReplayWaitsForAFreeWorkerAndACancelStopsIt() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await SmokeRunTests.submitLongSFTRunningPastACheckpoint(daemon)
            let replay = try await requestReplay(of: run, on: daemon)
            try await Task.sleep(for: .seconds(2))
            #expect(try await daemon.details(run).state == .running)
            #expect(try await daemon.details(replay.id).state == .queued, "a replay ran beside the run on one worker")

            #expect(try await daemon.e2h("cancel", run).status == 0)
            try await daemon.waitFor(replay.id, "the replay's claim") { details, _ in details.state == .running }
            #expect(try await daemon.details(run).state == .cancelled)
            try await Task.sleep(for: .seconds(1))
            let cancelled = ContinuousClock.now
            #expect(try await daemon.e2h("cancel", replay.id).status == 0)
            try await daemon.waitFor(replay.id, timeout: .seconds(30), "the replay's cancel") { details, _ in
                details.state.isFinal
            }
            #expect(ContinuousClock.now - cancelled < .seconds(10))
            #expect(try await daemon.details(replay.id).state == .cancelled)
            let types = try await daemon.events(replay.id).map(\.type)
            #expect(types == ["RunSubmitted", "RunClaimed", "RunCancelled"], "\(types)")
        }
    }

    /// A replay whose daemon dies (SIGKILL) mid-execution is requeued once its lease expires, re-leased by the next
    /// daemon and re-executed from its beginning (its scratch record died with the process) to a recorded verdict.
    @Test func aReplayKilledMidExecutionIsReleasedAndCompletesWithAVerdict() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start(name: "first")
        try await withDaemons([daemon]) {
            let run = try await daemon.e2hJSON(
                SubmitResponse.self, "submit", try SmokeRunTests.writeLongSFTSpec(for: daemon)
            ).run.id
            try await daemon.waitFor(run, timeout: .seconds(900), "completion") { details, _ in
                details.state == .completed
            }
            let replay = try await requestReplay(of: run, on: daemon)
            try await daemon.waitFor(replay.id, "the replay's claim") { details, _ in details.state == .running }
            try await Task.sleep(for: .seconds(1))
            #expect(
                try await daemon.details(replay.id).state == .running,
                "the replay ended before the kill; lengthen the spec's SFT")
            daemon.signal(SIGKILL)
            _ = await daemon.waitForExit(timeout: .seconds(10))

            try await daemon.start(name: "second")
            try await daemon.waitFor(replay.id, timeout: .seconds(900), "the replay's verdict after the restart") {
                details, _ in details.state.isFinal
            }
            let details = try await daemon.details(replay.id)
            #expect(details.state == .completed && details.attempt == 2, "\(details)")
            let events = try await daemon.events(replay.id)
            #expect(
                events.map(\.type) == [
                    "RunSubmitted", "RunClaimed", "RunInterrupted", "RunClaimed", "RunReplayed", "RunCompleted",
                ], "\(events.map(\.type))")
            let replayed = try #require(events.first { $0.type == "RunReplayed" })
            #expect(replayed.payload["report"]?["identical"] == .bool(true), "\(replayed.payload)")
            #expect(SmokeRunTests.attempt(of: replayed) == 2, "the verdict was not the second attempt's")
        }
    }
}
