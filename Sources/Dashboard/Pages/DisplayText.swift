import Foundation
import WireTypes

/// Figures as the pages print them: the same text for the same value in every locale and time zone.
enum DisplayText {
    /// "2026-12-01 22:31:07 UTC".
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : String(value)
        }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute)):"
            + "\(two(parts.second)) UTC"
    }

    /// "42s", "3m05s", "2h07m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let whole = Int(seconds.rounded())
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(two(whole % 60))s" }
        return "\(whole / 3600)h\(two(whole / 60 % 60))m"
    }

    /// A fraction as a percentage with one decimal: 0.4321 → "43.2%".
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "–" }
        let tenths = (fraction * 1000).rounded(.toNearestOrAwayFromZero)
        let sign = tenths < 0 ? "-" : ""
        let magnitude = Int(abs(tenths))
        return "\(sign)\(magnitude / 10).\(magnitude % 10)%"
    }

    /// A decimal with four significant places after the point, for losses and rates.
    static func decimal(_ value: Double, decimals: Int = 4) -> String {
        guard value.isFinite else { return "–" }
        return String(format: "%.\(decimals)f", value)
    }

    /// How long a run has taken: submitted to its last change once final, to `now` while live.
    static func runDuration(_ run: RunDetails, now: Date) -> String {
        duration((run.state.isFinal ? run.updatedAt : now).timeIntervalSince(run.submittedAt))
    }

    /// "sft policy 120/400 steps · loss 0.4312 · 35.2 steps/s · 9s left"
    static func progress(_ progress: RunProgress) -> String {
        var parts = [([progress.stage.rawValue] + (progress.task.map { [$0] } ?? [])).joined(separator: " ")]
        if let done = progress.done {
            parts[0] += " \(done)" + (progress.total.map { "/\($0)" } ?? "") + (progress.unit.map { " \($0)" } ?? "")
        }
        if let loss = progress.loss { parts.append("loss " + decimal(loss)) }
        if let rate = progress.ratePerSecond {
            parts.append(decimal(rate, decimals: 1) + " \(progress.unit ?? "units")/s")
        }
        if let left = progress.secondsLeft { parts.append(duration(left) + " left") }
        return parts.joined(separator: " · ")
    }
}
