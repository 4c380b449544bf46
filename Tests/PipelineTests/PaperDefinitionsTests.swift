import Analysis
import Foundation
import Testing

@testable import Pipeline

/// The paper's evaluator definitions beside e2h's own: PRM labels up to the first error, OPRM on the union of
/// the PRM and ORM data scored as steps plus the outcome, ORM read at the final token, and their spec keys.
@Suite struct PaperDefinitionsTests {
    static let verdict = Verdict(steps: [true, true, false, true, false], final: false, answer: "42")

    @Test func firstErrorLabelsStopAfterTheFirstWrongStep() {
        #expect(ScalarLabels.process(Self.verdict, rule: .firstError).steps == [1, 1, 0, nil, nil])
        #expect(ScalarLabels.process(Self.verdict, rule: .runningTotal).steps == [1, 1, 0, 1, 0])
        let right = Verdict(steps: [true, true, true], final: true, answer: "7")
        #expect(ScalarLabels.process(right, rule: .firstError).steps == [1, 1, 1])
        #expect(ScalarLabels.process(right, rule: .firstError).finalToken == nil)
    }

    @Test func outcomeLabelsCoverEveryStepEndAndTheFinalTokenOrTheFinalTokenAlone() {
        let labels = ScalarLabels.outcome(Self.verdict, at: .everyStep)
        #expect(labels.steps == [0, 0, 0, 0, 0] && labels.finalToken == 0)
        let right = Verdict(steps: [false, true], final: true, answer: "1")
        #expect(ScalarLabels.outcome(right, at: .everyStep) == ScalarLabels(steps: [1, 1], finalToken: 1))
        #expect(ScalarLabels.outcome(right, at: .finalToken) == ScalarLabels(steps: [nil, nil], finalToken: 1))
    }

    @Test func anORMWithFinalTokenLabelsHasOneLabelPerExample() throws {
        var orm = Self.evaluator(.orm)
        orm.outcomeLabels = .finalToken
        let examples = try #require(ScalarExamples(evaluator: orm, verdicts: [Self.verdict]))
        let family = RunningSum()
        let batch = TrainingRows(family: family).scalarBatch(
            [[Int32](repeating: 0, count: family.sequenceLength)], labels: [examples.labels(of: 0)])
        #expect(batch.scalarMask.indices.filter { batch.scalarMask[$0] == 1 } == [family.sequenceLength - 1])
    }

    static func evaluator(
        _ kind: EvaluatorKind, data: OPRMData = .union, steps: StepLabels = .runningTotal
    )
        -> EvaluatorSpec
    {
        EvaluatorSpec(
            name: kind.rawValue, kind: kind, labels: .easy, filter: .outcome, stepLabels: steps, oprmData: data,
            optimization: ExperimentSpec.evaluatorDefaults)
    }

    @Test func anOPRMOnTheUnionSeesEverySampleWithBothKindsOfLabel() throws {
        let right = Verdict(steps: [true, true, true, true, true], final: true, answer: "1")
        let verdicts = [Self.verdict, right, Self.verdict]
        let union = try #require(ScalarExamples(evaluator: Self.evaluator(.oprm), verdicts: verdicts))
        #expect(union.count == 6)
        for sample in 0..<3 {
            #expect(union.sample(of: sample) == sample && union.sample(of: sample + 3) == sample)
            #expect(union.labels(of: sample) == .process(verdicts[sample], rule: .runningTotal))
            #expect(union.labels(of: sample + 3) == .outcome(verdicts[sample], at: .everyStep))
        }
        // The parity split: each sample once, half with each kind.
        let parity = try #require(ScalarExamples(evaluator: Self.evaluator(.oprm, data: .parity), verdicts: verdicts))
        #expect(parity.count == 3)
        #expect(parity.labels(of: 0) == .process(verdicts[0], rule: .runningTotal))
        #expect(parity.labels(of: 1) == .outcome(verdicts[1], at: .everyStep))
        let prm = try #require(ScalarExamples(evaluator: Self.evaluator(.prm, steps: .firstError), verdicts: verdicts))
        #expect(prm.count == 3 && prm.labels(of: 0).steps == [1, 1, 0, nil, nil])
        #expect(ScalarExamples(evaluator: Self.evaluator(.generative), verdicts: verdicts) == nil)
    }

    @Test func theFinalTokenLabelLandsOnTheLastPosition() {
        let family = RunningSum()
        let sequence = [Int32](repeating: 0, count: family.sequenceLength)
        let batch = TrainingRows(family: family).scalarBatch(
            [sequence], labels: [ScalarLabels(steps: family.steps.map { _ in nil }, finalToken: 1)])
        let marked = batch.scalarMask.indices.filter { batch.scalarMask[$0] == 1 }
        #expect(marked == [family.sequenceLength - 1])
        #expect(batch.scalarTargets[family.sequenceLength - 1] == 1)
    }

    /// Readings are the steps then, for ORM and OPRM, the final token.
    @Test func aggregationsReadTheRightReadings() {
        let readings = [0.5, 0.5, 0.8]
        #expect(StepAggregation.final.score(readings, kind: .orm, steps: 2) == 0.8)
        #expect(StepAggregation.prod.score(readings, kind: .orm, steps: 2) == 0.25)
        // OPRM: the PRM steps plus the final outcome.
        #expect(StepAggregation.prod.score(readings, kind: .oprm, steps: 2) == 0.2)
        #expect(StepAggregation.min.score(readings, kind: .oprm, steps: 2) == 0.5)
        #expect(StepAggregation.last.score([0.3, 0.9], kind: .prm, steps: 2) == 0.9)
        #expect(StepAggregation.final.applies(to: .orm) && StepAggregation.final.applies(to: .oprm))
        #expect(!StepAggregation.final.applies(to: .prm) && !StepAggregation.final.applies(to: .generative))
        #expect(StepAggregation.prod.applies(to: .generative))
    }

    @Test func theDefinitionsAreSpecKeysRecordedInTheCanonicalSpec() throws {
        let spec = try ExperimentSpec.parse(
            yaml: """
                name: paper
                sampling: {temperature: 0.7, top_k: 20}
                evaluators:
                  - {name: prm, kind: prm, step_labels: first_error}
                  - {name: oprm, kind: oprm, oprm_data: parity, step_labels: first_error}
                  - {name: orm, kind: orm, outcome_labels: final_token}
                rl: {ppo: {outcome_rewards: all}}
                rerank: {aggregations: [prod, final]}
                """, file: "paper.yaml")
        #expect(spec.evaluators.map(\.stepLabels) == [.firstError, .firstError, .runningTotal])
        #expect(spec.evaluators.map(\.oprmData) == [.union, .parity, .union])
        #expect(spec.evaluators.map(\.outcomeLabels) == [.everyStep, .everyStep, .finalToken])
        #expect(spec.rl.ppo[0].outcomeRewards == .all && spec.rl.ppo[0].policyName == "ppo_oracle")
        #expect(spec.sampling.temperature == 0.7 && spec.sampling.topK == 20)
        let json = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        for key in [
            "\"step_labels\":\"first_error\"", "\"oprm_data\":\"parity\"", "\"outcome_rewards\":\"all\"",
            "\"top_k\":20", "\"temperature\":0.7", "\"outcome_labels\":\"final_token\"",
        ] {
            #expect(json.contains(key), "\(key) is not in the canonical spec")
        }
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
    }

    /// The defaults: running-total labels (what the recipe was measured with), the paper's union for OPRM, easy
    /// outcome rewards.
    @Test func theDefaults() throws {
        let spec = try ExperimentSpec.parse(yaml: "name: d\n", file: "d.yaml")
        #expect(spec.evaluators.allSatisfy { $0.stepLabels == .runningTotal && $0.oprmData == .union })
        #expect(spec.evaluators.allSatisfy { $0.outcomeLabels == .everyStep })
        #expect(spec.rl.ppo[0].outcomeRewards == .easy && spec.rl.ppo[0].policyName == "ppo")
        #expect(spec.rerank.aggregations.contains(.final))
    }

    /// A spec recorded before these keys existed reads back with what its run did: running-total labels, the
    /// parity split and easy outcome rewards.
    @Test func aSpecRecordedBeforeTheseKeysReadsBackAsItRan() throws {
        let spec = try ExperimentSpec.parse(yaml: "name: old\n", file: "old.yaml")
        var object = try #require(try JSONSerialization.jsonObject(with: spec.canonicalJSON()) as? [String: Any])
        var evaluators = try #require(object["evaluators"] as? [[String: Any]])
        for index in evaluators.indices {
            evaluators[index]["step_labels"] = nil
            evaluators[index]["oprm_data"] = nil
            evaluators[index]["outcome_labels"] = nil
        }
        object["evaluators"] = evaluators
        var rl = try #require(object["rl"] as? [String: Any])
        var ppo = try #require(rl["ppo"] as? [String: Any])
        ppo["outcome_rewards"] = nil
        rl["ppo"] = ppo
        object["rl"] = rl
        let old = try ExperimentSpec(canonicalJSON: try JSONSerialization.data(withJSONObject: object))
        #expect(old.evaluators.allSatisfy { $0.stepLabels == .runningTotal && $0.oprmData == .parity })
        #expect(old.evaluators.allSatisfy { $0.outcomeLabels == .everyStep })
        #expect(old.rl.ppo[0].outcomeRewards == .easy)
    }

    @Test func settingsAnEvaluatorWouldIgnoreAreRefused() {
        let error = #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml: """
                    name: bad
                    evaluators:
                      - {name: orm, kind: orm, step_labels: first_error}
                      - {name: prm, kind: prm, oprm_data: union, outcome_labels: final_token}
                    rerank: {aggregations: [final]}
                    report: {rows: [sft/weighted/prm/final], baseline: sft/majority}
                    """, file: "bad.yaml")
        }
        let messages = error?.diagnostics.map(\.message) ?? []
        #expect(messages.contains { $0.contains("step_labels apply to prm and oprm") })
        #expect(messages.contains { $0.contains("oprm_data applies to oprm") })
        #expect(messages.contains { $0.contains("outcome_labels apply to orm and oprm") })
        #expect(messages.contains { $0.contains("has no final-token reading") })
    }
    /// Claims are part of the report, named before the run: each row is checked like a headline row, and a claim
    /// that names an unrecorded row, compares a row with itself or has no name is refused with its line.
    @Test func claimsAreCheckedAtParseTimeAndRecordedInTheCanonicalSpec() throws {
        let spec = try ExperimentSpec.parse(
            yaml: """
                name: claims
                report:
                  baseline: sft/majority
                  rows: [sft/majority]
                  claims:
                    - {name: "(a) weighted voting beats majority", row: sft/weighted/verifier/prod, versus: sft/majority}
                    - {name: central, row: sft/weighted/verifier/prod@16, versus: sft_best/greedy}
                """, file: "claims.yaml")
        let claims = try #require(spec.report?.claims)
        #expect(claims.map(\.name) == ["(a) weighted voting beats majority", "central"])
        #expect(claims[1].row.n == 16 && claims[1].versus == RowReference(policy: "sft_best", method: "greedy"))
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
        let error = #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml: """
                    name: bad
                    report:
                      baseline: sft/majority
                      rows: [sft/majority]
                      claims:
                        - {name: typo, row: sft/weighted/verfier/prod, versus: sft/majority}
                        - {name: self, row: sft/majority, versus: sft/majority}
                        - {row: sft/majority, versus: sft/greedy}
                    """, file: "bad.yaml")
        }
        let messages = error?.diagnostics.map(\.message) ?? []
        #expect(
            messages.contains { $0.contains("unknown evaluator 'verfier'") && $0.contains("did you mean 'verifier'") })
        #expect(messages.contains { $0.contains("compares two different rows") })
        #expect(messages.contains { $0.contains("missing required key 'name'") })
        #expect(error?.diagnostics.contains { $0.line == 6 } == true)
        // With no evaluator at all there is nothing to list: the message says so instead of ending in a colon.
        let none = #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml: """
                    name: bare
                    evaluators: []
                    report: {baseline: sft/majority, rows: [sft/weighted/orm/final]}
                    """, file: "bare.yaml")
        }
        #expect(
            none?.diagnostics.map(\.message).contains(
                "row 'sft/weighted/orm/final': unknown evaluator 'orm' — this spec declares no evaluator that fits here"
            )
                == true)
    }
}
