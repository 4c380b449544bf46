import Canonical
import EventStore
import Foundation
import WireTypes

/// The `runs` table as the lifecycle's storage: reads a row into a `RunLifecycle` and writes one back. Nothing here
/// decides a transition; callers lock the row, ask the lifecycle, and apply what it says.
enum RunTable {
    /// The columns a lifecycle is read from, and the transaction's time every decision uses.
    static let lifecycleColumns = """
        id, state, attempt, failures, max_attempts, run_after, lease_owner, lease_token, lease_expires_at,
        cancel_requested, blobs_left_out, now() AS now
        """

    /// Row `row` of a result selected with `lifecycleColumns`.
    static func lifecycle(
        _ rows: PostgresRows, _ row: Int = 0, policy: RunLifecycle.Policy
    ) throws -> (
        id: String, lifecycle: RunLifecycle, now: Date
    ) {
        let id = try required(rows.string(row, "id"), "id")
        let stateText = try required(rows.string(row, "state"), "state")
        let attempt = try required(rows.int(row, "attempt"), "attempt")
        let state: RunLifecycle.State
        switch RunState(rawValue: stateText) {
        case .queued:
            // The table keeps one `queued`; a run that already had attempts waits for its backoff.
            state =
                attempt == 0 ? .queued : .requeued(notBefore: try required(rows.date(row, "run_after"), "run_after"))
        case .running:
            state = .running(
                RunLifecycle.Holder(
                    owner: try required(rows.string(row, "lease_owner"), "lease_owner"),
                    token: try required(rows.int64(row, "lease_token"), "lease_token"),
                    expiresAt: try required(rows.date(row, "lease_expires_at"), "lease_expires_at"),
                    cancelRequested: try rows.bool(row, "cancel_requested") ?? false))
        case .completed: state = .completed
        case .failed: state = .failed
        case .cancelled: state = .cancelled
        case nil:
            throw DaemonError(.internalError, "run \(id) has the unknown state \(stateText)")
        }
        let lifecycle = RunLifecycle(
            state: state, attempt: attempt, failures: try required(rows.int(row, "failures"), "failures"),
            maxAttempts: try required(rows.int(row, "max_attempts"), "max_attempts"), policy: policy,
            blobsLeftOut: try required(rows.bool(row, "blobs_left_out"), "blobs_left_out"))
        return (id, lifecycle, try required(rows.date(row, "now"), "now"))
    }

    /// Locks run `id`'s row (first in the lock order run → stream → log head) and reads its lifecycle.
    static func lock(
        _ tx: Transaction, _ id: String, policy: RunLifecycle.Policy
    ) throws -> (
        lifecycle: RunLifecycle, now: Date
    )? {
        let rows = try tx.query("SELECT \(lifecycleColumns) FROM runs WHERE id = $1 FOR UPDATE", [.text(id)])
        guard rows.count == 1 else { return nil }
        let (_, lifecycle, now) = try lifecycle(rows, policy: policy)
        return (lifecycle, now)
    }

    /// Writes the lifecycle's state to run `id`'s row and applies the change: the error joins the run's list, the
    /// event is appended to its stream, and the webhooks that listen for its notice get their deliveries.
    static func apply(
        _ tx: Transaction, _ id: String, _ lifecycle: RunLifecycle, _ change: RunLifecycle.Change, now: Date,
        author: DaemonEvent.Author = .init()
    ) throws {
        let state = lifecycle.state
        let runAfter: Date? =
            switch state {
            case .queued: now
            case .requeued(let notBefore): notBefore
            default: nil
            }
        let holder = lifecycle.holder
        // The projection's copy of the completion's headline, so listing runs reads no event.
        var headline: Data?
        if case .completed(let completed) = change.event, let value = completed.headline {
            headline = try CanonicalJSON.encode(value)
        }
        _ = try tx.query(
            """
            UPDATE runs SET state = $2, attempt = $3, failures = $4,
                run_after = coalesce(to_timestamp($5::float8), run_after),
                lease_owner = $6, lease_token = $7, lease_expires_at = to_timestamp($8::float8), cancel_requested = $9,
                errors = CASE WHEN $10::text IS NULL THEN errors ELSE errors || jsonb_build_array($10::text) END,
                finished_at = CASE WHEN $11 THEN coalesce(finished_at, now()) END,
                progress = CASE WHEN $2 = 'running' THEN progress END,
                headline = coalesce($12::jsonb, headline),
                updated_at = now()
            WHERE id = $1
            """,
            [
                .text(id), .text(state.runState.rawValue), .int(Int64(lifecycle.attempt)),
                .int(Int64(lifecycle.failures)), runAfter.map { .double($0.timeIntervalSince1970) } ?? .null,
                holder.map { .text($0.owner) } ?? .null, holder.map { .int($0.token) } ?? .null,
                holder.map { .double($0.expiresAt.timeIntervalSince1970) } ?? .null,
                .bool(holder?.cancelRequested ?? false), change.error.map { .text($0) } ?? .null,
                .bool(state.runState.isFinal), headline.map { .json($0) } ?? .null,
            ])
        if let from = lifecycle.claimableFrom, from <= now { try QueueChannel.runnable.notify(tx, run: id) }
        if let holder, holder.cancelRequested { try QueueChannel.cancelRequested.notify(tx, run: id) }
        if let event = change.event {
            _ = try tx.append(
                stream: DaemonEvent.stream(id), expectedVersion: .any, events: [try event.recorded(by: author)])
        }
        if let notice = change.notice {
            try HookOutbox.enqueue(tx, run: id, notice, event: change.event, state: state.runState, now: now)
        }
    }

    static func required<T>(_ value: T?, _ column: String) throws -> T {
        guard let value else { throw DaemonError(.internalError, "the runs table has no \(column) where one belongs") }
        return value
    }
}
