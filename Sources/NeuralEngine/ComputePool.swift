import Foundation
import Synchronization

/// The number of threads the engine uses when a caller does not say: the cores this process may use.
public enum ThreadCount {
    public static var available: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// A fixed set of worker threads that run one parallel loop at a time, the caller's thread taking
/// part as worker 0. Every kernel hands each output element to exactly one piece of work and reduces
/// in a fixed order, so who runs which piece never changes a bit — the split only affects speed.
///
/// Pieces are claimed dynamically and a worker that arrives after the loop is finished simply skips
/// it: on a shared machine a worker's core may be busy for milliseconds, and the caller then does the
/// work itself instead of waiting.
final class ComputePool {
    let threads: Int
    private let shared: SharedState
    private var workers: [Thread] = []
    /// Reusable buffers: slot 0 for the caller's shared data (a packed GEMM operand), slot 1 + w for
    /// worker w's private tiles. A worker runs one piece at a time, so its slot is never shared.
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

    /// Splits 0..<count into contiguous pieces and runs `body` on each, in parallel.
    func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        parallelForWorkers(count) { range, _ in body(range) }
    }

    /// `parallelFor` that also tells `body` which worker runs the piece (for per-worker scratch).
    /// A worker may run several pieces, one after the other.
    func parallelForWorkers(_ count: Int, _ body: (_ range: Range<Int>, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let pieces = min(count, threads * 4)
        if threads == 1 || pieces == 1 {
            body(0..<count, 0)
            return
        }
        let shared = shared
        withoutActuallyEscaping(body) { body in
            let job: (Int) -> Void = { worker in
                while true {
                    let piece = shared.claim.add(1, ordering: .relaxed).oldValue
                    if piece >= pieces { return }
                    body((piece * count / pieces)..<((piece + 1) * count / pieces), worker)
                }
            }
            shared.open(job)
            job(0)
            shared.close()
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
        /// `closed` flag plus the number of workers inside the current loop. A worker enters only
        /// while the loop is open, so once the caller has closed it and seen zero, no one touches the job.
        private let entry = Atomic<Int>(SharedState.closed)
        private static let closed = 1 << 40
        /// The next piece to claim.
        let claim = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)
        /// Written before the loop opens, cleared after it closes; read only by workers inside it.
        private var job: ((Int) -> Void)?
        private static let spins = 20_000

        func open(_ body: @escaping (Int) -> Void) {
            job = body
            claim.store(0, ordering: .relaxed)
            entry.store(0, ordering: .releasing)
            generation.add(1, ordering: .releasing)
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }

        func close() {
            entry.add(Self.closed, ordering: .acquiringAndReleasing)
            var spin = 0
            while entry.load(ordering: .acquiring) != Self.closed && spin < Self.spins { spin += 1 }
            if entry.load(ordering: .acquiring) != Self.closed {
                condition.lock()
                while entry.load(ordering: .acquiring) != Self.closed { condition.wait() }
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
                guard enter() else { continue }
                var body = job
                body?(index)
                // Drop the reference before leaving: the caller's closure must not outlive its loop.
                body = nil
                if entry.subtract(1, ordering: .acquiringAndReleasing).newValue == Self.closed {
                    condition.lock()
                    condition.broadcast()
                    condition.unlock()
                }
            }
        }

        /// Joins the open loop, if there is one.
        private func enter() -> Bool {
            var current = entry.load(ordering: .acquiring)
            while current & Self.closed == 0 {
                let (exchanged, original) = entry.compareExchange(
                    expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
                if exchanged { return true }
                current = original
            }
            return false
        }
    }
}
