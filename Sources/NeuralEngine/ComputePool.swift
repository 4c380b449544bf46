import Foundation
import Synchronization

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

    /// Reusable buffers: slot 0 for the caller's shared data (a packed GEMM operand), slot 1 + w for
    /// worker w's private tiles. Each slot is only touched by its owner, so growing one is race-free.
    private let scratchSlots: [ScratchSlot]

    init(threads: Int) {
        self.threads = max(1, threads)
        shared = SharedState()
        scratchSlots = (0...self.threads).map { _ in ScratchSlot() }
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
        parallelForWorkers(count) { range, _ in body(range) }
    }

    /// `parallelFor` that also tells `body` which worker runs it (for per-worker scratch).
    func parallelForWorkers(_ count: Int, _ body: (_ range: Range<Int>, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let parts = min(threads, count)
        if parts == 1 {
            body(0..<count, 0)
            return
        }
        run { worker in
            guard worker < parts else { return }
            let range = (worker * count / parts)..<((worker + 1) * count / parts)
            if !range.isEmpty { body(range, worker) }
        }
    }

    /// A buffer of at least `count` floats owned by `slot`, kept between calls; contents undefined.
    func scratch(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        scratchSlots[slot].buffer(count)
    }

    private final class ScratchSlot {
        private var arena: FloatArena?

        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            if let arena, arena.count >= count { return arena.base }
            let grown = FloatArena(count: max(count, (arena?.count ?? 0) * 2))
            arena = grown
            return grown.base
        }
    }

    /// State shared with the worker threads; a separate object so that the threads do not keep the
    /// pool alive and `deinit` can stop them. Hand-offs spin briefly before sleeping: a training step
    /// runs a few hundred parallel loops, and a futex round trip per loop would cost more than the
    /// short ones take.
    private final class SharedState: @unchecked Sendable {
        private let condition = NSCondition()
        private let generation = Atomic<Int>(0)
        private let pending = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)
        /// Written before `generation` is published and read after it is observed.
        private var job: ((Int) -> Void)?
        private static let spins = 20_000

        func start(_ body: @escaping (Int) -> Void, workers: Int) {
            job = body
            pending.store(workers, ordering: .releasing)
            generation.add(1, ordering: .releasing)
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }

        func waitForWorkers() {
            var spin = 0
            while pending.load(ordering: .acquiring) > 0 && spin < Self.spins { spin += 1 }
            if pending.load(ordering: .acquiring) > 0 {
                condition.lock()
                while pending.load(ordering: .acquiring) > 0 { condition.wait() }
                condition.unlock()
            }
            job = nil
        }

        func shutDown() {
            stopping.store(true, ordering: .releasing)
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }

        func workerLoop(index: Int) {
            var seen = 0
            while true {
                var spin = 0
                while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .acquiring)
                    && spin < Self.spins
                {
                    spin += 1
                }
                condition.lock()
                while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .acquiring) {
                    condition.wait()
                }
                condition.unlock()
                if stopping.load(ordering: .acquiring) { return }
                seen = generation.load(ordering: .acquiring)
                var body = job
                body?(index)
                // Drop the reference before reporting: the caller's closure must not outlive `run`.
                body = nil
                if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    condition.lock()
                    condition.broadcast()
                    condition.unlock()
                }
            }
        }
    }
}
