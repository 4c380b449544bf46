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
        let policy = queue.policy
        let reaped = try await queue.store.transaction { tx -> [(String, String)] in
            // `progressed`: the run's stream grew past the expired attempt's RunClaimed (its last one), which tells
            // an attempt that got further (requeued, not counted) from a crash loop.
            let rows = try tx.query(
                """
                SELECT \(RunTable.lifecycleColumns),
                    (SELECT s.version FROM streams s WHERE s.name = 'run-' || runs.id) > (
                        SELECT max(e.version) FROM events e
                        WHERE e.stream = 'run-' || runs.id AND e.type = '\(DaemonEventType.claimed.rawValue)'
                    ) AS progressed
                FROM runs
                WHERE state = 'running' AND lease_expires_at < now()
                ORDER BY lease_expires_at LIMIT 20
                FOR UPDATE SKIP LOCKED
                """)
            var reaped: [(String, String)] = []
            for row in 0..<rows.count {
                var (id, lifecycle, now) = try RunTable.lifecycle(rows, row, policy: policy)
                let progressed = try rows.bool(row, "progressed") ?? false
                guard case .persist(let change) = lifecycle.event(.reap(now: now, progressed: progressed)) else {
                    continue
                }
                try RunTable.apply(tx, id, lifecycle, change, now: now)
                reaped.append((id, lifecycle.state.runState.rawValue))
            }
            return reaped
        }
        for (id, state) in reaped {
            queue.logger.warning(
                "lease expired; run \(state == "queued" ? "requeued" : state)", metadata: ["run": "\(id)"])
        }
        queue.metrics.runsReaped(reaped.count)
        queue.metrics.eventsAppended(reaped.count)
        return reaped.count
    }
}
