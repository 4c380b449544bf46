import Synchronization

/// Whether a store's sessions may still retry a lost server. Shared by every connection of one store: once
/// closed, an operation that finds its session broken fails at once instead of retrying for the configured
/// `reconnectTimeout` — what a process on its way out needs, since a thread blocked in a reconnect cannot be
/// cancelled and would outlive any shutdown deadline.
final class ReconnectGate: Sendable {
    private let closed = Mutex(false)

    var isOpen: Bool { !closed.withLock { $0 } }

    func close() { closed.withLock { $0 = true } }
}
