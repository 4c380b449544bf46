import Foundation
import Logging

/// A fixed set of worker threads, each owning one `PostgresConnection`, taking jobs from one
/// FIFO queue. libpq calls block, so they run here and never on Swift's cooperative pool;
/// `run` suspends the calling task until a worker has finished the job. Thread-safe.
final class ConnectionPool: @unchecked Sendable {
    private typealias Job = (PostgresConnection) -> Void

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false
    private var running = 0
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []

    init(size: Int, settings: ConnectionSettings, logger: Logger) {
        running = size
        for index in 0..<size {
            let thread = Thread { [self] in
                let connection = PostgresConnection(settings: settings, logger: logger)
                work(connection)
                connection.close()
                workerExited()
            }
            thread.name = "e2h-postgres-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a worker's connection. Throws `.closed` after `shutdown`.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = enqueue { connection in continuation.resume(with: Result { try body(connection) }) }
            if !accepted {
                continuation.resume(throwing: EventStoreError(code: .closed, message: "the event store was shut down"))
            }
        }
    }

    /// Lets queued jobs finish, then closes every connection and waits for the threads to end.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            closed = true
            if running == 0 {
                condition.unlock()
                continuation.resume()
                return
            }
            exitWaiters.append(continuation)
            condition.broadcast()
            condition.unlock()
        }
    }

    private func enqueue(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if closed { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    private func work(_ connection: PostgresConnection) {
        while let job = nextJob() { job(connection) }
    }

    private func nextJob() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && !closed { condition.wait() }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head > 256 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    private func workerExited() {
        condition.lock()
        running -= 1
        let waiters = running == 0 ? exitWaiters : []
        if running == 0 { exitWaiters = [] }
        condition.unlock()
        waiters.forEach { $0.resume() }
    }
}
