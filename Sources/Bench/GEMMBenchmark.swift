import ArgumentParser
import NeuralEngine

/// The engine's GEMM against numpy's, at 512³ and at the shapes bench-small's training step uses.
struct GEMMBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "Engine GEMM vs numpy (OpenBLAS) at 512³ and at the transformer's shapes.")

    @Option(help: "Threads for both the engine and OpenBLAS (default: the cores available).")
    var threads: Int = ThreadCount.available

    @Option(help: "Timed repetitions per shape (the median is reported).")
    var repetitions: Int = 15

    /// 512³, then bench-small's (batch 32 x context 128 = 4096 rows, width 128): the QKV and MLP
    /// projections forward, and the MLP weight gradient (reduced over the 4096 rows).
    static let shapes: [GEMMReference.Shape] = [
        .init(m: 512, n: 512, k: 512, transposedA: false),
        .init(m: 4096, n: 384, k: 128, transposedA: false),
        .init(m: 4096, n: 512, k: 128, transposedA: false),
        .init(m: 4096, n: 128, k: 512, transposedA: false),
        .init(m: 512, n: 128, k: 4096, transposedA: true),
    ]

    func run() async throws {
        let reference = try GEMMReference.seconds(for: Self.shapes, threads: threads, repetitions: repetitions)
        print("machine: \(MachineDescription.current), threads: \(threads)")
        for (shape, numpySeconds) in zip(Self.shapes, reference) {
            let seconds = KernelTiming.gemmSeconds(
                m: shape.m, n: shape.n, k: shape.k, transposedA: shape.transposedA, threads: threads,
                repetitions: repetitions)
            let isHeadline = shape == Self.shapes[0]
            Figure(
                name: isHeadline ? "gemm-512" : "gemm-\(shape.argument)", value: shape.flops / seconds / 1e9,
                unit: "GFLOP/s", target: isHeadline ? "≥ 0.6x numpy" : "none (bench-small shape)",
                reference: shape.flops / numpySeconds / 1e9,
                referenceLabel: "GFLOP/s numpy (best of 1 and \(threads) threads)"
            ).print()
        }
    }
}
