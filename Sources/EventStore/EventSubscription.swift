import Foundation
import Logging

extension EventStore {
    /// Every event after `position`, in order, then each new one as it commits; the sequence
    /// ends when the task is cancelled or the store shuts down. Wakes on NOTIFY, re-reads every
    /// `pollInterval` regardless, and rides out connection loss (e.g. a server restart) by
    /// retrying from its last position, so it neither skips nor repeats an event.
    public func subscribe(after position: Int64) -> EventSubscription {
        EventSubscription(store: self, signal: sharedListener().signal, position: position)
    }
}

/// The events of the global log from a position on, as they commit. The sequence is Sendable;
/// each iterator belongs to the one task that iterates it.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent
    let store: EventStore
    let signal: WakeSignal
    let position: Int64

    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, signal: signal, position: position)
    }

    public struct Iterator: AsyncIteratorProtocol {
        static let batchSize = 500
        let store: EventStore
        let signal: WakeSignal
        /// The position of the last event returned.
        var position: Int64
        var buffer: [RecordedEvent] = []
        var cursor = 0

        public mutating func next() async throws -> RecordedEvent? {
            var backoff = Duration.milliseconds(50)
            while !Task.isCancelled {
                if cursor < buffer.count {
                    let event = buffer[cursor]
                    cursor += 1
                    position = event.position
                    return event
                }
                let seen = signal.generation
                do {
                    buffer = try await store.readAll(after: position, limit: Self.batchSize)
                    cursor = 0
                    backoff = .milliseconds(50)
                } catch let error as EventStoreError where error.code == .closed {
                    return nil
                } catch let error as EventStoreError where error.code == .connection || error.code == .timeout {
                    store.logger.warning(
                        "a subscription could not read the log; retrying", metadata: ["error": "\(error.message)"])
                    try? await Task.sleep(for: backoff)
                    backoff = Swift.min(backoff * 2, .seconds(1))
                    continue
                }
                if buffer.isEmpty {
                    await signal.wait(after: seen, timeout: store.settings.configuration.pollInterval)
                }
            }
            return nil
        }
    }
}

extension EventStore {
    /// Calls `handler` with the payload of every NOTIFY on `channel` from about now on (on the store's listener
    /// thread: keep it short), and with nil after each (re)connection of the listening session, when
    /// notifications may have been lost: a hint to re-check, never the only way a client learns of a change.
    /// `channel` is a plain name: lowercase letters, digits and underscores.
    public func onNotification(_ channel: String, _ handler: @escaping @Sendable (_ payload: String?) -> Void) throws {
        guard !channel.isEmpty,
            channel.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 })
        else {
            throw EventStoreError(code: .invalidArgument, message: "\(channel) is not a plain name for a channel")
        }
        sharedListener().register(channel: channel, handler)
    }
}

extension Transaction {
    /// NOTIFY `channel` with `payload` when (and only if) the transaction commits.
    public func notify(_ channel: String, payload: String) throws {
        _ = try query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)])
    }
}
