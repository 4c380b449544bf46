import Canonical
import Foundation
import Pipeline
import WireTypes

/// Long-polls a run's events and prints them as they land: a line per stage and result, and the run's progress
/// (one line redrawn in place on a terminal; a plain line per change otherwise, for logs and pipes).
struct RunFollower {
    let client: DaemonClient
    let run: String
    /// With --json the follower prints nothing but still waits for the end and sets the exit code.
    let quiet: Bool

    func follow() async throws {
        var after: Int64 = 0
        var shown: RunProgress?
        var lineOpen = false
        let terminal = isatty(STDOUT_FILENO) == 1
        let color = ClientEnvironment.current.colors(terminal: terminal)
        func closeLine() {
            if lineOpen { print("\r\u{1B}[2K", terminator: "") }
            lineOpen = false
        }
        while true {
            // A short wait: the daemon answers at once when events land, and otherwise every 2 s with the
            // run's progress, which moves between events (training steps).
            let page = try await client.get(
                "v1/runs/\(run)/events", query: ["after": "\(after)", "wait": "2", "limit": "500"], as: EventPage.self)
            if !quiet {
                for event in page.events {
                    closeLine()
                    if let line = Self.describe(event) { print(line) }
                }
                if let progress = page.run.progress, page.run.state == .running, progress != shown {
                    let text = ProgressLine(progress: progress, color: color).text
                    if terminal {
                        closeLine()
                        print(text, terminator: "")
                        lineOpen = true
                    } else {
                        print(text)
                    }
                    shown = progress
                }
            }
            // Lines go out as they come even into a pipe or a file (tee, CI logs).
            fflush(nil)
            after = page.lastVersion
            if page.run.state.isFinal && page.events.isEmpty {
                if lineOpen { print("") }
                if !quiet { print("\(page.run.id) \(page.run.state.rawValue)") }
                switch page.run.state {
                case .completed:
                    if !quiet { print("next: e2h compare \(page.run.id)") }
                    return
                default:
                    for error in page.run.errors where !quiet { print("  \(error)") }
                    throw ClientError(.failure, "run \(page.run.id) ended \(page.run.state.rawValue)")
                }
            }
        }
    }

    /// One line for an event, from its typed payload; nil for events not worth a line.
    static func describe(_ event: WireEvent) -> String? {
        guard let payload = try? CanonicalJSON.encode(event.payload) else { return "  \(event.type)" }
        func decoded<T: Decodable>(_ type: T.Type) -> T? { try? CanonicalJSON.decode(type, from: payload) }
        func by(_ worker: String?, _ reason: String?) -> String {
            "· \(event.type)" + (worker.map { " by \($0)" } ?? "") + (reason.map { ": \($0)" } ?? "")
        }
        switch event.type {
        case RunSubmitted.type.rawValue: return decoded(RunSubmitted.self).map { by(nil, $0.name) } ?? by(nil, nil)
        case RunClaimed.type.rawValue:
            return decoded(RunClaimed.self).map { by($0.worker, "attempt \($0.attempt)") } ?? by(nil, nil)
        case RunInterrupted.type.rawValue:
            return decoded(RunInterrupted.self).map { by($0.worker, $0.reason) } ?? by(nil, nil)
        case RunResumed.type.rawValue: return decoded(RunResumed.self).map { by(nil, $0.reason) } ?? by(nil, nil)
        case RunCancelled.type.rawValue:
            return decoded(RunCancelled.self).map { by($0.worker, $0.reason) } ?? by(nil, nil)
        case RunFailed.type.rawValue: return decoded(RunFailed.self).map { by($0.worker, $0.reason) } ?? by(nil, nil)
        case RunCompleted.type.rawValue: return by(nil, nil)
        case StageStarted.eventType:
            return decoded(StageStarted.self).map { "▶ \($0.stage.rawValue)" }
        case StageCompleted.eventType:
            return decoded(StageCompleted.self).map { "✓ \($0.stage.rawValue)" }
        case DatasetSplitCreated.eventType:
            return decoded(DatasetSplitCreated.self).map {
                "  \($0.split): \($0.counts.reduce(0) { $0 + $1.count }) problems"
            }
        case ScoreRecorded.eventType:
            return nil  // hundreds of rows: `e2h compare` shows them as a table
        case CheckpointSaved.eventType:
            return decoded(CheckpointSaved.self).map { "  checkpoint \($0.model) step \($0.step)" }
        case EvaluatorTrained.eventType:
            return decoded(EvaluatorTrained.self).map { trained in
                let auc = [("step easy", trained.rocAuc.stepEasy), ("step hard", trained.rocAuc.stepHard)]
                    .compactMap { name, value in value.map { "\(name) " + String(format: "%.3f", $0) } }
                return "  evaluator \(trained.name) (\(trained.kind.rawValue)) trained, \(trained.steps) steps"
                    + (auc.isEmpty ? "" : "; ROC-AUC " + auc.joined(separator: ", "))
            }
        case SamplesGenerated.eventType:
            return decoded(SamplesGenerated.self).map {
                "  \($0.set): \($0.problems) problems × \($0.samplesPerProblem) samples"
            }
        default:
            return "  \(event.type)"
        }
    }
}
