import Randomness

/// Timings of the engine's kernels on synthetic data, for `e2h-bench` (the kernels themselves are
/// internal). Each result is the median of `repetitions` runs after 0.1 s of warm-up runs.
public enum KernelTiming {
    /// Seconds for C[M x N] += A · B with B stored K x N, or, with `transposedA`, A stored K x M (the
    /// shape of a weight gradient, reduced over the batch). Each timed run is `productsPerRun` products
    /// back to back, so a reference can span as long as the work it is compared with. `tile` is this build's
    /// unless told (the other computes the same bits at another speed).
    public static func gemmSeconds(
        m: Int, n: Int, k: Int, transposedA: Bool, threads: Int, repetitions: Int, productsPerRun: Int = 1,
        tile: RegisterTile = .native
    )
        -> Double
    {
        let a = FloatArena(count: m * k)
        let b = FloatArena(count: k * n)
        let c = FloatArena(count: m * n)
        var random = RandomGenerator(seed: 1)
        for i in 0..<a.count { a.base[i] = random.nextUniform() - 0.5 }
        for i in 0..<b.count { b.base[i] = random.nextUniform() - 0.5 }
        let pool = ComputePool(threads: threads)
        let left: StridedMatrix = transposedA ? .transposed(a.base, columns: m) : .rowMajor(a.base, columns: k)
        let products = max(1, productsPerRun)
        return medianSeconds(repetitions: repetitions) {
            for _ in 0..<products {
                GEMM.multiplyAccumulate(
                    m: m, n: n, k: k, a: left, b: .rowMajor(b.base, columns: n), c: c.base, ldc: n, tile: tile,
                    pool: pool)
            }
        } / Double(products)
    }

    /// The median seconds of `repetitions` timed runs of `body`, after a tenth of a second of warm-up runs.
    public static func medianSeconds(repetitions: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        // Warm up for a tenth of a second: caches, page faults, and the pool's threads getting a core.
        let warmUpEnd = clock.now.advanced(by: .milliseconds(100))
        repeat { body() } while clock.now < warmUpEnd
        var samples: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let elapsed = clock.measure(body)
            samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}
