import Foundation
import Randomness

@testable import NeuralEngine

/// Small models and batches shared by the tests.
enum Fixtures {
    static func config(
        _ head: ModelHead, vocabulary: Int = 11, context: Int = 12, layers: Int = 2, width: Int = 16, heads: Int = 2
    )
        -> ModelConfig
    {
        ModelConfig(
            vocabularySize: vocabulary, contextLength: context, layers: layers, width: width, heads: heads, head: head)
    }

    /// Random tokens, next-token targets with a partial loss mask, and scalar labels at the last position.
    static func batch(config: ModelConfig, batchSize: Int, length: Int, seed: UInt64) -> TrainingBatch {
        var random = RandomGenerator(seed: seed, stream: 99)
        let sequences = (0..<batchSize).map { _ in
            (0...length).map { _ in Int32(random.nextInt(below: config.vocabularySize)) }
        }
        var tokens: [Int32] = []
        var targets: [Int32] = []
        var lossMask: [Float] = []
        var scalarTargets: [Float] = []
        var scalarMask: [Float] = []
        for sequence in sequences {
            tokens += sequence[0..<length]
            targets += sequence[1...length]
            lossMask += (0..<length).map { $0 >= length / 3 ? 1 : 0 }
            scalarTargets += (0..<length).map { _ in sequence[0] % 2 == 0 ? 1 : 0 }
            scalarMask += (0..<length).map { $0 == length - 1 || $0 == length / 2 ? 1 : 0 }
        }
        return TrainingBatch(
            batchSize: batchSize, length: length, tokens: tokens, targets: targets, lossMask: lossMask,
            scalarTargets: config.head == .languageModel ? [] : scalarTargets,
            scalarMask: config.head == .languageModel ? [] : scalarMask)
    }

    static func weightsHash(_ model: Transformer) -> String { SafeTensors.checksum(model.weightsData()) }

    static func randomArray(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var random = RandomGenerator(seed: seed, stream: 7)
        return (0..<count).map { _ in (2 * random.nextUniform() - 1) * scale }
    }
}
