import Foundation

/// The number of threads the engine uses when a caller does not say: the cores this process may use.
public enum ThreadCount {
    public static var available: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// A fixed set of worker threads that run one parallel loop at a time, the caller's thread taking
/// part as worker 0. Every kernel hands each output element to exactly one worker and reduces in a
/// fixed order, so how the work is split never changes a bit — the partition only affects speed.
final class ComputePool {
    let threads: Int
    private let shared: SharedState
    private var workers: [Thread] = []

    init(threads: Int) {
        self.threads = max(1, threads)
        shared = SharedState()
        for index in 1..<self.threads {
            let state = shared
            let thread = Thread { state.workerLoop(index: index) }
            thread.name = "e2h-compute-\(index)"
            thread.stackSize = 1 << 20
            workers.append(thread)
            thread.start()
        }
    }

    deinit { shared.shutDown() }

    /// Runs `body(worker)` for worker in 0..<threads and returns when all have finished.
    func run(_ body: (Int) -> Void) {
        if threads == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            shared.start(escapable, workers: threads - 1)
            escapable(0)
            shared.waitForWorkers()
        }
    }

    /// Splits 0..<count into `threads` contiguous ranges and runs `body` on each, in parallel.
    func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = min(threads, count)
        if parts == 1 {
            body(0..<count)
            return
        }
        run { worker in
            guard worker < parts else { return }
            let range = (worker * count / parts)..<((worker + 1) * count / parts)
            if !range.isEmpty { body(range) }
        }
    }

    /// State shared with the worker threads; a separate object so that the threads do not keep the
    /// pool alive and `deinit` can stop them.
    private final class SharedState: @unchecked Sendable {
        private let condition = NSCondition()
        private var generation = 0
        private var pending = 0
        private var stopping = false
        private var job: ((Int) -> Void)?

        func start(_ body: @escaping (Int) -> Void, workers: Int) {
            condition.lock()
            job = body
            pending = workers
            generation += 1
            condition.broadcast()
            condition.unlock()
        }

        func waitForWorkers() {
            condition.lock()
            while pending > 0 { condition.wait() }
            job = nil
            condition.unlock()
        }

        func shutDown() {
            condition.lock()
            stopping = true
            condition.broadcast()
            condition.unlock()
        }

        func workerLoop(index: Int) {
            var seen = 0
            while true {
                condition.lock()
                while generation == seen && !stopping { condition.wait() }
                if stopping {
                    condition.unlock()
                    return
                }
                seen = generation
                var body = job
                condition.unlock()
                body?(index)
                // Drop the reference before reporting: the caller's closure must not outlive `run`.
                body = nil
                condition.lock()
                pending -= 1
                if pending == 0 { condition.broadcast() }
                condition.unlock()
            }
        }
    }
}
