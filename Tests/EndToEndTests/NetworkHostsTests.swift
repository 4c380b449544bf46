import Foundation
import Testing
import WireTypes

/// Several machines, one database, over a real network: PostgreSQL on host `db` (TCP, TLS with a throwaway CA,
/// scram-sha-256, verify-full), the real e2hd on hosts `a` and `b`, each host a network namespace on one bridge.
/// A group of six smoke runs is split between the daemons, each run executed once; then the host executing a run is
/// cut off (link down), the other daemon takes the run over when the lease expires, the cut-off daemon's writes are
/// refused when its link comes back, and the run's scores are those of an uninterrupted run of the same spec.
@Suite(
    "Several hosts over a real network", .serialized,
    .enabled(if: HostNetwork.unavailableReason == nil, Comment(rawValue: HostNetwork.unavailableReason ?? "")))
struct NetworkHostsTests {
    @Test func runsSplitOverTwoHostsAndACutOffHostIsFencedAndChangesNoScore() async throws {
        let scratch = try Harness.scratchDirectory()
        let network = try await HostNetwork.build(hostNames: ["db", "a", "b"])
        var database: TLSDatabaseHost?
        var daemons: [DaemonUnderTest] = []
        do {
            let db = try await TLSDatabaseHost.start(
                on: try network.host("db"), network: network, directory: scratch + "/db")
            database = db
            try await Self.checkTheDatabaseAdmitsOnlyVerifiedTLSAndPasswords(db)
            for name in ["a", "b"] {
                let host = try network.host(name)
                try FileManager.default.createDirectory(
                    atPath: scratch + "/" + name, withIntermediateDirectories: false,
                    attributes: [.posixPermissions: 0o755])
                let daemon = DaemonUnderTest(
                    stateDirectory: scratch + "/\(name)/state", databaseURL: db.url,
                    arguments: Self.leases + ["--host", host.address],
                    launcher: try network.launcher(host))
                daemons.append(daemon)
                try await daemon.start(name: "host-\(name)")
            }
            try await Self.checkEverySessionIsTLSFromTheDaemonsHosts(db, network: network)
            let reference = try await Self.runAGroupSplitBetweenTheHosts(daemons)
            try await Self.cutOffTheHostExecutingARun(
                daemons, network: network, database: db, reference: reference, scratch: scratch)
        } catch {
            for host in network.hosts { try? await network.restore(host) }
            for daemon in daemons { await daemon.stop() }
            await database?.stop()
            await network.tearDown()
            throw error
        }
        for daemon in daemons { await daemon.stop() }
        await database?.stop()
        await network.tearDown()
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// Shorter than the daemon's defaults, so the takeover comes in seconds, but longer than the harness's 4 s: this
    /// test asserts that no run of the group is taken over, and on a loaded CI machine (beside five other suites'
    /// daemons) no heartbeat got through for 3 s once and a lease ran out — handled correctly, but not this test's
    /// point.
    static let leases = [
        "--lease-seconds", "12", "--heartbeat-seconds", "1", "--reaper-seconds", "1", "--poll-seconds", "0.2",
        "--backoff-seconds", "0.5",
    ]

    /// The database host's only door: TLS that the client verified, and the right password. Plain TCP, a wrong
    /// password, and a server certificate checked against another CA (as a man in the middle's would be) are all
    /// refused.
    static func checkTheDatabaseAdmitsOnlyVerifiedTLSAndPasswords(_ db: TLSDatabaseHost) async throws {
        #expect(try await Harness.sql(db.url, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "t")
        let attempts: [(url: String, refusal: String)] = [
            (db.url(user: "e2h", password: db.password, database: "e2h", tls: "sslmode=disable"), "no encryption"),
            (db.url(user: "e2h", password: "wrong", database: "e2h"), "password authentication failed"),
            (
                db.url(
                    user: "e2h", password: db.password, database: "e2h",
                    tls: "sslmode=verify-full&sslrootcert=\(db.unrelatedAuthority)"),
                "certificate verify failed"
            ),
        ]
        for attempt in attempts {
            let result = try await ChildProcess.run("/usr/bin/psql", [attempt.url, "-qAtc", "SELECT 1"])
            #expect(result.status != 0 && result.output.contains(attempt.refusal), "\(result.output)")
        }
    }

    /// The server's view: the daemons' sessions come from hosts a and b, and every one of them is TLS.
    static func checkEverySessionIsTLSFromTheDaemonsHosts(_ db: TLSDatabaseHost, network: HostNetwork) async throws {
        let sessions = try await Harness.sql(
            db.superuserURL,
            """
            SELECT DISTINCT host(a.client_addr) || ' ' || s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.usename = 'e2h' ORDER BY 1
            """
        ).split(separator: "\n").map(String.init)
        let expected = [try network.host("a").address + " true", try network.host("b").address + " true"]
        #expect(sessions == expected)
    }

    /// Six runs queued as one group: each is claimed once, executed by one daemon in one attempt and completed once,
    /// and both daemons execute some. Returns the uninterrupted run of smoke.yaml itself.
    ///
    /// Seeds 3..5 are the smoke seeds ReST-EM completes on (no six consecutive seeds up to 160 all do);
    /// `rerank.resamples` only changes how reranking is scored, so the six runs all complete. The member with seed 3
    /// and 4 resamples is smoke.yaml itself.
    static func runAGroupSplitBetweenTheHosts(_ daemons: [DaemonUnderTest]) async throws -> RunDetails {
        let submitted = try await daemons[0].e2hJSON(
            GroupSubmitResponse.self, "submit", SmokeRunTests.smokeSpec, "--seeds", "3..5", "--set",
            "rerank.resamples=4,8")
        #expect(submitted.group.members.count == 6)
        var executors: [String] = []
        for member in submitted.group.members {
            let run = member.run.id
            try await daemons[0].waitFor(run, timeout: .seconds(300), "completion") { details, _ in
                details.state.isFinal
            }
            let events = try await daemons[0].events(run)
            #expect(try await daemons[0].details(run).state == .completed, "\(daemons[0].log.suffix(3000))")
            let claims = events.filter { $0.type == DaemonEventType.claimed.rawValue }
            #expect(claims.count == 1, "run \(run) was claimed \(claims.count) times")
            #expect(events.filter { $0.type == DaemonEventType.completed.rawValue }.count == 1)
            #expect(events.filter { $0.type == DaemonEventType.interrupted.rawValue }.isEmpty)
            let executor = try #require(claims.first?.payload["worker"]?.stringValue)
            // Everything the attempt recorded, from its claim to its completion, is that daemon's first attempt.
            // (Retention's tombstone, written as the attempt completes, is the store's and names no author.)
            let strays = events.drop { $0.type != DaemonEventType.claimed.rawValue }.filter {
                $0.type != DaemonEventType.blobsPruned.rawValue
                    && ($0.metadata["worker"]?.stringValue != executor || SmokeRunTests.attempt(of: $0) != 1)
            }
            #expect(strays.isEmpty, "run \(run): \(strays.map { "\($0.type) \($0.metadata)" })")
            executors.append(executor)
        }
        #expect(Set(executors) == ["host-a", "host-b"], "executed by \(executors)")
        let reference = try #require(submitted.group.members.first { $0.settings.label == "rerank.resamples=4 seed=3" })
        return try await daemons[0].details(reference.run.id)
    }

    /// Cuts off the host whose daemon is executing a run of smoke.yaml; the other daemon takes the run over once the
    /// lease expires. Then the link comes back: the cut-off daemon's late writes (its heartbeat and the append it was
    /// blocked in) are refused by the fence, the run's record is one chain with nothing of the lost attempt after the
    /// takeover, and its scores equal the uninterrupted run's.
    static func cutOffTheHostExecutingARun(
        _ daemons: [DaemonUnderTest], network: HostNetwork, database: TLSDatabaseHost, reference: RunDetails,
        scratch: String
    ) async throws {
        // The run is held at its first blob (the dataset split) so the cut finds it executing, however fast it runs
        // and however slowly this test polls: a smoke run takes seconds, and under CI load it once completed between
        // two polls.
        let hold = try await BlobTableHold.take(database, directory: scratch)
        defer { hold.session.letGo() }
        let run = try await daemons[0].e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run
        #expect(run.specHash == reference.specHash)
        let blocked = try await hold.waitForABlockedWriter()
        let executing = try await daemons[0].details(run.id)
        let owner = try #require(executing.leaseOwner, "the held run is not leased: \(executing.state)")
        let cutIndex = owner == "host-a" ? 0 : 1
        let (cut, other) = (daemons[cutIndex], daemons[1 - cutIndex])
        let cutHost = try network.host(cutIndex == 0 ? "a" : "b")
        #expect(blocked == cutHost.address, "the blocked blob write came from \(blocked), the lease is \(owner)'s")
        try await network.cut(cutHost)
        // The cut-off host's blob write goes on inside the server once the hold ends; its reply is lost, and its
        // transaction (no lease row in it) ends at the link's return or the server's idle-in-transaction limit.
        try await hold.release()
        // The lease as the cut left it: nothing from the cut-off host reaches the database any more.
        let leaseExpiry = try await Self.epoch(database, "SELECT lease_expires_at FROM runs WHERE id = '\(run.id)'")

        try await other.waitFor(run.id, timeout: .seconds(180), "the takeover") { _, events in
            events.contains { $0.type == DaemonEventType.claimed.rawValue && SmokeRunTests.attempt(of: $0) == 2 }
        }
        try await network.restore(cutHost)
        // The cut-off daemon wakes when its TCP sessions retransmit, at most one backoff interval after the link is
        // back (seconds here); its heartbeat and its next write find the lease taken, are refused, and it stops.
        try await Harness.waitUntil("the cut-off daemon's writes to be refused", timeout: .seconds(180)) {
            try await Self.fencedWrites(cut) > 0
        }
        #expect(cut.log.contains("lease lost"), "\(cut.log.suffix(3000))")
        try await other.waitFor(run.id, timeout: .seconds(300), "completion after the takeover") { details, _ in
            details.state.isFinal
        }
        #expect(try await Self.fencedWrites(other) == 0)

        let details = try await other.details(run.id)
        #expect(details.state == .completed, "\(details.errors)\n\(other.log.suffix(3000))")
        let events = try await other.events(run.id)
        let claims = events.filter { $0.type == DaemonEventType.claimed.rawValue }
        #expect(
            claims.compactMap { $0.payload["worker"]?.stringValue } == [owner, cutIndex == 0 ? "host-b" : "host-a"])
        // Taken over only once the lease had run out, by the database's clock (the API's times are whole seconds).
        let takeover = try await Self.epoch(
            database,
            "SELECT recorded_at FROM events WHERE stream = 'run-\(run.id)' AND type = 'RunClaimed'"
                + " ORDER BY version DESC LIMIT 1")
        #expect(takeover > leaseExpiry, "claimed at \(takeover), the lease ran to \(leaseExpiry)")
        #expect(events.filter { $0.type == DaemonEventType.completed.rawValue }.count == 1)
        // Fenced: after the second claim, nothing of the first attempt, neither events nor curve points.
        let afterTakeover = events.drop { SmokeRunTests.attempt(of: $0) != 2 }
        #expect(!afterTakeover.isEmpty && afterTakeover.allSatisfy { SmokeRunTests.attempt(of: $0) ?? 2 == 2 })
        #expect(!afterTakeover.contains { $0.metadata["worker"]?.stringValue == owner })
        let latePoints = try await Harness.sql(
            database.superuserURL,
            "SELECT count(*) FROM metrics WHERE run = '\(run.id)' AND attempt = 1"
                + " AND extract(epoch FROM recorded_at) >= \(takeover)")
        #expect(latePoints == "0", "curve points of the lost attempt recorded after the takeover")

        let verified = try await other.e2h("verify", run.id)
        #expect(verified.status == 0 && verified.output.contains("hash chain intact"), "\(verified.output)")
        let all = try await other.e2h("verify", "--all")
        #expect(all.status == 0 && all.output.contains("log: intact"), "\(all.output)")

        let expected = try await other.events(reference.id).filter { $0.type == "ScoreRecorded" }.map(\.payload)
        #expect(!expected.isEmpty)
        #expect(events.filter { $0.type == "ScoreRecorded" }.map(\.payload) == expected)
        // And the cut-off daemon is back, on the same database.
        #expect(try await cut.request("GET", "/readyz", token: nil).status == 200)
    }

    /// The daemon's `e2h_fenced_writes_total`.
    static func fencedWrites(_ daemon: DaemonUnderTest) async throws -> Int {
        let metrics = String(
            decoding: try await daemon.request("GET", "/metrics", token: try daemon.token).body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("e2h_fenced_writes_total ") }
        return try #require(line.flatMap { Int($0.split(separator: " ")[1]) }, "\(metrics)")
    }

    /// A timestamp the query selects, as seconds since 1970 with the database's microseconds.
    static func epoch(_ database: TLSDatabaseHost, _ query: String) async throws -> Double {
        let text = try await Harness.sql(database.superuserURL, "SELECT extract(epoch FROM (\(query)))")
        return try #require(Double(text), "\(query) gave \(text)")
    }
}

/// The test's own session holding `blobs` in SHARE mode, so every blob write waits (an INSERT needs ROW EXCLUSIVE)
/// and nothing else does: a run held this way stays leased and heartbeating, at a known point.
struct BlobTableHold {
    let database: TLSDatabaseHost
    let session: HeldTransaction
    static let applicationName = "e2h-test-blob-hold"

    /// Starts the holding session and returns once the lock is granted.
    static func take(_ database: TLSDatabaseHost, directory: String) async throws -> BlobTableHold {
        let session = try HeldTransaction(
            database.superuserURL, name: applicationName, ["LOCK TABLE blobs IN SHARE MODE"],
            scratch: directory + "/blob-hold")
        let hold = BlobTableHold(database: database, session: session)
        try await Harness.waitUntil("the blob table's hold") {
            try await Harness.sql(
                database.superuserURL,
                """
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.relation = 'blobs'::regclass AND l.mode = 'ShareLock' AND l.granted
                AND a.application_name = '\(applicationName)'
                """) == "1"
        }
        return hold
    }

    /// The address of a blob write found waiting for the hold (retention's deletes would wait too, and are not it).
    func waitForABlockedWriter() async throws -> String {
        var address = ""
        try await Harness.waitUntil("a blob write waiting for the hold", timeout: .seconds(50)) {
            address = try await Harness.sql(
                database.superuserURL,
                """
                SELECT host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.relation = 'blobs'::regclass AND NOT l.granted AND a.query LIKE 'INSERT INTO blobs%' LIMIT 1
                """)
            return !address.isEmpty
        }
        return address
    }

    /// Ends the holding session (it commits, and the lock goes) and waits for its psql to exit.
    func release() async throws {
        guard await session.release(timeout: .seconds(30)) == 0 else {
            session.holder.signal(SIGKILL)
            throw E2EError("the blob table's holding session did not end cleanly: \(session.holder.output)")
        }
    }
}
