import EventStore
import Foundation
import Pipeline
import Testing
import WireTypes

@testable import Daemon

@Suite("The executor's recorder: fenced on the lease")
struct LeasedRecorderTests {
    @Test func itRecordsWhileTheLeaseHoldsAndRefusesEverythingOnceLost() async throws {
        let queue = try await TestDatabase.queue(TestDatabase.settings(lease: .seconds(1.5)))
        let spec = try ExperimentSpec.parse(yaml: RunQueueTests.spec, file: "tiny.yaml")
        let run = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml")).run.id
        let lease = try #require(try await queue.claim(owner: "w"))
        let recorder = LeasedRecorder(lease: lease, queue: queue, spec: spec)

        let started = PipelineEvent(
            type: "StageStarted", payload: Data(#"{"stage":"sft"}"#.utf8), volatile: Data(#"{"seconds":1.5}"#.utf8))
        try await recorder.append([started])
        try await recorder.recordMetrics([TrainingMetric(name: "sft.policy.loss", step: 3, value: 0.5)])
        #expect(recorder.progress == "sft policy 3/\(spec.policy.sft.steps)")
        let history = try await recorder.history()
        #expect(history.map(\.type) == ["StageStarted"])
        #expect(history.first?.payload == started.payload)
        #expect(history.first?.volatile == started.volatile)
        #expect(await recorder.stopRequested() == nil)

        try await Task.sleep(for: .milliseconds(1800))
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
            try await queue.store.readWhole(stream: DaemonEvents.stream(run)).map(\.type)
                == ["RunSubmitted", "RunClaimed", "StageStarted", "RunInterrupted"])
    }

    @Test func aCancelIsNotOverriddenByALaterShutdown() async throws {
        let queue = try await TestDatabase.queue()
        let spec = try ExperimentSpec.parse(yaml: RunQueueTests.spec, file: "tiny.yaml")
        _ = try await queue.submit(SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml"))
        let recorder = LeasedRecorder(lease: try #require(try await queue.claim(owner: "w")), queue: queue, spec: spec)
        recorder.requestStop(.cancelled)
        recorder.requestStop(.shutdown)
        #expect(await recorder.stopRequested() == .cancelled)
    }
}
