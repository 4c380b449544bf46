import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// Evaluators' checkpoints chosen on validation (`checkpoint: best_validation`): each interval checkpoint records its
/// outcome ROC-AUC on samples of easy validation problems, the best one scores the test pools, and nothing about the
/// choice reads a test or a hard label — while a variant that chooses on test problems is caught.
@Suite struct EvaluatorCheckpointTests {
    typealias Run = RunExecutorTests

    /// The smoke run with a policy trained long enough to solve some easy validation problems (the smoke policy
    /// solves none, and a ROC-AUC needs right and wrong samples).
    static let spec: ExperimentSpec = {
        var spec = Run.smoke
        spec.policy.sft.steps = 80
        spec.policy.sft.scheduleSteps = 80
        spec.task.validationPerLevel = 8
        spec.sampling.trainingSamplesPerProblem = 4
        spec.evaluators[0].checkpoint = .bestValidation
        spec.evaluators[0].optimization.steps = 12
        spec.evaluators[0].optimization.scheduleSteps = 12
        spec.evaluators[3].checkpoint = .bestValidation
        return spec
    }()

    @Test func theBestFigureWinsTheEarliestOfEqualsAndTheLastWithoutFigures() {
        #expect(TrainingLoop.chooseCheckpoint([(5, 0.6), (10, 0.8), (12, 0.7)]) == 10)
        #expect(TrainingLoop.chooseCheckpoint([(12, 0.8), (5, 0.8), (10, nil)]) == 5)
        #expect(TrainingLoop.chooseCheckpoint([(5, nil), (10, nil)]) == 10)
        #expect(TrainingLoop.chooseCheckpoint([]) == nil)
    }

    @Test func theSpecKeyIsReadRecordedAndDefaultsToTheLast() throws {
        let spec = try ExperimentSpec.parse(
            yaml: "name: e\nevaluators:\n  - {name: orm, kind: orm, checkpoint: best_validation}\n", file: "e.yaml")
        #expect(spec.evaluators[0].checkpoint == .bestValidation)
        #expect(String(decoding: spec.canonicalJSON(), as: UTF8.self).contains("\"checkpoint\":\"best_validation\""))
        #expect(
            try ExperimentSpec.parse(yaml: "name: e\n", file: "e.yaml").evaluators.allSatisfy { $0.checkpoint == .last }
        )
        #expect {
            try ExperimentSpec.parse(
                yaml: "name: e\nevaluators:\n  - {name: orm, kind: orm, checkpoint: best_valdation}\n", file: "e.yaml")
        } throws: { "\($0)".contains("unknown value 'best_valdation' — did you mean 'best_validation'?") }
        // A spec recorded before the key existed reads back with the last checkpoint.
        var object = try #require(JSONSerialization.jsonObject(with: spec.canonicalJSON()) as? [String: Any])
        var evaluators = try #require(object["evaluators"] as? [[String: Any]])
        evaluators[0].removeValue(forKey: "checkpoint")
        object["evaluators"] = evaluators
        let old = try ExperimentSpec(canonicalJSON: try JSONSerialization.data(withJSONObject: object))
        #expect(old.evaluators[0].checkpoint == .last)
    }

    static let chosenRun = Run.SharedRun(spec, threads: 2)

    @Test func eachCheckpointCarriesItsFigureAndTheBestScores() async throws {
        let events = try await Self.chosenRun.deterministicEvents()
        let checkpoints = try events.filter { $0.type == CheckpointSaved.eventType }.map {
            try CheckpointSaved(decoding: $0)
        }.filter { $0.stage == .evaluators }
        let trained = try events.filter { $0.type == EvaluatorTrained.eventType }.map {
            try EvaluatorTrained(decoding: $0)
        }
        for evaluator in Self.spec.evaluators {
            let own = checkpoints.filter { $0.model == evaluator.name }
            let record = try #require(trained.first { $0.name == evaluator.name })
            guard evaluator.checkpoint == .bestValidation else {
                #expect(own.allSatisfy { $0.easyValidationAuc == nil } && record.chosenStep == nil)
                continue
            }
            #expect(own.contains { $0.easyValidationAuc != nil }, "\(evaluator.name): no checkpoint has a figure")
            let best = TrainingLoop.chooseCheckpoint(own.map { ($0.step, $0.easyValidationAuc) })
            #expect(record.chosenStep == (best == evaluator.optimization.steps ? nil : best), "\(evaluator.name)")
            // The weights that score are the chosen checkpoint's.
            if let step = record.chosenStep {
                #expect(record.weights != own.first { $0.step == evaluator.optimization.steps }?.blob)
                #expect(own.contains { $0.step == step })
            }
        }
        // The choice's validation samples: drawn by the selected SFT policy, in the evaluator stage.
        let validation = try events.filter { $0.type == SamplesGenerated.eventType }.map {
            try SamplesGenerated(decoding: $0)
        }.filter { $0.set == "evaluator_validation" }
        #expect(!validation.isEmpty && validation.allSatisfy { $0.stage == .evaluators })
    }

    /// The choice reads easy validation labels only: with every test label wrong, or hard labels wrong, only test
    /// scores change. Choosing on easy test problems instead is caught (other test questions change the figures).
    @Test(arguments: [Counterfactual.testLabelsWrong, .hardLabelsWrong])
    func theChoiceReadsNoTestOrHardLabel(counterfactual: Counterfactual) async throws {
        let leaks = try await Run.leaks(
            Self.spec, under: counterfactual, clean: try await Self.chosenRun.deterministicEvents(), threads: 2)
        #expect(leaks == [])
    }

    @Test func choosingOnTestProblemsIsCaught() async throws {
        let leaks = try await Run.leaks(Self.spec, under: .testQuestionsReplaced, leak: .evaluatorSelectionOnTest)
        #expect(leaks.contains { $0.contains("evaluators/orm checkpoint") }, "caught: \(leaks)")
    }
}
