import Canonical
import Dashboard
import EventStore
import Foundation
import Pipeline
import WireTypes

/// Reads what a run's page shows from the store: the queue row, the whole stream with its hash chain's verdict
/// (one read, for the stage timeline, the event log's page and the comparison with its full grid), the curves.
/// Public for `e2h-bench page`, which times it.
public struct RunPageLoading: Sendable {
    let queue: Queue

    public init(queue: Queue) { self.queue = queue }

    public func page(run id: String, after: Int64, pageSize: Int, csrfToken: String) async throws -> Page {
        let catalog = RunCatalog(queue: queue)
        let run = try await catalog.details(id)
        // One read gives the events the page shows, the chain's verdict and what the comparison reads.
        let stream = try await queue.store.readVerified(stream: DaemonEvent.stream(id))
        let recorded = stream.events
        // The statistics are most of the page's time and need none of what follows: computed meanwhile, on
        // another core, when there is anything to compare.
        let scored = recorded.contains { $0.type == ScoreRecorded.eventType }
        async let compared = scored ? results(of: run, stream: stream) : nil
        // Payloads decoded only where the page shows them (the timeline's events and one page of the log):
        // decoding all of a default run's 1,500 took a fifth of the page's time.
        let stages = recorded.filter { StageTimeline.reads($0.type) }.map(WireEvent.init)
        let shown = recorded.filter { $0.version > after }.prefix(pageSize).map(WireEvent.init)
        let submitted = try await DaemonEvent.submission(of: id, in: queue.store)
        let metrics = RunMetricsReading.metrics(run: id, points: try await queue.store.metrics(run: id))
        let evaluators = try recorded.filter { $0.type == EvaluatorTrained.eventType }.map { event in
            let trained = try CanonicalJSON.decode(EvaluatorTrained.self, from: event.payload)
            return RunPage.Evaluator(
                name: trained.name, kind: trained.kind.rawValue, labels: trained.labels.rawValue,
                stepEasy: trained.rocAuc.stepEasy, stepHard: trained.rocAuc.stepHard,
                outcomeEasy: trained.rocAuc.outcomeEasy, outcomeHard: trained.rocAuc.outcomeHard)
        }
        let chain: VerifyReport
        switch stream.verification {
        case .intact(let count):
            chain = VerifyReport(run: id, intact: true, events: Int(count), brokenAtVersion: nil, reason: nil)
        case .broken(let version, _, let reason):
            chain = VerifyReport(run: id, intact: false, events: 0, brokenAtVersion: version, reason: reason)
        }
        let results =
            try await compared
            ?? .unavailable(
                reason: run.replayOf != nil
                    ? "A replay job records its verdict (above), not scores."
                    : run.state.isFinal
                        ? "The run recorded no scores."
                        : "Scores are recorded in the run's last stages; this run is \(run.state.rawValue).")
        return RunPage(
            run: run, timeline: StageTimeline(events: stages), metrics: metrics, evaluators: evaluators,
            results: results,
            specYAML: submitted.specYaml,
            eventLog: RunPage.EventLog(events: Array(shown), after: after, pageSize: pageSize, total: recorded.count),
            chain: chain, provenance: try RecordedProvenance.attempts(recorded), csrfToken: csrfToken, now: Date(),
            replayVerdict: try recorded.last { $0.type == RunReplayed.type.rawValue }.map {
                try CanonicalJSON.decode(RunReplayed.self, from: $0.payload).report.summary
            },
            annotations: try await RunAnnotations(queue: queue).annotations(of: .run(id))
        ).page()
    }

    /// The headline and the full grid, or why the record cannot be compared (a broken chain, among others).
    private func results(of run: RunDetails, stream: VerifiedStream) async throws -> RunPage.Results? {
        do {
            let (response, grid) = try await RunComparison(queue: queue).compare(
                run: run, stream: stream, withGrid: true)
            return .compared(grid: grid ?? response.report, headline: response.report)
        } catch let error as DaemonError {
            return .unavailable(reason: error.message)
        }
    }
}
