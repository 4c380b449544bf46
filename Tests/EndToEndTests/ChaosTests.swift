import Foundation
import Testing
import WireTypes

/// The in-suite short version of `scripts/chaos`: runs of the smoke experiment hurt at random moments — a freeze
/// (SIGSTOP) past its lease, `pg_terminate_backend` of the daemon's sessions, kill -9, SIGTERM, kill -9, each landing
/// on a run still going (the next run of the spec takes the rest when one ends first) — each killed daemon restarted,
/// end once each with the scores of an undisturbed run — every ScoreRecorded payload and their count, so nothing was
/// scored twice — and with the log's chains, a receipt and the whole-log check intact.
@Suite("Chaos, short", .serialized)
struct ChaosTests {
    @Test func killsAtRandomMomentsChangeNoScoreAndBreakNoChain() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start(name: "chaos-0")
        try await withDaemons([daemon]) {
            let spec = try Self.slowerSmokeSpec()
            let reference = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec).run.id
            try await daemon.waitFor(reference, "the undisturbed run") { details, _ in details.state.isFinal }
            let expected = try await daemon.events(reference).filter { $0.type == "ScoreRecorded" }.map(\.payload)
            #expect(!expected.isEmpty)

            // Each hurt must land on a run that is still going. A run that ends before the sequence is through (a
            // fast machine finishes the smoke run in seconds) leaves the rest to the next run of the same spec, so
            // every hurt lands whatever the machine's speed, and every run must end with the undisturbed scores.
            var pending = Hurt.sequence[...]
            var runs: [String] = []
            var random = SystemRandomNumberGenerator()
            var restarts = 0
            while let first = pending.first, runs.count < Self.maximumRuns {
                let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec).run.id
                runs.append(run)
                var hurt: Hurt? = first
                while let next = hurt {
                    try await daemon.waitFor(run, "work to hurt") { details, events in
                        details.state.isFinal
                            || events.contains { $0.type == "CheckpointSaved" || $0.type == "StageStarted" }
                    }
                    if try await daemon.details(run).state.isFinal { break }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...1000, using: &random)))
                    pending.removeFirst()
                    switch next {
                    case .signal(let signal):
                        daemon.signal(signal)
                        let status = await daemon.waitForExit(timeout: .seconds(40))
                        if signal == SIGTERM {
                            #expect(status == 0, "SIGTERM did not exit 0:\n\(daemon.log.suffix(2000))")
                        }
                        restarts += 1
                        try await daemon.start(name: "chaos-\(restarts)")
                    case .freezePastTheLease:
                        // Frozen longer than its 4 s lease: when it thaws, the attempt it held is over, and what it
                        // still writes for it is fenced.
                        daemon.signal(SIGSTOP)
                        try await Task.sleep(for: .seconds(6))
                        daemon.signal(SIGCONT)
                    case .terminateSessions:
                        _ = try await Harness.sql(
                            daemon.databaseURL!,
                            """
                            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                            WHERE datname = current_database() AND pid <> pg_backend_pid()
                            """)
                    }
                    hurt = pending.first
                }
            }
            #expect(
                pending.isEmpty,
                "\(pending.count) of \(Hurt.sequence.count) hurts found no run going in \(runs.count) runs")
            for run in runs {
                try await daemon.waitFor(run, "completion after the hurts") { details, _ in details.state.isFinal }
                #expect(try await daemon.details(run).state == .completed, "\(daemon.log.suffix(3000))")
                let events = try await daemon.events(run)
                #expect(events.filter { $0.type == "ScoreRecorded" }.map(\.payload) == expected)
                #expect(events.filter { $0.type == "RunCompleted" }.count == 1)
            }
            let run = try #require(runs.last)

            let receiptPath = (daemon.stateDirectory as NSString).deletingLastPathComponent + "/receipt.json"
            #expect(try await daemon.e2h("receipt", run, "-o", receiptPath).status == 0)
            let checked = try await daemon.e2h("verify", run, "--receipt", receiptPath)
            #expect(checked.status == 0 && checked.output.contains("matches the receipt"), "\(checked.output)")
            let all = try await daemon.e2h("verify", "--all")
            #expect(all.status == 0 && all.output.contains("log: intact"), "\(all.output)")

            // Then the fault the issue found, done as a superuser who also rewinds both heads (the log's hash
            // refolded): the run's own chain says intact, the receipt and the witness do not.
            try await Self.cutTail(daemon.databaseURL!, run: run, events: 2)
            // The run's own chain cannot see its tail cut off. (When the cut takes retention's tombstone, the blobs
            // it released show as missing, which fails the verify: a second, weaker sign.)
            let own = try await daemon.e2h("verify", run)
            #expect(own.output.contains("hash chain intact"), "\(own.output)")
            let cut = try await daemon.e2h("verify", run, "--receipt", receiptPath)
            #expect(cut.status == 1 && cut.output.contains("were removed"), "\(cut.output)")
            let witnessed = try await daemon.e2h("verify", "--all")
            #expect(witnessed.status == 1 && witnessed.output.contains("BROKEN"), "\(witnessed.output)")
        }
    }

    /// The smoke experiment with SFT ten times as long: the smoke run itself can end before five hurts have landed.
    static func slowerSmokeSpec() throws -> String {
        let smoke = try String(contentsOfFile: SmokeRunTests.smokeSpec, encoding: .utf8)
        let sft = "sft: {steps: 20, batch_size: 8, learning_rate: 0.003, warmup_steps: 2, schedule_steps: 20}"
        guard smoke.contains(sft) else {
            throw E2EError("experiments/smoke.yaml's sft line changed; update ChaosTests")
        }
        let path = try Harness.scratchDirectory() + "/chaos.yaml"
        let longer = "sft: {steps: 200, batch_size: 8, learning_rate: 0.003, warmup_steps: 2, schedule_steps: 200}"
        try smoke.replacingOccurrences(of: sft, with: longer).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs of the spec the hurts may need before all have landed on one that was still going.
    static let maximumRuns = 5

    /// What is done to the daemon, in order (while the run is not over yet).
    enum Hurt {
        case signal(Int32)
        case freezePastTheLease
        case terminateSessions

        static let sequence: [Hurt] = [
            .freezePastTheLease, .terminateSessions, .signal(SIGKILL), .signal(SIGTERM), .signal(SIGKILL),
        ]
    }

    /// Deletes the run's last `events` events (the last of the log) and rewinds the stream's and the log's heads.
    static func cutTail(_ database: String, run: String, events: Int) async throws {
        _ = try await Harness.sql(
            database,
            """
            BEGIN;
            ALTER TABLE events DISABLE TRIGGER events_append_only;
            DELETE FROM events WHERE stream = 'run-\(run)'
                AND version > (SELECT version FROM streams WHERE name = 'run-\(run)') - \(events);
            ALTER TABLE events ENABLE TRIGGER events_append_only;
            UPDATE streams SET version = version - \(events),
                last_hash = (SELECT hash FROM events WHERE stream = 'run-\(run)' ORDER BY version DESC LIMIT 1)
                WHERE name = 'run-\(run)';
            DO $$
            DECLARE
                v_hash bytea := decode(repeat('00', 32), 'hex');
                v_event record;
            BEGIN
                FOR v_event IN SELECT position, hash FROM events ORDER BY position LOOP
                    v_hash := sha256(v_hash || int8send(v_event.position) || v_event.hash);
                END LOOP;
                UPDATE log_head SET position = (SELECT max(position) FROM events), hash = v_hash;
            END
            $$;
            COMMIT;
            """)
    }
}
