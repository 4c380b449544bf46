import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// ReST-EM with two iterations records a row after each: the first is the one-iteration smoke run's ReST-EM policy
/// (same samples, same fine-tuning), the second is named `rest_em`, and a report may name either.
@Suite struct RestEMIterationsTests {
    typealias Run = RunExecutorTests

    static let spec: ExperimentSpec = {
        var spec = Run.smoke
        spec.rl.restEm.iterations = 2
        return spec
    }()

    @Test func policyNamesFollowTheTrainingCurvesAndEndInRestEM() {
        var spec = Run.smoke.rl.restEm
        #expect(spec.policyNames == ["rest_em"])
        spec.iterations = 3
        #expect(spec.policyNames == ["rest_em_0", "rest_em_1", "rest_em"])
        spec.iterations = 0
        #expect(spec.policyNames.isEmpty)
        spec.iterations = 2
        spec.enabled = false
        #expect(spec.policyNames.isEmpty)
    }

    @Test func eachIterationIsScoredAndTheFirstIsTheOneIterationRun() async throws {
        let recorder = InMemoryRecorder()
        _ = try await Run.execute(Self.spec, recorder: recorder, threads: 2)
        let scores = try await recorder.events.filter { $0.type == ScoreRecorded.eventType }.map {
            try ScoreRecorded(decoding: $0)
        }
        let reference = try await Run.referenceRun.value().events.filter { $0.type == ScoreRecorded.eventType }
            .map {
                try ScoreRecorded(decoding: $0)
            }
        let levels = Run.smoke.task.levels
        let first = scores.filter { $0.policy == "rest_em_0" }
        let last = scores.filter { $0.policy == "rest_em" }
        #expect(first.map(\.level) == levels && last.map(\.level) == levels)
        #expect(first.allSatisfy { $0.stage == .rl && $0.method == "greedy" })
        // Iteration 0 draws the same samples and fine-tunes the same way whatever the iteration count.
        let oneIteration = reference.filter { $0.policy == "rest_em" }
        #expect(first.map(\.outcomes) == oneIteration.map(\.outcomes))
        #expect(first.map(\.accuracy) == oneIteration.map(\.accuracy))
        // The second iteration samples from the first iterate, so its training data (and policy) is its own.
        let curves = Set(await recorder.metrics.map(\.name))
        #expect(curves.contains("rl.rest_em_0.loss") && curves.contains("rl.rest_em_1.loss"))
    }

    @Test func aReportMayNameEveryIterationAndNoOther() throws {
        let twoIterations = "name: r\nrl: {rest_em: {iterations: 2}}\n"
        let both = "report: {rows: [rest_em_0/greedy, rest_em/greedy], baseline: sft/greedy}\n"
        #expect(try ExperimentSpec.parse(yaml: twoIterations + both, file: "r.yaml").report?.rows.count == 2)
        let beyond = "report: {rows: [rest_em_1/greedy], baseline: sft/greedy}\n"
        #expect(throws: PipelineError.self) { try ExperimentSpec.parse(yaml: twoIterations + beyond, file: "r.yaml") }
        let intermediate = "report: {rows: [rest_em_0/greedy], baseline: sft/greedy}\n"
        #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(yaml: "name: r\n" + intermediate, file: "r.yaml")
        }
    }
}
