import Foundation
import WireTypes

/// A run's progress as text: "sft policy [######......] 120/400 steps · loss 0.4312 · 35.2 steps/s · 9s left".
/// Built from the typed report alone; nothing is parsed.
struct ProgressLine {
    let progress: RunProgress
    /// ANSI colour for the bar (a terminal without NO_COLOR).
    var color = false

    static let barWidth = 24

    /// The one-line form `follow` redraws.
    var text: String {
        var parts = [([progress.stage.rawValue] + (progress.task.map { [$0] } ?? [])).joined(separator: " ")]
        if let done = progress.done, let total = progress.total, total > 0 {
            let filled = min(Self.barWidth, max(0, done * Self.barWidth / total))
            var bar = String(repeating: "#", count: filled)
            if color { bar = "\u{1B}[32m" + bar + "\u{1B}[0m" }
            parts[0] += " [" + bar + String(repeating: ".", count: Self.barWidth - filled) + "] \(done)/\(total)"
            if let unit = progress.unit { parts[0] += " \(unit)" }
        } else if let done = progress.done {
            parts[0] += " \(done)" + (progress.unit.map { " \($0)" } ?? "")
        }
        if let loss = progress.loss { parts.append(String(format: "loss %.4f", loss)) }
        if let rate = progress.ratePerSecond {
            parts.append(String(format: "%.1f %@/s", rate, progress.unit ?? "units"))
        }
        if let left = progress.secondsLeft { parts.append(Self.duration(left) + " left") }
        return parts.joined(separator: " · ")
    }

    /// The short form of a listing's column: "sft policy 120/400".
    var short: String {
        var text = ([progress.stage.rawValue] + (progress.task.map { [$0] } ?? [])).joined(separator: " ")
        if let done = progress.done { text += " \(done)" + (progress.total.map { "/\($0)" } ?? "") }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h\(String(format: "%02d", whole / 60 % 60))m"
    }
}
