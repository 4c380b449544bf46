import Foundation
import WireTypes

/// Long-polls a run's events and prints them as they land: a line per stage and result, and a progress bar
/// for the running stage (redrawn in place on a terminal).
struct RunFollower {
    let client: DaemonClient
    let run: String
    /// With --json the follower prints nothing but still waits for the end and sets the exit code.
    let quiet: Bool

    func follow() async throws {
        var after: Int64 = 0
        var lastProgress = ""
        let terminal = isatty(STDOUT_FILENO) == 1
        while true {
            // A short wait: the daemon answers at once when events land, and otherwise every 2 s with the
            // run's progress, which moves between events (training steps).
            let page = try await client.get(
                "v1/runs/\(run)/events", query: ["after": "\(after)", "wait": "2", "limit": "500"], as: EventPage.self)
            if !quiet {
                for event in page.events {
                    if terminal && !lastProgress.isEmpty {
                        print("\r\u{1B}[2K", terminator: "")
                        lastProgress = ""
                    }
                    if let line = Self.describe(event) { print(line) }
                }
                if let stage = page.run.stage, page.run.state == .running, stage != lastProgress {
                    if terminal {
                        print("\r\u{1B}[2K" + Self.progressBar(stage), terminator: "")
                        fflush(nil)
                    }
                    lastProgress = stage
                }
            }
            // Lines go out as they come even into a pipe or a file (tee, CI logs).
            fflush(nil)
            after = page.lastVersion
            if page.run.state.isFinal && page.events.isEmpty {
                if terminal && !lastProgress.isEmpty { print("") }
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

    /// "sft 120/400" → a bar; anything else as it is.
    static func progressBar(_ stage: String) -> String {
        let parts = stage.split(separator: " ")
        guard let last = parts.last, let slash = last.firstIndex(of: "/"),
            let done = Double(last[..<slash]), let total = Double(last[last.index(after: slash)...]), total > 0
        else { return "… " + stage }
        let width = 30
        let filled = min(width, Int(done / total * Double(width)))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + stage
    }

    static func describe(_ event: WireEvent) -> String? {
        let payload = event.payload
        let stage = payload["stage"]?.stringValue
        switch event.type {
        case "StageStarted": return "▶ \(stage ?? "stage")"
        case "StageCompleted": return "✓ \(stage ?? "stage")"
        case "RunSubmitted", "RunClaimed", "RunResumed", "RunInterrupted", "RunCancelled", "RunFailed", "RunCompleted":
            let reason = payload["reason"]?.stringValue.map { ": \($0)" } ?? ""
            let worker = payload["worker"]?.stringValue.map { " by \($0)" } ?? ""
            return "· \(event.type)\(worker)\(reason)"
        case "DatasetSplitCreated":
            let problems = payload["counts"]?.arrayValue?.compactMap { $0["count"]?.intValue }.reduce(0, +) ?? 0
            return "  \(payload["split"]?.stringValue ?? "split"): \(problems) problems"
        case "ScoreRecorded":
            return nil  // hundreds of rows: `e2h compare` shows them as a table
        case "CheckpointSaved":
            let model = payload["model"]?.stringValue ?? "model"
            return "  checkpoint \(model) step \(payload["step"]?.intValue ?? 0)"
        case "EvaluatorTrained":
            let loss = payload["final_loss"]?.doubleValue.map { String(format: ", final loss %.4f", $0) } ?? ""
            return "  evaluator \(payload["name"]?.stringValue ?? "?") trained\(loss)"
        case "SamplesGenerated":
            let set = payload["set"]?.stringValue ?? "samples"
            let problems = payload["problems"]?.intValue ?? 0
            let perProblem = payload["samples_per_problem"]?.intValue ?? 1
            let correct = payload["correct"]?.intValue.map { ", \($0) correct" } ?? ""
            return "  \(set): \(problems) problems × \(perProblem) samples\(correct)"
        default:
            return "  \(event.type)" + (stage.map { " (\($0))" } ?? "")
        }
    }
}
