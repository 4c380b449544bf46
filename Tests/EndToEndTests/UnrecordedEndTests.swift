import Foundation
import Testing
import WireTypes

/// A worker whose database refuses the record of an attempt's end (as a full disk refuses every write that needs a
/// new page: SQLSTATE 53100) tries again while its lease lasts; refused past the lease, its daemon's reaper names
/// the end and the refusal, where it said "worker died or stalled" before.
@Suite("An attempt's end the database refuses", .serialized)
struct UnrecordedEndTests {
    /// From now on every change of a running run's state is refused, while `refusing` holds a row.
    static let refusal = """
        CREATE TABLE refusing (since timestamptz);
        CREATE FUNCTION refuse_end() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.state = 'running' AND NEW.state <> 'running' AND EXISTS (SELECT 1 FROM refusing) THEN
                RAISE EXCEPTION 'could not extend file "base/16384/2619": No space left on device'
                    USING ERRCODE = '53100';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_end BEFORE UPDATE ON runs FOR EACH ROW EXECUTE FUNCTION refuse_end();
        INSERT INTO refusing VALUES (now());
        """

    /// Cancels a run mid-SFT while its end is refused, waits for the daemon's log to say `logged`, then lets the
    /// writes through; returns the run as it ended.
    static func cancelRefused(leaseSeconds: Int, until logged: String) async throws -> RunDetails {
        let daemon = try await SmokeRunTests.daemon(
            arguments: [
                "--lease-seconds", "\(leaseSeconds)", "--heartbeat-seconds", "1", "--reaper-seconds", "1",
                "--poll-seconds", "0.2", "--backoff-seconds", "0.5",
            ])
        try await daemon.start()
        var ended: RunDetails?
        try await withDaemons([daemon]) {
            let database = try #require(daemon.databaseURL)
            let run = try await SmokeRunTests.submitLongSFTRunningPastACheckpoint(daemon)
            _ = try await Harness.sql(database, refusal)
            #expect(try await daemon.e2h("cancel", run).status == 0)
            try await Harness.waitUntil("the daemon to log '\(logged)'", timeout: .seconds(90)) {
                daemon.log.contains(logged)
            }
            _ = try await Harness.sql(database, "DELETE FROM refusing")
            try await daemon.waitFor(run, timeout: .seconds(90), "its end") { details, _ in details.state.isFinal }
            ended = try await daemon.details(run)
        }
        return try #require(ended)
    }

    /// Refused for a moment within the lease: the worker's next try records the cancel itself.
    @Test func anEndRefusedForAMomentIsRecordedByItsNextTry() async throws {
        let run = try await Self.cancelRefused(
            leaseSeconds: 60, until: "could not record the attempt's end; trying again")
        #expect(run.state == .cancelled)
        #expect(run.errors.isEmpty, "\(run.errors)")
    }

    /// Refused past the lease: the reaper's reason says what could not be recorded, and why.
    @Test func anEndRefusedPastTheLeaseIsNamedByTheReaper() async throws {
        let run = try await Self.cancelRefused(
            // Either way of giving up: before the next try would outlast the lease, or when a try finds it expired.
            leaseSeconds: 4, until: "could not record the attempt's end; giving up, the lease")
        #expect(run.state == .cancelled)
        let reason = try #require(run.errors.last, "no reason recorded")
        #expect(
            reason.contains("expired after its worker could not record that the attempt was cancelled"), "\(reason)")
        #expect(reason.contains("No space left on device"), "\(reason)")
    }
}
