import Analysis
import Foundation
import Logging
import Testing
import WireTypes

@testable import Pipeline

/// The Sudoku family through every stage of the pipeline, with the in-memory recorder.
@Suite struct SudokuRunTests {
    static func spec(_ file: String) throws -> ExperimentSpec {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../experiments/\(file)")
        return try ExperimentSpec.parse(yaml: String(contentsOf: url, encoding: .utf8), file: file)
    }

    @Test func theSudokuSmokeExperimentRunsThroughEveryStage() async throws {
        let spec = try Self.spec("sudoku-smoke.yaml")
        let recorder = InMemoryRecorder()
        let outcome = try await RunExecutor(
            spec: spec, recorder: recorder, threads: 2, logger: RunExecutorTests.logger
        ).run()
        guard case .completed(let summary) = outcome else {
            Issue.record("the Sudoku smoke run did not complete")
            return
        }
        let events = await recorder.events
        let completed = try events.filter { $0.type == "StageCompleted" }.map { try StageCompleted(decoding: $0).stage }
        #expect(completed == StageName.allCases)
        #expect(summary.accuracy(method: "greedy", n: 1, levels: [1, 2, 3, 4, 5]) != nil)
        #expect(summary.accuracy(method: "pass", n: 4, levels: [4, 5]) != nil)
        #expect(
            summary.accuracy(method: "weighted", evaluator: "orm", aggregation: "last", n: 4, levels: [4, 5]) != nil)
        #expect(
            summary.accuracy(method: "weighted", evaluator: "verifier", aggregation: "prod", n: 4, levels: [4, 5])
                != nil)
        #expect(summary.accuracy(policy: "verifier", method: "majority", n: 4, levels: [4, 5]) != nil)
    }

    @Test(arguments: ["sudoku-default.yaml", "sudoku.yaml", "sudoku-reduced.yaml"])
    func theSudokuExperimentsAreValidAndInTheRegimeOfTheNotes(file: String) throws {
        let spec = try Self.spec(file)
        #expect(spec.task.family == .sudoku && spec.task.nonTrivialSteps == [8, 12, 16, 20, 24])
        #expect(spec.task.easyLevels == [1, 2, 3] && spec.task.hardLevels == [4, 5])
        #expect(spec.policy.model == ModelSpec(layers: 3, width: 128, heads: 4, mlpMultiplier: 4))
        // Trained to its plateau: the best easy-validation checkpoint, never a target accuracy.
        #expect(spec.policy.selection.rule == .best)
        #expect(spec.sampling.poolSize == 32)
        #expect(spec.evaluators.contains { $0.kind == .orm && $0.labels == .easy })
        #expect(spec.evaluators.contains { $0.kind == .generative && $0.labels == .easy })
    }

    /// The full experiment's and the default's ORM is the paper's and the prototype's: labelled at the final token and
    /// read there, in the headline and the claims named before their runs.
    @Test(arguments: ["sudoku-default.yaml", "sudoku.yaml"])
    func theSudokuORMIsLabelledAndReadAtTheFinalToken(file: String) throws {
        let spec = try Self.spec(file)
        let orm = try #require(spec.evaluators.first { $0.kind == .orm })
        #expect(orm.outcomeLabels == .finalToken && spec.rerank.aggregations.contains(.final))
        let report = try #require(spec.report)
        let ormFinal = try RowReference(parsing: "sft/weighted/orm/final")
        #expect(report.rows.contains(ormFinal) && report.claims.contains { $0.row == ormFinal })
    }

    /// `scripts/quickstart` runs the Sudoku default: its claims name the central claim against the best easy-only
    /// generator, and the control that weighs votes by the policy's own likelihood.
    @Test func theQuickstartsDefaultIsTheSudokuExperimentWithItsControl() throws {
        let script = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../scripts/quickstart"), encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("spec=experiments/") })
        let file = String(line.dropFirst("spec=experiments/".count))
        #expect(file == "sudoku-default.yaml")
        let spec = try Self.spec(file)
        #expect(spec.task.family == .sudoku && spec.rerank.methods.contains(.likelihood))
        let claims = try #require(spec.report?.claims)
        let greedy = try RowReference(parsing: "sft/greedy")
        let likelihood = try RowReference(parsing: "sft/likelihood")
        #expect(claims.contains { $0.versus == greedy } && claims.contains { $0.versus == likelihood })
    }
}
