import Testing

@testable import Pipeline

@Suite struct PolicyGradientTests {
    @Test func weightsAreGroupRelativeAdvantagesWithAPositiveSum() {
        // Two questions, two samples each: rewards (1, 0) and (0.5, 0.5).
        let weights = RLStage.tokenWeights(rewards: [1, 0, 0.5, 0.5], group: 2, offset: 0.1)
        #expect(weights == [0.6, -0.4, 0.1, 0.1])
        #expect(abs(weights.reduce(0, +) - 0.4) < 1e-6)
    }
}
