import Foundation
import NeuralEngine
import Testing

@testable import Pipeline

/// The least memory and compute a spec needs, known before it is queued: the shipped experiments fit an ordinary
/// machine, and a spec beyond the limits is refused with the estimate and what to change.
@Suite("Resource estimate")
struct ResourceEstimateTests {
    static func spec(_ file: String) throws -> ExperimentSpec {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../experiments/\(file)")
        return try ExperimentSpec.parse(yaml: String(contentsOf: url, encoding: .utf8), file: file)
    }

    @Test func theParameterCountIsTheEngines() throws {
        let spec = try ExperimentSpec.parse(
            yaml: "name: p\npolicy:\n  model: {layers: 3, width: 64, heads: 4, mlp_multiplier: 2}\n", file: "p.yaml")
        let model = spec.policy.model
        let config = ModelConfig(
            vocabularySize: Vocabulary.size, contextLength: spec.task.family.family.sequenceLength,
            layers: model.layers, width: model.width, heads: model.heads, mlpMultiplier: model.mlpMultiplier,
            head: .languageModel)
        #expect(ResourceEstimate(spec).parameters == Double(Transformer(config: config, seed: 0).parameterCount))
    }

    @Test(arguments: ["easy-to-hard.yaml", "smoke.yaml", "sudoku.yaml", "sudoku-default.yaml"])
    func theShippedExperimentsFitASmallMachine(file: String) throws {
        let estimate = ResourceEstimate(try Self.spec(file))
        #expect(estimate.memoryBytes < 2 * 1_073_741_824)
        #expect(estimate.refusal(maximumMemoryBytes: 4 * 1_073_741_824, maximumSeconds: 48 * 3600) == nil)
    }

    /// Likelihood voting costs one more forward pass over the test pools: 2 operations per parameter per token.
    @Test func likelihoodVotingCountsOneScoringPassOfTheTestPools() throws {
        var spec = try Self.spec("smoke.yaml")
        let without = ResourceEstimate(spec)
        spec.rerank.methods.append(.likelihood)
        let with = ResourceEstimate(spec)
        let sequences = Double(spec.task.levels.count * spec.task.testPerLevel * spec.sampling.poolSize)
        let tokens = Double(spec.task.family.family.sequenceLength)
        #expect(with.operations - without.operations == sequences * 2 * without.parameters * tokens)
        #expect(with.memoryBytes == without.memoryBytes)
    }

    /// Iterative DPO costs by iteration and ranking; an evaluator's ranking adds the pass that scores its samples.
    @Test func iterativeDPOCountsEachIterationAndRanking() throws {
        var spec = try Self.spec("smoke.yaml")
        let without = ResourceEstimate(spec).operations
        spec.rl.dpo.iterations = 1
        let one = ResourceEstimate(spec).operations - without
        spec.rl.dpo.iterations = 2
        #expect(ResourceEstimate(spec).operations - without == 2 * one)
        spec.rl.dpo.iterations = 1
        spec.rl.dpo.rankings = [.easyAnswers, .evaluator("prm")]
        #expect(ResourceEstimate(spec).operations - without > 2 * one)
        #expect(one > 0)
    }

    @Test func aModelLargerThanTheMachineIsRefusedWithTheEstimate() throws {
        let spec = try ExperimentSpec.parse(
            yaml: "name: huge\npolicy:\n  model: {layers: 32, width: 4096, heads: 32}\n", file: "huge.yaml")
        let estimate = ResourceEstimate(spec)
        #expect(estimate.parameters > 6e9)
        let refusal = try #require(estimate.refusal(maximumMemoryBytes: 64 * 1_073_741_824, maximumSeconds: .infinity))
        #expect(refusal.contains("64.0 GiB") && refusal.contains("policy.model") && refusal.contains("e9 parameters"))
        #expect(!refusal.contains("compute"))
    }

    @Test func aRunLongerThanTheLimitIsRefusedWithTheEstimate() throws {
        var spec = try Self.spec("easy-to-hard.yaml")
        let fits = ResourceEstimate(spec)
        spec.policy.sft.steps = 1_000_000
        spec.policy.sft.batchSize = 4096
        let estimate = ResourceEstimate(spec)
        #expect(estimate.operations > 1000 * fits.operations)
        let refusal = try #require(estimate.refusal(maximumMemoryBytes: .infinity, maximumSeconds: 48 * 3600))
        #expect(refusal.contains("48.0 hours") && refusal.contains("policy.sft") && refusal.contains("days"))
        #expect(!refusal.contains("GiB"))
    }

    @Test func moreThreadsShortenTheEstimateButNotTheWork() throws {
        var spec = try Self.spec("easy-to-hard.yaml")
        let two = ResourceEstimate(spec)
        spec.threads = 4
        let four = ResourceEstimate(spec)
        #expect(four.operations == two.operations && four.seconds * 2 == two.seconds)
    }
}
