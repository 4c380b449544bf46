import Foundation
import Logging
import Synchronization

/// The LISTEN connection shared by a store's subscriptions, on its own thread. A notification
/// is only a hint to re-read the log (PostgreSQL folds and drops them), so every (re)connect
/// also wakes the subscriptions: whatever was committed while nobody listened is caught up.
/// The connection is checked with a query every `listenerHealthCheckInterval`, because a
/// half-dead socket delivers no notifications and no error.
final class NotificationListener: Sendable {
    static let channel = "e2h_events"

    let signal = WakeSignal()
    private let stopped = Atomic<Bool>(false)
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

    /// Wakes every subscription and waits for the thread to close its connection (within one
    /// poll interval).
    func stop() async {
        stopped.store(true, ordering: .releasing)
        signal.wake()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = exit.withLock { state in
                if !state.exited { state.waiter = continuation }
                return state.exited
            }
            if exited { continuation.resume() }
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
                    try connection.execute("LISTEN \(Self.channel)")
                    backoff = 0.05
                    lastCheck = Date()
                    signal.wake()
                }
                var descriptor = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 250)
                if ready > 0, try !connection.consumeNotifications().isEmpty { signal.wake() }
                if -lastCheck.timeIntervalSinceNow >= interval {
                    lastCheck = Date()
                    try connection.execute("SELECT 1")
                    if try !connection.consumeNotifications().isEmpty { signal.wake() }
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
