import Canonical
import Dashboard
import EventStore
import Foundation
import Pipeline
import WireTypes

/// Reads what a run's page shows from the store: the queue row, the whole stream (for the stage timeline and
/// the event log's page), the curves, the comparison with its full grid, and the hash chain's verdict. Public for
/// `e2h-bench page`, which times it.
public struct RunPageLoading: Sendable {
    let queue: Queue

    public init(queue: Queue) { self.queue = queue }

    public func page(run id: String, after: Int64, pageSize: Int, csrfToken: String) async throws -> Page {
        let catalog = RunCatalog(queue: queue)
        let run = try await catalog.details(id)
        let stream = DaemonEvent.stream(id)
        let recorded = try await queue.store.readWhole(stream: stream)
        let events = recorded.map(WireEvent.init)
        let submitted = try await DaemonEvent.submission(of: id, in: queue.store)
        let metrics = RunMetricsReading.metrics(run: id, points: try await queue.store.metrics(run: id))
        let evaluators = try recorded.filter { $0.type == EvaluatorTrained.eventType }.map { event in
            let trained = try CanonicalJSON.decode(EvaluatorTrained.self, from: event.payload)
            return RunPage.Evaluator(
                name: trained.name, kind: trained.kind.rawValue, labels: trained.labels.rawValue,
                stepEasy: trained.rocAuc.stepEasy, stepHard: trained.rocAuc.stepHard,
                outcomeEasy: trained.rocAuc.outcomeEasy, outcomeHard: trained.rocAuc.outcomeHard)
        }
        let results: RunPage.Results
        if recorded.contains(where: { $0.type == ScoreRecorded.eventType }) {
            do {
                let (response, grid) = try await RunComparison(queue: queue).compare(
                    CompareRequest(runs: [id]), withGrid: true)
                results = .compared(grid: grid ?? response.report, headline: response.report)
            } catch let error as DaemonError {
                results = .unavailable(reason: error.message)
            }
        } else {
            results = .unavailable(
                reason: run.state.isFinal
                    ? "The run recorded no scores."
                    : "Scores are recorded in the run's last stages; this run is \(run.state.rawValue).")
        }
        let chain: VerifyReport
        switch try await queue.store.verify(stream: stream) {
        case .intact(let count):
            chain = VerifyReport(run: id, intact: true, events: Int(count), brokenAtVersion: nil, reason: nil)
        case .broken(let version, _, let reason):
            chain = VerifyReport(run: id, intact: false, events: 0, brokenAtVersion: version, reason: reason)
        }
        let shown = events.filter { $0.version > after }.prefix(pageSize)
        return RunPage(
            run: run, timeline: StageTimeline(events: events), metrics: metrics, evaluators: evaluators,
            results: results,
            specYAML: submitted.specYaml,
            eventLog: RunPage.EventLog(events: Array(shown), after: after, pageSize: pageSize, total: events.count),
            chain: chain, provenance: try RecordedProvenance.attempts(recorded), csrfToken: csrfToken, now: Date()
        ).page()
    }
}
