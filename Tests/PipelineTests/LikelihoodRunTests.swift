import Foundation
import Testing
import WireTypes

@testable import Pipeline

/// The smoke experiment with likelihood voting on: its rows are recorded for every N and level, the same on 1 and
/// 2 threads and after a stop inside the scoring pass, and every other row is the one the smoke run records.
@Suite struct LikelihoodRunTests {
    typealias Run = RunExecutorTests

    static let spec: ExperimentSpec = {
        var spec = Run.smoke
        spec.rerank.methods = [.majority, .likelihood, .weighted, .bestOfN]
        return spec
    }()

    static func scores(_ events: [PipelineEvent]) throws -> [ScoreRecorded] {
        try events.filter { $0.type == ScoreRecorded.eventType }.map { try ScoreRecorded(decoding: $0) }
    }

    static func isLikelihoodRow(_ event: PipelineEvent) -> Bool {
        event.type == ScoreRecorded.eventType && (try? ScoreRecorded(decoding: event))?.method == "likelihood"
    }

    /// One uninterrupted run on 1 thread, shared by the tests.
    static let oneThreadRun = Run.SharedRun(spec, threads: 1)

    @Test func likelihoodRowsAreRecordedForEveryNAndLevel() async throws {
        let (events, _, _) = try await Self.oneThreadRun.value()
        let scores = try Self.scores(events)
        let likelihood = scores.filter { $0.method == "likelihood" }
        let smoke = Run.smoke
        #expect(likelihood.count == smoke.sampling.n.count * smoke.task.levels.count)
        #expect(
            likelihood.allSatisfy {
                $0.stage == .rerank && $0.policy == "sft" && $0.evaluator == "none" && $0.aggregation == "none"
            })
        for level in smoke.task.levels {
            #expect(likelihood.filter { $0.level == level }.map(\.n) == smoke.sampling.n)
        }
        // With one sample there is nothing to weigh: every vote picks it, on the same subsets as majority voting.
        for row in likelihood where row.n == 1 {
            let majority = try #require(scores.first { $0.method == "majority" && $0.n == 1 && $0.level == row.level })
            #expect(row.outcomes == majority.outcomes && row.accuracy == majority.accuracy)
        }
    }

    /// Adding `likelihood` to a spec adds its rows and changes nothing else: every other event — samples,
    /// evaluators, every other score with its per-problem outcomes — is the smoke run's, byte for byte, in the same
    /// order. Only the rerank stage's outputs (its row count) differ.
    @Test func everyOtherRowIsTheSmokeRunsByteForByte() async throws {
        let reference = Run.deterministicPart(try await Run.referenceRun.value().events)
        let events = Run.deterministicPart(try await Self.oneThreadRun.value().events)
        let others = events.filter { !Self.isLikelihoodRow($0) }
        try #require(others.count == reference.count)
        var differing: [String] = []
        for (event, expected) in zip(others, reference) where event != expected {
            differing.append(
                event.type == StageCompleted.eventType ? try StageCompleted(decoding: event).stage.rawValue : event.type
            )
        }
        #expect(differing == ["rerank"])
        #expect(try Self.scores(others) == Self.scores(reference))
    }

    /// A stop inside the likelihood scoring pass, on 2 threads, resumes to the record of the run on 1 thread.
    @Test func aStopDuringLikelihoodScoringResumesToTheOneThreadRecord() async throws {
        let reference = try await Self.oneThreadRun.value()
        let task = "sft likelihood"
        let slice = StopAndProgressTests.slice
        let first = InMemoryRecorder(stopWhen: { _, _, progress in
            progress?.task == task && (progress?.done ?? 0) >= 2 * slice ? .shutdown : nil
        })
        let stopped = try await Run.execute(Self.spec, recorder: first, threads: 2, pacing: StopAndProgressTests.fine)
        #expect(stopped == .stopped(.shutdown))
        let reports = StopAndProgressTests.reports(await first.progressReports, task: task)
        #expect(reports.map(\.done) == [slice, 2 * slice])
        #expect(reports.allSatisfy { $0.stage == .rerank && $0.unit == "sequences" && $0.total == 120 })
        #expect(!(await first.events).contains(where: Self.isLikelihoodRow))

        let resumed = await InMemoryRecorder(resuming: first)
        let outcome = try await Run.execute(Self.spec, recorder: resumed, threads: 2)
        #expect(Run.deterministicPart(await resumed.events) == Run.deterministicPart(reference.events))
        #expect(outcome == reference.outcome)
    }
}
