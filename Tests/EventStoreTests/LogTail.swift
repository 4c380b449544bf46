import EventStore
import Foundation

extension EventStore {
    /// Every event of the global log after `position`, in order, then each new one as it commits, as a reader of the
    /// log would follow it: woken by the log's NOTIFY, re-reading every `pollInterval` regardless, riding out a lost
    /// connection by reading again from its last position. The tests use it to show that readers neither skip nor
    /// repeat an event under concurrent writers, restarts and terminated sessions. Ends when the task is cancelled
    /// or the store shuts down.
    func tail(after position: Int64, pollInterval: Duration = .seconds(1)) throws -> LogTail {
        let signal = WakeSignal()
        try onNotification(EventStore.appendedChannel) { _ in signal.wake() }
        return LogTail(store: self, signal: signal, position: position, pollInterval: pollInterval)
    }
}

struct LogTail: AsyncSequence, Sendable {
    typealias Element = RecordedEvent
    let store: EventStore
    let signal: WakeSignal
    let position: Int64
    let pollInterval: Duration

    func makeAsyncIterator() -> Iterator {
        Iterator(tail: self, position: position)
    }

    struct Iterator: AsyncIteratorProtocol {
        let tail: LogTail
        /// The position of the last event returned.
        var position: Int64
        var buffer: [RecordedEvent] = []
        var cursor = 0

        mutating func next() async throws -> RecordedEvent? {
            var backoff = Duration.milliseconds(50)
            while !Task.isCancelled {
                if cursor < buffer.count {
                    let event = buffer[cursor]
                    cursor += 1
                    position = event.position
                    return event
                }
                let seen = tail.signal.generation
                do {
                    buffer = try await tail.store.readAll(after: position, limit: 500)
                    cursor = 0
                    backoff = .milliseconds(50)
                } catch let error as EventStoreError where error.code == .closed {
                    return nil
                } catch let error as EventStoreError where error.code == .connection || error.code == .timeout {
                    try? await Task.sleep(for: backoff)
                    backoff = Swift.min(backoff * 2, .seconds(1))
                    continue
                }
                if buffer.isEmpty { await tail.signal.wait(after: seen, timeout: tail.pollInterval) }
            }
            return nil
        }
    }
}
