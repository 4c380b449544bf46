import Foundation
import Testing
import WireTypes

/// The in-suite short version of `scripts/chaos`: one run of the smoke experiment hurt three times at seeded
/// moments (kill -9, SIGTERM, kill -9), each time restarted, ends once with the scores of an undisturbed run —
/// every ScoreRecorded payload and their count, so nothing was scored twice — and with the log's chains, a receipt
/// and the whole-log check intact.
@Suite("Chaos, short", .serialized)
struct ChaosTests {
    @Test func killsAtRandomMomentsChangeNoScoreAndBreakNoChain() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start(name: "chaos-0")
        try await withDaemons([daemon]) {
            let reference = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await daemon.waitFor(reference, "the undisturbed run") { details, _ in details.state.isFinal }
            let expected = try await daemon.events(reference).filter { $0.type == "ScoreRecorded" }.map(\.payload)
            #expect(!expected.isEmpty)

            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            var random = SystemRandomNumberGenerator()
            let signals = [SIGKILL, SIGTERM, SIGKILL]
            for (index, signal) in signals.enumerated() {
                try await daemon.waitFor(run, "work to hurt") { details, events in
                    details.state.isFinal
                        || events.contains { $0.type == "CheckpointSaved" || $0.type == "StageStarted" }
                }
                if try await daemon.details(run).state.isFinal { break }
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...1500, using: &random)))
                daemon.signal(signal)
                let status = await daemon.waitForExit(timeout: .seconds(40))
                if signal == SIGTERM { #expect(status == 0, "SIGTERM did not exit 0:\n\(daemon.log.suffix(2000))") }
                try await daemon.start(name: "chaos-\(index + 1)")
            }
            try await daemon.waitFor(run, "completion after the kills") { details, _ in details.state.isFinal }
            #expect(try await daemon.details(run).state == .completed, "\(daemon.log.suffix(3000))")
            let events = try await daemon.events(run)
            #expect(events.filter { $0.type == "ScoreRecorded" }.map(\.payload) == expected)
            #expect(events.filter { $0.type == "RunCompleted" }.count == 1)

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
