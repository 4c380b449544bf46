import ArgumentParser
import NeuralEngine

/// KV-cache sampling of 64 sequences x 128 tokens with bench-small's model, against scoring the
/// same number of tokens in one batched forward pass (the same arithmetic without the
/// token-by-token dependency), measured in the same run.
struct SamplingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "KV-cache sampling throughput vs a batched forward pass.")

    @Option(help: "Threads (default: the cores available).")
    var threads: Int = ThreadCount.available

    @Option(help: "Timed repetitions (the median is reported).")
    var repetitions: Int = 3

    func run() async throws {
        let config = TrainingBenchmark.config
        let (rows, length) = (64, config.contextLength)
        let model = Transformer(config: config, seed: 3)
        let templates = (0..<rows).map {
            [Int32($0 % config.vocabularySize)] + [Int32](repeating: -1, count: length - 1)
        }
        let streams = (0..<rows).map { UInt64($0) }
        let options = SamplingOptions(temperature: 1, topK: nil, stopTokens: [])
        var sampled: [[Int32]] = []
        let samplingSeconds = Self.median(repetitions) {
            sampled = model.sample(templates: templates, streams: streams, seed: 1, options: options, threads: threads)
        }
        let tokens = sampled.flatMap { $0 }
        let scoringSeconds = Self.median(repetitions) {
            _ = model.score(tokens: tokens, batchSize: rows, length: length, threads: threads)
        }
        let generated = Double(rows * (length - 1))
        print("machine: \(MachineDescription.current), threads: \(threads)")
        Figure(
            name: "sample-kv-cache", value: generated / samplingSeconds, unit: "tokens/s",
            target: "≥ 0.5x batched forward", reference: Double(rows * length) / scoringSeconds,
            referenceLabel: "tokens/s batched forward (score)"
        ).print()
    }

    static func median(_ repetitions: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        var samples: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let elapsed = clock.measure(body)
            samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}
