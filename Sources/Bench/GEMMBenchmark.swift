import ArgumentParser
import NeuralEngine

/// The engine's GEMM against numpy's, at 512³ and at the shapes bench-small's training step uses.
struct GEMMBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "Engine GEMM vs numpy (OpenBLAS) at 512³ and at the transformer's shapes.")

    @Option(help: "Threads for the engine and OpenBLAS (default: the cores available).")
    var threads: Int = ThreadCount.available

    @Option(help: "Timed products per measurement (the median is kept).")
    var repetitions: Int = 15

    @Option(help: "Rounds over all shapes; each figure is the median over the rounds.")
    var rounds: Int = 5

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
        // Each side at its best: the faster of one thread and `threads`. On a busy machine a second
        // thread may find its core held by another process (OpenBLAS's then spin-wait), and one thread
        // is faster; measuring both sides the same way keeps the ratio fair.
        let references = try (threads > 1 ? [1, threads] : [1]).map { try GEMMReference(threads: $0) }
        var engine = [[Double]](repeating: [], count: Self.shapes.count)
        var numpy = [[Double]](repeating: [], count: Self.shapes.count)
        // This build's register tile against the other one at 512³, one thread: the other tile is what a build for
        // the other vector width would run here (e.g. the 8×32 tile an AVX2 build ran before it had its own).
        let otherTile: RegisterTile = RegisterTile.native == .wide ? .narrow : .wide
        var tiles: (native: [Double], other: [Double]) = ([], [])
        // Shape by shape, numpy and the engine back to back, so both see the same machine load.
        for _ in 0..<max(1, rounds) {
            for (index, shape) in Self.shapes.enumerated() {
                numpy[index].append(try references.map { try $0.seconds(shape, repetitions: repetitions) }.min()!)
                engine[index].append(
                    (threads > 1 ? [1, threads] : [1]).map {
                        KernelTiming.gemmSeconds(
                            m: shape.m, n: shape.n, k: shape.k, transposedA: shape.transposedA, threads: $0,
                            repetitions: repetitions)
                    }.min()!)
            }
            for tile in [RegisterTile.native, otherTile] {
                let seconds = KernelTiming.gemmSeconds(
                    m: 512, n: 512, k: 512, transposedA: false, threads: 1, repetitions: repetitions, tile: tile)
                if tile == .native { tiles.native.append(seconds) } else { tiles.other.append(seconds) }
            }
        }
        print("machine: \(MachineDescription.current), threads: best of 1 and \(threads) on both sides")
        for (index, shape) in Self.shapes.enumerated() {
            let isHeadline = index == 0
            Figure(
                name: isHeadline ? "gemm-512" : "gemm-\(shape.argument)",
                value: shape.flops / Self.median(engine[index]) / 1e9, unit: "GFLOP/s",
                target: isHeadline ? "≥ 0.6x numpy" : "none (bench-small shape)",
                reference: shape.flops / Self.median(numpy[index]) / 1e9,
                referenceLabel: "GFLOP/s numpy"
            ).print()
        }
        let flops = Self.shapes[0].flops
        Figure(
            name: "gemm-512-\(RegisterTile.native.rawValue)-tile", value: flops / Self.median(tiles.native) / 1e9,
            unit: "GFLOP/s (1 thread)", target: "faster than the other tile",
            reference: flops / Self.median(tiles.other) / 1e9,
            referenceLabel: "GFLOP/s \(otherTile.rawValue) tile, same bits"
        ).print()
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
