import Foundation
import Synchronization

/// A thread of its own for a run's executor. The executor's orchestration is async code that computes for
/// seconds between suspension points; on Swift's cooperative pool (two threads on a 2-core machine) it would
/// starve heartbeats and the HTTP API, and a missed heartbeat loses the lease.
final class ComputeThread: TaskExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let signal = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        signal.signal()
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        queue.withLock { $0.stopped = true }
        signal.signal()
    }

    private func loop() {
        while true {
            signal.wait()
            let (jobs, stopped) = queue.withLock { state -> ([UnownedJob], Bool) in
                defer { state.jobs.removeAll() }
                return (state.jobs, state.stopped)
            }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            if stopped && queue.withLock({ $0.jobs.isEmpty }) { return }
        }
    }

    /// Runs `body` with this thread as its preferred executor, then ends the thread.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        defer { stop() }
        return try await withTaskExecutorPreference(self) { try await body() }
    }
}
