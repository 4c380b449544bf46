import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Whether a store's sessions may still wait on their server. Shared by every connection of one store. Once closed:
/// an operation that finds its session broken fails at once instead of retrying for the configured
/// `reconnectTimeout`, and a statement blocked on the server for more than `grace` is cut (its socket shut down,
/// so libpq's wait ends and the operation fails as a lost connection). That is what a process on its way out needs:
/// a thread blocked in a reconnect or on a server that stopped answering (stopped, swapped out, a stalled disk)
/// cannot be cancelled, and would outlive any shutdown deadline — ServiceLifecycle then ends the process with a
/// fatal error. Healthy statements finish within the grace and are unaffected.
final class ReconnectGate: Sendable {
    private struct State {
        var closed = false
        /// The socket of every session in a blocking libpq call, and when the call began.
        var blocked: [Int32: ContinuousClock.Instant] = [:]
    }

    static let grace = Duration.seconds(2)
    private let state = Mutex(State())

    var isOpen: Bool { !state.withLock { $0.closed } }

    func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        // Watches for a minute, by then the process is gone; a statement that began after the close is cut too.
        Thread.detachNewThread { [self] in
            let end = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < end {
                state.withLock { state in
                    for (socket, began) in state.blocked where began.duration(to: .now) > Self.grace {
                        shutdown(socket, Int32(SHUT_RDWR))
                    }
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
    }

    /// Runs `call`, a blocking libpq call on `socket`, where a closed gate can cut it. The socket stays registered
    /// only while the call runs, under the lock the cutting takes, so a socket closed and reused afterwards is never
    /// shut down.
    func blocking<T>(on socket: Int32, _ call: () -> T) -> T {
        guard socket >= 0 else { return call() }
        state.withLock { $0.blocked[socket] = .now }
        defer { _ = state.withLock { $0.blocked.removeValue(forKey: socket) } }
        return call()
    }
}
