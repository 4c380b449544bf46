import Analysis
import Foundation
import NeuralEngine
import Testing

@testable import Pipeline

/// Likelihood voting: each answer weighs the summed probability, under the policy that wrote the pool, of the
/// samples that give it — the control that tells "an evaluator helps" from "any confidence weighting helps".
@Suite struct LikelihoodVotingTests {
    func pool(_ items: [(String, Bool, Double)]) -> [Candidate] {
        items.map { Candidate(answer: $0.0, correct: $0.1, score: $0.2) }
    }

    /// Probabilities 3 × 0.05 for the common 13, 0.3 + 0.2 for 42 and 0.35 for the single 7: majority voting picks
    /// 13, the likeliest single sample is 7, and only summing the probabilities per answer picks 42.
    @Test func answersWeighTheSummedProbabilityOfTheirSamples() {
        let candidates = pool([
            ("13", false, log(0.05)), ("7", false, log(0.35)), ("13", false, log(0.05)), ("42", true, log(0.3)),
            ("13", false, log(0.05)), ("42", true, log(0.2)),
        ])
        #expect(candidates[Reranking.pick(.majority, among: candidates)].answer == "13")
        #expect(candidates[Reranking.pick(.bestOfN, among: candidates)].answer == "7")
        #expect(candidates[Reranking.pick(.likelihood, among: candidates)].answer == "42")
        #expect(PoolMethod.rerank(.likelihood).decides(candidates))
        #expect(PoolMethod.rerank(.likelihood).recordedName == "likelihood")
    }

    /// Whole sequences have log-probabilities far below what e^x can represent: shifted by the pool's largest, the
    /// sums keep their order. Unshifted, every weight would be 0 and the tie would go to the first answer, 13.
    @Test func veryNegativeLogProbabilitiesKeepTheirOrder() {
        for offset in [0.0, -200, -5_000, -1e6] {
            let candidates = pool([
                ("13", false, offset + log(0.05)), ("7", false, offset + log(0.35)), ("13", false, offset + log(0.05)),
                ("42", true, offset + log(0.3)), ("13", false, offset + log(0.05)), ("42", true, offset + log(0.2)),
            ])
            #expect(candidates[Reranking.pick(.likelihood, among: candidates)].answer == "42", "offset \(offset)")
        }
        // 30 samples of 5, each 4 nats (a factor e^4 ≈ 55) less likely than the one 9: 30 e^-4 ≈ 0.55 < 1.
        let lopsided = pool(Array(repeating: ("5", false, -1_000.0 - 4), count: 30) + [("9", true, -1_000.0)])
        #expect(lopsided[Reranking.pick(.likelihood, among: lopsided)].answer == "9")
        // 60 of them weigh 1.10: more than the one 9.
        let many = pool(Array(repeating: ("5", false, -1_000.0 - 4), count: 60) + [("9", true, -1_000.0)])
        #expect(many[Reranking.pick(.likelihood, among: many)].answer == "5")
    }

    /// A tie goes where majority voting sends it: to the answer seen first.
    @Test func tiesGoToTheAnswerSeenFirst() {
        let candidates = pool([("6", true, -3), ("5", false, -2), ("6", true, -2), ("5", false, -3)])
        #expect(Reranking.pick(.likelihood, among: candidates) == 0)
        #expect(Reranking.pick(.majority, among: candidates) == 0)
    }

    /// A toy family of 4 tokens, `^ _ + _`, the policy writing positions 1 and 3: small enough to list every
    /// completion.
    struct TwoWrittenTokens: TaskFamily {
        var sequenceLength: Int { 4 }
        var steps: [StepSpan] {
            [
                StepSpan(written: [1], operands: [], checked: [1], end: 2),
                StepSpan(written: [3], operands: [], checked: [3], end: 3),
            ]
        }
        var answerPositions: [Int] { [3] }
        func distinctProblems(nonTrivialSteps: Int) -> Int { 1 }
        func generate(nonTrivialSteps: Int, level: Int, using random: inout some RandomNumberGenerator) -> Problem {
            Problem(
                level: level, template: [Vocabulary.start, -1, Vocabulary.plus, -1],
                solution: [Vocabulary.start, 1, Vocabulary.plus, 2])
        }
    }

    /// The log-probability counts the written tokens, each at its own position, under the model's normalized
    /// distribution: over every completion of the template the probabilities sum to 1. Counting a forced token, or
    /// reading a position off by one, makes them sum to something else.
    @Test func probabilitiesOfEveryCompletionSumToOne() {
        let family = TwoWrittenTokens()
        let config = ModelConfig(
            vocabularySize: Vocabulary.size, contextLength: family.sequenceLength, layers: 1, width: 16, heads: 2,
            mlpMultiplier: 2, head: .languageModel)
        let likelihood = PolicyLikelihood(
            model: Transformer(config: config, seed: 5), family: family, compute: ComputePool(threads: 1))
        let tokens = (0..<Int32(Vocabulary.size))
        let completions = tokens.flatMap { first in tokens.map { [Vocabulary.start, first, Vocabulary.plus, $0] } }
        let logProbabilities = likelihood.logProbabilities(completions)
        let total = logProbabilities.reduce(0) { $0 + exp($1) }
        #expect(abs(total - 1) < 1e-4)
        // A random model is far from uniform over the 400 completions, so the sum is not 1 by accident.
        #expect(logProbabilities.max()! - logProbabilities.min()! > 0.5)
        // The same values on 2 threads and in slices of any size.
        let twoThreads = PolicyLikelihood(
            model: likelihood.model, family: family, compute: ComputePool(threads: 2))
        #expect(twoThreads.logProbabilities(completions) == logProbabilities)
        #expect(Array(likelihood.logProbabilities(Array(completions[37..<40]))) == Array(logProbabilities[37..<40]))
    }
}

/// The spec key: off unless named, recorded in the canonical spec, and a report may name its rows only when on.
@Suite struct LikelihoodSpecTests {
    @Test func theMethodIsParsedAndRecordedOnlyWhenNamed() throws {
        let plain = try ExperimentSpec.parse(yaml: "name: l\n", file: "l.yaml")
        #expect(!plain.rerank.methods.contains(.likelihood))
        #expect(!String(decoding: plain.canonicalJSON(), as: UTF8.self).contains("likelihood"))
        let spec = try ExperimentSpec.parse(
            yaml: """
                name: l
                rerank: {methods: [majority, likelihood, weighted]}
                report: {rows: [sft/likelihood@4, likelihood], baseline: sft/majority}
                """, file: "l.yaml")
        #expect(spec.rerank.methods == [.majority, .likelihood, .weighted])
        #expect(String(decoding: spec.canonicalJSON(), as: UTF8.self).contains("\"likelihood\""))
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
        #expect(spec.report?.rows == [RowReference(method: "likelihood", n: 4), RowReference(method: "likelihood")])
    }

    @Test func aReportCannotNameLikelihoodRowsTheRunDoesNotRecord() {
        let error = #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml: """
                    name: bad
                    rerank: {methods: [majority, weighted, best_of_n]}
                    report:
                      rows: [sft/likelihood, verifier/likelihood, likelihood/orm]
                      baseline: sft/majority
                    """, file: "bad.yaml")
        }
        let messages = error?.diagnostics.map(\.message) ?? []
        #expect(messages.contains { $0.contains("rerank.methods does not include likelihood") })
        #expect(messages.contains { $0.contains("likelihood voting is recorded for sft only") })
        #expect(messages.contains { $0.contains("likelihood uses no evaluator") })
    }
}
