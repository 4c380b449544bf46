import Testing

@testable import Pipeline

/// Checkpoint selection reads easy-validation pass@1 only; the `sft_best` control is the best of it; the
/// all-levels ceiling is an oracle named `sft_oracle`.
@Suite struct CheckpointSelectionTests {
    static func checkpoint(_ step: Int, _ accuracy: Double) -> CheckpointSaved {
        CheckpointSaved(
            stage: .sft, model: "policy", step: step, blob: "b\(step)", reason: .interval,
            easyValidationAccuracy: accuracy)
    }

    static let checkpoints = [
        checkpoint(5, 0.1), checkpoint(10, 0.35), checkpoint(15, 0.6), checkpoint(20, 0.6), checkpoint(25, 0.5),
    ]

    @Test func eachRulePicksByEasyValidationAccuracy() {
        #expect(SFTStage.choose(.last, target: 0.3, among: Self.checkpoints)?.step == 25)
        // The best: the earliest of the two at 0.6.
        #expect(SFTStage.choose(.best, target: 0.3, among: Self.checkpoints)?.step == 15)
        #expect(SFTStage.choose(.target, target: 0.3, among: Self.checkpoints)?.step == 10)
        #expect(SFTStage.choose(.target, target: 0.5, among: Self.checkpoints)?.step == 25)
        #expect(SFTStage.choose(.best, target: 0.3, among: []) == nil)
    }

    @Test func theCeilingIsOffByDefaultAndNamedAsAnOracle() throws {
        #expect(try !ExperimentSpec.parse(yaml: "name: c\n", file: "c.yaml").policy.ceiling)
        let report = "report: {rows: [sft_oracle/greedy], baseline: sft/greedy}\n"
        let spec = try ExperimentSpec.parse(yaml: "name: c\npolicy: {ceiling: true}\n" + report, file: "c.yaml")
        #expect(spec.policy.ceiling && spec.report != nil)
        #expect(String(decoding: spec.canonicalJSON(), as: UTF8.self).contains("\"ceiling\":true"))
        #expect(throws: PipelineError.self) { try ExperimentSpec.parse(yaml: "name: c\n" + report, file: "c.yaml") }
    }

    @Test func theBestControlIsScoredUnlessTheRuleIsBestAlready() throws {
        let spec = try ExperimentSpec.parse(yaml: "name: c\n", file: "c.yaml")
        #expect(spec.policy.selection.bestControl && spec.policy.selection.scoresBestControl)
        let best = try ExperimentSpec.parse(yaml: "name: c\npolicy: {selection: {rule: best}}\n", file: "c.yaml")
        #expect(!best.policy.selection.scoresBestControl)
        let report = "report: {rows: [sft_best/greedy], baseline: sft/greedy}\n"
        #expect(try ExperimentSpec.parse(yaml: "name: c\n" + report, file: "c.yaml").report != nil)
        #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(
                yaml: "name: c\npolicy: {selection: {best_control: false}}\n" + report, file: "c.yaml")
        }
    }
}
