import Analysis
import NeuralEngine
import Testing

@testable import Pipeline

@Suite struct RerankingTests {
    /// A score counts problems, not picks: 3 problems × 8 resampled subsets is 3 problems, and the accuracy
    /// is the same figure as the summed picks over picks made that was recorded before per-problem outcomes.
    @Test func aScoreCountsProblemsAndAveragesTheirResamples() {
        var outcomes = ProblemOutcomes(draws: 8)
        for (problem, hits) in [(4, 8), (5, 3), (9, 0)] {
            outcomes.append(problem: problem, outcomes: (0..<8).map { $0 < hits })
        }
        let measured = ScoreMeasurement(
            stage: .rerank, policy: "sft", method: "weighted", evaluator: "orm", aggregation: "prod", n: 4, level: 2,
            outcomes: outcomes, resamples: 8)
        let recorded = measured.recorded(outcomesBlob: "hash")
        #expect(recorded.problems == 3 && recorded.correct == 11.0 / 8 && recorded.outcomes == "hash")
        #expect(recorded.accuracy == Double(11) / Double(24))
        // One subset (N = pool) weighs as much as `resamples` subsets did.
        var full = ProblemOutcomes(draws: 1)
        full.append(problem: 0, outcomes: [true])
        full.append(problem: 1, outcomes: [false])
        let whole = ScoreMeasurement(
            stage: .rerank, policy: "sft", method: "majority", evaluator: "none", aggregation: "none", n: 64, level: 1,
            outcomes: full, resamples: 8)
        #expect(whole.recorded(outcomesBlob: "h").accuracy == Double(8) / Double(16))
        #expect(whole.recorded(outcomesBlob: "h").correct == 1 && whole.recorded(outcomesBlob: "h").problems == 2)
    }

    /// The method names a person writes in a row reference are the ones the pipeline records.
    @Test func rowReferencesKnowEveryRecordedMethod() {
        for method in RerankMethod.allCases.map(\.rawValue) + ["greedy", "pass"] {
            #expect(RowReference.methods.contains(method))
        }
    }

    func candidates(_ items: [(String, Bool, Double)]) -> [Candidate] {
        items.map { Candidate(answer: $0.0, correct: $0.1, score: $0.2) }
    }

    @Test func majorityWeightedAndBestOfNPickDifferentlyOnACommonWrongAnswer() {
        let pool = candidates([
            ("13", false, 0.2), ("13", false, 0.1), ("13", false, 0.3), ("42", true, 0.9), ("42", true, 0.8),
            ("7", false, 0.95),
        ])
        #expect(pool[Reranking.pick(.majority, among: pool)].answer == "13")
        #expect(pool[Reranking.pick(.weighted, among: pool)].answer == "42")  // 1.7 against 0.6 and 0.95
        #expect(pool[Reranking.pick(.bestOfN, among: pool)].answer == "7")
    }

    @Test func tiesGoToTheAnswerSeenFirst() {
        let pool = candidates([("5", false, 0.5), ("6", true, 0.5), ("6", true, 0.5), ("5", false, 0.5)])
        #expect(Reranking.pick(.majority, among: pool) == 0)
        #expect(Reranking.pick(.weighted, among: pool) == 0)
        #expect(Reranking.pick(.bestOfN, among: pool) == 0)
    }

    @Test func aggregations() {
        let scores = [0.5, 0.25, 1.0]
        #expect(StepAggregation.min.apply(scores) == 0.25)
        #expect(StepAggregation.prod.apply(scores) == 0.125)
        #expect(StepAggregation.mean.apply(scores) == 0.5833333333333334)
        #expect(StepAggregation.last.apply(scores) == 1.0)
    }

    @Test func accuracyAveragesOverResampledSubsets() {
        // One problem, pool of 4, one correct candidate: a single random pick is right 1/4 of the time.
        let pool = candidates([("1", true, 1), ("2", false, 0), ("3", false, 0), ("4", false, 0)])
        let single = Reranking.outcomes(
            pools: [(0, pool)], n: 1, resamples: 4000, seed: 1, decides: Reranking.picksCorrectly(.majority))
        #expect(single.draws == 4000 && single.problems == [0])
        #expect(abs(single.accuracy! - 0.25) < 0.03)
        // Best-of-N always finds the high score once it is in the subset: P = 1 - C(3,2)/C(4,2) = 1/2.
        let two = Reranking.outcomes(
            pools: [(0, pool)], n: 2, resamples: 4000, seed: 2, decides: Reranking.picksCorrectly(.bestOfN))
        #expect(abs(two.accuracy! - 0.5) < 0.03)
        // The full pool has one subset: one draw per problem, and a problem still counts once.
        let full = Reranking.outcomes(
            pools: [(0, pool), (3, pool)], n: 4, resamples: 10, seed: 3, decides: Reranking.picksCorrectly(.bestOfN))
        #expect(full.draws == 1 && full.problems == [0, 3] && full.hits == [1, 1])
        // pass@2 with one correct candidate of four is 1/2 as well, and sees the same subsets, draw by draw.
        let pass = Reranking.outcomes(pools: [(0, pool)], n: 2, resamples: 4000, seed: 2, decides: Reranking.anyCorrect)
        #expect(pass == two)
    }

    /// Each pool method records the name it always had, and decides by its own rule (no fallback).
    @Test func poolMethodsKeepTheirRecordedNamesAndRules() {
        let methods: [PoolMethod] = [.pass, .rerank(.majority), .rerank(.weighted), .rerank(.bestOfN)]
        #expect(methods.map(\.recordedName) == ["pass", "majority", "weighted", "best_of_n"])
        // Majority picks the common wrong 13, weighted and pass find 42, best-of-N the high-scored wrong 7.
        let pool = candidates([
            ("13", false, 0.2), ("13", false, 0.1), ("13", false, 0.3), ("42", true, 0.9), ("42", true, 0.8),
            ("7", false, 0.95),
        ])
        #expect(methods.map { $0.decides(pool) } == [true, false, true, false])
    }

    @Test func rocAUC() {
        #expect(ROCAUC.area(scores: [0.1, 0.2, 0.8, 0.9], labels: [false, false, true, true]) == 1)
        #expect(ROCAUC.area(scores: [0.9, 0.8, 0.2, 0.1], labels: [false, false, true, true]) == 0)
        #expect(ROCAUC.area(scores: [0.5, 0.5, 0.5, 0.5], labels: [false, true, false, true]) == 0.5)
        // Pairs (positive, negative): (0.4 > 0.1), (0.4 < 0.6), (0.8 > 0.1), (0.8 > 0.6) → 3/4.
        #expect(ROCAUC.area(scores: [0.1, 0.4, 0.6, 0.8], labels: [false, true, false, true]) == 0.75)
        #expect(ROCAUC.area(scores: [0.1, 0.4], labels: [true, true]) == nil)
    }
}
