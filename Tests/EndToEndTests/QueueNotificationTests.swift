import Foundation
import Testing
import WireTypes

/// The queue's NOTIFY: a submit wakes idle workers, and a cancel reaches the daemon that executes the run, long
/// before the next poll or heartbeat would (both are set far apart here, so only a notification explains it).
@Suite("Queue notifications", .serialized)
struct QueueNotificationTests {
    /// Leases and heartbeats far apart: a cancel seen within seconds was not seen by a heartbeat.
    static let slowPolls = [
        "--lease-seconds", "120", "--heartbeat-seconds", "60", "--reaper-seconds", "60", "--poll-seconds", "60",
    ]

    @Test func aRunQueuedOnAnIdleDaemonStartsWithin100Milliseconds() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: Self.slowPolls)
        try await daemon.start()
        try await withDaemons([daemon]) {
            // The idle worker has polled once at start; the next poll is a minute away.
            try await Task.sleep(for: .seconds(2))
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await daemon.waitFor(run, timeout: .seconds(20), "the claim") { _, events in
                events.contains { $0.type == "RunClaimed" }
            }
            // The store's own times, to the microsecond (the API's are whole seconds).
            let seconds = try await Harness.sql(
                try #require(daemon.databaseURL),
                """
                SELECT extract(epoch FROM min(recorded_at) FILTER (WHERE type = 'RunClaimed')
                    - min(recorded_at) FILTER (WHERE type = 'RunSubmitted'))
                FROM events WHERE stream = 'run-\(run)'
                """)
            let wait = try #require(Double(seconds), "\(seconds)")
            #expect(wait < 0.1, "claimed \(wait) s after its submit")
        }
    }

    @Test func aCancelReachesAnotherDaemonsRunWithinASecond() async throws {
        let database = try await Harness.createDatabase()
        let executor = try await SmokeRunTests.daemon(database: database, arguments: Self.slowPolls)
        let front = try await SmokeRunTests.daemon(database: database, arguments: Self.slowPolls + ["--workers", "0"])
        try await executor.start()
        try await front.start()
        try await withDaemons([executor, front]) {
            let run = try await executor.e2hJSON(
                SubmitResponse.self, "submit", try SmokeRunTests.writeLongSFTSpec(for: executor)
            ).run.id
            try await executor.waitFor(run, "a training step") { details, _ in details.state == .running }
            try await Task.sleep(for: .seconds(1))
            let asked = ContinuousClock.now
            let response = try await front.request("POST", "/v1/runs/\(run)/cancel", token: try front.token)
            #expect(response.status == 200)
            try await front.waitFor(run, timeout: .seconds(30), "the cancel") { details, _ in details.state.isFinal }
            // The executor hears of it within a second (DaemonTests measure that alone); the run then stops at its
            // next look at the flag and checkpoints, which a loaded machine stretches. The heartbeat that would
            // otherwise carry the cancel is a minute away.
            let took = ContinuousClock.now - asked
            #expect(took < .seconds(15), "the cancel took \(took)")
            #expect(try await front.details(run).state == .cancelled)
        }
    }
}
