import NeuralEngine
import Testing

@testable import Pipeline

/// PPO's KL shaping, GAE, whitening and value targets on numbers worked by hand.
@Suite struct PPOAdvantageTests {
    /// Two steps of two tokens each; the policy is 0.5 nats above the reference on token 0, 0.2 below on token 3.
    @Test func theKLPenaltyIsChargedToTheStepThatIncurredIt() {
        let policy = [-1.0, -2.0, -0.5, -0.7]
        let reference = [-1.5, -2.0, -0.5, -0.5]
        let shaped = PolicyGradient.klShaped(
            [0.25, 1.25], policy: policy, reference: reference, stepOfToken: [0, 0, 1, 1], coefficient: 0.1)
        // Step 0: 0.25 − 0.1 × (0.5 + 0) = 0.2; step 1: 1.25 − 0.1 × (0 − 0.2) = 1.27.
        #expect(abs(shaped[0] - 0.2) < 1e-12 && abs(shaped[1] - 1.27) < 1e-12)
        #expect(abs(PolicyGradient.klEstimate(policy: policy, reference: reference) - 0.3) < 1e-12)
        // β = 0 leaves the rewards as they were.
        #expect(
            PolicyGradient.klShaped(
                [0.25, 1.25], policy: policy, reference: reference, stepOfToken: [0, 0, 1, 1], coefficient: 0)
                == [0.25, 1.25])
    }

    @Test func generalizedAdvantagesFollowTheRecursion() {
        let rewards = [0.0, 0.5, 1.0]
        let values = [0.4, 0.6, 0.8]
        // δ = [0 + 0.6 − 0.4, 0.5 + 0.8 − 0.6, 1 + 0 − 0.8] = [0.2, 0.7, 0.2];
        // λ = 0.5: A2 = 0.2, A1 = 0.7 + 0.1 = 0.8, A0 = 0.2 + 0.4 = 0.6.
        let advantages = PolicyGradient.generalizedAdvantages(rewards: rewards, values: values, lambda: 0.5)
        for (actual, expected) in zip(advantages, [0.6, 0.8, 0.2]) { #expect(abs(actual - expected) < 1e-12) }
        // λ = 1: the return-to-go minus the value; λ = 0: the one-step TD errors.
        let monteCarlo = PolicyGradient.generalizedAdvantages(rewards: rewards, values: values, lambda: 1)
        for (actual, expected) in zip(monteCarlo, [1.1, 0.9, 0.2]) { #expect(abs(actual - expected) < 1e-12) }
        let oneStep = PolicyGradient.generalizedAdvantages(rewards: rewards, values: values, lambda: 0)
        for (actual, expected) in zip(oneStep, [0.2, 0.7, 0.2]) { #expect(abs(actual - expected) < 1e-12) }
    }

    @Test func whiteningCentresAndScalesOverTheWholeRollout() {
        // Values 1, 3, 5, 7: mean 4, population variance (9 + 1 + 1 + 9) / 4 = 5.
        let whitened = PolicyGradient.whitened([[1, 3], [5, 7]])
        let root5 = 5.0.squareRoot()
        for (actual, expected) in zip(whitened.flatMap { $0 }, [-3 / root5, -1 / root5, 1 / root5, 3 / root5]) {
            #expect(abs(actual - expected) < 1e-12)
        }
        // All equal: centred to zero, not divided by zero.
        #expect(PolicyGradient.whitened([[2, 2], [2, 2]]) == [[0, 0], [0, 0]])
    }

    @Test func valueTargetsMapTheReturnRangeOntoTheUnitInterval() {
        let family = RunningSum()
        let model = ValueModel(family: family, processRewardWeight: 1)
        // Range [−2, 2]: 0 is ½, the largest return (outcome 1 + whole process reward 1) is 1.
        #expect(model.target(0) == 0.5 && model.target(2) == 1 && model.target(-1) == 0.25)
        // Beyond the range (a KL-shaped return), clamped.
        #expect(model.target(3) == 1 && model.target(-5) == 0)
        #expect(model.value(0.75) == 1 && model.value(0.5) == 0)
        // The value before step s is read just before its first written token.
        #expect(model.positions == family.steps.map { $0.written[0] - 1 })
        let batch = model.batch(
            [[Int32](repeating: 1, count: family.sequenceLength)],
            returns: [
                family.steps.map { _ in 1.0 }
            ])
        #expect(batch.scalarMask.reduce(0, +) == Float(family.steps.count))
        #expect(model.positions.allSatisfy { batch.scalarTargets[$0] == 0.75 && batch.scalarMask[$0] == 1 })
    }
}
