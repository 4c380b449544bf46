import Foundation
import Logging
import Synchronization

/// The LISTEN connection of a store, on its own thread: it calls the handlers clients registered for channels (the
/// log's own, `EventStore.appendedChannel`, or a client's). A notification is only a hint (PostgreSQL folds and
/// drops them), so every (re)connect also calls every handler with nil: whatever was committed while nobody
/// listened is caught up by whoever re-checks. The connection is checked with a query every
/// `listenerHealthCheckInterval`, because a half-dead socket delivers no notifications and no error.
final class NotificationListener: Sendable {
    typealias Handler = @Sendable (_ payload: String?) -> Void

    private struct Registrations {
        var handlers: [(channel: String, handler: Handler)] = []
        /// Channels registered since the session last issued LISTEN.
        var pending: [String] = []
    }

    private let stopped = Atomic<Bool>(false)
    private let registrations = Mutex(Registrations())
    private let exit = Mutex<(exited: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init(settings: ConnectionSettings, logger: Logger) {
        let thread = Thread { [self] in
            listen(connection: PostgresConnection(settings: settings, logger: logger), logger: logger)
            exit.withLock { state in
                state.exited = true
                return state.waiter.take()
            }?.resume()
        }
        thread.name = "e2h-postgres-listener"
        thread.start()
    }

    /// Calls `handler` on the listener's thread for every notification on `channel` from the next poll on.
    func register(channel: String, _ handler: @escaping Handler) {
        registrations.withLock {
            $0.handlers.append((channel, handler))
            $0.pending.append(channel)
        }
    }

    /// Waits for the thread to close its connection (within its 250 ms poll).
    func stop() async {
        stopped.store(true, ordering: .releasing)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = exit.withLock { state in
                if !state.exited { state.waiter = continuation }
                return state.exited
            }
            if exited { continuation.resume() }
        }
    }

    private func deliver(_ notifications: [(channel: String, payload: String)]) {
        guard !notifications.isEmpty else { return }
        let handlers = registrations.withLock { $0.handlers }
        for (channel, payload) in notifications {
            for registered in handlers where registered.channel == channel { registered.handler(payload) }
        }
    }

    /// After a (re)connect: anything may have been missed.
    private func deliverReconnect() {
        for registered in registrations.withLock({ $0.handlers }) { registered.handler(nil) }
    }

    /// After LISTEN on `channels` that were registered since the session connected: anything on them before may
    /// have been missed. (A handler registered before on the same channel hears a nil too: a hint, never harmful.)
    private func deliverListening(_ channels: Set<String>) {
        guard !channels.isEmpty else { return }
        for registered in registrations.withLock({ $0.handlers }) where channels.contains(registered.channel) {
            registered.handler(nil)
        }
    }

    private func listen(connection: PostgresConnection, logger: Logger) {
        let interval = connection.configuration.listenerHealthCheckInterval.timeInterval
        var lastCheck = Date()
        var backoff = 0.05
        while !stopped.load(ordering: .acquiring) {
            do {
                if !connection.isOpen {
                    try connection.open()
                    let channels = registrations.withLock { state in
                        state.pending = []
                        return state.handlers.map(\.channel)
                    }
                    for channel in Set(channels).sorted() { try connection.execute("LISTEN \(channel)") }
                    backoff = 0.05
                    lastCheck = Date()
                    deliverReconnect()
                }
                let added = registrations.withLock { state in
                    defer { state.pending = [] }
                    return state.pending
                }
                for channel in Set(added).sorted() { try connection.execute("LISTEN \(channel)") }
                // A handler registered after the session connected has listened only from now on: it is told so, as
                // a reconnect tells every handler.
                deliverListening(Set(added))
                var descriptor = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 250)
                if ready > 0 { deliver(try connection.consumeNotifications()) }
                if -lastCheck.timeIntervalSinceNow >= interval {
                    lastCheck = Date()
                    try connection.execute("SELECT 1")
                    deliver(try connection.consumeNotifications())
                }
            } catch {
                logger.warning(
                    "the LISTEN connection failed; reconnecting",
                    metadata: ["error": "\(error)", "retryIn": "\(backoff)"])
                connection.close()
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 1)
            }
        }
        connection.close()
    }
}
