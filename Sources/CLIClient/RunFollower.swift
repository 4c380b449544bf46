import Canonical
import Foundation
import Pipeline
import WireTypes

/// Follows a run until it ends and prints it as it goes: a line per stage and result, and the run's progress (one
/// line redrawn in place on a terminal; a plain line per change otherwise, for logs and pipes). Reads the daemon's
/// event stream (`GET /v1/runs/:id/stream`), pushed as events commit; against an e2hd older than the stream (404)
/// it long-polls the run's events instead. A daemon that goes away (a restart, a dropped connection) is waited for
/// as `Reconnection` says, and the run followed on from the last event seen.
struct RunFollower {
    let client: DaemonClient
    let run: String
    /// With --json the follower prints nothing but still waits for the end and sets the exit code.
    let quiet: Bool
    /// `--exit-status`: a failed or cancelled run exits with its own code (`ClientError.Code.runFailed`,
    /// `.runCancelled`) rather than the general failure's.
    var outcomeCodes = false

    func follow() async throws {
        var client = client
        var display = FollowDisplay(quiet: quiet)
        var after: Int64 = 0
        var streaming = true
        var reconnection = Reconnection(patience: client.requestTimeout)
        // The daemon answered: an outage, if there was one, is over. A stream's first message is the run's details,
        // so its first message of any kind says so, however long the stream then stays open.
        func reached() {
            if reconnection.lostSince != nil {
                display.notice("reconnected to e2hd at \(client.baseURL.absoluteString)")
            }
            reconnection.succeeded()
        }
        while true {
            let ended: RunDetails?
            do {
                if streaming {
                    var latest: RunDetails?
                    streaming = try await client.readEventStream(
                        "v1/runs/\(run)/stream", query: ["after": "\(after)"]
                    ) { message in
                        reached()
                        switch try RunStreamMessage(message) {
                        case .event(let event):
                            display.show(event)
                            after = event.version
                        case .run(let details):
                            display.show(details)
                            latest = details
                        case nil:
                            break
                        }
                    }
                    // The stream ends once a final run's last events were sent; any other end (the daemon shutting
                    // down) is followed by a reconnection from the last event seen.
                    ended = latest.flatMap { $0.state.isFinal ? $0 : nil }
                    if streaming && ended == nil { try await Task.sleep(for: .seconds(1)) }
                } else {
                    // A short wait: the daemon answers at once when events land, and otherwise every 2 s with the
                    // run's progress, which moves between events (training steps).
                    let page = try await client.get(
                        "v1/runs/\(run)/events", query: ["after": "\(after)", "wait": "2", "limit": "500"],
                        as: EventPage.self)
                    reached()
                    page.events.forEach { display.show($0) }
                    display.show(page.run)
                    after = page.lastVersion
                    ended = page.run.state.isFinal && page.events.isEmpty ? page.run : nil
                }
            } catch let error as ClientError where error.code == .unreachable {
                // A daemon restarted on another port (`--port 0`) is where its endpoint file now says.
                if let moved = client.rediscovered() {
                    display.notice("e2hd moved to \(moved.baseURL.absoluteString); following there")
                    client = moved
                    continue
                }
                // A restart or a dropped connection: try again from the last event seen, for as long as a request
                // may take, and say so once per outage.
                let newOutage = reconnection.lostSince == nil
                guard let pause = reconnection.failed(at: .now) else { throw error }
                if newOutage {
                    let seconds = reconnection.patience.components.seconds
                    display.notice(
                        "e2hd at \(client.baseURL.absoluteString) is not answering; trying again for up to \(seconds) s"
                            + " (E2H_TIMEOUT)")
                }
                try await Task.sleep(for: pause)
                continue
            }
            if let ended { return try await finish(ended, client: client, display: &display) }
        }
    }

    private func finish(_ run: RunDetails, client: DaemonClient, display: inout FollowDisplay) async throws {
        display.end(run)
        switch run.state {
        case .completed where run.replayOf != nil && outcomeCodes:
            // A replay job completes whatever its verdict; --exit-status says whether the record was reproduced.
            let report = try await Replay.verdict(of: run.id, client)
            if !report.identical { throw ClientError(.failure, "replay \(run.id) \(report.summary)") }
        case .completed: return
        case .failed where outcomeCodes: throw ClientError(.runFailed, "run \(run.id) failed")
        case .cancelled where outcomeCodes: throw ClientError(.runCancelled, "run \(run.id) was cancelled")
        default: throw ClientError(.failure, "run \(run.id) ended \(run.state.rawValue)")
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
        case RunReplayed.type.rawValue: return decoded(RunReplayed.self).map { "= replay: \($0.report.summary)" }
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
