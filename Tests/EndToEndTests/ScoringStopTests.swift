import Foundation
import Testing
import WireTypes

/// SIGTERM while an evaluator scores a pool of the running-sum experiment's size: the scoring loop polls for the stop
/// between slices, so e2hd releases the run and exits within seconds, not at the end of the pool.
@Suite("Stopping mid-scoring", .serialized)
struct ScoringStopTests {
    /// The smoke experiment with the running-sum experiment's test pool (150 problems per level × 5 levels, 64 samples
    /// each) and policy model: everything before the scoring stays short, the scoring is full size.
    static func spec() throws -> String {
        var yaml = try String(contentsOfFile: SmokeRunTests.smokeSpec, encoding: .utf8)
        let changes = [
            ("name: smoke", "name: default-pool-scoring"),
            ("test_per_level: 6", "test_per_level: 150"),
            (
                "model: {layers: 1, width: 32, heads: 2, mlp_multiplier: 2}",
                "model: {layers: 2, width: 128, heads: 4, mlp_multiplier: 4}"
            ),
            ("n: [1, 2, 4]", "n: [1, 2, 4, 8, 16, 32, 64]"),
        ]
        for (old, new) in changes {
            guard yaml.contains(old) else { throw E2EError("experiments/smoke.yaml no longer says \(old)") }
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        return yaml
    }

    /// The default pool: 750 test problems × 64 samples.
    static let defaultPool = 750 * 64

    @Test func sigtermDuringScoringOfTheDefaultSizePoolExitsWithinTenSeconds() async throws {
        let daemon = try await SmokeRunTests.daemon()
        try await daemon.start()
        try await withDaemons([daemon]) {
            let path = (daemon.stateDirectory as NSString).deletingLastPathComponent + "/default-pool.yaml"
            try Self.spec().write(toFile: path, atomically: true, encoding: .utf8)
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", path).run.id
            // The progress of an evaluator scoring the test pool, as the run's heartbeat stored it.
            try await daemon.waitFor(run, timeout: .seconds(900), "an evaluator scoring the test pool") { details, _ in
                guard let progress = details.progress else { return false }
                return progress.stage == .evaluators && progress.unit == "sequences"
                    && progress.total == Self.defaultPool && (progress.done ?? 0) > 0
            }
            let asked = ContinuousClock.now
            daemon.signal(SIGTERM)
            let status = await daemon.waitForExit(timeout: .seconds(60))
            let took = ContinuousClock.now - asked
            #expect(status == 0, "e2hd exited with \(String(describing: status))")
            #expect(took < .seconds(10), "e2hd took \(took) to stop during scoring")

            let database = try #require(daemon.databaseURL)
            // Stopped inside the stage, not after it: the evaluators had not all finished.
            let evaluatorsDone = try await Harness.sql(
                database,
                "SELECT count(*) FROM events WHERE stream = 'run-\(run)' AND type = 'StageCompleted' "
                    + "AND payload->>'stage' = 'evaluators'")
            #expect(evaluatorsDone == "0", "the stop came after the evaluators' stage ended")
            let state = try await Harness.sql(
                database, "SELECT state || ' ' || coalesce(lease_owner, '-') FROM runs WHERE id = '\(run)'")
            #expect(state == "queued -", "the lease was not released")
        }
    }
}
