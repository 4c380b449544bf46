import EventStore
import Foundation
import WireTypes

/// A user's requests on a run: cancel and resume, decided by the run's lifecycle.
struct RunControl {
    let queue: Queue

    /// A queued run is cancelled at once; a running one gets the flag its owner sees (at the next heartbeat, or at
    /// once through the daemon that executes it).
    func cancel(_ id: String) async throws -> RunDetails {
        let action = try await request(id) { .cancelRequested(now: $0) }
        let current = try await RunCatalog(queue: queue).details(id)
        switch action {
        case .refuse(.alreadyEnded(let state)):
            throw DaemonError(.conflict, "run \(id) already ended \(state.rawValue); nothing to cancel")
        case .persist(let change) where change.event == nil:
            queue.logger.info("cancel requested", metadata: ["run": "\(id)"])
        default:
            queue.logger.info("run cancelled", metadata: ["run": "\(id)"])
        }
        return current
    }

    /// A failed or cancelled run goes back to the queue with a fresh attempt budget; it resumes from its last
    /// checkpoint.
    func resume(_ id: String) async throws -> RunDetails {
        let action = try await request(id) { .resumeRequested(now: $0) }
        switch action {
        case .refuse(.notResumable(let state)):
            throw DaemonError(
                .conflict, "run \(id) is \(state.rawValue); only failed or cancelled runs can be resumed")
        case .refuse(.blobsLeftOut):
            // Queued, each attempt would fail on the first checkpoint it reads, and be retried.
            throw DaemonError(
                .conflict,
                "run \(id) was imported from a --scores-only bundle, which left out the checkpoints a resume starts "
                    + "from; import a full bundle of it (`e2h export` without --scores-only) to resume it")
        default: break
        }
        let current = try await RunCatalog(queue: queue).details(id)
        queue.logger.info("run requeued by resume", metadata: ["run": "\(id)"])
        return current
    }

    private func request(
        _ id: String, _ event: @escaping @Sendable (Date) -> RunLifecycle.Event
    ) async throws
        -> RunLifecycle.Action
    {
        let policy = queue.policy
        return try await queue.store.transaction { tx in
            guard let (locked, now) = try RunTable.lock(tx, id, policy: policy) else {
                throw DaemonError(.notFound, "no run \(id) — `e2h runs` lists them")
            }
            var lifecycle = locked
            let action = lifecycle.event(event(now))
            if case .persist(let change) = action { try RunTable.apply(tx, id, lifecycle, change, now: now) }
            return action
        }
    }
}
