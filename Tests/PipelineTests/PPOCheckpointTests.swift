import Canonical
import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// PPO's checkpoint chosen on validation (`rl.ppo[].checkpoint: best_validation`): each interval checkpoint records
/// its easy-validation pass@1, the best one is the policy scored on test, `validation:<policy>/pass@1` lets `select`
/// decide a sweep of PPO settings by it, and no test or hard label reaches the choice — while a variant that
/// chooses on test problems is caught.
@Suite struct PPOCheckpointTests {
    typealias Run = RunExecutorTests

    /// A policy trained long enough to solve some easy validation problems, and PPO with three checkpoints.
    static func spec(iterations: Int = 12, checkpoint: CheckpointChoice = .bestValidation) -> ExperimentSpec {
        var spec = Run.smoke
        spec.policy.sft.steps = 80
        spec.policy.sft.scheduleSteps = 80
        spec.task.validationPerLevel = 8
        spec.rl.ppo[0].iterations = iterations
        spec.rl.ppo[0].checkpoint = checkpoint
        spec.rl.restEm.enabled = false
        return spec
    }

    static let chosenRun = Run.SharedRun(spec(), threads: 2)

    /// The RL stage's outputs: the trained policies' weights, by hash.
    static func rlOutput(_ recorder: InMemoryRecorder) async throws -> RLStage.Output {
        let completed = try await recorder.events.filter { $0.type == StageCompleted.eventType }
            .map { try StageCompleted(decoding: $0) }
        let rl = try #require(completed.first { $0.stage == .rl })
        return try CanonicalJSON.decode(RLStage.Output.self, from: try await recorder.blob(rl.outputs))
    }

    static func greedy(_ events: [PipelineEvent], policy: String) throws -> [ScoreRecorded] {
        try events.filter { $0.type == ScoreRecorded.eventType }.map { try ScoreRecorded(decoding: $0) }
            .filter { $0.policy == policy && $0.method == "greedy" }
    }

    @Test func theSpecRecordsTheChoiceOnlyWhenItIsMade() throws {
        let yaml = "name: p\nrl: {ppo: {iterations: 4, checkpoint: best_validation}}\n"
        let spec = try ExperimentSpec.parse(yaml: yaml, file: "p.yaml")
        #expect(spec.rl.ppo[0].checkpoint == .bestValidation)
        #expect(String(decoding: spec.canonicalJSON(), as: UTF8.self).contains(#""checkpoint":"best_validation""#))
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
        let last = try ExperimentSpec.parse(yaml: "name: p\nrl: {ppo: {iterations: 4}}\n", file: "p.yaml")
        #expect(!String(decoding: try CanonicalJSON.encode(last.rl.ppo[0]), as: UTF8.self).contains("checkpoint"))
    }

    /// Every interval checkpoint carries its figure, and the trained policy is the best one's: a run whose PPO stops
    /// at the chosen round (the learning rate is constant, the streams are per round) ends with the same weights and
    /// scores the same.
    @Test func theBestCheckpointIsThePolicyScored() async throws {
        let events = try await Self.chosenRun.deterministicEvents()
        let checkpoints = try events.filter { $0.type == CheckpointSaved.eventType }
            .map { try CheckpointSaved(decoding: $0) }.filter { $0.stage == .rl && $0.model == "ppo" }
        let interval = checkpoints.filter { $0.reason == .interval }
        #expect(interval.count == 3 && interval.allSatisfy { $0.easyValidationAccuracy != nil })
        let stepsPerRound = Self.spec().rl.ppo[0].epochs * Self.spec().rl.ppo[0].minibatches
        let chosen = try #require(TrainingLoop.chooseCheckpoint(interval.map { ($0.step, $0.easyValidationAccuracy) }))
        #expect(chosen < 12 * stepsPerRound, "this seed's choice is the last checkpoint: the test shows nothing")

        let stopped = InMemoryRecorder()
        _ = try await Run.execute(Self.spec(iterations: chosen / stepsPerRound, checkpoint: .last), recorder: stopped)
        let expected = try Self.greedy(Run.deterministicPart(await stopped.events), policy: "ppo")
        let scored = try Self.greedy(events, policy: "ppo")
        #expect(!expected.isEmpty && expected.map(\.outcomes) == scored.map(\.outcomes))
        let weights = try await Self.rlOutput(Self.chosenRun.recorder()).ppo
        let stoppedWeights = try await Self.rlOutput(stopped).ppo
        #expect(weights != nil && weights == stoppedWeights)

        // `select` reads the kept checkpoint's figure.
        let figure = try ValidationFigure(parsing: "validation:ppo/pass@1")
        let value = try await figure.value(in: events.map { ($0.type, $0.payload) }, spec: Self.spec()) { _ in Data() }
        #expect(value == interval.first { $0.step == chosen }?.easyValidationAccuracy)
    }

    @Test func validationRowsAreParsedAndTestRowsRefused() throws {
        #expect(try ValidationFigure(parsing: "validation:SFT/pass@1").policy == "sft")
        #expect(try ValidationFigure(parsing: "validation:ppo_easy/pass@1").rawValue == "validation:ppo_easy/pass@1")
        for text in ["validation:ppo/majority@4", "validation:/pass@1", "validation:a/b/pass@1"] {
            #expect(throws: PipelineError.self) { try ValidationFigure(parsing: text) }
        }
        do {
            _ = try ValidationFigure(parsing: "ppo/greedy")
            Issue.record("a test row was accepted")
        } catch let error as PipelineError {
            #expect(error.message.contains("score on the test split"))
        }
        // Neither a row nor a test row: no row at all, said as such.
        for text in ["", "foo"] {
            do {
                _ = try ValidationFigure(parsing: text)
                Issue.record("'\(text)' was accepted")
            } catch let error as PipelineError {
                #expect(error.message.contains("is not a row"), "\(error.message)")
            }
        }
    }

    /// A figure the spec never records is the request's mistake (`select` answered "wait for training" before).
    @Test func aValidationRowIsOneTheSpecRecords() throws {
        #expect(try ValidationFigure(parsing: "validation:sft/pass@1").problem(in: Self.spec()) == nil)
        #expect(try ValidationFigure(parsing: "validation:ppo/pass@1").problem(in: Self.spec()) == nil)
        #expect(
            try ValidationFigure(parsing: "validation:ppo/pass@1").problem(in: Self.spec(checkpoint: .last))?
                .contains("checkpoint: best_validation") == true)
        #expect(try ValidationFigure(parsing: "validation:foo/pass@1").problem(in: Self.spec()) != nil)
    }

    /// The choice reads easy validation labels only; choosing on easy test problems instead is caught.
    @Test(arguments: [Counterfactual.testLabelsWrong, .hardLabelsWrong])
    func theChoiceReadsNoTestOrHardLabel(counterfactual: Counterfactual) async throws {
        let leaks = try await Run.leaks(
            Self.spec(), under: counterfactual, clean: try await Self.chosenRun.deterministicEvents(), threads: 2)
        #expect(leaks == [])
    }

    @Test func choosingOnTestProblemsIsCaught() async throws {
        let leaks = try await Run.leaks(Self.spec(), under: .testQuestionsReplaced, leak: .ppoSelectionOnTest)
        #expect(leaks.contains { $0.contains("rl/ppo checkpoint") }, "caught: \(leaks)")
    }
}
