import ArgumentParser
import NeuralEngine
import Randomness

/// Scoring as the evaluators stage does — the running-sum experiment's evaluator (2 layers, width 128, 4 heads,
/// 85-token running-sum sequences, a scalar head), 512 sequences per engine call — against the engine's own GEMM at the
/// forward pass's matrix shapes, measured in the same run. Three figures:
/// - `score-forward`: random rows, which share nothing, through the batched forward pass: the rate at which the
///   whole pass does its matrix products (their FLOPs over its time). Attention, norms, activations and the
///   per-call set-up are what keep it below the GEMM's own rate; the strict reading of issue 9's target.
/// - `score-pool`: a pool that branches like a sampled one, scored as `score` chooses (its prefix tree), against
///   the batched forward pass on the same pool.
/// - `score-pool-vs-gemm`: the figure as worded — that pool's sequences scored per second against the
///   sequences per second of the batched forward pass if it ran at the GEMM's rate (the GEMM's time for one
///   chunk's products, per row). A pool's samples share their prompt and more, and scoring computes a shared
///   prefix's keys and values once, which is what the issue asked to count.
struct ScoringBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Pool scoring (evaluator forward passes) vs the engine's GEMM rate.")

    @Option(
        help:
            "Threads for both sides (default 1: the figure is per core; scoring spreads whole chunks of rows over threads)."
    )
    var threads: Int = 1

    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions: Int = 5

    static let config = ModelConfig(
        vocabularySize: 20, contextLength: 85, layers: 2, width: 128, heads: 4, mlpMultiplier: 4, head: .scalar)
    static let rows = 512

    func run() async throws {
        let config = Self.config
        let length = config.contextLength
        let model = Transformer(config: config, seed: 5)
        var random = RandomGenerator(seed: 9)
        let tokens = (0..<(Self.rows * length)).map { _ in
            min(Int32(random.nextUniform() * Float(config.vocabularySize)), Int32(config.vocabularySize - 1))
        }
        let pool = ComputePool(threads: threads)
        let scoring = KernelTiming.medianSeconds(repetitions: repetitions) {
            _ = model.score(tokens: tokens, batchSize: Self.rows, length: length, pool: pool)
        }
        // The forward's products, per chunk of rows the engine scores at once (`Transformer.scoringChunk`): per
        // layer QKV, the attention's output projection, the MLP's two (the scalar head, a dot product per row, is left out).
        let chunkRows = Transformer.scoringChunk
        let m = chunkRows * length
        let (d, hidden) = (config.width, config.width * config.mlpMultiplier)
        let shapes = [(3 * d, d), (d, d), (hidden, d), (d, hidden)]
        var gemmSeconds = 0.0
        var flops = 0.0
        for (n, k) in shapes {
            let seconds = KernelTiming.gemmSeconds(
                m: m, n: n, k: k, transposedA: false, threads: threads, repetitions: repetitions)
            gemmSeconds += Double(config.layers) * seconds
            flops += Double(config.layers) * 2 * Double(m * n * k)
        }
        let chunks = Double(Self.rows / chunkRows)
        print("machine: \(MachineDescription.current), threads: \(threads)")
        Figure(
            name: "score-forward", value: chunks * flops / scoring / 1e9, unit: "GFLOP/s",
            target: "≥ 0.7x the GEMM rate, strict: rows that share nothing", reference: flops / gemmSeconds / 1e9,
            referenceLabel: "GFLOP/s engine GEMM at the forward's shapes"
        ).print()
        print(
            "score-sequences: \(Figure.format(Double(Self.rows) / scoring)) sequences/s "
                + "(\(Self.rows) sequences of \(length) tokens per call)")
        poolFigures(model: model, pool: pool, sequencesPerSecondAtGEMMRate: Double(chunkRows) / gemmSeconds)
    }

    /// A pool as sampling writes one: 8 questions × 64 samples, each sample following an earlier sample of its
    /// question for a uniformly drawn number of tokens past a 4-token prompt, then its own. Scored through its
    /// prefix tree (what `score` chooses for it) against the batched forward pass, same pool, same run, and against
    /// the batched pass at the GEMM's rate.
    private func poolFigures(model: Transformer, pool: ComputePool, sequencesPerSecondAtGEMMRate: Double) {
        let (length, vocabulary) = (Self.config.contextLength, Self.config.vocabularySize)
        var random = RandomGenerator(seed: 11)
        var rows: [[Int32]] = []
        for _ in 0..<(Self.rows / 64) {
            let prompt = (0..<4).map { _ in Int32(random.nextInt(below: vocabulary)) }
            let first = rows.count
            for sample in 0..<64 {
                var row = prompt
                if sample > 0 {
                    row = Array(
                        rows[first + random.nextInt(below: sample)].prefix(4 + random.nextInt(below: length - 4)))
                }
                while row.count < length { row.append(Int32(random.nextInt(below: vocabulary))) }
                rows.append(row)
            }
        }
        let tokens = rows.flatMap { $0 }
        let byTree = KernelTiming.medianSeconds(repetitions: repetitions) {
            _ = model.score(tokens: tokens, batchSize: rows.count, length: length, pool: pool, route: .prefixTree)
        }
        let batched = KernelTiming.medianSeconds(repetitions: repetitions) {
            _ = model.score(tokens: tokens, batchSize: rows.count, length: length, pool: pool, route: .batchedForward)
        }
        let prefixes = Set(rows.flatMap { row in (1...length).map { row.prefix($0) } }).count
        let share = Figure.format(100 * Double(prefixes) / Double(tokens.count))
        Figure(
            name: "score-pool", value: Double(rows.count) / byTree, unit: "sequences/s",
            target: "faster than the batched pass", reference: Double(rows.count) / batched,
            referenceLabel: "sequences/s batched forward pass; the pool's prefix tree holds \(share)% of its tokens"
        ).print()
        Figure(
            name: "score-pool-vs-gemm", value: Double(rows.count) / byTree, unit: "sequences/s",
            target: "≥ 0.7x the batched pass at the GEMM rate", reference: sequencesPerSecondAtGEMMRate,
            referenceLabel: "sequences/s batched forward pass at the GEMM rate"
        ).print()
    }
}
