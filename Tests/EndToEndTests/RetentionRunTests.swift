import Foundation
import Testing
import WireTypes

/// Retention on the real binaries: a completed run is pruned with a tombstone, a run of the same spec killed with
/// -9 and resumed — storing again the very checkpoints the first run pruned — scores exactly as the first did, and
/// `verify` names what was pruned.
@Suite("Retention end to end", .serialized)
struct RetentionRunTests {
    /// The smoke experiment with an SFT stage of 12 checkpoints, long enough (seconds) to kill a daemon in it.
    static var spec: String {
        SmokeRunTests.longSFTSpec
            .replacingOccurrences(of: "checkpoint_interval: 100", with: "checkpoint_interval: 50")
            .replacingOccurrences(of: "steps: 3000, batch_size: 8", with: "steps: 600, batch_size: 8")
            .replacingOccurrences(of: "schedule_steps: 3000", with: "schedule_steps: 600")
    }

    static func writeSpec(for daemon: DaemonUnderTest) throws -> String {
        let path = (daemon.stateDirectory as NSString).deletingLastPathComponent + "/retention.yaml"
        try spec.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func scores(_ events: [WireEvent]) -> [JSONValue] {
        events.filter { $0.type == "ScoreRecorded" }.map(\.payload)
    }

    static func tombstoned(_ events: [WireEvent]) -> [String] {
        events.filter { $0.type == "BlobsPruned" }.flatMap { $0.payload["hashes"]?.arrayValue ?? [] }
            .compactMap(\.stringValue)
    }

    @Test func aKilledAndResumedRunScoresAsAnUninterruptedOneAndVerifyNamesWhatWasPruned() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start(name: "first")
        try await withDaemons([daemon]) {
            let spec = try Self.writeSpec(for: daemon)
            #expect(Self.spec.contains("checkpoint_interval: 50") && Self.spec.contains("steps: 600, batch_size: 8"))
            let whole = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec, "--key", "uninterrupted").run.id
            try await daemon.waitFor(whole, "completion") { details, _ in details.state.isFinal }
            #expect(try await daemon.details(whole).state == .completed)
            let wholeEvents = try await daemon.events(whole)
            let pruned = Self.tombstoned(wholeEvents)
            #expect(!pruned.isEmpty, "the completed run released nothing")
            #expect(wholeEvents.last?.type == "BlobsPruned")

            let killed = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec, "--key", "killed").run.id
            // Mid-SFT, past checkpoints whose bytes the first run pruned: this run stored them again.
            try await daemon.waitFor(killed, "SFT checkpoints") { _, events in
                events.contains {
                    $0.type == "CheckpointSaved" && $0.payload["stage"]?.stringValue == "sft"
                        && ($0.payload["step"]?.intValue ?? 0) >= 150
                }
            }
            daemon.signal(SIGKILL)
            _ = await daemon.waitForExit(timeout: .seconds(10))
            // The kill usually lands mid-SFT, but a loaded machine may let SFT end first; either way the resume
            // starts from a checkpoint whose bytes the first run had pruned, which is what this test is about.
            let completed = try await Harness.sql(
                daemon.databaseURL!,
                "SELECT count(*) FROM events WHERE stream = 'run-\(killed)' AND type = 'RunCompleted'")
            #expect(completed == "0", "the kill came after the run completed; lengthen the spec")

            try await daemon.start(name: "second")
            try await daemon.waitFor(killed, "completion after the restart") { details, _ in details.state.isFinal }
            #expect(try await daemon.details(killed).state == .completed)
            let killedEvents = try await daemon.events(killed)
            #expect(killedEvents.contains { $0.type == "RunInterrupted" })
            #expect(Self.scores(killedEvents) == Self.scores(wholeEvents) && !Self.scores(wholeEvents).isEmpty)
            // The same record, so the same blobs released (kill -9 leaves no stop checkpoint).
            #expect(Set(Self.tombstoned(killedEvents)) == Set(pruned))

            for run in [whole, killed] {
                let verified = try await daemon.e2h("verify", run)
                #expect(verified.status == 0, "\(verified.output)")
                #expect(verified.output.contains("pruned by retention"), "\(verified.output)")
                let report = try await daemon.e2hJSON(VerifyReport.self, "verify", run, "--json")
                let blobs = try #require(report.blobs)
                #expect(report.intact && blobs.missing.isEmpty && !blobs.pruned.isEmpty)
                #expect(Set(blobs.pruned).isSubset(of: Set(Self.tombstoned(try await daemon.events(run)))))
                for hash in blobs.pruned.prefix(3) { #expect(verified.output.contains(hash)) }
            }
            let replay = try await daemon.e2h("replay", killed, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")

            let gc = try await daemon.e2hJSON(CollectReport.self, "gc", "--dry-run", "--json")
            #expect(gc.dryRun && gc.freedBytes == 0 && Set(gc.runs.map(\.run)).isSuperset(of: [whole, killed]))
            #expect(gc.runs.allSatisfy { $0.blobBytes > 0 && $0.eventBytes > 0 })
            let metrics = String(
                decoding: try await daemon.request("GET", "/metrics", token: try daemon.token).body, as: UTF8.self)
            #expect(metrics.contains("e2h_blobs_stored ") && metrics.contains(#"e2h_stored_bytes{table="blobs"}"#))
        }
    }

    @Test func keepAllPrunesNothingUntilACollection() async throws {
        let daemon = try await SmokeRunTests.daemon(
            arguments: DaemonUnderTest.fastLeases + ["--retention", "keep-all"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await daemon.waitFor(run, "completion") { details, _ in details.state.isFinal }
            #expect(Self.tombstoned(try await daemon.events(run)).isEmpty)
            let dry = try await daemon.e2h("gc", "--dry-run")
            #expect(
                dry.status == 0 && dry.output.contains(run) && dry.output.contains("retention keep-all"),
                "\(dry.output)")
            let report = try await daemon.e2hJSON(CollectReport.self, "gc", "--json")
            #expect(report.freedBytes == 0 && report.runs.map(\.releasedBlobs) == [0])
        }
    }
}
