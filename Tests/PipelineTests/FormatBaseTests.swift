import Foundation
import NeuralEngine
import Randomness
import Testing
import WireTypes

@testable import Pipeline

/// Scalar evaluators initialised from a format-only base model (`evaluators[].initialization: format`): the base
/// learns the task's format from questions with random digits where the policy writes, reads no answer, and the
/// heads that start from it differ from those that start from the SFT policy — while nothing else in the record does.
@Suite struct FormatBaseTests {
    typealias Run = RunExecutorTests

    static let spec: ExperimentSpec = {
        var spec = Run.smoke
        spec.evaluators[0].initialization = .format
        spec.evaluators[2].initialization = .format
        return spec
    }()

    @Test func aFormatOnlySequenceKeepsTheQuestionAndWritesRandomDigits() {
        var random = RandomGenerator(seed: 1, stream: 0)
        for family in [TaskFamilyName.runningSum, .sudoku].map(\.family) {
            var generator = RandomGenerator(seed: 2, stream: 0)
            let problem = family.generate(
                nonTrivialSteps: family.defaultNonTrivialSteps[0], level: 1, using: &generator)
            let format = family.formatOnly(problem, using: &random)
            #expect(format.count == family.sequenceLength)
            for position in format.indices {
                if family.writtenPositions.contains(position) {
                    let digit = Vocabulary.value(of: format[position])
                    #expect(digit.map(family.writtenDigits.contains) == true)
                } else {
                    #expect(format[position] == problem.template[position])
                }
            }
        }
    }

    @Test func theSpecRecordsItOnlyWhenUsedAndRefusesItWhereItCannotApply() throws {
        let yaml = """
            name: f
            evaluators:
              - {name: orm, kind: orm, initialization: format}
              - {name: verifier, kind: generative, initialization: format}
              - {name: format_base, kind: prm}
            """
        let error = #expect(throws: PipelineError.self) { try ExperimentSpec.parse(yaml: yaml, file: "f.yaml") }
        let messages = error?.diagnostics.map(\.message) ?? []
        #expect(messages.contains { $0.contains("initialization applies to orm, prm and oprm") })
        #expect(messages.contains { $0.contains("names the format-only base model") })
        #expect(messages.count == 2, "\(messages)")
        let json = String(decoding: Self.spec.canonicalJSON(), as: UTF8.self)
        #expect(json.contains(#""initialization":"format""#))
        #expect(!String(decoding: Run.smoke.canonicalJSON(), as: UTF8.self).contains("initialization"))
        #expect(try ExperimentSpec(canonicalJSON: Self.spec.canonicalJSON()) == Self.spec)
    }

    @Test func theBaseIsTrainedOnceAndOnlyItsEvaluatorsChange() async throws {
        let recorder = InMemoryRecorder()
        _ = try await Run.execute(Self.spec, recorder: recorder, threads: 2)
        let events = Run.deterministicPart(await recorder.events)
        let reference = Run.deterministicPart(try await Run.referenceRun.value().events)
        let checkpoints = try events.filter { $0.type == CheckpointSaved.eventType }.map {
            try CheckpointSaved(decoding: $0)
        }
        #expect(checkpoints.contains { $0.stage == .evaluators && $0.model == EvaluatorStage.formatBaseModel })
        #expect(Set(await recorder.metrics.map(\.name)).contains("evaluators.format_base.loss"))
        let trained = try events.filter { $0.type == EvaluatorTrained.eventType }.map {
            try EvaluatorTrained(decoding: $0)
        }
        let referenceTrained = try reference.filter { $0.type == EvaluatorTrained.eventType }.map {
            try EvaluatorTrained(decoding: $0)
        }
        for (evaluator, was) in zip(trained, referenceTrained) {
            let changed = Self.spec.evaluators.first { $0.name == evaluator.name }?.initialization == .format
            #expect((evaluator.weights != was.weights) == changed, "\(evaluator.name)")
        }
        // Everything before the evaluators stage is the smoke run's, byte for byte.
        let start = try #require(
            reference.firstIndex {
                $0.type == StageStarted.eventType && (try? StageStarted(decoding: $0))?.stage == .evaluators
            })
        #expect(Array(events.prefix(start + 1)) == Array(reference.prefix(start + 1)))
    }

    /// With every hard label wrong, or every test label wrong, only test scores change: the base reads no answer.
    @Test(arguments: [Counterfactual.hardLabelsWrong, .testLabelsWrong])
    func theBaseReadsNoLabel(counterfactual: Counterfactual) async throws {
        let leaks = try await Run.leaks(Self.spec, under: counterfactual)
        #expect(leaks == [])
    }
}
