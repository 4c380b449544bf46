import Canonical
import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// DPO's checkpoints chosen on validation (`rl.dpo.checkpoint: best_validation`), as PPO's are: each iteration's
/// interval checkpoints record their easy-validation pass@1, the best one is that iteration's policy (scored on test,
/// and the next iteration's start), `validation:<dpo policy>/pass@1` lets `select` decide a sweep of DPO settings by
/// it, and no test or hard label reaches the choice — while a variant that chooses on test problems is caught.
@Suite struct DPOCheckpointTests {
    typealias Run = RunExecutorTests

    /// A policy trained long enough to solve some easy validation problems (`PPOCheckpointTests`'), no PPO, and DPO
    /// by easy answers with three checkpoints an iteration.
    static func spec(
        iterations: Int = 2, steps: Int = 15, checkpoint: CheckpointChoice = .bestValidation
    )
        -> ExperimentSpec
    {
        var spec = PPOCheckpointTests.spec(checkpoint: .last)
        spec.rl.ppo[0].enabled = false
        spec.rl.dpo.iterations = iterations
        spec.rl.dpo.rankings = [.easyAnswers]
        spec.rl.dpo.optimization.steps = steps
        spec.rl.dpo.optimization.batchSize = 4
        spec.rl.dpo.checkpoint = checkpoint
        return spec
    }

    static let chosenRun = Run.SharedRun(spec(), threads: 2)

    static func intervalCheckpoints(_ events: [PipelineEvent], model: String) throws -> [CheckpointSaved] {
        try events.filter { $0.type == CheckpointSaved.eventType }.map { try CheckpointSaved(decoding: $0) }
            .filter { $0.stage == .rl && $0.model == model && $0.reason == .interval }
    }

    @Test func theSpecRecordsTheChoiceOnlyWhenItIsMade() throws {
        let yaml = "name: d\nrl: {dpo: {iterations: 1"
        let chosen = try ExperimentSpec.parse(yaml: yaml + ", checkpoint: best_validation}}\n", file: "d.yaml")
        #expect(chosen.rl.dpo.checkpoint == .bestValidation)
        #expect(String(decoding: chosen.canonicalJSON(), as: UTF8.self).contains(#""checkpoint":"best_validation""#))
        #expect(try ExperimentSpec(canonicalJSON: chosen.canonicalJSON()) == chosen)
        // Specs recorded before the field existed keep their canonical bytes, so their hashes.
        let last = try ExperimentSpec.parse(yaml: yaml + "}}\n", file: "d.yaml")
        #expect(last.rl.dpo.checkpoint == .last)
        #expect(!String(decoding: try CanonicalJSON.encode(last.rl.dpo), as: UTF8.self).contains("checkpoint"))
        #expect {
            try ExperimentSpec.parse(yaml: yaml + ", checkpoint: best}}\n", file: "d.yaml")
        } throws: { error in
            "\(error)".contains("rl.dpo.checkpoint")
        }
    }

    @Test func anIteratesTrainingIsTheTrainingModelOfItsPolicy() {
        var dpo = DPOSpec.off
        dpo.iterations = 2
        dpo.rankings = [.easyAnswers, .evaluator("prm")]
        #expect(dpo.trainingModel(ofPolicy: "dpo_0") == "dpo_0")
        #expect(dpo.trainingModel(ofPolicy: "dpo") == "dpo_1")
        #expect(dpo.trainingModel(ofPolicy: "dpo_prm") == "dpo_prm_1")
        #expect(dpo.trainingModel(ofPolicy: "ppo") == nil)
        dpo.iterations = 0
        #expect(dpo.trainingModel(ofPolicy: "dpo") == nil)
    }

    /// Every interval checkpoint of each iteration carries its figure, and `select` reads each policy's kept one:
    /// the last iterate's figure is its own iteration's best.
    @Test func everyCheckpointCarriesItsFigureAndSelectReadsTheKeptOne() async throws {
        let events = try await Self.chosenRun.deterministicEvents()
        let first = try Self.intervalCheckpoints(events, model: "dpo_0")
        let second = try Self.intervalCheckpoints(events, model: "dpo_1")
        #expect(first.count == 3 && second.count == 3)
        #expect((first + second).allSatisfy { $0.easyValidationAccuracy != nil })
        let chosen = try #require(TrainingLoop.chooseCheckpoint(first.map { ($0.step, $0.easyValidationAccuracy) }))
        let read = { (row: String) in
            try await ValidationFigure(parsing: row).value(
                in: events.map { ($0.type, $0.payload) }, spec: Self.spec()
            ) { _ in Data() }
        }
        #expect(try await read("validation:dpo_0/pass@1") == first.first { $0.step == chosen }?.easyValidationAccuracy)
        #expect(try await read("validation:dpo/pass@1") == second.compactMap(\.easyValidationAccuracy).max())
    }

    /// The policy an iteration yields is its best checkpoint's weights: a run whose DPO stops at the chosen step (the
    /// learning rate is constant after warm-up, the batches are per step) ends with the same bytes.
    @Test func theBestCheckpointIsTheIterationsPolicy() async throws {
        let validated = InMemoryRecorder()
        _ = try await Run.execute(Self.spec(iterations: 1), recorder: validated, threads: 2)
        let checkpoints = try Self.intervalCheckpoints(await validated.events, model: "dpo_0")
        let chosen = try #require(
            TrainingLoop.chooseCheckpoint(checkpoints.map { ($0.step, $0.easyValidationAccuracy) }))
        #expect(chosen < 15, "this seed's choice is the last checkpoint: the test shows nothing")

        let stopped = InMemoryRecorder()
        _ = try await Run.execute(Self.spec(iterations: 1, steps: chosen, checkpoint: .last), recorder: stopped)
        let expected = try await PPOCheckpointTests.rlOutput(stopped).dpo
        let kept = try await PPOCheckpointTests.rlOutput(validated).dpo
        #expect(expected?.count == 1 && kept == expected)
    }

    /// A resume past the chosen iteration makes the same choice from the record.
    @Test func aResumeKeepsTheSameCheckpoint() async throws {
        let first = InMemoryRecorder(stopWhen: { events, _, _ in
            events.contains {
                $0.type == ScoreRecorded.eventType && (try? ScoreRecorded(decoding: $0))?.policy == "dpo_0"
            } ? .shutdown : nil
        })
        #expect(try await Run.execute(Self.spec(), recorder: first, threads: 2) == .stopped(.shutdown))
        let resumed = await InMemoryRecorder(resuming: first)
        _ = try await Run.execute(Self.spec(), recorder: resumed, threads: 2)
        #expect(Run.deterministicPart(await resumed.events) == (try await Self.chosenRun.deterministicEvents()))
    }

    /// The choice reads easy validation labels only; choosing on easy test problems instead is caught.
    @Test(arguments: [Counterfactual.testLabelsWrong, .hardLabelsWrong])
    func theChoiceReadsNoTestOrHardLabel(counterfactual: Counterfactual) async throws {
        let leaks = try await Run.leaks(
            Self.spec(), under: counterfactual, clean: try await Self.chosenRun.deterministicEvents(), threads: 2)
        #expect(leaks == [])
    }

    @Test func choosingOnTestProblemsIsCaught() async throws {
        let leaks = try await Run.leaks(Self.spec(), under: .testQuestionsReplaced, leak: .dpoSelectionOnTest)
        #expect(leaks.contains { $0.contains("rl/dpo_0 checkpoint") }, "caught: \(leaks)")
    }
}
