import EventStore
import ServiceLifecycle

/// Bounds how long e2hd's way out can wait on a database that stopped answering. A session blocked in a
/// reconnect sits on a pool thread that no task cancellation reaches, and ServiceLifecycle ends a group whose
/// services outlive its cancellation budget with a fatal error (SIGILL, embedded server left running). So:
/// `after` into a graceful shutdown — inside its 25 s budget — and at once when the group is cancelled (a
/// service failed, e.g. the supervisor gave up on the embedded server), the store stops reconnecting and work
/// waiting on a dead server fails within a second. Listed last, so it is told of a shutdown first.
struct ReconnectDeadline: Service {
    let store: EventStore
    let after: Duration

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            store.stopReconnecting()
            return
        }
        let store = store
        let after = after
        Task.detached {
            try? await Task.sleep(for: after)
            store.stopReconnecting()
        }
    }
}
