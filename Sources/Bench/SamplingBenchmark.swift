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
    var repetitions: Int = 5

    func run() async throws {
        let config = TrainingBenchmark.config
        let (rows, length) = (64, config.contextLength)
        let model = Transformer(config: config, seed: 3)
        let templates = (0..<rows).map {
            [Int32($0 % config.vocabularySize)] + [Int32](repeating: -1, count: length - 1)
        }
        let streams = (0..<rows).map { UInt64($0) }
        let options = SamplingOptions(temperature: 1, topK: nil, stopTokens: [])
        let pool = ComputePool(threads: threads)
        // Sampling and scoring alternate, so both see the same machine load.
        let clock = ContinuousClock()
        var samplingSeconds: [Double] = []
        var scoringSeconds: [Double] = []
        for _ in 0..<max(1, repetitions) {
            var sampled: [[Int32]] = []
            samplingSeconds.append(
                Self.seconds(
                    clock.measure {
                        sampled = model.sample(
                            templates: templates, streams: streams, seed: 1, options: options, pool: pool)
                    }))
            let tokens = sampled.flatMap { $0 }
            scoringSeconds.append(
                Self.seconds(
                    clock.measure { _ = model.score(tokens: tokens, batchSize: rows, length: length, pool: pool) }
                ))
        }
        let generated = Double(rows * (length - 1))
        print("machine: \(MachineDescription.current), threads: \(threads)")
        Figure(
            name: "sample-kv-cache", value: generated / Self.median(samplingSeconds), unit: "tokens/s",
            target: "≥ 0.5x batched forward", reference: Double(rows * length) / Self.median(scoringSeconds),
            referenceLabel: "tokens/s batched forward (score)"
        ).print()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
