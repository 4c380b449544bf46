import Testing

@testable import NeuralEngine

@Suite struct ComputePoolTests {
    /// Thousands of back-to-back loops of every size: each index is visited exactly once, by a valid
    /// worker, and the pool never loses a hand-off (a lost one would hang here).
    @Test(arguments: [1, 2, 3])
    func everyIndexRunsExactlyOnce(threads: Int) {
        let pool = ComputePool(threads: threads)
        var visits = [Int](repeating: 0, count: 299)
        var workersSeen = Set<Int>()
        for round in 0..<3000 {
            let count = (round * 37) % 300
            var perWorker = [[Int]](repeating: [], count: threads)
            perWorker.withUnsafeMutableBufferPointer { slots in
                pool.parallelForWorkers(count) { range, worker in
                    for i in range { slots[worker].append(i) }
                }
            }
            for (worker, indices) in perWorker.enumerated() {
                if !indices.isEmpty { workersSeen.insert(worker) }
                for i in indices { visits[i] += 1 }
            }
            #expect(perWorker.flatMap { $0 }.sorted() == Array(0..<count))
        }
        #expect(visits.allSatisfy { $0 > 0 })
        #expect(workersSeen.isSubset(of: Set(0..<threads)))
    }
}

@Suite struct CoreShareTests {
    /// A pool uses its helpers only while every computing pool could have its threads on cores of its own.
    @Test func helpersOnlyWhileTheCoresHoldEveryComputingPool() {
        // Two cores: a two-thread run alone uses both; two or three side by side compute on one thread each.
        #expect(CoreShare.allowsHelpers(threads: 2, computing: 1, cores: 2))
        #expect(!CoreShare.allowsHelpers(threads: 2, computing: 2, cores: 2))
        #expect(!CoreShare.allowsHelpers(threads: 2, computing: 3, cores: 2))
        // A pool asked outside `run` counts as the one computing.
        #expect(CoreShare.allowsHelpers(threads: 2, computing: 0, cores: 2))
        #expect(CoreShare.allowsHelpers(threads: 4, computing: 2, cores: 8))
        #expect(!CoreShare.allowsHelpers(threads: 4, computing: 3, cores: 8))
        #expect(!CoreShare.allowsHelpers(threads: 3, computing: 1, cores: 2))
    }

    /// While other runs compute, a pool's loops run whole on its calling thread (worker 0) — no helper is woken
    /// onto a taken core — and once it computes alone its helpers take part again.
    @Test func aPoolComputesAloneWhileItsShareIsTaken() async throws {
        let share = CoreShare(cores: 2)
        let pool = ComputePool(threads: 2, share: share)
        @Sendable func workersOfLoops() -> Set<Int> {
            var seen = Set<Int>()
            for _ in 0..<500 {
                var workers = [Int](repeating: -1, count: 64)
                workers.withUnsafeMutableBufferPointer { workers in
                    pool.parallelForWorkers(64) { range, worker in for i in range { workers[i] = worker } }
                }
                seen.formUnion(workers)
            }
            return seen
        }
        // Another run computing: two pools of two threads do not fit on two cores.
        share.enter()
        let taken = try await pool.run { workersOfLoops() }
        share.leave()
        #expect(taken == [0])
        // Alone: the helper joins some loop (on a loaded machine it may arrive after many have ended; the deadline
        // only ends a pool that never lets it in).
        let started = ContinuousClock.now
        let alone = try await pool.run { () -> Set<Int> in
            var seen = workersOfLoops()
            while !seen.contains(1) && ContinuousClock.now - started < .seconds(60) { seen.formUnion(workersOfLoops()) }
            return seen
        }
        #expect(alone == [0, 1])
    }
}

@Suite struct ComputePoolRunTests {
    /// `run` drives async code whose parallel loops use the pool, and cancelling the calling task reaches
    /// the flag that long loops poll (a pool that missed it would spin here until the deadline).
    @Test func cancellingTheCallerCancelsThePool() async throws {
        let pool = ComputePool(threads: 2)
        let started = ContinuousClock.now
        let (looping, signal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            try await pool.run { () -> Int in
                var loops = 0
                // The deadline only ends a loop that missed the cancel; it is far from what a cancel takes, so a
                // loaded machine that starts the loop late cannot reach it.
                while !pool.isCancelled && ContinuousClock.now - started < .seconds(120) {
                    var sums = [Int](repeating: 0, count: 64)
                    sums.withUnsafeMutableBufferPointer { sums in
                        pool.parallelFor(64) { range in for i in range { sums[i] = i } }
                    }
                    loops += sums.reduce(0, +) == 64 * 63 / 2 ? 1 : 0
                    signal.yield()
                    await Task.yield()
                }
                return loops
            }
        }
        // Cancel only once the loop runs on the pool's thread.
        for await _ in looping { break }
        let cancelled = ContinuousClock.now
        task.cancel()
        #expect(try await task.value > 0)
        #expect(pool.isCancelled)
        #expect(ContinuousClock.now - cancelled < .seconds(10))
        #expect(throws: CancellationError.self) { try pool.checkCancellation() }
    }
}
