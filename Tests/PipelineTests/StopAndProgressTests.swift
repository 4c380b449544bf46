import Foundation
import NeuralEngine
import Testing
import WireTypes

@testable import Pipeline

/// Stops inside the long loops (scoring and sampling batches), and the progress the loops report.
@Suite struct StopAndProgressTests {
    typealias Run = RunExecutorTests

    /// The smoke run's loops in slices of 8 rows (4 per thread on 2 threads), every report sent: a test pool of
    /// 120 sequences is scored in 15 slices, its 30 problems sampled in 15.
    static let fine = Pacing(rowsPerThread: 4, reportInterval: .zero)
    static let slice = 8

    static func reports(_ reports: [RunProgress], task: String) -> [RunProgress] {
        reports.filter { $0.task == task }
    }

    @Test func pacingChangesNoEventAndEveryLoopReportsItsProgress() async throws {
        let reference = try await Run.referenceRun.value()
        let recorder = InMemoryRecorder()
        _ = try await Run.execute(recorder: recorder, threads: 2, pacing: Self.fine)
        #expect(Run.deterministicPart(await recorder.events) == Run.deterministicPart(reference.events))
        let reports = await recorder.progressReports

        let sft = Self.reports(reports, task: "policy")
        #expect(sft.map(\.done) == (1...20).map { $0 })
        #expect(sft.allSatisfy { $0.stage == .sft && $0.total == 20 && $0.unit == "steps" && $0.loss != nil })
        #expect(Self.reports(reports, task: "ppo").last?.done == 8 * 2 * 2)

        let sampling = Self.reports(reports, task: "sft test samples")
        #expect(sampling.allSatisfy { $0.stage == .sample && $0.unit == "problems" && $0.total == 30 })
        #expect(sampling.map(\.done) == stride(from: 2, through: 30, by: 2).map { $0 })

        // 30 test problems x a pool of 4 per evaluator, scored 8 at a time.
        for evaluator in ["orm", "prm", "oprm", "verifier"] {
            let scoring = Self.reports(reports, task: "\(evaluator) scores")
            #expect(scoring.map(\.done) == stride(from: 8, through: 120, by: 8).map { $0 })
            #expect(scoring.allSatisfy { $0.stage == .evaluators && $0.unit == "sequences" && $0.total == 120 })
        }
        #expect(Self.reports(reports, task: "sft greedy").last?.done == 30)
        #expect(reports.contains { $0.ratePerSecond != nil })
    }

    /// A sequence that repeats an earlier one is not scored again: every row still gets its own sequence's value in
    /// its place, and progress counts rows. Slices of 3: rows 0–2 score two sequences, rows 3–5 two new ones, and
    /// row 6, a repeat, none.
    @Test func repeatsAreScoredOnceAndEveryRowKeepsItsValue() async throws {
        let recorder = InMemoryRecorder()
        let context = RunContext(
            spec: Run.smoke, log: try await RunLog(recorder: recorder), compute: ComputePool(threads: 1),
            logger: Run.logger, counterfactual: nil, leak: nil, pacing: Pacing(rowsPerThread: 3, reportInterval: .zero))
        let pool: [[Int32]] = [[1, 2], [3], [1, 2], [4], [3], [5], [1, 2]]
        let task = ProgressTask(stage: .evaluators, task: "scores", unit: "sequences", total: pool.count)
        var calls: [[[Int32]]] = []
        let values = try await context.scoreInSlices(pool, reporting: task) { rows in
            calls.append(rows)
            return rows.map { 10 * $0.reduce(0, +) }
        }
        #expect(values == [30, 30, 30, 40, 30, 50, 30])
        #expect(calls == [[[1, 2], [3]], [[4], [5]]])
        #expect(await recorder.progressReports.map(\.done) == [3, 6, 7])
    }

    @Test func aStopDuringScoringIsHonouredAtTheNextSliceAndResumesToTheSameRecord() async throws {
        let reference = try await Run.referenceRun.value()
        let first = InMemoryRecorder(stopWhen: { _, _, progress in
            progress?.task == "prm scores" && (progress?.done ?? 0) >= 3 * Self.slice ? .shutdown : nil
        })
        #expect(try await Run.execute(recorder: first, threads: 2, pacing: Self.fine) == .stopped(.shutdown))
        // The stop came at the poll right after the third slice: 24 of 120 sequences scored, no more.
        let scoring = Self.reports(await first.progressReports, task: "prm scores")
        #expect(scoring.last?.done == 3 * Self.slice)
        let partial = await first.events
        let trained = try partial.filter { $0.type == EvaluatorTrained.eventType }.map {
            try EvaluatorTrained(decoding: $0).name
        }
        #expect(trained == ["orm"])

        let resumed = await InMemoryRecorder(resuming: first)
        let outcome = try await Run.execute(recorder: resumed)
        #expect(Run.deterministicPart(await resumed.events) == Run.deterministicPart(reference.events))
        #expect(outcome == reference.outcome)
    }

    /// A resume inside the evaluators stage neither trains nor scores again an evaluator the record shows trained: it
    /// reuses the weights and scores whose blobs the record names, regenerates only their `EvaluatorTrained` for the
    /// comparison, and scores nothing twice — the resumed record holds exactly the reference's ScoreRecorded events.
    @Test func aResumeReusesEvaluatorsAlreadyTrainedAndScored() async throws {
        let reference = try await Run.referenceRun.value()
        let first = InMemoryRecorder(stopWhen: { events, _, _ in
            events.filter { $0.type == EvaluatorTrained.eventType }.count >= 2 ? .shutdown : nil
        })
        #expect(try await Run.execute(recorder: first, threads: 2, pacing: Self.fine) == .stopped(.shutdown))
        let trained = try await first.events.filter { $0.type == EvaluatorTrained.eventType }.map {
            try EvaluatorTrained(decoding: $0).name
        }
        #expect(trained.starts(with: ["orm", "prm"]) && trained.count < 4)

        let resumed = await InMemoryRecorder(resuming: first)
        let outcome = try await Run.execute(recorder: resumed, threads: 2, pacing: Self.fine)
        let reports = await resumed.progressReports
        for evaluator in trained {
            #expect(Self.reports(reports, task: "\(evaluator) scores").isEmpty, "\(evaluator) was scored again")
            #expect(Self.reports(reports, task: evaluator).isEmpty, "\(evaluator) was trained again")
        }
        #expect(!Self.reports(reports, task: "verifier scores").isEmpty)
        let events = await resumed.events
        #expect(Run.deterministicPart(events) == Run.deterministicPart(reference.events))
        #expect(
            events.filter { $0.type == ScoreRecorded.eventType }.count
                == reference.events.filter { $0.type == ScoreRecorded.eventType }.count)
        #expect(outcome == reference.outcome)
    }

    @Test func aStopInsideASampleChunkDropsTheChunkAndResumesToTheSameRecord() async throws {
        let reference = try await Run.referenceRun.value()
        let first = InMemoryRecorder(stopWhen: { _, _, progress in
            progress?.task == "sft test samples" && (progress?.done ?? 0) >= 6 ? .cancelled : nil
        })
        #expect(try await Run.execute(recorder: first, threads: 2, pacing: Self.fine) == .stopped(.cancelled))
        let sampled = try await first.events.filter { $0.type == SamplesGenerated.eventType }.map {
            try SamplesGenerated(decoding: $0).set
        }
        #expect(sampled == ["evaluator_training"])
        #expect(Self.reports(await first.progressReports, task: "sft test samples").last?.done == 6)

        let resumed = await InMemoryRecorder(resuming: first)
        let outcome = try await Run.execute(recorder: resumed, threads: 1)
        #expect(Run.deterministicPart(await resumed.events) == Run.deterministicPart(reference.events))
        #expect(outcome == reference.outcome)
    }

    @Test func theThrottleLetsThroughFirstLastAndOnePerInterval() {
        var throttle = ReportThrottle(interval: .seconds(1))
        let start = ContinuousClock.now
        let reports: [(task: String, done: Int, milliseconds: Int)] = [
            ("policy", 1, 0), ("policy", 2, 500), ("policy", 3, 1000), ("policy", 4, 1100),
            // The last report of a task, and the first of another, always go out.
            ("policy", 10, 1200), ("orm", 1, 1300),
        ]
        let admitted = reports.map { report in
            throttle.admits(
                RunProgress(stage: .sft, task: report.task, done: report.done, total: 10, unit: "steps"),
                at: start + .milliseconds(report.milliseconds))
        }
        #expect(admitted == [true, false, true, false, true, true])
    }

    @Test func theRateCountsOnlyWhatThisExecutionDid() {
        let start = ContinuousClock.now
        let task = ProgressTask(stage: .sft, task: "policy", unit: "steps", total: 100, doneAtStart: 40, started: start)
        let progress = task.progress(done: 60, loss: 0.5, at: start + .seconds(4))
        #expect(progress.ratePerSecond == 5)
        #expect(progress.secondsLeft == 8)
        #expect(task.progress(done: 40, at: start + .seconds(1)).ratePerSecond == nil)
    }
}
