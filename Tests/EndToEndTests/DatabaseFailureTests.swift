import Foundation
import Testing
import WireTypes

/// What the database can do to a running daemon: kill its sessions, sit in an open transaction beside it, or
/// be dumped and restored elsewhere. Each through the real e2hd and PostgreSQL.
@Suite("Database failures", .serialized)
struct DatabaseFailureTests {
    /// Terminates every session the daemon holds on `database` (libpq's application name "e2h"); returns their pids.
    static func terminateDaemonSessions(_ database: String) async throws -> [String] {
        let pids = try await Harness.sql(
            database,
            """
            WITH daemon AS MATERIALIZED (
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'e2h' AND pid <> pg_backend_pid()
            )
            SELECT pid FROM daemon WHERE pg_terminate_backend(pid)
            """)
        return pids.split(separator: "\n").map(String.init)
    }

    /// `pg_terminate_backend` of each of the daemon's sessions — idle, then again each time a long-SFT run has made
    /// progress — and the daemon reconnects, never exits, and the run completes in its first attempt, replaying
    /// identically. Its lease is long: on a loaded machine (the whole suite on 2 cores) a starved heartbeat can
    /// miss a 4-second lease with no session ended, and that would be a requeue this test does not ask about;
    /// a reconnect that fails still ends the attempt with an error, which the attempt count catches.
    @Test func terminatedSessionsAreReopenedAndTheRunCompletes() async throws {
        let daemon = try await SmokeRunTests.daemon(arguments: [
            "--lease-seconds", "120", "--heartbeat-seconds", "1", "--reaper-seconds", "1", "--poll-seconds", "0.2",
            "--backoff-seconds", "0.5",
        ])
        let database = try #require(daemon.databaseURL)
        try await daemon.start()
        try await withDaemons([daemon]) {
            let idle = try await Self.terminateDaemonSessions(database)
            #expect(!idle.isEmpty, "the daemon holds no session to terminate")
            var terminated = Set(idle)

            // The long-SFT spec: the smoke run can finish in about a second, before two rounds could land in it.
            let spec = try SmokeRunTests.writeLongSFTSpec(for: daemon)
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", spec).run.id
            var roundsWhileRunning = 0
            var seen = 0
            while true {
                // Progress after the last round: the daemon wrote again, so it reconnected. The next event is a
                // checkpoint 100 steps on, which a fully loaded machine took over a minute to reach.
                try await daemon.waitFor(run, timeout: .seconds(300), "progress after terminated sessions") {
                    details, _ in details.eventCount > seen || details.state.isFinal
                }
                let details = try await daemon.details(run)
                if details.state.isFinal { break }
                seen = details.eventCount
                terminated.formUnion(try await Self.terminateDaemonSessions(database))
                if details.state == .running { roundsWhileRunning += 1 }
            }
            #expect(roundsWhileRunning >= 2, "the run ended before its sessions could be terminated")
            #expect(await daemon.waitForExit(timeout: .zero) == nil, "e2hd exited:\n\(daemon.log.suffix(3000))")
            let details = try await daemon.details(run)
            #expect(details.state == .completed, "\(details.errors)")
            #expect(details.attempt == 1, "a terminated session failed an attempt: \(details.errors)")
            // None of the terminated sessions is left; the daemon works on new ones.
            let sessions = try await Harness.sql(
                database,
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'e2h'")
            let current = Set(sessions.split(separator: "\n").map(String.init))
            #expect(!current.isEmpty && current.isDisjoint(with: terminated))
            let replay = try await daemon.e2h("replay", run, "--verify")
            #expect(replay.status == 0 && replay.output.contains("identical"), "\(replay.output)")
        }
    }

    /// Another session sits in an open transaction (a snapshot held, no row locked) for a whole run and a restart:
    /// claims, appends, metrics, completion and start-up go on, and the session is neither blocked nor ended.
    @Test func anIdleTransactionBesideTheDaemonStallsNothing() async throws {
        let daemon = try await SmokeRunTests.daemon()
        let database = try #require(daemon.databaseURL)
        try await daemon.start()
        try await withDaemons([daemon]) {
            let holder = try HeldTransaction(
                database, name: "e2h-holder", begin: "BEGIN ISOLATION LEVEL REPEATABLE READ",
                ["SELECT count(*) FROM events"], scratch: daemon.stateDirectory)
            defer { holder.letGo() }
            let holderState = "SELECT state FROM pg_stat_activity WHERE application_name = 'e2h-holder'"
            try await Harness.waitUntil("the holder's open transaction") {
                try await Harness.sql(database, holderState) == "idle in transaction"
            }

            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await daemon.waitFor(run, "completion") { details, _ in details.state.isFinal }
            let details = try await daemon.details(run)
            #expect(details.state == .completed, "\(details.errors)")
            #expect(details.attempt == 1)
            #expect(try await Harness.sql(database, holderState) == "idle in transaction")
            // A restart beside it: start-up (migrations, the log-head check) does not wait on it either.
            await daemon.stop()
            try await daemon.start()
            #expect(try await Harness.sql(database, holderState) == "idle in transaction")

            let status = await holder.release()
            #expect(status == 0, "the holder's transaction did not commit: \(holder.holder.output)")
        }
    }

    /// `pg_dump` of a database holding a completed run, restored into a fresh database: a daemon starts on it (its
    /// migration and log-head checks pass, nothing is re-applied), the run's hash chain verifies, and the next append lands
    /// right after the old head.
    @Test func aDumpRestoredIntoAFreshDatabaseVerifiesAndAppendsWithoutAGap() async throws {
        let original = try await SmokeRunTests.daemon()
        let source = try #require(original.databaseURL)
        try await original.start()
        var run = ""
        try await withDaemons([original]) {
            run = try await original.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await original.waitFor(run, "completion") { details, _ in
                details.state.isFinal
            }
            #expect(try await original.details(run).state == .completed)
        }
        let head = try #require(Int64(try await Harness.sql(source, "SELECT position FROM log_head")))
        #expect(try await Harness.sql(source, "SELECT max(position) FROM events") == "\(head)")

        let binaries = try Harness.environment("E2H_TEST_PG_BINDIR")
        let dump = try Harness.scratchDirectory() + "/e2h.dump"
        defer { try? FileManager.default.removeItem(atPath: (dump as NSString).deletingLastPathComponent) }
        let dumped = try await ChildProcess.run(binaries + "/pg_dump", ["--format=custom", "--file=\(dump)", source])
        try #require(dumped.status == 0, "pg_dump failed: \(dumped.output)")
        let target = try await Harness.createDatabase()
        let restored = try await ChildProcess.run(
            binaries + "/pg_restore", ["--exit-on-error", "--dbname=\(target)", dump])
        try #require(restored.status == 0, "pg_restore failed: \(restored.output)")

        let restarted = DaemonUnderTest(
            stateDirectory: try Harness.scratchDirectory() + "/state", databaseURL: target,
            arguments: ["--workers", "0"])
        try await restarted.start()
        try await withDaemons([restarted]) {
            #expect(!restarted.log.contains("migrations applied"), "\(restarted.log)")
            let verified = try await restarted.e2h("verify", run)
            #expect(verified.status == 0 && verified.output.contains("intact"), "\(verified.output)")
            let hashes = "SELECT string_agg(encode(hash, 'hex'), ',' ORDER BY position) FROM events"
            #expect(try await Harness.sql(target, hashes) == (try await Harness.sql(source, hashes)))

            let next = try await restarted.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            let position = try await Harness.sql(
                target, "SELECT min(position) || ' ' || max(position) FROM events WHERE stream = 'run-\(next)'")
            #expect(position == "\(head + 1) \(head + 1)")
            #expect(try await Harness.sql(target, "SELECT position FROM log_head") == "\(head + 1)")
            #expect(try await restarted.e2h("verify", next).status == 0)
        }
    }
}
