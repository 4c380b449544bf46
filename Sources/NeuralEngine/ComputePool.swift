import Foundation
import Synchronization

/// The number of threads the engine uses when a caller does not say: the cores this process may use.
public enum ThreadCount {
    public static var available: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// The cores that the pools of one process share. A pool given a share runs its loops on its calling thread alone
/// while its helpers would oversubscribe the cores (more pools computing than the cores hold at their thread
/// counts), and takes its helpers back when it computes alone: a daemon running several runs side by side keeps one
/// thread a run, and the last one left uses every core instead of leaving them idle. Which threads run a loop never
/// changes a bit (see `ComputePool`), so this only decides speed.
public final class CoreShare: Sendable {
    public let cores: Int
    /// Pools inside `ComputePool.run` (a run waiting on its database counts too: it computes again soon).
    private let computing = Atomic<Int>(0)

    public init(cores: Int = ThreadCount.available) {
        self.cores = max(1, cores)
    }

    func enter() { computing.add(1, ordering: .relaxed) }
    func leave() { computing.subtract(1, ordering: .relaxed) }

    /// Whether a pool of `threads` threads may use its helpers now.
    func allowsHelpers(threads: Int) -> Bool {
        Self.allowsHelpers(threads: threads, computing: computing.load(ordering: .relaxed), cores: cores)
    }

    /// Helpers only while every computing pool could have all of its threads on a core of its own (each pool is
    /// counted at this one's thread count: the daemon's runs have one).
    static func allowsHelpers(threads: Int, computing: Int, cores: Int) -> Bool {
        max(1, computing) * threads <= cores
    }
}

/// The engine's one compute facility: a fixed set of worker threads that run one parallel loop at a time,
/// the caller's thread taking part as worker 0; a thread of its own for the async code that drives them
/// (`run`); and a cancellation flag that the calling task's cancellation sets and long loops poll.
///
/// Every kernel hands each output element to exactly one piece of work and reduces in a fixed order, so who
/// runs which piece never changes a bit — the split only affects speed. Pieces are claimed dynamically and a
/// worker that arrives after the loop is finished simply skips it: on a shared machine a worker's core may be
/// busy for milliseconds, and the caller then does the work itself instead of waiting.
///
/// One pool serves one run (or one benchmark, or one test): loops on it never overlap, which is what
/// `@unchecked Sendable` relies on.
public final class ComputePool: @unchecked Sendable {
    public let threads: Int
    private let shared: SharedState
    /// Reusable buffers: slot 0 for the caller's shared data (a packed GEMM operand), slot 1 + w for
    /// worker w's private tiles. A worker runs one piece at a time, so its slot is never shared.
    private let scratchSlots: [ScratchSlot]
    /// The sampler's KV cache and step buffers, kept between calls: a sampling call per batch of rows would
    /// otherwise allocate (and fault in) megabytes per group of rows.
    private let cacheSlot = ScratchSlot()
    /// One single-threaded pool per worker, for work that runs whole inside one piece of a loop (a group of
    /// sampled rows, a chunk of scored rows): its own scratch, no synchronization. Empty in those pools.
    private let serialPools: [ComputePool]
    private let cancelled = Atomic<Bool>(false)
    /// The cores this pool shares with other pools of the process, if it shares them.
    private let share: CoreShare?

    /// - Parameter share: the cores this pool shares with others (a daemon's runs side by side); without one it
    ///   always uses its threads.
    public convenience init(threads: Int, share: CoreShare? = nil) {
        self.init(threads: threads, nested: false, share: share)
    }

    private init(threads: Int, nested: Bool, share: CoreShare? = nil) {
        self.share = share
        self.threads = max(1, threads)
        shared = SharedState()
        scratchSlots = (0...self.threads).map { _ in ScratchSlot() }
        serialPools = nested ? [] : (0..<self.threads).map { _ in ComputePool(threads: 1, nested: true) }
        for index in 1..<self.threads {
            let state = shared
            let thread = Thread { state.workerLoop(index: index) }
            thread.name = "e2h-compute-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { shared.shutDown() }

    /// Runs `body` with a thread of this pool as its executor, so the orchestration between engine calls runs
    /// off Swift's cooperative pool — on 2 cores, seconds of compute there would starve heartbeats and the HTTP
    /// API — and that thread is worker 0 of every loop `body` starts. Cancelling the calling task cancels the
    /// pool (`isCancelled`); what `body` does about it is up to the loops that poll it.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let thread = JobThread()
        defer { thread.stop() }
        share?.enter()
        defer { share?.leave() }
        return try await withTaskCancellationHandler {
            try await withTaskExecutorPreference(thread) { try await body() }
        } onCancel: {
            self.cancel()
        }
    }

    /// Asks the loops that poll this pool to stop; a loop already running finishes (results stay whole).
    public func cancel() { cancelled.store(true, ordering: .releasing) }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Throws `CancellationError` once the pool is cancelled: for long loops, between two engine calls.
    public func checkCancellation() throws {
        if isCancelled { throw CancellationError() }
    }

    /// The threads a loop starting now runs on: `threads`, or 1 while the pool's share of the cores is taken. Work
    /// cut into a piece per thread (chunks of scored rows, groups of sampled rows) is cut for this many, so that a
    /// run computing alone on its calling thread does the work of a one-thread run, not a two-thread one's pieces.
    var activeThreads: Int {
        threads > 1 && share?.allowsHelpers(threads: threads) == false ? 1 : threads
    }

    /// The single-threaded pool for worker `worker`'s piece of a loop on this pool.
    func serial(_ worker: Int) -> ComputePool {
        precondition(!serialPools.isEmpty, "a serial pool has no serial pools of its own")
        return serialPools[worker]
    }

    /// Splits 0..<count into contiguous pieces and runs `body` on each, in parallel.
    func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        parallelForWorkers(count) { range, _ in body(range) }
    }

    /// `parallelFor` that also tells `body` which worker runs the piece (for per-worker scratch).
    /// A worker may run several pieces, one after the other.
    func parallelForWorkers(_ count: Int, _ body: (_ range: Range<Int>, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let pieces = min(count, threads * 4)
        if pieces == 1 || activeThreads == 1 {
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

    /// The pool's cache buffer of at least `count` floats, kept between calls; contents undefined. One user at a
    /// time: the sampler running on this pool.
    func cache(count: Int) -> UnsafeMutablePointer<Float> {
        cacheSlot.buffer(count)
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

    /// The thread `run` executes async jobs on, one after the other, until stopped.
    private final class JobThread: TaskExecutor, @unchecked Sendable {
        private let condition = NSCondition()
        /// Guarded by `condition`.
        private var jobs: [UnownedJob] = []
        private var stopped = false

        init() {
            let thread = Thread { [self] in self.loop() }
            thread.name = "e2h-compute-0"
            thread.start()
        }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }

        /// Ends the thread once the jobs queued so far have run.
        func stop() {
            condition.lock()
            stopped = true
            condition.signal()
            condition.unlock()
        }

        private func loop() {
            while true {
                condition.lock()
                while jobs.isEmpty && !stopped { condition.wait() }
                let batch = jobs
                jobs.removeAll()
                let finished = stopped && batch.isEmpty
                condition.unlock()
                if finished { return }
                for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            }
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
