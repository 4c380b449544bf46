import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// A worker's side of the queue: claiming a run, renewing its lease, writing under the fence, and recording how
/// the attempt ended. Each locks the run's row, asks its lifecycle, and applies the answer.
public struct Leases: Sendable {
    let queue: Queue

    public init(queue: Queue) { self.queue = queue }

    /// Claims the next runnable run (highest priority, then oldest) and commits at once: the run executes outside
    /// any transaction, held only by its lease.
    public func claim(owner: String) async throws -> Lease? {
        let policy = queue.policy
        let threadsOverride = queue.settings.threads
        let claimed = try await queue.store.transaction { tx -> (String, RunClaimed, RunSubmitted?)? in
            // Only a candidate: the lifecycle decides whether it is claimable.
            let rows = try tx.query(
                """
                SELECT \(RunTable.lifecycleColumns) FROM runs
                WHERE state = 'queued' AND run_after <= now()
                ORDER BY priority DESC, submission_order
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """)
            guard rows.count == 1 else { return nil }
            var (id, lifecycle, now) = try RunTable.lifecycle(rows, policy: policy)
            let token = try RunTable.required(
                tx.query("SELECT nextval('run_lease_tokens') AS token").int64(0, "token"), "token")
            guard case .persist(var change) = lifecycle.event(.claim(owner: owner, token: token, now: now)),
                case .claimed(var claim) = change.event
            else { return nil }
            // A stream without a readable RunSubmitted must not keep the claim from committing (it would stay at the
            // queue's head, claimed and rolled back for ever): it is claimed, and the read below throws as before.
            let submitted = try? DaemonEvent.submission(of: id, in: tx)
            claim.provenance = try Self.provenance(tx, submitted, threadsOverride: threadsOverride)
            change.event = .claimed(claim)
            try RunTable.apply(
                tx, id, lifecycle, change, now: now, author: .init(worker: owner, attempt: lifecycle.attempt))
            return (id, claim, submitted)
        }
        guard let (id, claim, submittedInClaim) = claimed else { return nil }
        queue.metrics.runClaimed()
        queue.logger.info(
            "run claimed", metadata: ["run": "\(id)", "attempt": "\(claim.attempt)", "worker": "\(owner)"])
        let submitted: RunSubmitted
        if let submittedInClaim {
            submitted = submittedInClaim
        } else {
            submitted = try await DaemonEvent.submission(of: id, in: queue.store)
        }
        return Lease(
            run: id, token: claim.leaseToken, attempt: claim.attempt, owner: owner,
            canonicalSpec: Data(submitted.specJson.utf8), replayOf: submitted.replayOf, provenance: claim.provenance)
    }

    /// The attempt's provenance: this daemon's, the threads it will execute with (the daemon's override, else the
    /// spec's, as `RunExecutor` decides; 0 for a spec that cannot be read, which the attempt then fails on), and the
    /// database's version.
    static func provenance(_ tx: Transaction, _ submitted: RunSubmitted?, threadsOverride: Int?) throws -> Provenance {
        let spec = submitted.flatMap { try? ExperimentSpec(canonicalJSON: Data($0.specJson.utf8)) }
        let threads = threadsOverride ?? spec?.threads ?? 0
        let postgres = try tx.query("SHOW server_version").string(0, "server_version") ?? "unknown"
        return HostProvenance.provenance(threads: threads, postgres: postgres)
    }

    /// Renews the lease, stores the latest progress, and reports whether a cancel was requested; `.lost` once the
    /// lease is gone.
    func heartbeat(_ lease: Lease, progress: RunProgress?) async throws -> HeartbeatResult {
        let policy = queue.policy
        let progressJSON = try progress.map { try CanonicalJSON.encode($0) }
        return try await queue.store.transaction { tx in
            guard let (locked, now) = try RunTable.lock(tx, lease.run, policy: policy) else { return .lost }
            var lifecycle = locked
            guard
                case .renew(let until, let cancelRequested) = lifecycle.event(.heartbeat(token: lease.token, now: now))
            else { return .lost }
            _ = try tx.query(
                """
                UPDATE runs SET lease_expires_at = to_timestamp($2::float8), progress = coalesce($3::jsonb, progress),
                    updated_at = now()
                WHERE id = $1
                """,
                [.text(lease.run), .double(until.timeIntervalSince1970), progressJSON.map { .json($0) } ?? .null])
            if progressJSON != nil { try QueueChannel.progressed.notify(tx, run: lease.run) }
            return .renewed(cancelRequested: cancelRequested)
        }
    }

    /// The fence: locks the run row (first in the lock order run → stream → log head), stores the latest progress,
    /// and has the lifecycle prove the lease is still this attempt's. Refused: the lease was lost, and the
    /// transaction (progress included) must write nothing.
    static func fence(_ tx: Transaction, _ lease: Lease, policy: RunLifecycle.Policy, progress: Data? = nil) throws {
        let rows = try tx.query(
            """
            UPDATE runs SET progress = coalesce($2::jsonb, progress), updated_at = now() WHERE id = $1
            RETURNING \(RunTable.lifecycleColumns)
            """, [.text(lease.run), progress.map { .json($0) } ?? .null])
        guard rows.count == 1 else { throw leaseLost(lease) }
        var (_, lifecycle, now) = try RunTable.lifecycle(rows, policy: policy)
        guard case .allowWrite = lifecycle.event(.write(token: lease.token, now: now)) else { throw leaseLost(lease) }
    }

    /// What every refused write of a lost lease throws.
    static func leaseLost(_ lease: Lease) -> EventStoreError {
        EventStoreError(
            code: .fenced,
            message: "run \(lease.run): the lease of attempt \(lease.attempt) is lost; nothing was written")
    }

    /// Appends an attempt's events, fenced on its lease, in one transaction. Re-run after a lost connection
    /// (`idempotentTransaction`): the events' ids make a second append of a committed first one a no-op, and a
    /// connection blip must not fail the attempt.
    ///
    /// `blobs` (lowercase hex) are the blobs the events name. They are locked and must be stored: the attempt stored
    /// each before naming it, but another run's retention may delete identical content (same spec, same bytes)
    /// between the store and this append — members of a sweep that share a seed share their SFT checkpoints. Locked,
    /// they cannot go until this commits, and from then on this record holds them. Gone, each is stored again in
    /// this transaction from `restorable` (the bytes the attempt still holds, by hash); one that is not there
    /// refuses the append, and the retried attempt stores it again.
    func appendFenced(
        _ lease: Lease, _ events: [NewEvent], blobs: [String] = [], restorable: [String: Data] = [:],
        progress: RunProgress?
    ) async throws {
        guard !events.isEmpty else { return }
        let policy = queue.policy
        let progressJSON = try progress.map { try CanonicalJSON.encode($0) }
        let hashes = Set(blobs).sorted()
        try await queue.store.idempotentTransaction { tx in
            try Self.fence(tx, lease, policy: policy, progress: progressJSON)
            if !hashes.isEmpty {
                let stored = try tx.lockBlobs(hashes, .againstDeletion)
                let gone = hashes.filter { !stored.contains($0) }
                let lost = gone.filter { restorable[$0] == nil }
                guard lost.isEmpty else {
                    throw DaemonError(
                        .conflict,
                        "run \(lease.run): \(lost.count) blob(s) its events name were pruned by another run's "
                            + "retention after this attempt stored them; nothing was written, and the run's next "
                            + "attempt stores them again")
                }
                for bytes in gone.compactMap({ restorable[$0] }) { try tx.putBlob(bytes) }
            }
            // With its COMMIT in one round trip: a worker stopped or cut off now holds no lock every appender needs.
            try tx.appendThenCommit(stream: DaemonEvent.stream(lease.run), events: events)
        }
    }

    /// Curve points under the attempt's number, fenced like its events. Re-run after a lost connection: a
    /// re-recorded point is a no-op.
    func recordMetricsFenced(_ lease: Lease, _ points: [MetricPoint]) async throws {
        guard !points.isEmpty else { return }
        let policy = queue.policy
        try await queue.store.idempotentTransaction { tx in
            try Self.fence(tx, lease, policy: policy)
            try tx.recordMetrics(points)
        }
    }

    /// Records how an attempt ended and releases its lease, fenced like every write of the attempt. Re-run after a
    /// lost connection: if the first COMMIT landed, the fence refuses the second (`.fenced`) and nothing is written
    /// twice; otherwise a blip would leave a finished run to expire and re-execute.
    ///
    /// `release`: for a completed run, what retention prunes, released in the same transaction, so nobody sees the
    /// run completed but not yet pruned (an export in between would miss blobs without their tombstone).
    func finish(
        _ lease: Lease, _ ending: RunLifecycle.AttemptEnding, release: RetentionCollector.Release? = nil
    ) async throws {
        let policy = queue.policy
        let state = try await queue.store.idempotentTransaction { tx -> RunState in
            guard let (locked, now) = try RunTable.lock(tx, lease.run, policy: policy) else {
                throw DaemonError(.notFound, "no run \(lease.run)")
            }
            var lifecycle = locked
            switch lifecycle.event(.attemptEnded(token: lease.token, ending, now: now)) {
            case .persist(let change):
                try RunTable.apply(
                    tx, lease.run, lifecycle, change, now: now,
                    author: .init(worker: lease.owner, attempt: lease.attempt))
                if let release, lifecycle.state.runState == .completed {
                    _ = try RetentionCollector.apply([release], in: tx, dryRun: false)
                }
                return lifecycle.state.runState
            default:
                throw Self.leaseLost(lease)
            }
        }
        queue.logger.info(
            "attempt ended", metadata: ["run": "\(lease.run)", "attempt": "\(lease.attempt)", "state": "\(state)"])
    }
}
