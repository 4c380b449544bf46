import EventStore
import Foundation
import Logging
import Pipeline
import WireTypes

/// The queue: the `runs` table is its state, each run's stream its audit trail. Every change of state appends
/// its event in the same transaction, and every write of a running attempt is fenced on its lease token.
struct RunQueue: Sendable {
    let store: EventStore
    let settings: DaemonSettings
    let metrics: DaemonMetrics
    let logger: Logger

    // MARK: - Submitting

    func submit(_ request: SubmitRequest) async throws -> SubmitResponse {
        let spec: ExperimentSpec
        do {
            spec = try ExperimentSpec.parse(yaml: request.yaml, file: request.file)
        } catch let error as PipelineError where error.code == .invalidSpec {
            throw DaemonError(
                .invalidSpec, "the spec is not valid (\(max(1, error.diagnostics.count)) error(s)); nothing was queued",
                diagnostics: error.diagnostics.map(\.description).nilIfEmpty ?? [error.message])
        }
        let id = UUID().uuidString.lowercased()
        let canonical = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        let hash = spec.canonicalHash
        let event = DaemonEvents.make(
            DaemonEvents.submitted,
            [
                "name": spec.name, "spec_json": canonical, "spec_hash": hash, "priority": request.priority,
                "spec_yaml": request.yaml,
            ])
        let maxAttempts = settings.maxAttempts
        let (runID, created) = try await store.transaction { tx -> (String, Bool) in
            let inserted = try tx.query(
                """
                INSERT INTO runs (id, name, spec_yaml, spec_canonical, spec_hash, priority, idempotency_key, max_attempts)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id
                """,
                [
                    .text(id), .text(spec.name), .text(request.yaml), .text(canonical), .text(hash),
                    .int(Int64(request.priority)), request.idempotencyKey.map { .text($0) } ?? .null,
                    .int(Int64(maxAttempts)),
                ])
            if inserted.count == 0, let key = request.idempotencyKey {
                let existing = try tx.query("SELECT id FROM runs WHERE idempotency_key = $1", [.text(key)])
                return (try existing.string(0, "id") ?? id, false)
            }
            _ = try tx.append(stream: DaemonEvents.stream(id), expectedVersion: .noStream, events: [event])
            return (id, true)
        }
        if created {
            metrics.eventsAppended(1)
            logger.info("run queued", metadata: ["run": "\(runID)", "name": "\(spec.name)"])
        }
        return SubmitResponse(run: try await details(runID), created: created)
    }

    // MARK: - Reading

    static let detailColumns = """
        r.id, r.name, r.state, r.priority, r.attempt, r.failures, r.max_attempts, r.spec_hash, r.lease_owner,
        r.cancel_requested, r.submitted_at, r.updated_at, r.errors::text AS errors, r.progress,
        coalesce(s.version, 0) AS event_count
        FROM runs r LEFT JOIN streams s ON s.name = 'run-' || r.id
        """

    /// Accepts a full id or a unique prefix (ids are lowercase hex and dashes). An exact id always wins, so an
    /// id that is also another id's prefix stays addressable.
    func resolve(_ idOrPrefix: String) async throws -> String {
        let prefix = idOrPrefix.lowercased()
        guard !prefix.isEmpty, prefix.utf8.count <= 36, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw DaemonError(.notFound, "no run \(idOrPrefix.prefix(80)) — `e2h runs` lists them")
        }
        let rows = try await store.transaction { tx in
            try tx.query(
                "SELECT id FROM runs WHERE id LIKE $1 ORDER BY id = $2 DESC, id LIMIT 2",
                [.text(prefix + "%"), .text(prefix)])
        }
        let first = rows.count > 0 ? try rows.string(0, "id") : nil
        if let first, first == prefix || rows.count == 1 { return first }
        switch rows.count {
        case 0: throw DaemonError(.notFound, "no run \(idOrPrefix) — `e2h runs` lists them")
        default: throw DaemonError(.badRequest, "\(idOrPrefix) names more than one run; give more of the id")
        }
    }

    func details(_ id: String) async throws -> RunDetails {
        let rows = try await store.transaction { tx in
            try tx.query("SELECT \(Self.detailColumns) WHERE r.id = $1", [.text(id)])
        }
        guard rows.count == 1 else { throw DaemonError(.notFound, "no run \(id) — `e2h runs` lists them") }
        return try Self.details(rows, 0)
    }

    func list(state: RunState?, limit: Int) async throws -> [RunDetails] {
        let rows = try await store.transaction { tx in
            try tx.query(
                """
                SELECT \(Self.detailColumns)
                WHERE ($1::text IS NULL OR r.state = $1::text)
                ORDER BY r.submission_order DESC LIMIT $2
                """, [state.map { .text($0.rawValue) } ?? .null, .int(Int64(limit))])
        }
        return try (0..<rows.count).map { try Self.details(rows, $0) }
    }

    static func details(_ rows: PostgresRows, _ row: Int) throws -> RunDetails {
        let errorsText = try rows.string(row, "errors") ?? "[]"
        let errors = (try? JSONDecoder().decode([String].self, from: Data(errorsText.utf8))) ?? []
        return RunDetails(
            id: try rows.string(row, "id") ?? "", name: try rows.string(row, "name") ?? "",
            state: RunState(rawValue: try rows.string(row, "state") ?? "") ?? .failed,
            priority: try rows.int(row, "priority") ?? 0, attempt: try rows.int(row, "attempt") ?? 0,
            failures: try rows.int(row, "failures") ?? 0, maxAttempts: try rows.int(row, "max_attempts") ?? 0,
            specHash: try rows.string(row, "spec_hash") ?? "", leaseOwner: try rows.string(row, "lease_owner"),
            cancelRequested: try rows.bool(row, "cancel_requested") ?? false,
            submittedAt: try rows.date(row, "submitted_at") ?? Date(),
            updatedAt: try rows.date(row, "updated_at") ?? Date(), errors: errors,
            stage: try rows.string(row, "progress"), eventCount: try rows.int(row, "event_count") ?? 0)
    }

    /// (state, count) for every state, and the number of queued runs.
    func census() async throws -> (byState: [(String, Int)], queued: Int) {
        let rows = try await store.transaction { tx in
            try tx.query("SELECT state, count(*) AS n FROM runs GROUP BY state ORDER BY state", [])
        }
        var counts = Dictionary(uniqueKeysWithValues: RunState.allCases.map { ($0.rawValue, 0) })
        for row in 0..<rows.count {
            counts[try rows.string(row, "state") ?? ""] = try rows.int(row, "n") ?? 0
        }
        let byState = RunState.allCases.map { ($0.rawValue, counts[$0.rawValue] ?? 0) }
        return (byState, counts[RunState.queued.rawValue] ?? 0)
    }

    // MARK: - User requests

    /// A queued run is cancelled at once; a running one gets the flag its owner sees at the next heartbeat.
    func cancel(_ id: String) async throws -> RunDetails {
        let outcome = try await store.transaction { tx -> String? in
            let rows = try tx.query(
                """
                UPDATE runs SET
                    state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
                    cancel_requested = (state = 'running'),
                    finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END,
                    updated_at = now()
                WHERE id = $1 AND state IN ('queued', 'running')
                RETURNING state
                """, [.text(id)])
            guard rows.count == 1 else { return nil }
            let state = try rows.string(0, "state")
            if state == "cancelled" {
                _ = try tx.append(
                    stream: DaemonEvents.stream(id), expectedVersion: .any,
                    events: [DaemonEvents.make(DaemonEvents.cancelled, ["reason": "cancelled while queued"])])
            }
            return state
        }
        let current = try await details(id)
        guard let outcome else {
            throw DaemonError(.conflict, "run \(id) already ended \(current.state.rawValue); nothing to cancel")
        }
        logger.info(
            outcome == "cancelled" ? "run cancelled" : "cancel requested", metadata: ["run": "\(id)"])
        return current
    }

    /// A failed or cancelled run goes back to the queue with a fresh attempt budget; it resumes from its last
    /// checkpoint.
    func resume(_ id: String) async throws -> RunDetails {
        let resumed = try await store.transaction { tx -> Bool in
            let rows = try tx.query(
                """
                UPDATE runs SET state = 'queued', failures = 0, run_after = now(), cancel_requested = false,
                    finished_at = NULL, updated_at = now()
                WHERE id = $1 AND state IN ('failed', 'cancelled')
                RETURNING id
                """, [.text(id)])
            guard rows.count == 1 else { return false }
            _ = try tx.append(
                stream: DaemonEvents.stream(id), expectedVersion: .any,
                events: [DaemonEvents.make(DaemonEvents.resumed, ["reason": "resume requested"])])
            return true
        }
        let current = try await details(id)
        guard resumed else {
            throw DaemonError(
                .conflict, "run \(id) is \(current.state.rawValue); only failed or cancelled runs can be resumed")
        }
        logger.info("run requeued by resume", metadata: ["run": "\(id)"])
        return current
    }

    // MARK: - Leases

    /// Claims the next runnable run (highest priority, then oldest) and commits at once: the run executes
    /// outside any transaction, held only by its lease.
    func claim(owner: String) async throws -> Lease? {
        let leaseSeconds = settings.lease.seconds
        let claimed = try await store.transaction { tx -> (String, Int64, Int, String)? in
            let rows = try tx.query(
                """
                WITH next AS MATERIALIZED (
                    SELECT id FROM runs
                    WHERE state = 'queued' AND run_after <= now()
                    ORDER BY priority DESC, submission_order
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE runs SET state = 'running', attempt = runs.attempt + 1, lease_owner = $1,
                    lease_token = nextval('run_lease_tokens'), lease_expires_at = now() + make_interval(secs => $2),
                    progress = NULL, updated_at = now()
                FROM next WHERE runs.id = next.id
                RETURNING runs.id, runs.attempt, runs.lease_token, runs.spec_canonical
                """, [.text(owner), .double(leaseSeconds)])
            guard rows.count == 1, let id = try rows.string(0, "id"), let token = try rows.int64(0, "lease_token"),
                let attempt = try rows.int(0, "attempt"), let spec = try rows.string(0, "spec_canonical")
            else { return nil }
            _ = try tx.append(
                stream: DaemonEvents.stream(id), expectedVersion: .any,
                events: [
                    DaemonEvents.make(
                        DaemonEvents.claimed, ["worker": owner, "attempt": attempt, "lease_token": token],
                        worker: owner, attempt: attempt)
                ])
            return (id, token, attempt, spec)
        }
        guard let (id, token, attempt, canonical) = claimed else { return nil }
        metrics.runClaimed()
        metrics.eventsAppended(1)
        logger.info("run claimed", metadata: ["run": "\(id)", "attempt": "\(attempt)", "worker": "\(owner)"])
        return Lease(run: id, token: token, attempt: attempt, owner: owner, canonicalSpec: Data(canonical.utf8))
    }

    /// Renews the lease and reports whether a cancel was requested; `.lost` once the lease is gone.
    func heartbeat(_ lease: Lease, progress: String?) async throws -> HeartbeatResult {
        let leaseSeconds = settings.lease.seconds
        let rows = try await store.transaction { tx in
            try tx.query(
                """
                UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3),
                    progress = coalesce($4, progress), updated_at = now()
                WHERE id = $1 AND lease_token = $2 AND state = 'running' AND lease_expires_at > now()
                RETURNING cancel_requested
                """, [.text(lease.run), .int(lease.token), .double(leaseSeconds), progress.map { .text($0) } ?? .null])
        }
        guard rows.count == 1 else { return .lost }
        return .renewed(cancelRequested: try rows.bool(0, "cancel_requested") ?? false)
    }

    /// The fence: locks the run row (first in the lock order run → stream → log head) and proves the lease is
    /// still this attempt's. Zero rows: the lease was lost and the transaction must write nothing.
    static func fence(_ tx: Transaction, _ lease: Lease, progress: String? = nil) throws {
        let rows = try tx.query(
            """
            UPDATE runs SET updated_at = now(), progress = coalesce($3, progress)
            WHERE id = $1 AND lease_token = $2 AND state = 'running' AND lease_expires_at > now()
            RETURNING id
            """, [.text(lease.run), .int(lease.token), progress.map { .text($0) } ?? .null])
        guard rows.count == 1 else {
            throw EventStoreError(
                code: .fenced,
                message: "run \(lease.run): the lease of attempt \(lease.attempt) is lost; nothing was written")
        }
    }

    /// Appends an attempt's events, fenced on its lease, in one transaction. Re-run after a lost connection
    /// (`idempotentTransaction`): the events' ids make a second append of a committed first one a no-op, and a
    /// connection blip must not fail the attempt.
    func appendFenced(_ lease: Lease, _ events: [NewEvent], progress: String?) async throws {
        guard !events.isEmpty else { return }
        try await store.idempotentTransaction { tx in
            try Self.fence(tx, lease, progress: progress)
            _ = try tx.append(stream: DaemonEvents.stream(lease.run), expectedVersion: .any, events: events)
        }
        metrics.eventsAppended(events.count)
    }

    /// Records how an attempt ended and releases its lease, fenced like every write of the attempt.
    /// `final` fails the run at once (an error that retrying cannot fix). Re-run after a lost connection: if the
    /// first COMMIT landed, the fence refuses the second (`.fenced`) and nothing is written twice; otherwise a
    /// blip would leave a finished run to expire and re-execute.
    func finish(_ lease: Lease, _ ending: AttemptEnding, final: Bool = false) async throws {
        let backoff = settings.backoff
        let worker = lease.owner
        let attempt = lease.attempt
        let state = try await store.idempotentTransaction { tx -> String in
            try Self.fence(tx, lease)
            let release = "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, progress = NULL"
            let event: NewEvent
            let state: String
            switch ending {
            case .completed(let summary):
                _ = try tx.query(
                    "UPDATE runs SET state = 'completed', \(release), finished_at = now(), updated_at = now() WHERE id = $1",
                    [.text(lease.run)])
                event = DaemonEvents.make(
                    DaemonEvents.completed, ["summary": summary], worker: worker, attempt: attempt)
                state = "completed"
            case .interrupted(let reason):
                _ = try tx.query(
                    "UPDATE runs SET state = 'queued', \(release), run_after = now(), updated_at = now() WHERE id = $1",
                    [.text(lease.run)])
                event = DaemonEvents.make(
                    DaemonEvents.interrupted, ["reason": reason, "worker": worker], worker: worker, attempt: attempt)
                state = "queued"
            case .cancelled:
                _ = try tx.query(
                    "UPDATE runs SET state = 'cancelled', \(release), finished_at = now(), updated_at = now() WHERE id = $1",
                    [.text(lease.run)])
                event = DaemonEvents.make(
                    DaemonEvents.cancelled, ["reason": "cancelled while running", "worker": worker], worker: worker,
                    attempt: attempt)
                state = "cancelled"
            case .failed(let reason):
                let rows = try tx.query(
                    """
                    UPDATE runs SET
                        state = CASE WHEN $3 OR failures + 1 >= max_attempts THEN 'failed' ELSE 'queued' END,
                        failures = failures + 1,
                        run_after = now() + make_interval(secs => least($4 * power(2, failures), 300)),
                        errors = errors || jsonb_build_array($2::text),
                        finished_at = CASE WHEN $3 OR failures + 1 >= max_attempts THEN now() END,
                        \(release), updated_at = now()
                    WHERE id = $1
                    RETURNING state
                    """, [.text(lease.run), .text("attempt \(attempt): \(reason)"), .bool(final), .double(backoff)])
                state = try rows.string(0, "state") ?? "failed"
                event = DaemonEvents.make(
                    state == "failed" ? DaemonEvents.failed : DaemonEvents.interrupted,
                    ["reason": reason, "worker": worker, "will_retry": state != "failed"], worker: worker,
                    attempt: attempt)
            }
            _ = try tx.append(stream: DaemonEvents.stream(lease.run), expectedVersion: .any, events: [event])
            return state
        }
        metrics.eventsAppended(1)
        logger.info(
            "attempt ended", metadata: ["run": "\(lease.run)", "attempt": "\(attempt)", "state": "\(state)"])
    }

    /// Requeues (or fails, or cancels) runs whose lease expired. The UPDATE re-checks the expiry itself, so a
    /// heartbeat that renewed the lease after the scan wins.
    func reap() async throws -> Int {
        let backoff = settings.backoff
        let reaped = try await store.transaction { tx -> [(String, String)] in
            let rows = try tx.query(
                """
                WITH expired AS MATERIALIZED (
                    SELECT id FROM runs WHERE state = 'running' AND lease_expires_at < now()
                    ORDER BY lease_expires_at LIMIT 20
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE runs SET
                    state = CASE WHEN runs.cancel_requested THEN 'cancelled'
                                 WHEN runs.failures + 1 >= runs.max_attempts THEN 'failed' ELSE 'queued' END,
                    failures = runs.failures + 1,
                    run_after = now() + make_interval(secs => least($1 * power(2, runs.failures), 300)),
                    errors = runs.errors || jsonb_build_array(
                        format('attempt %s: the lease of %s expired (worker died or stalled)', runs.attempt, runs.lease_owner)),
                    finished_at = CASE WHEN runs.cancel_requested OR runs.failures + 1 >= runs.max_attempts
                                       THEN now() END,
                    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, progress = NULL, updated_at = now()
                FROM expired
                WHERE runs.id = expired.id AND runs.state = 'running' AND runs.lease_expires_at < now()
                RETURNING runs.id, runs.state, runs.errors ->> -1 AS reason
                """, [.double(backoff)])
            var reaped: [(String, String)] = []
            for row in 0..<rows.count {
                let id = try rows.string(row, "id") ?? ""
                let state = try rows.string(row, "state") ?? ""
                let reason = try rows.string(row, "reason") ?? "lease expired"
                let type: String
                switch state {
                case "cancelled": type = DaemonEvents.cancelled
                case "failed": type = DaemonEvents.failed
                default: type = DaemonEvents.interrupted
                }
                _ = try tx.append(
                    stream: DaemonEvents.stream(id), expectedVersion: .any,
                    events: [DaemonEvents.make(type, ["reason": reason, "will_retry": state == "queued"])])
                reaped.append((id, state))
            }
            return reaped
        }
        for (id, state) in reaped {
            logger.warning("lease expired; run \(state == "queued" ? "requeued" : state)", metadata: ["run": "\(id)"])
        }
        metrics.runsReaped(reaped.count)
        metrics.eventsAppended(reaped.count)
        return reaped.count
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}

extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}
