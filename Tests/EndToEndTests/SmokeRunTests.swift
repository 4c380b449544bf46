import Foundation
import Testing
import WireTypes

/// The whole product on the smoke experiment: submit → completed → compare → replay → export/import/verify,
/// and the ways a daemon can die or stop mid-run.
@Suite("Runs end to end", .serialized)
struct SmokeRunTests {
    static var smokeSpec: String { Harness.repositoryRoot + "/experiments/smoke.yaml" }

    /// The smoke experiment with an SFT stage long enough (seconds) to kill a daemon in the middle of it.
    static let longSFTSpec = """
        name: long-sft
        seed: 1
        threads: 2
        checkpoint_interval: 100

        task:
          family: running_sum
          non_trivial_steps: [2, 3, 4, 6, 8]
          easy_levels: [1, 2, 3]
          hard_levels: [4, 5]
          train_per_level: 24
          validation_per_level: 4
          test_per_level: 6

        policy:
          model: {layers: 1, width: 32, heads: 2, mlp_multiplier: 2}
          sft: {steps: 3000, batch_size: 8, learning_rate: 0.003, warmup_steps: 2, schedule_steps: 3000}
          selection: {rule: target, target: 0.3, samples_per_problem: 2}

        sampling:
          n: [1, 2, 4]
          temperature: 1.0
          training_samples_per_problem: 2

        evaluators:
          - {name: orm, kind: orm, optimization: {steps: 6, batch_size: 8}}
          - {name: prm, kind: prm, optimization: {steps: 6, batch_size: 8}}
          - {name: oprm, kind: oprm, optimization: {steps: 6, batch_size: 8}}
          - {name: verifier, kind: generative, filter: outcome, optimization: {steps: 6, batch_size: 8}}

        rerank:
          methods: [majority, weighted, best_of_n]
          aggregations: [min, prod, mean, last]
          resamples: 4

        rl:
          ppo: {iterations: 8, problems_per_iteration: 4, samples_per_problem: 2, epochs: 2, minibatches: 2, learning_rate: 0.0003, process_reward_evaluator: prm}
          rest_em: {iterations: 1, samples_per_problem: 2, optimization: {steps: 6, batch_size: 8}}
        """

    /// Writes the spec beside the daemon's state, so it goes with the daemon's scratch directory.
    static func writeLongSFTSpec(for daemon: DaemonUnderTest) throws -> String {
        let path = (daemon.stateDirectory as NSString).deletingLastPathComponent + "/long-sft.yaml"
        try longSFTSpec.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Submits the long-SFT spec and returns once the run has saved a checkpoint: mid-run, for seconds more.
    static func submitLongSFTRunningPastACheckpoint(_ daemon: DaemonUnderTest) async throws -> String {
        let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", try writeLongSFTSpec(for: daemon)).run.id
        try await daemon.waitFor(run, "a checkpoint") { _, events in
            events.contains { $0.type == "CheckpointSaved" }
        }
        return run
    }

    static func daemon(
        database: String? = nil, arguments: [String] = DaemonUnderTest.fastLeases
    ) async throws
        -> DaemonUnderTest
    {
        let url: String
        if let database { url = database } else { url = try await Harness.createDatabase() }
        return DaemonUnderTest(
            stateDirectory: try Harness.scratchDirectory() + "/state", databaseURL: url, arguments: arguments)
    }

    /// The pipeline's events, less the daemon's and the checkpoints only an interrupted attempt takes.
    static func pipelineEvents(_ events: [WireEvent]) -> [WireEvent] {
        events.filter { !$0.type.hasPrefix("Run") && $0.payload["reason"]?.stringValue != "interrupt" }
    }

    static func attempt(of event: WireEvent) -> Int? { event.metadata["attempt"]?.intValue }

    @Test func smokeCompletesComparesReplaysAndSurvivesExportImport() async throws {
        let daemon = try await Self.daemon()
        let importer = try await Self.daemon(arguments: ["--workers", "0"])
        try await daemon.start()
        try await importer.start()
        try await withDaemons([daemon, importer]) {
            let submitted = try await daemon.e2hJSON(SubmitResponse.self, "submit", Self.smokeSpec)
            let run = submitted.run.id
            let followed = try await daemon.e2h("follow", run)
            #expect(followed.status == 0, "\(followed.output)\n\(daemon.log.suffix(3000))")
            #expect(followed.output.contains("completed"))
            #expect(try await daemon.details(run).state == .completed)
            // The attempt's provenance: binary, machine and database, as its claim recorded them.
            let shown = try await daemon.e2h("show", run)
            let server = try await Harness.sql(try #require(daemon.databaseURL), "SHOW server_version")
            #expect(shown.output.contains("attempt 1:"), "\(shown.output)")
            #expect(shown.output.contains("postgresql: \(server)"), "\(shown.output)")
            #expect(shown.output.contains("features:"), "\(shown.output)")

            let completedRuns = try await daemon.e2hJSON(RunList.self, "runs", "--status", "completed")
            #expect(completedRuns.runs.map(\.id) == [run])
            // A note is an event too (its own stream): this daemon, alone on its database, counted every event there.
            #expect(try await daemon.e2h("note", run, "counted").status == 0)
            let metrics = String(
                decoding: try await daemon.request("GET", "/metrics", token: try daemon.token).body, as: UTF8.self)
            #expect(metrics.contains(#"e2h_runs{state="completed"} 1"#), "\(metrics)")
            let stored = try await Harness.sql(try #require(daemon.databaseURL), "SELECT count(*) FROM events")
            #expect(metrics.contains("e2h_events_appended_total \(stored)\n"), "\(stored) events: \(metrics)")
            #expect(!metrics.contains("e2h_training_steps_total 0\n"), "\(metrics)")

            let compare = try await daemon.e2h("compare", run)
            #expect(compare.status == 0)
            #expect(compare.output.contains("easy") && compare.output.contains("hard"), "\(compare.output)")
            // The headline: intervals over problems (not resamples), each row paired with the baseline.
            let report = try await daemon.e2hJSON(CompareResponse.self, "compare", run)
            #expect(!report.report.rows.isEmpty && report.report.headline && report.warnings.isEmpty)
            for row in report.report.rows {
                #expect(row.accuracy.lower <= row.accuracy.mean && row.accuracy.mean <= row.accuracy.upper, "\(row)")
                #expect(row.accuracy.problems > 0 && row.accuracy.seeds == 1, "\(row)")
            }
            let hardRows = report.report.rows.filter { $0.levels == .hard }
            // The smoke spec: 6 test problems at each of the two hard levels.
            #expect(!hardRows.isEmpty && hardRows.allSatisfy { $0.accuracy.problems == 12 }, "\(hardRows)")
            // The runs list's headline, computed at completion: the baseline row's hard figure as compare gives it.
            let headline = try #require(try await daemon.details(run).headline, "the completed run has no headline")
            let baselineHard = hardRows.first { "\($0.method)@\($0.n)" == report.report.baseline }
            #expect(
                headline.row == report.report.baseline && headline.accuracy == baselineHard?.accuracy, "\(headline)")
            let all = try await daemon.e2hJSON(CompareResponse.self, "compare", run, "--all")
            #expect(all.report.rows.count > report.report.rows.count)
            let csv = try await daemon.e2h("compare", run, "--csv")
            #expect(csv.output.split(separator: "\n").count == report.report.rows.count + 1)
            let markdown = try await daemon.e2h("compare", run, "--md")
            #expect(markdown.status == 0 && markdown.output.contains("| "), "\(markdown.output)")
            let filtered = try await daemon.e2hJSON(CompareResponse.self, "compare", run, "--where", "levels = hard")
            #expect(filtered.report.rows == hardRows)
            let badFilter = try await daemon.e2h("compare", run, "--where", "levels = = hard")
            #expect(
                badFilter.status == 2
                    && badFilter.output.contains("e2h: --where column 10: expected a value, found '='"),
                "\(badFilter.output)")

            let replay = try await daemon.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")

            let archive = NSTemporaryDirectory() + "e2h-export-\(run).tar"
            let scoresOnly = NSTemporaryDirectory() + "e2h-export-\(run)-scores.tar"
            defer {
                try? FileManager.default.removeItem(atPath: archive)
                try? FileManager.default.removeItem(atPath: scoresOnly)
            }
            #expect(try await daemon.e2h("export", run, "-o", archive).status == 0)
            // The bundle opens with tar: the record, its receipt and curves, and the checkpoints as safetensors.
            let listed = try await ChildProcess.run("/usr/bin/tar", ["-tf", archive])
            for entry in ["manifest.json", "spec.yaml", "receipt.json", "events.jsonl", "metrics.jsonl"] {
                #expect(listed.output.split(separator: "\n").contains(Substring(entry)), "\(listed.output)")
            }
            #expect(listed.output.contains(".safetensors"), "\(listed.output)")
            #expect(try await daemon.e2h("export", run, "--scores-only", "-o", scoresOnly).status == 0)
            let scoresListed = try await ChildProcess.run("/usr/bin/tar", ["-tf", scoresOnly])
            #expect(scoresListed.status == 0 && !scoresListed.output.contains(".safetensors"), "\(scoresListed.output)")
            let imported = try await importer.e2h("import", archive)
            #expect(imported.status == 0, "\(imported.output)")
            // Another daemon's receipt: checked against the events, and said so.
            #expect(imported.output.contains("receipt: signed by another key"), "\(imported.output)")
            let verified = try await importer.e2h("verify", run)
            #expect(verified.status == 0 && verified.output.contains("intact"), "\(verified.output)")
            #expect(try await importer.events(run).map(\.hash) == (try await daemon.events(run)).map(\.hash))
            // The intervals come from the record alone, so the importing database prints the same ones.
            let importedReport = try await importer.e2hJSON(CompareResponse.self, "compare", run)
            #expect(importedReport.report == report.report)
            #expect(try await importer.details(run).headline == headline, "the import rebuilt another headline")

            // Edit one recorded score behind the store's back: verify finds the broken link, replay the field.
            let database = try #require(importer.databaseURL)
            let version = try await Harness.sql(
                database, "SELECT min(version) FROM events WHERE stream = 'run-\(run)' AND type = 'ScoreRecorded'")
            _ = try await Harness.sql(
                database,
                """
                ALTER TABLE events DISABLE TRIGGER events_append_only;
                UPDATE events SET payload = jsonb_set(payload::jsonb, '{correct}', '999')::json
                WHERE stream = 'run-\(run)' AND version = \(version);
                ALTER TABLE events ENABLE TRIGGER events_append_only;
                """)
            let broken = try await importer.e2h("verify", run)
            #expect(broken.status == 1 && broken.output.contains("BROKEN at version \(version)"), "\(broken.output)")
            // compare and export refuse the altered record and say what to do.
            for command in [["compare", run], ["export", run, "-o", archive + ".altered"]] {
                let refused = try await ChildProcess.run(
                    try Harness.binDirectory + "/e2h", command + ["--state-dir", importer.stateDirectory])
                #expect(refused.status == 1, "\(command): \(refused.output)")
                #expect(
                    refused.output.contains("does not verify at version \(version)")
                        && refused.output.contains("e2h verify \(run)"), "\(command): \(refused.output)")
            }
            #expect(!FileManager.default.fileExists(atPath: archive + ".altered"))
            // The run page reads the stream once: it shows the break, and no figure from the altered record.
            let page = try await DashboardHTTP.get(
                importer, "/runs/\(run)", cookie: try await DashboardHTTP.signIn(importer))
            #expect(page.status == 200 && page.body.contains("Hash chain broken at event \(version)"), "\(page.body)")
            #expect(page.body.contains("does not verify at version \(version)"), "\(page.body)")
            // The importer executes nothing (--workers 0), replays included: a daemon with a worker on its
            // database does.
            let replayer = try await Self.daemon(database: database)
            try await replayer.start()
            try await withDaemons([replayer]) {
                let diverged = try await replayer.e2h("replay", run, "--verify")
                #expect(diverged.status == 1, "\(diverged.output)")
                #expect(diverged.output.contains("(ScoreRecorded), field $.correct"), "\(diverged.output)")
                // Next to the differing event: what recorded it (the original attempt) and what replayed it.
                #expect(diverged.output.contains("recorded by:\n    e2h:"), "\(diverged.output)")
                #expect(diverged.output.contains("replayed by:\n    e2h:"), "\(diverged.output)")
            }
        }
    }

    @Test func cancellingARunningRunStopsItAndResumeFinishesIt() async throws {
        let daemon = try await Self.daemon()
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await Self.submitLongSFTRunningPastACheckpoint(daemon)
            let cancel = try await daemon.e2h("cancel", run)
            #expect(cancel.status == 0, "\(cancel.output)")
            try await daemon.waitFor(run, "the cancel") { details, _ in details.state.isFinal }
            #expect(try await daemon.details(run).state == .cancelled)
            #expect(try await daemon.events(run).last?.type == "RunCancelled")
            let follow = try await daemon.e2h("follow", run)
            #expect(follow.status == 1 && follow.output.contains("cancelled"))
            #expect(try await daemon.e2h("resume", run).status == 0)
            try await daemon.waitFor(run, "completion after resume") { details, _ in details.state == .completed }
            // A run completed by a later attempt has its headline too.
            #expect(try await daemon.details(run).headline?.accuracy.problems == 12)
            #expect(try await daemon.e2h("cancel", run).status == 1)
            let replay = try await daemon.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")
        }
    }

    @Test func killMinusNineMidSFTResumesFromTheLastCheckpoint() async throws {
        let daemon = try await Self.daemon()
        try await daemon.start(name: "first")
        try await withDaemons([daemon]) {
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", try Self.writeLongSFTSpec(for: daemon))
                .run.id
            try await daemon.waitFor(run, "SFT checkpoints") { _, events in
                events.contains {
                    $0.type == "CheckpointSaved" && $0.payload["stage"]?.stringValue == "sft"
                        && ($0.payload["step"]?.intValue ?? 0) >= 300
                }
            }
            daemon.signal(SIGKILL)
            _ = await daemon.waitForExit(timeout: .seconds(10))
            let sftDone = try await Harness.sql(
                daemon.databaseURL!,
                "SELECT count(*) FROM events WHERE stream = 'run-\(run)' AND type = 'StageCompleted' AND payload->>'stage' = 'sft'"
            )
            #expect(sftDone == "0", "the kill came after SFT ended; lengthen the spec's SFT")
            let beforeKill = try await Harness.sql(
                daemon.databaseURL!, "SELECT count(*) FROM events WHERE stream = 'run-\(run)'")

            try await daemon.start(name: "second")
            try await daemon.waitFor(run, "completion after the restart") { details, _ in details.state == .completed }
            let events = try await daemon.events(run)
            #expect(events.contains { $0.type == "RunInterrupted" }, "the reaper recorded no interruption")
            #expect(try await daemon.details(run).attempt >= 2)
            // Resumed, not restarted: the second attempt appended no event the first had already written.
            let secondAttempt = events.filter { Self.attempt(of: $0) == 2 && !$0.type.hasPrefix("Run") }
            #expect(!secondAttempt.contains { $0.type == "DatasetSplitCreated" })
            #expect(Int(beforeKill)! < events.count)
            // Resumed from the last SFT checkpoint: the second attempt trained no step the first had saved.
            let lastCheckpoint =
                events.filter {
                    $0.type == "CheckpointSaved" && $0.payload["stage"]?.stringValue == "sft"
                        && Self.attempt(of: $0) == 1
                }.compactMap { $0.payload["step"]?.intValue }.max() ?? 0
            #expect(lastCheckpoint > 0)
            let firstResumedStep = try await Harness.sql(
                daemon.databaseURL!,
                "SELECT coalesce(min(step), -1) FROM metrics WHERE run = '\(run)' AND attempt = 2 AND name LIKE 'sft.%.loss'"
            )
            let resumedAt = try #require(Int(firstResumedStep))
            #expect(
                resumedAt == -1 || resumedAt > lastCheckpoint,
                "SFT restarted at \(resumedAt), checkpoint \(lastCheckpoint)")
            let replay = try await daemon.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")
        }
    }

    @Test func repeatedSigtermCheckpointsReleasesTheLeaseAndExitsZero() async throws {
        let daemon = try await Self.daemon()
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await Self.submitLongSFTRunningPastACheckpoint(daemon)
            let stopAsked = ContinuousClock.now
            // Five times, as an impatient operator would: still one clean drain.
            for _ in 0..<5 {
                daemon.signal(SIGTERM)
                try await Task.sleep(for: .milliseconds(50))
            }
            let status = await daemon.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "e2hd did not exit 0 within 30 s (status \(String(describing: status)))")
            #expect(ContinuousClock.now - stopAsked < .seconds(30))
            let state = try await Harness.sql(
                daemon.databaseURL!, "SELECT state || ' ' || coalesce(lease_owner, '-') FROM runs WHERE id = '\(run)'")
            #expect(state == "queued -", "the lease was not released")
            let interrupted = try await Harness.sql(
                daemon.databaseURL!,
                "SELECT count(*) FROM events WHERE stream = 'run-\(run)' AND type = 'RunInterrupted'")
            #expect(interrupted == "1")
            try await daemon.start()
            try await daemon.waitFor(run, "completion after the restart") { details, _ in details.state == .completed }
            let replay = try await daemon.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")
        }
    }

    @Test func twoDaemonsSplitTheQueueAndNoAttemptsOverlap() async throws {
        let database = try await Harness.createDatabase()
        // Four-second leases, so takeovers happen while both daemons work; a loaded machine can stall a heartbeat
        // past three of them in a row before an attempt records anything, which the default three attempts would
        // rightly fail as a crash loop (`RunLifecycleTests` and `RunQueueTests` test that rule), so this test allows more.
        let arguments = DaemonUnderTest.fastLeases + ["--max-attempts", "20"]
        let first = try await Self.daemon(database: database, arguments: arguments)
        let second = try await Self.daemon(database: database, arguments: arguments)
        try await first.start(name: "left")
        try await second.start(name: "right")
        try await withDaemons([first, second]) {
            var runs: [String] = []
            for index in 0..<6 {
                runs.append(
                    try await first.e2hJSON(SubmitResponse.self, "submit", Self.smokeSpec, "--key", "two-\(index)").run
                        .id)
            }
            for run in runs {
                try await first.waitFor(run, timeout: .seconds(300), "completion") { details, _ in details.state.isFinal
                }
            }
            var owners: Set<String> = []
            for run in runs {
                let details = try await first.details(run)
                #expect(details.state == .completed, "\(details.errors)\n\(first.log.suffix(3000))")
                let events = try await first.events(run)
                #expect(events.filter { $0.type == "RunCompleted" }.count == 1)
                let claims = events.filter { $0.type == "RunClaimed" }
                #expect(claims.count == details.attempt)
                owners.formUnion(claims.compactMap { $0.payload["worker"]?.stringValue })
                // Attempts follow one another: once attempt k+1 wrote, attempt k never writes again.
                let attempts = events.compactMap(Self.attempt(of:))
                #expect(attempts == attempts.sorted(), "interleaved attempts in run \(run): \(attempts)")
            }
            #expect(owners == ["left", "right"], "both daemons should have claimed runs: \(owners)")
            // The same spec and seed on either daemon: the same scores, event for event.
            var scores: [[WireEvent]] = []
            for run in runs { scores.append(try await first.events(run).filter { $0.type == "ScoreRecorded" }) }
            #expect(!scores[0].isEmpty && scores.allSatisfy { $0.map(\.payload) == scores[0].map(\.payload) })
            // So `compare` reads them as one seed, not three, and says so.
            let compared = try await first.e2hJSON(CompareResponse.self, "compare", runs[0], runs[1], runs[5])
            #expect(compared.runs.map(\.id) == [runs[0]] && !compared.report.rows.isEmpty)
            #expect(compared.report.rows.allSatisfy { $0.accuracy.seeds == 1 })
            #expect(compared.warnings.contains { $0.hasPrefix("counted once: \(runs[1].prefix(8)) has") })
            let table = try await first.e2h("compare", runs[0], runs[1])
            #expect(table.status == 0 && table.output.contains("Δ vs") && table.output.contains("counted once"))
        }
    }

    @Test func aStoppedWorkerPastItsLeaseWritesNothingAfterResuming() async throws {
        let database = try await Harness.createDatabase()
        let zombie = try await Self.daemon(database: database)
        let successor = try await Self.daemon(database: database)
        try await zombie.start(name: "zombie")
        try await withDaemons([zombie, successor]) {
            let run = try await Self.submitLongSFTRunningPastACheckpoint(zombie)
            zombie.signal(SIGSTOP)
            try await successor.start(name: "successor")
            try await successor.waitFor(run, "the successor's claim") { _, events in
                events.contains { $0.type == "RunClaimed" && $0.payload["worker"]?.stringValue == "successor" }
            }
            zombie.signal(SIGCONT)
            try await successor.waitFor(run, "completion") { details, _ in details.state.isFinal }
            #expect(try await successor.details(run).state == .completed)
            let events = try await successor.events(run)
            let takeover = try #require(
                events.firstIndex { $0.type == "RunClaimed" && $0.payload["worker"]?.stringValue == "successor" })
            let late = events[takeover...].filter { $0.metadata["worker"]?.stringValue == "zombie" }
            #expect(late.isEmpty, "the zombie wrote after losing its lease: \(late.map(\.type))")
            let zombieMetrics = try await Harness.sql(
                database,
                """
                SELECT count(*) FROM metrics WHERE run = '\(run)' AND attempt = 1
                AND recorded_at > (SELECT recorded_at FROM events WHERE id = '\(events[takeover].id)')
                """)
            #expect(zombieMetrics == "0")
            let replay = try await successor.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")
        }
    }
}
