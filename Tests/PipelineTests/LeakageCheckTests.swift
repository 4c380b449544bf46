import Testing

@testable import Pipeline

/// The leakage check on hand-made records: which differences are leaks and which are scores.
@Suite struct LeakageCheckTests {
    static let task = TaskSpec(
        family: .runningSum, nonTrivialSteps: [2, 3, 4, 6, 8], easyLevels: [1, 2, 3], hardLevels: [4, 5],
        trainPerLevel: 4, validationPerLevel: 2, testPerLevel: 2)

    static func score(level: Int, accuracy: Double) -> PipelineEvent {
        ScoreRecorded(
            stage: .rerank, policy: "sft", method: "majority", evaluator: "none", aggregation: "none", n: 4,
            level: level, accuracy: accuracy, problems: 2, correct: 2 * accuracy, outcomes: "o\(accuracy)"
        ).event()
    }

    static func checkpoint(blob: String, accuracy: Double? = 0.25) -> PipelineEvent {
        CheckpointSaved(
            stage: .sft, model: "policy", step: 5, blob: blob, reason: .interval, easyValidationAccuracy: accuracy
        ).event()
    }

    static func trained(weights: String, hardArea: Double?, easyArea: Double? = 0.6) -> PipelineEvent {
        EvaluatorTrained(
            name: "orm", kind: .orm, labels: .easy, trainingExamples: 10, steps: 6,
            rocAuc: AreaUnderCurve(stepEasy: easyArea, stepHard: hardArea, outcomeEasy: 0.5, outcomeHard: hardArea),
            weights: weights
        ).event()
    }

    @Test func hardScoresMayChangeUnderAHardCounterfactualButNothingElse() {
        let check = LeakageCheck(.hardVerdictsTrue, task: Self.task)
        let clean = [
            Self.checkpoint(blob: "a"), Self.trained(weights: "w", hardArea: 0.7), Self.score(level: 4, accuracy: 0),
        ]
        let allowed = [
            Self.checkpoint(blob: "a"), Self.trained(weights: "w", hardArea: nil), Self.score(level: 4, accuracy: 1),
        ]
        #expect(check.leaks(clean: clean, altered: allowed) == [])
        // A changed checkpoint, easy score, selection figure or evaluator weights is a leak.
        let leaking = [
            Self.checkpoint(blob: "b"), Self.trained(weights: "v", hardArea: 0.7), Self.score(level: 2, accuracy: 1),
        ]
        let leaks = check.leaks(clean: [clean[0], clean[1], Self.score(level: 2, accuracy: 0)], altered: leaking)
        #expect(leaks.count == 3)
        #expect(leaks[0].contains("sft/policy checkpoint at step 5"))
        #expect(leaks[1].contains("evaluator orm"))
        #expect(leaks[2].contains("level 2"))
        let selection = check.leaks(
            clean: [Self.checkpoint(blob: "a")], altered: [Self.checkpoint(blob: "a", accuracy: 0.5)])
        #expect(selection.count == 1)
        #expect(check.leaks(clean: clean, altered: Array(clean.dropLast())).first?.contains("length") == true)
    }

    /// Test labels are at every level: every test score and every ROC-AUC may change, and still no checkpoint.
    @Test func testLabelsMayChangeEveryScoreButNoCheckpoint() {
        let check = LeakageCheck(.testLabelsWrong, task: Self.task)
        #expect(
            check.leaks(
                clean: [Self.score(level: 2, accuracy: 0), Self.trained(weights: "w", hardArea: 0.7)],
                altered: [Self.score(level: 2, accuracy: 1), Self.trained(weights: "w", hardArea: 0.1, easyArea: 0.2)])
                == [])
        #expect(check.leaks(clean: [Self.checkpoint(blob: "a")], altered: [Self.checkpoint(blob: "b")]).count == 1)
        // Under a hard counterfactual an easy ROC-AUC may not change.
        let hard = LeakageCheck(.hardLabelsWrong, task: Self.task)
        #expect(
            hard.leaks(
                clean: [Self.trained(weights: "w", hardArea: 0.7)],
                altered: [Self.trained(weights: "w", hardArea: 0.7, easyArea: 0.2)]
            ).count == 1)
    }

    @Test func questionsMustNotChangeOnlyLabels() {
        let check = LeakageCheck(.hardLabelsWrong, task: Self.task)
        let split = { (questions: String, labels: String) in
            DatasetSplitCreated(
                split: "train", counts: [LevelCount(level: 1, count: 4)], sha256: questions, labelsSha256: labels
            ).event()
        }
        #expect(check.leaks(clean: [split("q", "l")], altered: [split("q", "m")]) == [])
        #expect(check.leaks(clean: [split("q", "l")], altered: [split("r", "l")]).count == 1)
    }
}
