import EventStore
import Foundation
import Pipeline
import Testing
import WireTypes

@testable import Daemon

@Suite("The executor's recorder: fenced on the lease")
struct LeasedRecorderTests {
    @Test func itRecordsWhileTheLeaseHoldsAndRefusesEverythingOnceLost() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml")).run.id
        let lease = try #require(try await queue.claim(owner: "w"))
        let recorder = LeasedRecorder(lease: lease, leases: Leases(queue: queue))

        let started = PipelineEvent(
            type: "StageStarted", payload: Data(#"{"stage":"sft"}"#.utf8), volatile: Data(#"{"seconds":1.5}"#.utf8))
        let progress = RunProgress(stage: .sft, task: "policy", done: 3, total: 400, unit: "steps", loss: 0.5)
        await recorder.report(progress)
        try await recorder.append([started])
        try await recorder.recordMetrics([TrainingMetric(name: "sft.policy.loss", step: 3, value: 0.5)])
        // The report travels with the fenced write, as the pipeline typed it.
        #expect(try await queue.details(run).progress == progress)
        let history = try await recorder.history()
        #expect(history.map(\.type) == ["StageStarted"])
        #expect(history.first?.payload == started.payload)
        #expect(history.first?.volatile == started.volatile)
        #expect(await recorder.stopRequested() == nil)

        try await TestDatabase.expireLease(of: run, in: queue)
        #expect(try await queue.reap() == 1)
        await #expect(throws: EventStoreError.self) { try await recorder.append([started]) }
        #expect(recorder.isLeaseLost)
        #expect(await recorder.stopRequested() == .shutdown)
        await #expect(throws: EventStoreError.self) {
            try await recorder.recordMetrics([TrainingMetric(name: "sft.policy.loss", step: 4, value: 0.4)])
        }
        let stored = try await queue.store.metrics(run: run)
        #expect(stored.map(\.step) == [3])
        #expect(
            try await queue.store.readWhole(stream: DaemonEvent.stream(run)).map(\.type)
                == ["RunSubmitted", "RunClaimed", "StageStarted", "RunInterrupted"])
    }

    /// The server ends the session in the middle of each fenced write — metric points, events, the attempt's end —
    /// once: each write is re-run on a new session and lands once, and the attempt goes on (a terminated session
    /// used to fail the whole attempt).
    @Test func aSessionEndedMidWriteCostsARetryNotTheAttempt() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml")).run.id
        let lease = try #require(try await queue.claim(owner: "w"))
        let recorder = LeasedRecorder(lease: lease, leases: Leases(queue: queue))
        try await queue.store.transaction { tx in
            // A sequence, not a table, counts the writes: nextval survives the rollback of the session it ends.
            try tx.query("CREATE SEQUENCE writes")
            try tx.query(
                """
                CREATE FUNCTION end_every_other_session() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('writes') % 2 = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
                    RETURN NULL;
                END
                $$
                """)
            for table in ["metrics", "events"] {
                try tx.query(
                    "CREATE TRIGGER end_session AFTER INSERT ON \(table) EXECUTE FUNCTION end_every_other_session()")
            }
        }

        try await recorder.recordMetrics([TrainingMetric(name: "sft.policy.loss", step: 3, value: 0.5)])
        try await recorder.append([PipelineEvent(type: "StageStarted", payload: Data(#"{"stage":"sft"}"#.utf8))])
        try await queue.finish(lease, .completed(summary: "done"))
        let writes = try await queue.store.transaction { tx in try tx.query("SELECT last_value FROM writes") }
        #expect(try writes.int(0, "last_value") == 6, "each of the three writes should have run exactly twice")
        #expect(try await queue.store.metrics(run: run).map(\.step) == [3])
        #expect(
            try await queue.store.readWhole(stream: DaemonEvent.stream(run)).map(\.type)
                == ["RunSubmitted", "RunClaimed", "StageStarted", "RunCompleted"])
        #expect(try await queue.details(run).state == .completed)
        #expect(try await queue.store.verify(stream: DaemonEvent.stream(run)) == .intact(events: 4))
    }

    /// An append stores again a blob it names that another run's retention deleted only if the attempt still holds
    /// its bytes: those stored since its previous append (`RetentionTests` has the case where it does). One stored
    /// before that refuses the append, nothing is written, and the lease is not taken for lost: the retried attempt
    /// stores the blob again.
    @Test func aBlobStoredBeforeThePreviousAppendAndPrunedSinceRefusesTheAppend() async throws {
        let queue = try await TestDatabase.queue()
        let run = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml")).run.id
        let recorder = LeasedRecorder(
            lease: try #require(try await queue.claim(owner: "w")), leases: Leases(queue: queue))
        let hash = try await recorder.putBlob(Data("a sample set".utf8))
        try await recorder.append([PipelineEvent(type: "StageStarted", payload: Data(#"{"stage":"sample"}"#.utf8))])
        try await queue.store.transaction { tx in try tx.deleteBlobs([hash]) }
        let payload =
            #"{"blob":"\#(hash)","chunk":0,"first_problem":0,"policy":"sft","problems":1,"samples_per_problem":1,"#
            + #""set":"test","stage":"sample"}"#
        await #expect(throws: DaemonError.self) {
            try await recorder.append([PipelineEvent(type: "SamplesGenerated", payload: Data(payload.utf8))])
        }
        #expect(!recorder.isLeaseLost)
        #expect(
            try await queue.store.readWhole(stream: DaemonEvent.stream(run)).map(\.type)
                == ["RunSubmitted", "RunClaimed", "StageStarted"])
    }

    @Test func aCancelIsNotOverriddenByALaterShutdown() async throws {
        let queue = try await TestDatabase.queue()
        _ = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml"))
        let recorder = LeasedRecorder(
            lease: try #require(try await queue.claim(owner: "w")), leases: Leases(queue: queue))
        recorder.requestStop(.cancelled)
        recorder.requestStop(.shutdown)
        #expect(await recorder.stopRequested() == .cancelled)
    }
}
