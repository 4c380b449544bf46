import EventStore
import Foundation
import Logging
import ServiceLifecycle
import WireTypes

/// Sweeps for runs whose lease expired, on every daemon: each is requeued, failed or cancelled as its lifecycle
/// decides. The rows are locked, so a heartbeat cannot renew a lease while its run is being reaped; one that
/// renewed before the lock is seen as live and left alone.
struct LeaseReaper: Service {
    let queue: Queue

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                _ = try await reap()
            } catch {
                queue.logger.error("reaper sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: queue.settings.reaperInterval) }
        }
    }

    /// Returns how many runs it took from their expired leases.
    func reap() async throws -> Int {
        await cutStalledHolders()
        let policy = queue.policy
        let reaped = try await queue.store.transaction { tx -> [(String, String)] in
            // `progressed`: the run's stream grew past the expired attempt's RunClaimed (its last one), which tells
            // an attempt that got further (requeued, not counted) from a crash loop.
            let rows = try tx.query(
                """
                SELECT \(RunTable.lifecycleColumns),
                    e2h_stream_version($1 || runs.id) > e2h_latest_version($1 || runs.id, $2) AS progressed
                FROM runs
                WHERE state = 'running' AND lease_expires_at < now()
                ORDER BY lease_expires_at LIMIT 20
                FOR UPDATE SKIP LOCKED
                """, [.text(DaemonEvent.stream("")), .text(DaemonEventType.claimed.rawValue)])
            var reaped: [(String, String)] = []
            for row in 0..<rows.count {
                var (id, lifecycle, now) = try RunTable.lifecycle(rows, row, policy: policy)
                let progressed = try rows.bool(row, "progressed") ?? false
                let unrecorded = queue.unrecordedEnds.end(of: id)
                guard
                    case .persist(let change) = lifecycle.event(
                        .reap(now: now, progressed: progressed, unrecorded: unrecorded))
                else { continue }
                try RunTable.apply(tx, id, lifecycle, change, now: now)
                reaped.append((id, lifecycle.state.runState.rawValue))
            }
            return reaped
        }
        queue.unrecordedEnds.forget(reaped.map(\.0))
        for (id, state) in reaped {
            queue.logger.warning(
                "lease expired; run \(state == "queued" ? "requeued" : state)", metadata: ["run": "\(id)"])
        }
        queue.metrics.runsReaped(reaped.count)
        return reaped.count
    }

    /// Ends the sessions that hold an expired run's row in a transaction they have stopped working on: a daemon
    /// stopped (SIGSTOP, swapped out) or cut off after its write's fence locked the row. The sweep skips locked
    /// rows, so without this the takeover would wait for PostgreSQL's idle-in-transaction timeout. The session's
    /// lease is over, so its write could only be refused from now on; ending the session rolls it back, and a
    /// daemon that wakes up finds its write fenced. A row's `xmax` names the transaction that locked it — or a
    /// multixact, whose number may equal an unrelated transaction's id — so a session is cut only while it is idle
    /// inside that transaction, in this database, holding a lock on `runs` (a cluster serves other databases, and
    /// CI's suites share one). Needs the right to signal the holder's backend (the same role, or
    /// `pg_signal_backend`); without it, the takeover waits for the timeout as before.
    private func cutStalledHolders() async {
        do {
            let cut = try await queue.store.execute(
                """
                SELECT r.id, pg_terminate_backend(a.pid) AS ended
                FROM runs r
                JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = r.xmax
                    AND l.mode = 'ExclusiveLock' AND l.granted
                JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE r.state = 'running' AND r.lease_expires_at < now() AND a.pid <> pg_backend_pid()
                    AND a.datname = current_database()
                    AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
                    AND EXISTS (
                        SELECT 1 FROM pg_locks held
                        WHERE held.pid = a.pid AND held.locktype = 'relation' AND held.granted
                            AND held.relation = 'runs'::regclass
                            AND held.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
                """)
            for row in 0..<cut.count where try cut.bool(row, "ended") == true {
                let run = try cut.string(row, "id") ?? "?"
                queue.logger.warning(
                    "ended the stalled session that held an expired run's row", metadata: ["run": "\(run)"])
            }
        } catch {
            queue.logger.warning(
                "could not end a stalled session holding an expired run's row; its takeover waits for the idle timeout",
                metadata: ["error": "\(error)"])
        }
    }
}
