import Analysis
import Foundation
import Logging
import NeuralEngine
import Testing
import WireTypes

@testable import Pipeline

/// The smoke experiment, run end to end through the in-memory recorder.
@Suite struct RunExecutorTests {
    static let smoke: ExperimentSpec = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../experiments/smoke.yaml")
        return try! ExperimentSpec.parse(yaml: String(contentsOf: url, encoding: .utf8), file: "smoke.yaml")
    }()

    static let logger = Logger(label: "e2h.pipeline.tests")

    static func execute(
        _ spec: ExperimentSpec = smoke, recorder: InMemoryRecorder, threads: Int? = nil,
        counterfactual: Counterfactual? = nil, leak: DeliberateLeak? = nil, pacing: Pacing = Pacing()
    ) async throws -> RunOutcome {
        var executor = RunExecutor(spec: spec, recorder: recorder, threads: threads, logger: logger)
        executor.counterfactual = counterfactual
        executor.leak = leak
        executor.pacing = pacing
        return try await executor.run()
    }

    typealias Reference = (events: [PipelineEvent], outcome: RunOutcome, blobs: [String: Data])

    /// One uninterrupted run of a spec, executed on first use and shared by the tests that read it.
    actor SharedRun {
        private let spec: ExperimentSpec
        private let threads: Int?
        private var run: Task<(recorder: InMemoryRecorder, outcome: RunOutcome), any Error>?

        init(_ spec: ExperimentSpec, threads: Int? = nil) {
            self.spec = spec
            self.threads = threads
        }

        func recorder() async throws -> InMemoryRecorder { try await execution().recorder }

        func value() async throws -> Reference {
            let (recorder, outcome) = try await execution()
            return (await recorder.events, outcome, await recorder.blobs)
        }

        /// The run's events without what may vary between executions (`deterministicPart`).
        func deterministicEvents() async throws -> [PipelineEvent] {
            deterministicPart(await (try recorder()).events)
        }

        func execution() async throws -> (recorder: InMemoryRecorder, outcome: RunOutcome) {
            if run == nil {
                run = Task { [spec, threads] in
                    let recorder = InMemoryRecorder()
                    let outcome = try await RunExecutorTests.execute(spec, recorder: recorder, threads: threads)
                    return (recorder, outcome)
                }
            }
            return try await run!.value
        }
    }

    /// The reference: one uninterrupted run of the smoke experiment.
    static let referenceRun = SharedRun(smoke)

    /// What the leakage check finds in `spec`'s run under `counterfactual` against its run without one, both with
    /// `leak`; `clean` is the latter's deterministic events when a test has them already.
    static func leaks(
        _ spec: ExperimentSpec, under counterfactual: Counterfactual, leak: DeliberateLeak? = nil,
        clean: [PipelineEvent]? = nil, threads: Int? = nil
    ) async throws -> [String] {
        var reference = clean
        if reference == nil {
            let recorder = InMemoryRecorder()
            _ = try await execute(spec, recorder: recorder, threads: threads, leak: leak)
            reference = deterministicPart(await recorder.events)
        }
        let altered = InMemoryRecorder()
        _ = try await execute(spec, recorder: altered, threads: threads, counterfactual: counterfactual, leak: leak)
        return LeakageCheck(counterfactual, task: spec.task).leaks(
            clean: reference!, altered: deterministicPart(await altered.events))
    }

    /// Events without what may vary between executions: volatile fields and stop checkpoints.
    static func deterministicPart(_ events: [PipelineEvent]) -> [PipelineEvent] {
        events.compactMap { event in
            if event.type == "CheckpointSaved", (try? CheckpointSaved(decoding: event))?.reason == .interrupt {
                return nil
            }
            return PipelineEvent(type: event.type, payload: event.payload)
        }
    }

    @Test func smokeRunsEveryStageAndRecordsEveryEventType() async throws {
        let (events, outcome, _) = try await Self.referenceRun.value()
        let expected: Set<String> = [
            "StageStarted", "DatasetSplitCreated", "CheckpointSaved", "SamplesGenerated", "EvaluatorTrained",
            "ScoreRecorded", "StageCompleted",
        ]
        let types = Set(events.map(\.type))
        #expect(types == expected)
        let completed = try events.filter { $0.type == "StageCompleted" }.map { try StageCompleted(decoding: $0).stage }
        #expect(completed == StageName.allCases)
        guard case .completed(let summary) = outcome else {
            Issue.record("the smoke run did not complete")
            return
        }
        // Majority, pass@N, both scored methods for 4 evaluators × 4 aggregations plus the final-token reading of
        // the ORM and the OPRM, N ∈ {1,2,4}, 5 levels.
        let rerankRows: Int = (2 + 2 * (4 * 4 + 2)) * 3 * 5
        #expect(summary.scores.filter { $0.stage == .rerank }.count == rerankRows)
        #expect(summary.accuracy(method: "greedy", n: 1, levels: [1, 2, 3, 4, 5]) != nil)
        #expect(summary.accuracy(policy: "ppo", method: "greedy", n: 1, levels: [4, 5]) != nil)
        #expect(summary.accuracy(policy: "verifier", method: "majority", n: 4, levels: [4, 5]) != nil)
        #expect(summary.accuracy(policy: "sft_best", method: "greedy", n: 1, levels: [4, 5]) != nil)
        #expect(summary.table().contains("| sft      | weighted  | verifier  | prod |    4 |"))
        // SFT checkpoints every 5 steps carry the easy validation accuracy used for selection.
        let sft = try events.filter { $0.type == "CheckpointSaved" }.map { try CheckpointSaved(decoding: $0) }
            .filter { $0.stage == .sft }
        #expect(sft.map(\.step) == [5, 10, 15, 20])
        #expect(sft.allSatisfy { $0.easyValidationAccuracy != nil })
    }

    /// Every score names a blob with its per-problem outcomes: problems are the denominator, the blob gives
    /// back the recorded accuracy, and `compare` computes intervals from the record alone.
    @Test func everyScoreRecordsItsPerProblemOutcomes() async throws {
        let (events, _, blobs) = try await Self.referenceRun.value()
        let spec = Self.smoke
        var levelScores: [RunScores.LevelScore] = []
        for event in events where event.type == ScoreRecorded.eventType {
            let score = try ScoreRecorded(decoding: event)
            let levelScore = try score.levelScore(outcomesBlob: try #require(blobs[score.outcomes]))
            let outcomes = levelScore.outcomes
            #expect(score.problems == spec.task.testPerLevel && outcomes.problems.count == score.problems)
            #expect(abs(outcomes.accuracy! - score.accuracy) < 1e-12)
            #expect(abs(score.correct - score.accuracy * Double(score.problems)) < 1e-9)
            let oneSubset = score.method == "greedy" || score.n == spec.sampling.poolSize
            #expect(outcomes.draws == (oneSubset ? 1 : spec.rerank.resamples))
            levelScores.append(levelScore)
        }
        let run = RunScores(
            run: "smoke", easyLevels: spec.task.easyLevels, hardLevels: spec.task.hardLevels, scores: levelScores)
        let report = try Comparison.compare(
            runs: [run], request: .defaultHeadline(for: levelScores.map(\.row)))
        let hardMajority = try #require(report.rows.first { $0.method == "majority" && $0.levels == .hard })
        #expect(hardMajority.accuracy.problems == 2 * spec.task.testPerLevel && hardMajority.difference == nil)
        #expect(report.rows.contains { $0.policy == "ppo" && $0.method == "greedy" && $0.difference != nil })
    }

    @Test func theSparseAdditionFamilyRunsThroughEveryStage() async throws {
        var spec = Self.smoke
        spec.task.family = .sparseAddition
        // A 20-step toy policy writes no fully right 11-digit sum, and the generative verifier and
        // ReST-EM train only on right ones (they fail loudly without); the other stages all run.
        spec.evaluators.removeAll { $0.kind == .generative }
        spec.rl.restEm.enabled = false
        let outcome = try await Self.execute(spec, recorder: InMemoryRecorder())
        guard case .completed(let summary) = outcome else {
            Issue.record("the run did not complete")
            return
        }
        #expect(summary.accuracy(method: "majority", n: 4, levels: [1, 2, 3, 4, 5]) != nil)
    }

    @Test func theSameSpecAndSeedGiveIdenticalEvents() async throws {
        let reference = try await Self.referenceRun.value()
        let recorder = InMemoryRecorder()
        let outcome = try await Self.execute(recorder: recorder)
        #expect(Self.deterministicPart(await recorder.events) == Self.deterministicPart(reference.events))
        #expect(outcome == reference.outcome)
    }

    @Test func oneAndTwoThreadsGiveIdenticalEvents() async throws {
        let reference = try await Self.referenceRun.value()
        let recorder = InMemoryRecorder()
        _ = try await Self.execute(recorder: recorder, threads: 1)
        #expect(Self.deterministicPart(await recorder.events) == Self.deterministicPart(reference.events))
    }

    enum InterruptPoint: String, CaseIterable, Sendable {
        case midSFT, betweenStages, midSampling, midEvaluators, midRL
        /// When the recorder asks the run to stop.
        var condition: InMemoryRecorder.StopCondition {
            switch self {
            // Poll 10 comes before SFT step 8: steps 6–7 are unsaved, so a stop checkpoint is taken.
            case .midSFT: return { _, polls, _ in polls == 10 ? .shutdown : nil }
            case .betweenStages:
                return { events, _, _ in events.last?.type == "StageCompleted" && events.count > 20 ? .cancelled : nil }
            case .midSampling:
                return { events, _, _ in events.last?.type == "SamplesGenerated" ? .shutdown : nil }
            case .midEvaluators:
                return { events, _, _ in events.last?.type == "EvaluatorTrained" ? .shutdown : nil }
            case .midRL:
                return { events, _, _ in
                    events.contains {
                        $0.type == "CheckpointSaved" && String(decoding: $0.payload, as: UTF8.self).contains("\"ppo\"")
                    }
                        ? .shutdown : nil
                }
            }
        }
    }

    @Test(arguments: InterruptPoint.allCases)
    func anInterruptedRunResumesToTheSameRecord(point: InterruptPoint) async throws {
        let reference = try await Self.referenceRun.value()
        let first = InMemoryRecorder(stopWhen: point.condition)
        let stopped = try await Self.execute(recorder: first)
        #expect(stopped == .stopped(point == .betweenStages ? .cancelled : .shutdown))
        let partial = await first.events
        #expect(partial.count < reference.events.count)
        if point == .midSFT {
            let stop = try partial.filter { $0.type == "CheckpointSaved" }.map { try CheckpointSaved(decoding: $0) }
                .last
            #expect(stop?.reason == .interrupt && stop?.step == 7)
        }
        let resumed = await InMemoryRecorder(resuming: first)
        let outcome = try await Self.execute(recorder: resumed)
        #expect(Self.deterministicPart(await resumed.events) == Self.deterministicPart(reference.events))
        #expect(outcome == reference.outcome)
    }

    @Test func replayingACompletedRecordAppendsNothing() async throws {
        let reference = try await Self.referenceRun.value()
        let recorder = InMemoryRecorder()
        _ = try await Self.execute(recorder: recorder)
        let count = await recorder.events.count
        let replayed = await InMemoryRecorder(resuming: recorder)
        let outcome = try await Self.execute(recorder: replayed)
        #expect(await replayed.events.count == count)
        #expect(outcome == reference.outcome)
    }

    /// A resumed run re-executes the interrupted stage; an event it regenerates that differs from
    /// the record (here, an edited record) is a divergence, not a silent second truth.
    @Test func aResumeThatRegeneratesOtherEventsIsADivergence() async throws {
        let first = InMemoryRecorder(stopWhen: { events, _, _ in
            events.last?.type == "EvaluatorTrained" ? .shutdown : nil
        })
        #expect(try await Self.execute(recorder: first) == .stopped(.shutdown))
        var events = await first.events
        let index = try #require(events.lastIndex { $0.type == "EvaluatorTrained" })
        var trained = try EvaluatorTrained(decoding: events[index])
        trained.trainingExamples += 1
        events[index] = trained.event()
        let edited = InMemoryRecorder(events: events, blobs: await first.blobs)
        let error = await #expect(throws: PipelineError.self) { try await Self.execute(recorder: edited) }
        #expect(error?.code == .divergence)
    }

    /// Labels and test questions reach only what they may: under each counterfactual (hard labels wrong, every
    /// hard verdict right, every test label wrong, other test questions) the record differs from the clean one
    /// in test scores and test samples alone — no checkpoint, training sample, selection figure or evaluator
    /// changes. With test labels wrong this shows that no selection (the SFT checkpoint is chosen on easy
    /// validation) and no training step reads a test label.
    @Test(arguments: [Counterfactual.hardLabelsWrong, .hardVerdictsTrue, .testLabelsWrong, .testQuestionsReplaced])
    func labelsReachScoresOnly(counterfactual: Counterfactual) async throws {
        let reference = try await Self.referenceRun.value()
        let recorder = InMemoryRecorder()
        let outcome = try await Self.execute(recorder: recorder, counterfactual: counterfactual)
        let altered = Self.deterministicPart(await recorder.events)
        let clean = Self.deterministicPart(reference.events)
        let check = LeakageCheck(counterfactual, task: Self.smoke.task)
        #expect(check.leaks(clean: clean, altered: altered) == [])
        // The counterfactual reached the scores it may change (so the comparison could see a difference).
        let scores = { (events: [PipelineEvent]) in
            try events.filter { $0.type == ScoreRecorded.eventType }.map { try ScoreRecorded(decoding: $0) }
        }
        #expect(try scores(altered) != scores(clean))
        guard case .completed(let summary) = outcome, case .completed(let cleanSummary) = reference.outcome else {
            Issue.record("the run did not complete")
            return
        }
        if counterfactual.scoredLevels(Self.smoke.task) == Self.smoke.task.hardLevels {
            let easy = Self.smoke.task.easyLevels
            #expect(
                summary.accuracy(method: "majority", n: 4, levels: easy)
                    == cleanSummary.accuracy(method: "majority", n: 4, levels: easy))
        }
    }

    /// The all-levels SFT ceiling is an oracle kept apart: with hard labels wrong, only its checkpoints, its own
    /// `sft_oracle` scores and the SFT stage's outputs (which name its weights) change — no selection, sample,
    /// evaluator or RL policy reads it.
    @Test func theCeilingIsAnOracleThatNothingElseReads() async throws {
        var spec = Self.smoke
        spec.policy.ceiling = true
        let clean = InMemoryRecorder()
        let outcome = try await Self.execute(spec, recorder: clean)
        let altered = InMemoryRecorder()
        _ = try await Self.execute(spec, recorder: altered, counterfactual: .hardLabelsWrong)
        let leaks = LeakageCheck(.hardLabelsWrong, task: spec.task).leaks(
            clean: Self.deterministicPart(await clean.events), altered: Self.deterministicPart(await altered.events))
        #expect(leaks.contains { $0.contains("sft/ceiling checkpoint") })
        #expect(
            leaks.allSatisfy {
                $0.contains("sft/ceiling checkpoint") || $0.contains("sft_oracle/greedy")
                    || $0.contains("outputs of stage sft")
            }, "\(leaks)")
        guard case .completed(let summary) = outcome else {
            Issue.record("the run did not complete")
            return
        }
        #expect(summary.accuracy(policy: "sft_oracle", method: "greedy", n: 1, levels: [4, 5]) != nil)
    }

    /// The check can fail: variants that do let hard labels or test questions into training are caught — the
    /// paper's PPO† (final-answer rewards on hard questions) and an evaluator trained on every level's labels
    /// although the smoke policy solves almost no hard problem (every hard verdict flips under
    /// `hardVerdictsTrue`) — and variants that let test questions into training or selection: PPO drawing test
    /// questions, SFT checkpoints judged on test problems (other test questions change their rollouts and figures).
    @Test(arguments: LeakingVariant.allCases)
    func theLeakageCheckCatchesADeliberateLeak(variant: LeakingVariant) async throws {
        let spec = variant.spec(from: Self.smoke)
        let clean = InMemoryRecorder()
        _ = try await Self.execute(spec, recorder: clean, leak: variant.leak)
        let altered = InMemoryRecorder()
        _ = try await Self.execute(spec, recorder: altered, counterfactual: variant.counterfactual, leak: variant.leak)
        let leaks = LeakageCheck(variant.counterfactual, task: spec.task).leaks(
            clean: Self.deterministicPart(await clean.events), altered: Self.deterministicPart(await altered.events))
        #expect(leaks.contains { $0.contains(variant.leakingModel) }, "caught: \(leaks)")
    }

    enum LeakingVariant: String, CaseIterable, Sendable {
        case ppoWithHardAnswers, evaluatorWithHardLabels, ppoWithTestQuestions, selectionOnTest

        func spec(from smoke: ExperimentSpec) -> ExperimentSpec {
            var spec = smoke
            switch self {
            case .ppoWithHardAnswers: spec.rl.ppo[0].outcomeRewards = .all
            case .evaluatorWithHardLabels: spec.evaluators[0].labels = .all
            case .ppoWithTestQuestions, .selectionOnTest: break
            }
            return spec
        }

        var leak: DeliberateLeak? {
            switch self {
            case .ppoWithHardAnswers, .evaluatorWithHardLabels: nil
            case .ppoWithTestQuestions: .testQuestionsInPPO
            case .selectionOnTest: .selectionOnTest
            }
        }

        var counterfactual: Counterfactual { leak == nil ? .hardVerdictsTrue : .testQuestionsReplaced }

        /// The model whose checkpoint or training the leak changes, as the check names it.
        var leakingModel: String {
            switch self {
            case .ppoWithHardAnswers: "rl/ppo_oracle checkpoint"
            case .evaluatorWithHardLabels: "evaluator orm"
            case .ppoWithTestQuestions: "rl/ppo checkpoint"
            case .selectionOnTest: "sft/policy checkpoint"
            }
        }
    }
}
