import ArgumentParser
import NeuralEngine
import Randomness

/// "bench-small": one training step (forward, backward, clipping, AdamW) of a 4-layer, width-128,
/// 4-head transformer on 32 rows of 128 tokens over a 32-token vocabulary, against the engine's own
/// 512³ GEMM rate measured between the steps.
struct TrainingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "bench-small training throughput vs the engine's GEMM rate.")

    @Option(help: "Threads (default: the cores available).")
    var threads: Int = ThreadCount.available

    @Option(help: "Timed training steps (the median is reported).")
    var steps: Int = 8

    static let config = ModelConfig(
        vocabularySize: 32, contextLength: 128, layers: 4, width: 128, heads: 4, head: .languageModel)
    static let batchSize = 32

    func run() async throws {
        let config = Self.config
        let (batchSize, length) = (Self.batchSize, config.contextLength)
        var random = RandomGenerator(seed: 7)
        let tokens = (0..<(batchSize * (length + 1))).map { _ in Int32(random.nextInt(below: config.vocabularySize)) }
        var inputs: [Int32] = []
        var targets: [Int32] = []
        for row in 0..<batchSize {
            let sequence = tokens[(row * (length + 1))..<((row + 1) * (length + 1))]
            inputs += sequence.dropLast()
            targets += sequence.dropFirst()
        }
        let batch = TrainingBatch(
            batchSize: batchSize, length: length, tokens: inputs, targets: targets,
            lossMask: [Float](repeating: 1, count: batchSize * length))
        let model = Transformer(config: config, seed: 1)
        let trainer = Trainer(
            model: model, optimizer: AdamWConfig(learningRate: 1e-3),
            schedule: LearningRateSchedule(warmupSteps: 10, totalSteps: 1000), gradientClip: 1,
            pool: ComputePool(threads: threads))
        _ = trainer.train(batch)
        let tokensPerStep = Double(batchSize * length)
        // 6 x parameters x tokens for the matmuls (forward 2, backward 4) plus attention's
        // 12 x layers x context x width per token (PaLM's accounting, non-causal).
        let attention = 12 * Double(config.layers * length * config.width)
        let flops = (6 * Double(model.parameterCount) + attention) * tokensPerStep
        let gemmFlops = 2 * 512.0 * 512 * 512
        // Each step is followed by a run of 512³ GEMMs worth as many FLOPs as the step, timed as one
        // interval: both rates are measured over the same span under the same machine load (these
        // machines are shared, and the load moves within seconds).
        let clock = ContinuousClock()
        var samples: [Double] = []
        var gemmSamples: [Double] = []
        for _ in 0..<steps {
            let elapsed = clock.measure { _ = trainer.train(batch) }
            samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            gemmSamples.append(
                KernelTiming.gemmSeconds(
                    m: 512, n: 512, k: 512, transposedA: false, threads: threads, repetitions: 1,
                    productsPerRun: Int(flops / gemmFlops)))
        }
        samples.sort()
        gemmSamples.sort()
        let seconds = samples[samples.count / 2]
        let gemm = gemmFlops / gemmSamples[gemmSamples.count / 2] / 1e9
        print("machine: \(MachineDescription.current), threads: \(threads), parameters: \(model.parameterCount)")
        // The token rate the step would reach if all of its work ran at the GEMM's rate.
        let gemmBound = gemm * 1e9 / (flops / tokensPerStep)
        Figure(
            name: "train-bench-small-tokens", value: tokensPerStep / seconds, unit: "tokens/s",
            target: "≥ 0.4x GEMM-bound", reference: gemmBound, referenceLabel: "tokens/s at the engine's GEMM rate"
        ).print()
        Figure(
            name: "train-bench-small", value: flops / seconds / 1e9, unit: "GFLOP/s", target: "≥ 0.4x engine GEMM",
            reference: gemm, referenceLabel: "GFLOP/s engine GEMM 512³"
        ).print()
    }
}
