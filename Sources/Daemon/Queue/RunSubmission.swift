import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// Validates a spec and queues it: one row in `runs` and the run's first event, `RunSubmitted`, the one record of
/// the spec, in one transaction.
public struct RunSubmission: Sendable {
    let queue: Queue

    public init(queue: Queue) { self.queue = queue }

    public func submit(_ request: SubmitRequest) async throws -> SubmitResponse {
        try Self.check(priority: request.priority)
        let spec: ExperimentSpec
        do {
            spec = try ExperimentSpec.parse(yaml: request.yaml, file: request.file)
        } catch let error as PipelineError where error.code == .invalidSpec {
            throw DaemonError(
                .invalidSpec, "the spec is not valid (\(max(1, error.diagnostics.count)) error(s)); nothing was queued",
                diagnostics: error.diagnostics.isEmpty ? [error.message] : error.diagnostics.map(\.description))
        }
        try SpecAdmission(settings: queue.settings).check(spec)
        let submitted = RunSubmitted(
            name: spec.name, specJson: String(decoding: spec.canonicalJSON(), as: UTF8.self),
            specHash: spec.canonicalHash, specYaml: request.yaml, priority: request.priority)
        return try await enqueue(submitted, idempotencyKey: request.idempotencyKey)
    }

    /// A priority in `RunPriority.range`, else a 400 that says which.
    static func check(priority: Int) throws {
        guard RunPriority.range.contains(priority) else {
            throw DaemonError(
                .badRequest,
                "priority \(priority) is outside \(RunPriority.range.lowerBound)...\(RunPriority.range.upperBound)")
        }
    }

    /// Queues a replay of `run`: a job with the run's recorded spec that a worker re-executes and compares with
    /// the run's events, like any run claimed, bounded, cancelled and requeued.
    func submitReplay(of run: String) async throws -> SubmitResponse {
        let original = try await DaemonEvent.submission(of: run, in: queue.store)
        guard original.replayOf == nil else {
            throw DaemonError(.badRequest, "run \(run) is itself a replay; replay the run it replays")
        }
        // A queued run has recorded nothing a replay could compare with, and a replay job that ran before it would
        // have been "identical" over nothing.
        guard try await RunCatalog(queue: queue).details(run).state != .queued else {
            throw DaemonError(
                .conflict, "run \(run) is queued and has recorded nothing to replay; replay it once it has run")
        }
        var replay = original
        replay.replayOf = run
        return try await enqueue(replay, idempotencyKey: nil)
    }

    /// An idempotency key given again with a different spec: answered 409, where it returned the first submission
    /// as if it were this one (exit 0, nothing of the new spec queued).
    static func keyReused(_ key: String, for first: String) -> DaemonError {
        DaemonError(
            .conflict,
            "the key \(key.prefix(80)) was given for \(first), of another spec; a key repeats one submission — give "
                + "this one another key")
    }

    private func enqueue(_ submitted: RunSubmitted, idempotencyKey: String?) async throws -> SubmitResponse {
        let id = UUID().uuidString.lowercased()
        let event = try DaemonEvent.submitted(submitted).recorded()
        let lifecycle = RunLifecycle.submitted(maxAttempts: queue.settings.maxAttempts, policy: queue.policy)
        let (runID, created) = try await queue.store.transaction { tx -> (String, Bool) in
            let inserted = try tx.query(
                """
                INSERT INTO runs (id, name, spec_hash, state, priority, idempotency_key, max_attempts, replay_of)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id
                """,
                [
                    .text(id), .text(submitted.name), .text(submitted.specHash),
                    .text(lifecycle.state.runState.rawValue), .int(Int64(submitted.priority)),
                    idempotencyKey.map { .text($0) } ?? .null, .int(Int64(lifecycle.maxAttempts)),
                    submitted.replayOf.map { .text($0) } ?? .null,
                ])
            if inserted.isEmpty, let key = idempotencyKey {
                let existing = try tx.query(
                    "SELECT id, spec_hash FROM runs WHERE idempotency_key = $1", [.text(key)])
                let id = try RunTable.required(existing.string(0, "id"), "id")
                // The key names what it was first given for: another spec under it is a mistake, not a repeat.
                guard try existing.string(0, "spec_hash") == submitted.specHash else {
                    throw Self.keyReused(key, for: "run \(id)")
                }
                return (id, false)
            }
            _ = try tx.append(stream: DaemonEvent.stream(id), expectedVersion: .noStream, events: [event])
            try QueueChannel.runnable.notify(tx, run: id)
            return (id, true)
        }
        if created {
            queue.logger.info(
                submitted.replayOf == nil ? "run queued" : "replay queued",
                metadata: ["run": "\(runID)", "name": "\(submitted.name)"])
        }
        return SubmitResponse(run: try await RunCatalog(queue: queue).details(runID), created: created)
    }
}
