import EventStore
import Foundation
import Pipeline
import Synchronization
import WireTypes

/// The executor's `RunRecorder` for one attempt: the run's stream in the event store, every write fenced on
/// the attempt's lease. Once the lease is lost it asks the executor to stop, and every later write throws.
final class LeasedRecorder: RunRecorder {
    private struct State {
        var stop: StopReason?
        var leaseLost = false
        var stage: String?
        /// The model being trained ("policy", an evaluator, "ppo"), from the metric names "stage.model.name".
        var model: String?
        var step: Int?
        /// The pipeline's latest typed report; the daemon's own derivation above goes once the daemon stores it.
        var reported: RunProgress?
    }

    let lease: Lease
    let queue: RunQueue
    /// Training steps per "stage.model", from the spec, for "sft policy 120/400" progress.
    let totalSteps: [String: Int]
    private let state = Mutex(State())

    init(lease: Lease, queue: RunQueue, spec: ExperimentSpec) {
        self.lease = lease
        self.queue = queue
        let ppo = spec.rl.ppo
        // PPO's curves count optimizer steps: every rollout iteration takes epochs × minibatches of them.
        var steps = ["sft.policy": spec.policy.sft.steps, "rl.ppo": ppo.iterations * ppo.epochs * ppo.minibatches]
        for evaluator in spec.evaluators { steps["evaluators.\(evaluator.name)"] = evaluator.optimization.steps }
        for iteration in 0..<spec.rl.restEm.iterations {
            steps["rl.rest_em_\(iteration)"] = spec.rl.restEm.optimization.steps
        }
        totalSteps = steps
    }

    var store: EventStore { queue.store }

    // MARK: - Control

    func requestStop(_ reason: StopReason) {
        state.withLock { state in
            // A shutdown must not turn a requested cancel into a requeue.
            if state.stop != .cancelled { state.stop = reason }
        }
    }

    func leaseLost() { state.withLock { $0.leaseLost = true } }

    var isLeaseLost: Bool { state.withLock { $0.leaseLost } }

    /// "sft policy 120/400", "evaluators orm step 30", "sample".
    var progress: String? {
        state.withLock { state in
            guard let stage = state.stage else { return nil }
            guard let step = state.step, let model = state.model else { return stage }
            if let total = totalSteps["\(stage).\(model)"] { return "\(stage) \(model) \(step)/\(total)" }
            return "\(stage) \(model) step \(step)"
        }
    }

    // MARK: - RunRecorder

    func history() async throws -> [PipelineEvent] {
        try await store.readWhole(stream: DaemonEvents.stream(lease.run))
            .filter { !DaemonEvents.all.contains($0.type) }
            .map { PipelineEvent(type: $0.type, payload: $0.payload, volatile: Self.volatile(of: $0)) }
    }

    func append(_ events: [PipelineEvent]) async throws {
        if isLeaseLost { throw fencedError() }
        for event in events where event.type == "StageStarted" {
            let stage = (try? JSONSerialization.jsonObject(with: event.payload) as? [String: Any])?["stage"] as? String
            state.withLock {
                $0.stage = stage
                $0.step = nil
                $0.model = nil
            }
        }
        let newEvents = events.map { event in
            NewEvent(type: event.type, payload: event.payload, metadata: metadata(volatile: event.volatile))
        }
        do {
            try await queue.appendFenced(lease, newEvents, progress: progress)
        } catch let error as EventStoreError where error.code == .fenced {
            leaseLost()
            throw error
        }
    }

    func putBlob(_ bytes: Data) async throws -> String {
        try await store.putBlob(bytes)
    }

    func blob(_ sha256: String) async throws -> Data {
        try await store.blob(sha256)
    }

    /// Curve points under this attempt's number, fenced like events: a worker that lost its lease writes no
    /// points either. Re-run after a lost connection, since a re-recorded point is a no-op: a terminated
    /// session failed whole attempts here (DatabaseFailureTests).
    func recordMetrics(_ points: [TrainingMetric]) async throws {
        guard !points.isEmpty else { return }
        if isLeaseLost { throw fencedError() }
        if let last = points.max(by: { $0.step < $1.step }) {
            let parts = last.name.split(separator: ".")
            state.withLock {
                $0.step = last.step
                $0.model = parts.count >= 3 ? String(parts[1]) : nil
            }
        }
        let lease = self.lease
        do {
            try await store.idempotentTransaction { tx in
                try RunQueue.fence(tx, lease)
                try tx.recordMetrics(
                    points.map {
                        MetricPoint(
                            run: lease.run, attempt: lease.attempt, name: $0.name, step: Int64($0.step), value: $0.value
                        )
                    })
            }
        } catch let error as EventStoreError where error.code == .fenced {
            leaseLost()
            throw error
        }
        queue.metrics.trainingSteps(Set(points.map(\.step)).count)
    }

    func report(_ progress: RunProgress) async { state.withLock { $0.reported = progress } }

    /// The pipeline's latest progress report.
    var reportedProgress: RunProgress? { state.withLock { $0.reported } }

    func stopRequested() async -> StopReason? {
        state.withLock { state in
            if let stop = state.stop { return stop }
            // Lost lease: stop at once; whatever the executor then tries to write is refused by the fence.
            return state.leaseLost ? .shutdown : nil
        }
    }

    // MARK: - Encoding

    private func fencedError() -> EventStoreError {
        EventStoreError(code: .fenced, message: "run \(lease.run): the lease of attempt \(lease.attempt) is lost")
    }

    /// Who wrote the event, and the executor's volatile facts (timings), outside the payload.
    private func metadata(volatile: Data) -> Data {
        let volatileObject = (try? JSONSerialization.jsonObject(with: volatile)) ?? [String: Any]()
        let object: [String: Any] = ["attempt": lease.attempt, "worker": lease.owner, "volatile": volatileObject]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    static func volatile(of event: RecordedEvent) -> Data {
        guard let object = try? JSONSerialization.jsonObject(with: event.metadata) as? [String: Any],
            let volatile = object["volatile"],
            let data = try? JSONSerialization.data(withJSONObject: volatile, options: [.sortedKeys])
        else { return Data("{}".utf8) }
        return data
    }
}
