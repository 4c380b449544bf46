import Foundation
import NeuralEngine
import Testing
import WireTypes

@testable import Pipeline

/// Iterative DPO: its pairing and loss as values, its spec as the parser reads it, and two chains of two iterations
/// (by easy answers and by the easy-trained PRM) in the smoke run — rows for each iteration, the rest of the record
/// untouched, hard labels reaching nothing but scores, and a deliberate leak that the leakage check catches.
@Suite struct IterativeDPOTests {
    typealias Run = RunExecutorTests

    static let spec: ExperimentSpec = {
        var spec = Run.smoke
        spec.rl.dpo.iterations = 2
        spec.rl.dpo.rankings = [.easyAnswers, .evaluator("prm")]
        spec.rl.dpo.optimization.steps = 4
        spec.rl.dpo.optimization.batchSize = 4
        return spec
    }()

    // MARK: values

    @Test func aPairIsTheHighestAgainstTheLowestScoredSampleFirstOnTies() throws {
        #expect(IterativeDPO.pair(scores: [0, 1, 1, 0]).map { [$0.preferred, $0.dispreferred] } == [1, 0])
        #expect(IterativeDPO.pair(scores: [0.2, 0.9, 0.1, 0.5]).map { [$0.preferred, $0.dispreferred] } == [1, 2])
        #expect(IterativeDPO.pair(scores: [1, 1, 1]) == nil)
        #expect(IterativeDPO.pair(scores: []) == nil)
    }

    @Test func theMarginIsBetaTimesTheDifferenceOfLogRatios() {
        // Two pairs: preferred rows first, then dispreferred.
        let margins = IterativeDPO.margins(policy: [-1, -2, -3, -1], reference: [-2, -2, -2, -2], beta: 0.5)
        // Pair 0: 0.5 × ((−1 + 2) − (−3 + 2)) = 1; pair 1: 0.5 × ((−2 + 2) − (−1 + 2)) = −0.5.
        let expected: [Float] = [1, -0.5]
        #expect(margins == expected)
        let figures = IterativeDPO.figures([0, 2])
        #expect(figures["preference_accuracy"] == 0.5)
        // −log σ(0) = log 2; −log σ(2) = log(1 + e^−2).
        let loss = (log(2.0) + log(1 + exp(-2.0))) / 2
        #expect(abs(figures["dpo_loss"]! - loss) < 1e-6)
    }

    /// A one-layer policy over two written tokens, and one step of it on a pair weighted as `tokenWeights` weighs it.
    struct TinyPolicy {
        let family = LikelihoodVotingTests.TwoWrittenTokens()
        let compute = ComputePool(threads: 1)
        let model: Transformer

        init() {
            let config = ModelConfig(
                vocabularySize: Vocabulary.size, contextLength: family.sequenceLength, layers: 1, width: 16, heads: 2,
                mlpMultiplier: 2, head: .languageModel)
            model = Transformer(config: config, seed: 5)
        }

        func logProbabilities(_ model: Transformer, _ pair: [[Int32]]) -> [Double] {
            PolicyLikelihood(model: model, family: family, compute: compute).logProbabilities(pair)
        }

        /// The model after one step on `pair` (preferred, dispreferred) at margin 0 (the model is its own reference).
        func stepped(on pair: [[Int32]], nllWeight: Double) -> Transformer {
            let trainer = Trainer(
                model: model.copy(),
                optimizer: AdamWConfig(learningRate: 1e-2, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0),
                schedule: LearningRateSchedule(warmupSteps: 0, totalSteps: 1, minimumRatio: 1), gradientClip: 0,
                pool: compute)
            let written = family.writtenPositions.count
            let weights = IterativeDPO.tokenWeights(
                margins: [0], beta: 0.1, writtenTokens: Float(written), nllWeight: nllWeight)
            _ = trainer.train(
                TrainingRows(family: family).policyGradientBatch(
                    pair,
                    weights: [
                        [Float](repeating: weights.preferred[0], count: written),
                        [Float](repeating: weights.dispreferred[0], count: written),
                    ]))
            return trainer.model
        }
    }

    /// One step on one pair raises the preferred solution's likelihood against the dispreferred one's, relative
    /// to the reference: the weights have the DPO gradient's sign, and its size follows σ(−z).
    @Test func oneStepMovesTheMarginTowardThePreferredSolution() throws {
        let policy = TinyPolicy()
        let pair: [[Int32]] = [[Vocabulary.start, 1, Vocabulary.plus, 2], [Vocabulary.start, 3, Vocabulary.plus, 4]]
        let reference = policy.logProbabilities(policy.model, pair)
        let after = IterativeDPO.margins(
            policy: policy.logProbabilities(policy.stepped(on: pair, nllWeight: 0), pair), reference: reference,
            beta: 0.1)
        #expect(after[0] > 0.001)
    }

    @Test func theNLLTermAddsTwiceItsWeightToEachPreferredToken() {
        let plain = IterativeDPO.tokenWeights(margins: [0, 2], beta: 0.1, writtenTokens: 4, nllWeight: 0)
        let dpo = [0.8 * DeterministicMath.sigmoid(0), 0.8 * DeterministicMath.sigmoid(-2)]
        #expect(plain.preferred == dpo)
        #expect(plain.dispreferred == dpo.map { -$0 })
        let withNLL = IterativeDPO.tokenWeights(margins: [0, 2], beta: 0.1, writtenTokens: 4, nllWeight: 0.5)
        #expect(withNLL.preferred == dpo.map { $0 + 1 })
        #expect(withNLL.dispreferred == plain.dispreferred)
    }

    /// From the same model and pair, a step with the NLL term leaves the preferred solution more likely than a plain
    /// DPO step does: the term pulls y⁺ up where DPO alone may lower it with y⁻.
    @Test func theNLLTermRaisesThePreferredSolutionsLikelihood() throws {
        let policy = TinyPolicy()
        // The two solutions share their first written token, as most of a running sum's solutions do.
        let pair: [[Int32]] = [[Vocabulary.start, 1, Vocabulary.plus, 2], [Vocabulary.start, 1, Vocabulary.plus, 4]]
        let preferred = { (nllWeight: Double) in
            policy.logProbabilities(policy.stepped(on: pair, nllWeight: nllWeight), pair)[0]
        }
        #expect(preferred(1) > preferred(0))
        #expect(preferred(1) > policy.logProbabilities(policy.model, pair)[0])
    }

    // MARK: the spec

    @Test func theNLLWeightIsReadAndRecordedOnlyWhereSet() throws {
        let yaml = "name: d\nevaluators:\n  - {name: prm, kind: prm}\nrl:\n  dpo: {iterations: 1"
        let plain = try ExperimentSpec.parse(yaml: yaml + "}\n", file: "d.yaml")
        #expect(plain.rl.dpo.nllWeight == 0)
        // Specs recorded before the field existed keep their canonical bytes, so their hashes.
        #expect(!String(decoding: plain.canonicalJSON(), as: UTF8.self).contains("nll_weight"))
        let weighted = try ExperimentSpec.parse(yaml: yaml + ", nll_weight: 1}\n", file: "d.yaml")
        #expect(weighted.rl.dpo.nllWeight == 1)
        #expect(String(decoding: weighted.canonicalJSON(), as: UTF8.self).contains("\"nll_weight\":1"))
        #expect(try ExperimentSpec(canonicalJSON: weighted.canonicalJSON()) == weighted)
        #expect(throws: (any Error).self) {
            try ExperimentSpec.parse(yaml: yaml + ", nll_weight: -1}\n", file: "d.yaml")
        }
    }

    @Test func theSpecReadsRankingsAndRefusesWhatWouldLeakOrCannotRank() throws {
        let evaluators = """
            evaluators:
              - {name: orm, kind: orm}
              - {name: prm, kind: prm}
              - {name: all, kind: orm, labels: all}

            """
        let parse = { (dpo: String) in
            try ExperimentSpec.parse(yaml: "name: d\n" + evaluators + "rl:\n  dpo: " + dpo + "\n", file: "d.yaml")
        }
        let spec = try parse("{iterations: 2, rankings: [easy_answers, prm], beta: 0.2}")
        #expect(spec.rl.dpo.rankings == [.easyAnswers, .evaluator("prm")])
        #expect(spec.rl.dpo.policyNames == ["dpo_0", "dpo", "dpo_prm_0", "dpo_prm"])
        let json = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        #expect(json.contains("\"rankings\":[\"easy_answers\",\"prm\"]"))
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
        let refusals = [
            ("{rankings: [pmr]}", "d.yaml:7:20: rl.dpo.rankings[0]: no evaluator named 'pmr' — did you mean 'prm'?"),
            ("{rankings: [all]}", "uses all labels"),
            ("{rankings: [prm], aggregation: final}", "has no final-token reading"),
            ("{rankings: [prm, prm]}", "listed twice"),
            ("{samples_per_problem: 1}", "out of range"),
        ]
        for (dpo, message) in refusals {
            #expect {
                try parse(dpo)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
        #expect(try ExperimentSpec.parse(yaml: "name: d\n", file: "d.yaml").rl.dpo == .off)
    }

    @Test func aSpecRecordedBeforeDPOReadsBackWithoutIt() throws {
        let spec = Run.smoke
        var object = try #require(JSONSerialization.jsonObject(with: spec.canonicalJSON()) as? [String: Any])
        var rl = try #require(object["rl"] as? [String: Any])
        rl.removeValue(forKey: "dpo")
        object["rl"] = rl
        let old = try JSONSerialization.data(withJSONObject: object)
        #expect(try ExperimentSpec(canonicalJSON: old).rl.dpo == .off)
    }

    // MARK: the run

    static let dpoRun = Run.SharedRun(spec, threads: 2)

    @Test func everyIterationOfEveryRankingIsARowAndNothingBeforeRLChanges() async throws {
        let events = try await Self.dpoRun.deterministicEvents()
        let scores = try events.filter { $0.type == ScoreRecorded.eventType }.map { try ScoreRecorded(decoding: $0) }
        let levels = Run.smoke.task.levels
        for policy in ["dpo_0", "dpo", "dpo_prm_0", "dpo_prm"] {
            let rows = scores.filter { $0.policy == policy }
            #expect(rows.map(\.level) == levels, "\(policy)")
            #expect(rows.allSatisfy { $0.stage == .rl && $0.method == "greedy" })
        }
        let checkpoints = try events.filter { $0.type == CheckpointSaved.eventType }.map {
            try CheckpointSaved(decoding: $0).model
        }
        #expect(Set(checkpoints).isSuperset(of: ["dpo_0", "dpo_1", "dpo_prm_0", "dpo_prm_1"]))
        // Everything up to the RL stage is the smoke run's, byte for byte.
        let reference = Run.deterministicPart(try await Run.referenceRun.value().events)
        let rlStart = try #require(
            reference.firstIndex {
                $0.type == StageStarted.eventType && (try? StageStarted(decoding: $0))?.stage == .rl
            })
        #expect(Array(events.prefix(rlStart + 1)) == Array(reference.prefix(rlStart + 1)))
    }

    /// A resume past a finished iteration takes its trained policy from the record: it neither samples nor ranks
    /// that iteration again, and the record is the uninterrupted run's.
    @Test func aResumeDoesNotSampleAFinishedIterationAgain() async throws {
        let first = InMemoryRecorder(stopWhen: { events, _, _ in
            events.contains {
                $0.type == ScoreRecorded.eventType && (try? ScoreRecorded(decoding: $0))?.policy == "dpo_0"
            } ? .shutdown : nil
        })
        #expect(try await Run.execute(Self.spec, recorder: first, threads: 2) == .stopped(.shutdown))

        let resumed = await InMemoryRecorder(resuming: first)
        _ = try await Run.execute(Self.spec, recorder: resumed, threads: 2)
        let tasks = Set(await resumed.progressReports.map(\.task))
        #expect(!tasks.contains("dpo_0 samples"), "the finished iteration was sampled again")
        #expect(tasks.isSuperset(of: ["dpo_1 samples", "dpo_prm_0 samples", "dpo_prm_1 samples"]))
        #expect(Run.deterministicPart(await resumed.events) == (try await Self.dpoRun.deterministicEvents()))
    }

    @Test func theSameOnOneThreadAsOnTwo() async throws {
        let recorder = InMemoryRecorder()
        _ = try await Run.execute(Self.spec, recorder: recorder, threads: 1)
        #expect(Run.deterministicPart(await recorder.events) == (try await Self.dpoRun.deterministicEvents()))
    }

    /// Every hard verdict true changes DPO's hard scores only: neither chain reads a hard label — and the check
    /// can fail, catching DPO by answers that pairs hard questions too.
    @Test(arguments: [false, true])
    func hardAnswersReachDPOOnlyThroughADeliberateLeak(leaking: Bool) async throws {
        let leak: DeliberateLeak? = leaking ? .hardAnswersInDPO : nil
        let leaks = try await Run.leaks(Self.spec, under: .hardVerdictsTrue, leak: leak)
        if leaking {
            #expect(leaks.contains { $0.contains("rl/dpo_0 checkpoint") }, "caught: \(leaks)")
            #expect(!leaks.contains { $0.contains("dpo_prm") }, "\(leaks)")
        } else {
            #expect(leaks == [])
        }
    }
}
