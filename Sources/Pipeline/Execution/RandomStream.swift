import NeuralEngine
import Randomness

/// The one derivation of a run's random streams. A stream is named by its purpose, an item of that
/// purpose (an evaluator, an iteration, a level, a problem) and an index (a step, a sampled row, a draw);
/// the three fill disjoint bit fields of the generator's stream number, so two names can never share a
/// stream — no hand-picked offsets, nothing to keep apart by hand.
struct RandomStream: Hashable, Sendable {
    enum Purpose: UInt8, CaseIterable, Sendable {
        /// item: level.
        case dataset = 1
        case policyInitialization
        /// index: step.
        case sftBatches
        /// index: row (the easy-validation samples behind checkpoint selection).
        case selectionSamples
        /// index: row.
        case evaluatorTrainingSamples
        /// index: row.
        case testSamples
        /// item: evaluator.
        case evaluatorInitialization
        /// item: evaluator; index: step.
        case evaluatorBatches
        /// index: row (the generative verifier's own samples as a policy).
        case verifierPolicySamples
        /// item: problem; index: draw.
        case rerankSubsets
        /// item: PPO variant; index: iteration.
        case ppoProblems
        /// item: PPO variant; index: row, over all iterations.
        case ppoRollouts
        /// item: PPO variant; index: iteration × epochs + epoch.
        case ppoShuffles
        /// item: iteration; index: row.
        case restEMSamples
        /// item: iteration; index: step.
        case restEMBatches
        /// Greedy decoding: the stream exists for the sampler's signature, no draw is ever made.
        case greedy
        /// index: step (the all-levels SFT ceiling's batches).
        case ceilingBatches
        /// item: iteration; index: row (shared by every DPO ranking).
        case dpoSamples
        /// item: iteration; index: step (shared by every DPO ranking).
        case dpoBatches
        /// index: row (samples of easy validation problems that evaluators' checkpoints are chosen on).
        case evaluatorValidationSamples
        /// item: PPO variant (the value model's new scalar head).
        case ppoValueInitialization
        /// item: the generator's place in `rerank.generators`; index: row (its test pool).
        case generatorPoolSamples
        /// The format-only base model's initial weights (`evaluators[].initialization: format`).
        case formatBaseInitialization
        /// index: step (the format-only base model's batches: questions and their random digits).
        case formatBaseBatches
    }

    static let itemBits = 24
    static let indexBits = 32

    let purpose: Purpose
    let item: Int
    let index: Int

    init(_ purpose: Purpose, item: Int = 0, index: Int = 0) {
        precondition(item >= 0 && item < 1 << Self.itemBits, "random stream item \(item) is out of range")
        precondition(index >= 0 && index < 1 << Self.indexBits, "random stream index \(index) is out of range")
        self.purpose = purpose
        self.item = item
        self.index = index
    }

    /// The same purpose and item at another index (a sampled row, a step).
    func at(_ index: Int) -> RandomStream { RandomStream(purpose, item: item, index: index) }

    /// Purpose in the top 8 bits, item in the next 24, index in the low 32.
    var number: UInt64 {
        UInt64(purpose.rawValue) << UInt64(Self.itemBits + Self.indexBits) | UInt64(item) << UInt64(Self.indexBits)
            | UInt64(index)
    }

    func generator(seed: UInt64) -> RandomGenerator { RandomGenerator(seed: seed, stream: number) }

    /// A seed for what derives its own streams from a seed (a model's initial weights): this stream's first draw.
    func seed(from runSeed: UInt64) -> UInt64 {
        var generator = generator(seed: runSeed)
        return generator.next()
    }
}
