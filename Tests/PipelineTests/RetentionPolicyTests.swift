import Canonical
import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// The retention policy on hand-made records: what a later stage, a resume or a score depends on stays; the other
/// checkpoints of completed stages go.
@Suite struct RetentionPolicyTests {
    /// A distinct 64-digit hash per name, as the store names blobs.
    static func hash(_ name: String) -> String { ContentHash.sha256Hex(Data(name.utf8)) }

    static func checkpoint(
        _ stage: StageName, _ model: String, _ step: Int, reason: CheckpointSaved.Reason = .interval
    )
        -> PipelineEvent
    {
        CheckpointSaved(
            stage: stage, model: model, step: step, blob: hash("\(stage)/\(model)/\(step)/\(reason)"), reason: reason,
            easyValidationAccuracy: nil
        ).event()
    }

    static func completed(_ stage: StageName) -> PipelineEvent {
        StageCompleted(stage: stage, outputs: hash("outputs/\(stage)")).event()
    }

    /// The SFT stage's outputs: the selected checkpoint (step 10) and the best one (step 20).
    static let sftOutputs = [
        hash("outputs/sft"): Data(
            #"{"best":{"checkpoint":"\#(hash("sft/policy/20/interval"))","step":20},"checkpoint":"\#(hash("sft/policy/10/interval"))","step":10}"#
                .utf8)
    ]

    /// split → SFT with four interval checkpoints and a stop checkpoint → an evaluator stage in progress.
    static var record: [PipelineEvent] {
        [
            StageStarted(stage: .split).event(),
            DatasetSplitCreated(split: "train", counts: [], sha256: hash("questions"), labelsSha256: hash("labels"))
                .event(),
            completed(.split),
            StageStarted(stage: .sft).event(),
            checkpoint(.sft, "policy", 10),
            checkpoint(.sft, "policy", 15, reason: .interrupt),
            checkpoint(.sft, "policy", 20),
            checkpoint(.sft, "policy", 30),
            checkpoint(.sft, "policy", 40),
            completed(.sft),
            StageStarted(stage: .evaluators).event(),
            SamplesGenerated(
                stage: .evaluators, set: "evaluator_training", policy: "sft", chunk: 0, firstProblem: 0, problems: 4,
                samplesPerProblem: 2, blob: hash("samples")
            ).event(),
            checkpoint(.evaluators, "orm", 5),
            checkpoint(.evaluators, "orm", 10),
        ]
    }

    @Test func aCompletedStageKeepsWhatItsOutputsNameAndItsLastCheckpointOnly() throws {
        let plan = try RetentionPolicy(mode: .standard).plan(events: Self.record, stageOutputs: Self.sftOutputs)
        // Step 15 (a stop checkpoint) and step 30 are neither selected, best nor last.
        #expect(plan.prunable == [Self.hash("sft/policy/15/interrupt"), Self.hash("sft/policy/30/interval")])
        let kept = Set(plan.kept)
        for name in [
            "questions", "labels", "outputs/split", "outputs/sft", "sft/policy/10/interval", "sft/policy/20/interval",
            "sft/policy/40/interval", "samples",
        ] {
            #expect(kept.contains(Self.hash(name)), "\(name) must be kept")
        }
        #expect(plan.named.count == plan.kept.count + plan.prunable.count)
    }

    @Test func aStageInProgressKeepsEveryCheckpointSoAResumeAndTheSelectionFindThem() throws {
        let plan = try RetentionPolicy(mode: .standard).plan(events: Self.record, stageOutputs: Self.sftOutputs)
        #expect(plan.kept.contains(Self.hash("evaluators/orm/5/interval")))
        #expect(plan.kept.contains(Self.hash("evaluators/orm/10/interval")))
    }

    @Test func outputsNotGivenKeepEveryCheckpointOfTheirStage() throws {
        let plan = try RetentionPolicy(mode: .standard).plan(events: Self.record, stageOutputs: [:])
        #expect(plan.prunable.isEmpty)
    }

    @Test func keepAllPrunesNothing() throws {
        let plan = try RetentionPolicy(mode: .keepAll).plan(events: Self.record, stageOutputs: Self.sftOutputs)
        #expect(plan.prunable.isEmpty && plan.kept == plan.named && plan.named.count == 12)
    }

    @Test func scoresAndEvaluatorsKeepTheirBlobsAndAReusedCheckpointIsKeptOnce() throws {
        var events = Self.record
        events += [
            EvaluatorTrained(
                name: "orm", kind: .orm, labels: .easy, trainingExamples: 8, steps: 10,
                rocAuc: AreaUnderCurve(stepEasy: nil, stepHard: nil, outcomeEasy: nil, outcomeHard: nil),
                weights: Self.hash("orm weights")
            ).event(volatile: [EvaluatorTrained.testScoresFact: .text(Self.hash("orm scores"))]),
            Self.completed(.evaluators),
            ScoreRecorded(
                stage: .rerank, policy: "sft", method: "majority", evaluator: "none", aggregation: "none", n: 4,
                level: 4, accuracy: 0.5, problems: 2, correct: 1, outcomes: Self.hash("outcomes")
            ).event(),
            // A later stage that happens to save bytes identical to a pruned checkpoint's: last of its model.
            StageStarted(stage: .rl).event(),
            CheckpointSaved(
                stage: .rl, model: "ppo", step: 8, blob: Self.hash("sft/policy/30/interval"), reason: .interval,
                easyValidationAccuracy: nil
            ).event(),
        ]
        let plan = try RetentionPolicy(mode: .standard).plan(events: events, stageOutputs: Self.sftOutputs)
        for name in ["orm weights", "orm scores", "outcomes", "sft/policy/30/interval"] {
            #expect(plan.kept.contains(Self.hash(name)), "\(name) must be kept")
        }
        // The evaluators' stage completed without outputs given: its checkpoints stay.
        #expect(plan.prunable == [Self.hash("sft/policy/15/interrupt")])
        #expect(Set(plan.named).count == plan.named.count)
    }

    /// Lowercase SHA-256 hex anywhere, keys in sorted order; an uppercase digest or a short one is no reference.
    @Test func stageOutputsAreReadForEveryHashTheyName() {
        let (x, y, upper) = (Self.hash("x"), Self.hash("y"), Self.hash("z").uppercased())
        let outputs = Data(#"{"b":["\#(x)",{"c":"\#(y)"}],"a":"not a hash","n":3,"u":"\#(upper)","s":"abcd"}"#.utf8)
        #expect(ContentReferences.named(in: outputs) == [x, y])
        #expect(ContentReferences.named(in: Data("not json".utf8)).isEmpty)
    }
}

/// A spec may ask for its own retention; a spec that does not keeps its canonical bytes (and hash).
@Suite struct SpecRetentionTests {
    @Test func aSpecsRetentionOverridesTheDaemonsAndIsAbsentOtherwise() throws {
        let plain = try ExperimentSpec.parse(yaml: "name: r\n", file: "r.yaml")
        #expect(plain.retention == nil)
        #expect(!String(decoding: plain.canonicalJSON(), as: UTF8.self).contains("retention"))
        let kept = try ExperimentSpec.parse(yaml: "name: r\nretention: keep-all\n", file: "r.yaml")
        #expect(kept.retention == .keepAll)
        #expect(try ExperimentSpec(canonicalJSON: kept.canonicalJSON()).retention == .keepAll)
        #expect(kept.canonicalHash != plain.canonicalHash)
        #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(yaml: "name: r\nretention: most\n", file: "r.yaml")
        }
    }
}
