import Foundation
import NeuralEngine
import Randomness
import Testing

@testable import Pipeline

@Suite struct PolicyGradientTests {
    @Test func rewardsArePerStepAndTheOutcomeComesAtTheEnd() {
        // Process weight 2 over 4 steps: step s gets 2 · score_s / 4.
        #expect(
            PolicyGradient.stepRewards(processScores: [1, 0.5, 0, 1], weight: 2, outcome: 1) == [0.5, 0.25, 0, 1.5])
        // A hard question: no outcome reward.
        #expect(
            PolicyGradient.stepRewards(processScores: [1, 0.5, 0, 1], weight: 2, outcome: nil) == [0.5, 0.25, 0, 0.5])
        #expect(PolicyGradient.returnsToGo([0.5, 0.25, 0, 1.5]) == [2.25, 1.75, 1.5, 1.5])
    }

    @Test func advantagesSubtractTheSameStepsMeanOverTheQuestionsSamples() {
        // Two questions, two samples each, two steps.
        let advantages = PolicyGradient.groupAdvantages(returns: [[3, 1], [1, 1], [2, 0], [2, 2]], group: 2)
        #expect(advantages == [[1, 0], [-1, 0], [0, -1], [0, 1]])
    }

    /// The weight is ∂/∂log p of min(r·A, clip(r)·A) with r = exp(log p − log p_old): checked
    /// against central differences of the objective on both sides of the clip range.
    @Test(arguments: [(2.0, 0.7), (2.0, 1.05), (2.0, 1.3), (-1.5, 0.7), (-1.5, 0.95), (-1.5, 1.3)])
    func surrogateWeightIsTheClippedObjectivesGradient(advantage: Double, ratio: Double) {
        let epsilon = 0.2
        func objective(_ logRatio: Double) -> Double {
            let r = exp(logRatio)
            return min(r * advantage, min(max(r, 1 - epsilon), 1 + epsilon) * advantage)
        }
        let h = 1e-6
        let numeric = (objective(log(ratio) + h) - objective(log(ratio) - h)) / (2 * h)
        let weight = PolicyGradient.surrogateWeight(advantage: advantage, ratio: ratio, clipRange: epsilon)
        #expect(abs((weight ?? 0) - numeric) < 1e-6)
        #expect((weight == nil) == (abs(numeric) < 1e-9))
    }

    @Test func permutationIsAPermutationFixedByTheSeed() {
        var a = RandomGenerator(seed: 5, stream: 1)
        var b = RandomGenerator(seed: 5, stream: 1)
        let order = PolicyGradient.permutation(16, using: &a)
        #expect(order.sorted() == Array(0..<16))
        #expect(order != Array(0..<16))
        #expect(PolicyGradient.permutation(16, using: &b) == order)
    }
}
