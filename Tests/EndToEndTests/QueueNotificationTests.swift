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

    /// Three submits, each to an idle worker: the best of them within 100 ms, and every one far inside the
    /// minute-long poll. One submit alone took 109 ms once in CI on a shared host (the wait includes the submit's
    /// COMMIT and fsync); a worker that waited for its poll instead of the NOTIFY would miss by minutes.
    @Test func aRunQueuedOnAnIdleDaemonStartsWithin100Milliseconds() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: Self.slowPolls + ["--workers", "3"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            // The idle workers have polled once at start; the next poll is a minute away.
            try await Task.sleep(for: .seconds(2))
            var waits: [Double] = []
            for _ in 0..<3 {
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
                waits.append(try #require(Double(seconds), "\(seconds)"))
            }
            #expect(waits.min()! < 0.1, "claimed \(waits) s after their submits")
            #expect(waits.max()! < 5, "a claim waited for something other than the NOTIFY: \(waits) s")
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
