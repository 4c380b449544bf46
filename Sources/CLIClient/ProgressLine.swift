import Foundation
import WireTypes

/// A run's progress as text: "sft policy [######......] 120/400 steps · loss 0.4312 · 35.2 steps/s · 9s left".
/// Built from the typed report alone; nothing is parsed. A value without I/O: the follower decides where it goes.
struct ProgressLine {
    let progress: RunProgress
    /// ANSI colour for the bar (a terminal without NO_COLOR).
    var color = false
    /// Units per second shown: the daemon's figure unless the follower estimated a fresher one (`ProgressRate`).
    var unitsPerSecond: Double?
    /// Seconds left shown: at `unitsPerSecond` unless given.
    var secondsLeft: Double?

    static let barWidth = 24

    init(progress: RunProgress, color: Bool = false, estimate: ProgressRate? = nil) {
        self.progress = progress
        self.color = color
        unitsPerSecond = estimate?.unitsPerSecond ?? progress.ratePerSecond
        secondsLeft = estimate?.secondsLeft(progress) ?? progress.secondsLeft
    }

    /// The one-line form `follow` prints.
    var text: String { parts(color: color).joined(separator: Self.separator) }

    /// The line as `follow` redraws it on a terminal `columns` wide: back to the line's start, erase it, write.
    /// Parts that do not fit are dropped from the end (time left first), so the line never wraps: a wrapped line
    /// would be redrawn below itself.
    func redraw(columns: Int) -> String {
        let plain = parts(color: false)
        var kept = plain.count
        while kept > 1 && plain[..<kept].joined(separator: Self.separator).count > columns - 1 { kept -= 1 }
        var line = parts(color: color)[..<kept].joined(separator: Self.separator)
        if kept == 1 && plain[0].count > columns - 1 { line = String(plain[0].prefix(max(0, columns - 1))) }
        return "\r\u{1B}[2K" + line
    }

    /// What erases a redrawn line before other output is printed in its place.
    static let erase = "\r\u{1B}[2K"

    /// The short form of a listing's column: "sft policy 120/400".
    var short: String {
        var text = ([progress.stage.rawValue] + (progress.task.map { [$0] } ?? [])).joined(separator: " ")
        if let done = progress.done { text += " \(done)" + (progress.total.map { "/\($0)" } ?? "") }
        return text
    }

    private static let separator = " · "

    private func parts(color: Bool) -> [String] {
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
        if let rate = unitsPerSecond { parts.append(String(format: "%.1f %@/s", rate, progress.unit ?? "units")) }
        if let left = secondsLeft { parts.append(Self.duration(left) + " left") }
        return parts
    }

    static func duration(_ seconds: Double) -> String {
        // At most 99h59m59s: a rate near zero must not overflow the conversion (or promise years).
        let whole = Int(min(max(seconds, 0), 359_999).rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h\(String(format: "%02d", whole / 60 % 60))m"
    }
}
