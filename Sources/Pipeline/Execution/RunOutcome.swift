/// How `RunExecutor.run()` ended.
public enum RunOutcome: Sendable, Equatable {
    case completed(RunSummary)
    case stopped(StopReason)
}

/// The result table of a completed run.
public struct RunSummary: Sendable, Equatable, Codable {
    /// Every `ScoreRecorded` row of the run, in emission order.
    public var scores: [ScoreRecorded]
    public var easyLevels: [Int]
    public var hardLevels: [Int]

    /// Accuracy over a set of levels: problems solved over problems, pooled.
    public func accuracy(
        policy: String = "sft", method: String, evaluator: String = "none", aggregation: String = "none", n: Int,
        levels: [Int]
    ) -> Double? {
        let rows = scores.filter {
            $0.policy == policy && $0.method == method && $0.evaluator == evaluator && $0.aggregation == aggregation
                && $0.n == n && levels.contains($0.level)
        }
        let problems = rows.reduce(0) { $0 + $1.problems }
        guard problems > 0 else { return nil }
        return rows.reduce(0) { $0 + $1.correct } / Double(problems)
    }

    /// A text table: rows method × evaluator × aggregation × N (and policy), columns easy / hard / all.
    public func table() -> String {
        struct Key: Hashable {
            var policy, method, evaluator, aggregation: String
            var n: Int
        }
        var keys: [Key] = []
        var seen: Set<Key> = []
        for row in scores {
            let key = Key(
                policy: row.policy, method: row.method, evaluator: row.evaluator, aggregation: row.aggregation, n: row.n
            )
            if seen.insert(key).inserted { keys.append(key) }
        }
        func percent(_ value: Double?) -> String {
            guard let value else { return "    -" }
            let tenths = Int((value * 1000).rounded())
            let text = "\(tenths / 10).\(tenths % 10)"
            return String(repeating: " ", count: max(0, 5 - text.count)) + text
        }
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        var lines = [
            "| policy   | method    | evaluator | agg  |    N |  easy |  hard |   all |",
            "|---|---|---|---|---:|---:|---:|---:|",
        ]
        for key in keys {
            let accuracy = { (levels: [Int]) in
                self.accuracy(
                    policy: key.policy, method: key.method, evaluator: key.evaluator, aggregation: key.aggregation,
                    n: key.n, levels: levels)
            }
            let nText = String(key.n)
            lines.append(
                "| \(pad(key.policy, 8)) | \(pad(key.method, 9)) | \(pad(key.evaluator, 9)) | \(pad(key.aggregation, 4)) | "
                    + "\(String(repeating: " ", count: max(0, 4 - nText.count)))\(nText) | "
                    + "\(percent(accuracy(easyLevels))) | \(percent(accuracy(hardLevels))) | "
                    + "\(percent(accuracy(easyLevels + hardLevels))) |")
        }
        return lines.joined(separator: "\n")
    }
}
