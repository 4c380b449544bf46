import EventStore
import Foundation
import Testing
import WireTypes

@testable import Daemon
@testable import DaemonCommand

@Suite("Token, JSON differences, blob references, metrics")
struct SmallPartsTests {
    @Test func theTokenIsCreatedOnceReadableByItsOwnerOnly() throws {
        let directory = NSTemporaryDirectory() + "e2hd-token-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try AccessToken.loadOrCreate(stateDirectory: directory)
        let second = try AccessToken.loadOrCreate(stateDirectory: directory)
        #expect(first.value == second.value && first.value.count == 64)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(first.matches(first.value))
        #expect(!first.matches(String(first.value.dropLast())))
        #expect(!first.matches(""))
    }

    @Test func aStateDirectoryIsLockedOnceAndAFileInItsPlaceIsNamed() throws {
        let directory = NSTemporaryDirectory() + "e2hd-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lock = try StateDirectoryLock(stateDirectory: directory)
        let second = #expect(throws: DaemonError.self) { try StateDirectoryLock(stateDirectory: directory) }
        #expect(second?.message.contains("another e2hd is running") == true)
        _ = lock
        let file = directory + "/a-file"
        try Data().write(to: URL(fileURLWithPath: file))
        let error = #expect(throws: DaemonError.self) { try StateDirectoryLock(stateDirectory: file) }
        #expect(error?.message.contains("\(file) is a file, not a directory") == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        (#"{"a":1,"b":[1,2]}"#, #"{"a":1,"b":[1,2]}"#, nil),
        (#"{"a":1,"b":[1,2]}"#, #"{"a":1,"b":[1,3]}"#, "$.b[1]"),
        (#"{"a":{"x":true}}"#, #"{"a":{"y":true}}"#, "$.a.x"),
        (#"[1]"#, #"[1,2]"#, "$[1]"),
    ])
    func theFirstDifferenceIsNamedByPath(left: String, right: String, path: String?) {
        #expect(JSONDifference.first(Data(left.utf8), Data(right.utf8))?.path == path)
    }

    @Test func metricsExposeQueueFiguresAndStepRates() {
        let metrics = DaemonMetrics()
        metrics.trainingSteps(30)
        metrics.writeFenced()
        metrics.writeFenced()
        let storage = StorageFigures(
            blobs: 7, blobContentBytes: 7000, blobTableBytes: 8192, eventTableBytes: 4096, metricTableBytes: 1024)
        let text = metrics.exposition(
            runsByState: [("queued", 2), ("running", 1)], queueDepth: 2, storage: storage, eventsAppended: 3)
        #expect(text.contains("e2h_queue_depth 2"))
        #expect(text.contains("e2h_blobs_stored 7\n"))
        #expect(text.contains("e2h_blob_content_bytes 7000\n"))
        #expect(text.contains(#"e2h_stored_bytes{table="blobs"} 8192"#))
        #expect(text.contains(#"e2h_stored_bytes{table="events"} 4096"#))
        #expect(text.contains(#"e2h_runs{state="running"} 1"#))
        #expect(text.contains("e2h_events_appended_total 3"))
        #expect(text.contains("e2h_fenced_writes_total 2\n"))
        #expect(text.contains("e2h_training_steps_per_second 0.500"))
    }
}

@Suite("Strict query parameters and daemon options")
struct StrictInputTests {
    /// `--workers 60` on the embedded server (100 connections) failed claims and requests with "too many clients";
    /// a daemon whose sessions do not fit refuses to start, saying how many workers do.
    @Test func moreWorkersThanTheDatabaseHasSessionsForIsRefusedAtStart() async throws {
        let queue = try await TestDatabase.queue()
        try await Daemon.checkConnections(queue.store, workers: 1)
        let rows = try await queue.store.execute("SELECT current_setting('max_connections')::int AS allowed")
        let allowed = try #require(try rows.int(0, "allowed"))
        let error = await #expect(throws: DaemonError.self) {
            try await Daemon.checkConnections(queue.store, workers: allowed)
        }
        #expect(error?.message.contains("--workers \(allowed) needs \(2 * allowed + 5) database sessions") == true)
    }

    @Test(arguments: ["nan", "NaN", "inf", "-inf", "1e999", "-1", "31", "abc", ""])
    func aWaitThatIsNotAFiniteNumberOfSecondsInRangeIsABadRequest(_ text: String) {
        let query = QueryParameters([("wait", text)])
        #expect(throws: DaemonError.self) { _ = try query.seconds("wait", default: 0, in: 0...30) }
    }

    @Test(arguments: ["-1", "0", "1001", "99999999999999999999999", "1.5", "x"])
    func aLimitOutsideItsRangeIsABadRequest(_ text: String) {
        let query = QueryParameters([("limit", text)])
        do {
            _ = try query.integer("limit", default: 50, in: 1...1000)
            Issue.record("limit=\(text) was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .badRequest && error.message.contains("limit"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// Reading starts at `after + 1`: the largest Int64 would overflow it (a trap that killed e2hd).
    @Test func anAfterThatWouldOverflowTheNextVersionIsABadRequest() throws {
        #expect(throws: DaemonError.self) { _ = try QueryParameters([("after", "9223372036854775807")]).versionAfter() }
        #expect(try QueryParameters([("after", "9223372036854775806")]).versionAfter() == Int64.max - 1)
        #expect(try QueryParameters([]).versionAfter() == 0)
    }

    /// The queue keeps a priority in a 32-bit column: a larger one was a database error (503), not a 400.
    @Test(arguments: [Int(Int32.max) + 1, 1_000_001, -1_000_001, Int.max, Int.min])
    func aPriorityOutsideItsRangeIsABadRequest(_ priority: Int) {
        do {
            try RunSubmission.check(priority: priority)
            Issue.record("priority \(priority) was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .badRequest && error.message.contains("priority"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// Browsers' GET forms and most HTTP libraries write a space as `+`: `where=name+=+smoke` was "unknown field
    /// 'name+'".
    @Test func aQueryIsReadAsAFormEncodesIt() throws {
        let query = QueryParameters(query: "where=name+=+smoke&q=a%2Bb+c&flag&empty=&where=second")
        #expect(query.values == ["where": "name = smoke", "q": "a+b c", "flag": "", "empty": ""])
        #expect(QueryParameters(query: nil).values.isEmpty && QueryParameters(query: "").values.isEmpty)
    }

    /// Runs of one spec and seed are one seed; the one kept is the first named that completed, where the first was
    /// named, so a cancelled run named first does not stand for a completed one (hostile testing lost the completed
    /// run's PPO and ReST-EM rows that way) and the names' order decides nothing.
    @Test func ofRunsOfOneSpecTheCompletedOneIsKept() {
        typealias Run = (id: String, spec: String, state: RunState)
        func kept(_ runs: [Run]) -> (kept: [String], repeats: [String]) {
            let result = RunComparison.oneRunPerSpec(
                runs, specHash: \.spec, completed: { $0.state == .completed }, id: \.id)
            return (result.kept.map(\.id), result.repeats.map { "\($0.repeated)→\($0.kept)" })
        }
        let cancelled: Run = ("a", "X", .cancelled)
        let completed: Run = ("b", "X", .completed)
        let other: Run = ("c", "Y", .failed)
        #expect(kept([cancelled, other, completed]) == (["b", "c"], ["a→b"]))
        #expect(kept([completed, other, cancelled]) == (["b", "c"], ["a→b"]))
        #expect(kept([cancelled, ("d", "X", .failed)]) == (["a"], ["d→a"]))
        #expect(kept([completed, ("e", "X", .completed)]) == (["b"], ["e→b"]))
    }

    /// The methods a path takes, from the routes' templates: what a 405's `Allow` header lists.
    @Test func aPathTakesTheMethodsItsRoutesName() {
        let methods = RouteMethods([
            ("/v1/runs", "GET"), ("/v1/runs", "POST"), ("/v1/runs/{id}", "GET"), ("/v1/runs/{id}/cancel", "POST"),
            ("/assets/dashboard.css", "GET"),
        ])
        #expect(methods.allowed(at: "/v1/runs") == ["GET", "POST"])
        #expect(methods.allowed(at: "/v1/runs/0123abcd") == ["GET"])
        #expect(methods.allowed(at: "/v1/runs/0123abcd/cancel/") == ["POST"])
        #expect(methods.allowed(at: "/assets/dashboard.css") == ["GET"])
        for unrouted in ["/", "/v1", "/v1/runs/a/b", "/v1/groups/a", "/assets/other.css"] {
            #expect(methods.allowed(at: unrouted).isEmpty, "\(unrouted)")
        }
    }

    /// A reconnecting `EventSource` sends the last id it saw; the stream goes on after it, never before `after`.
    @Test func aStreamGoesOnAfterTheLastEventTheClientSaw() {
        #expect(LiveRunStream.start(after: 0, lastEventID: "650") == 650)
        #expect(LiveRunStream.start(after: 700, lastEventID: "650") == 700)
        #expect(LiveRunStream.start(after: 3, lastEventID: nil) == 3)
        for foreign in ["", "x", "-1", "9223372036854775807", "1e3"] {
            #expect(LiveRunStream.start(after: 3, lastEventID: foreign) == 3, "\(foreign)")
        }
    }

    /// What a request got wrong is a 4xx that says so; only the database's own trouble is a 503 "retry".
    @Test func aValueTheDatabaseRefusesIsTheRequestsFaultNotARetry() {
        func status(_ error: EventStoreError) -> Int { APIFailure.of(error, requestID: "r").status }
        #expect(status(EventStoreError(code: .invalidArgument, message: "a text parameter contains a NUL byte")) == 400)
        #expect(status(EventStoreError(code: .query, message: "invalid input syntax", sqlState: "22P02")) == 400)
        #expect(status(EventStoreError(code: .duplicateEventID, message: "event ids must be fresh")) == 409)
        #expect(status(EventStoreError(code: .connection, message: "gone")) == 503)
        #expect(status(EventStoreError(code: .query, message: "deadlock", sqlState: "40P01")) == 503)
        let nul = APIFailure.of(
            EventStoreError(code: .invalidArgument, message: "a text parameter contains a NUL byte"), requestID: "r")
        #expect(nul.message.contains("remove NUL bytes") && !nul.message.contains("parameter"))
    }

    /// `compare` of a run that failed printed its partial headline as if it were whole.
    @Test func aComparisonOfARunThatHasNotCompletedSaysSo() {
        func run(_ id: String, _ state: RunState) -> RunDetails {
            RunDetails(
                id: id, name: "r", state: state, priority: 0, attempt: 1, failures: 0, maxAttempts: 3, specHash: "h",
                leaseOwner: nil, cancelRequested: false, submittedAt: .now, updatedAt: .now, errors: [], progress: nil,
                eventCount: 1)
        }
        #expect(RunComparison.unfinished([run("aaaaaaaa-1", .completed)]) == nil)
        let warning = RunComparison.unfinished([run("aaaaaaaa-1", .completed), run("bbbbbbbb-2", .failed)])
        #expect(warning?.hasPrefix("bbbbbbbb is failed: its figures are the scores recorded so far") == true)
    }

    /// A replay compares a run that had not completed only as far as its record went, and says so.
    @Test func aReplayVerdictSaysWhenItsRunHadNotCompleted() {
        func verdict(_ state: RunState?) -> String {
            ReplayReport(run: "r", identical: true, comparedEvents: 7, divergence: nil, recordedState: state).summary
        }
        #expect(verdict(.completed) == "identical (7 events)" && verdict(nil) == "identical (7 events)")
        #expect(
            verdict(.cancelled)
                == "identical over the 7 events the run had recorded; it was cancelled, not completed, so the rest of "
                + "it was not compared")
    }

    @Test func goodValuesAndDefaultsPassAndTheFirstOfARepeatedNameCounts() throws {
        let query = QueryParameters([("wait", "2.5"), ("limit", "10"), ("limit", "-1")])
        #expect(try query.seconds("wait", default: 0, in: 0...30) == 2.5)
        #expect(try query.integer("limit", default: 50, in: 1...1000) == 10)
        #expect(try query.integer("after", default: Int64(0), in: 0...Int64.max) == 0)
    }

    @Test(arguments: [
        ["--poll-seconds", "0"], ["--reaper-seconds", "0"], ["--backoff-seconds", "0"], ["--lease-seconds", "-5"],
        ["--heartbeat-seconds", "nan"], ["--lease-seconds", "inf"], ["--heartbeat-seconds", "100"],
        ["--poll-seconds", "1e300"], ["--workers", "-1"], ["--port", "70000"], ["--max-attempts", "0"],
    ])
    func nonsensicalOptionsAreRefusedAtStart(_ arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try E2HD.parse(arguments) }
    }

    @Test func theDefaultOptionsAreAccepted() throws {
        _ = try E2HD.parse([])
    }

    @Test(arguments: ["", "\n", "short-token\n"])
    func anEmptyOrShortTokenFileIsReplacedAtomically(_ contents: String) throws {
        let directory = NSTemporaryDirectory() + "e2hd-token-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try contents.write(toFile: directory + "/token", atomically: false, encoding: .utf8)
        let token = try AccessToken.loadOrCreate(stateDirectory: directory)
        guard case .replaced = token.origin else {
            Issue.record("a token file holding \(contents.debugDescription) was used as it is")
            return
        }
        #expect(token.value.count == 64)
        let again = try AccessToken.loadOrCreate(stateDirectory: directory)
        #expect(again.value == token.value && again.origin == .existing)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["token"])
    }

    @Test func anUnreadableTokenFileStopsTheStartWithWhatToDo() throws {
        let directory = NSTemporaryDirectory() + "e2hd-token-\(UUID().uuidString)"
        // A directory where the file should be: unreadable as a file whoever runs the test (root included).
        try FileManager.default.createDirectory(atPath: directory + "/token", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try AccessToken.loadOrCreate(stateDirectory: directory)
            Issue.record("an unreadable token file was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .configuration && error.message.contains("remove it"))
        }
    }
}

@Suite("Restart policy of the embedded PostgreSQL")
struct RestartPolicyTests {
    @Test func restartsBackOffAndDoublingStopsAtTheMaximum() {
        var policy = RestartPolicy(maximumRestarts: 10, maximumBackoff: .seconds(4))
        let backoffs = (0..<6).map { policy.died(at: .seconds($0)) }
        #expect(
            backoffs == [
                .restart(after: .milliseconds(500)), .restart(after: .seconds(1)), .restart(after: .seconds(2)),
                .restart(after: .seconds(4)), .restart(after: .seconds(4)), .restart(after: .seconds(4)),
            ])
    }

    @Test func tooManyDeathsInTheWindowGiveUpButOldOnesAreForgotten() {
        var policy = RestartPolicy(maximumRestarts: 2, window: .seconds(60))
        #expect(policy.died(at: .seconds(0)) == .restart(after: .milliseconds(500)))
        #expect(policy.died(at: .seconds(10)) == .restart(after: .seconds(1)))
        #expect(policy.died(at: .seconds(20)) == .giveUp(deaths: 3))
        // Long after: the window has forgotten the old deaths, and the backoff starts over.
        var calm = RestartPolicy(maximumRestarts: 2, window: .seconds(60))
        _ = calm.died(at: .seconds(0))
        _ = calm.died(at: .seconds(10))
        #expect(calm.died(at: .seconds(200)) == .restart(after: .milliseconds(500)))
    }
}
