import EventStore
import WireTypes

/// A run's stored curve points as typed series: each stored name ("sft.policy.loss": stage, model, metric as
/// the training loop writes them) split here, once, and a step re-recorded by a later attempt (a resume)
/// taking that attempt's value.
enum RunMetricsReading {
    static func metrics(run: String, points: [MetricPoint]) -> RunMetrics {
        // Points come ordered by attempt, name and step; a later attempt overwrites an earlier one's step.
        var byName: [String: [Int64: Double]] = [:]
        for point in points { byName[point.name, default: [:]][point.step] = point.value }
        let series = byName.keys.sorted().compactMap { name -> MetricSeries? in
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 3, let values = byName[name] else { return nil }
            let steps = values.keys.sorted()
            return MetricSeries(
                stage: parts[0], model: parts[1..<(parts.count - 1)].joined(separator: "."),
                metric: parts[parts.count - 1],
                steps: steps.map { Int($0) }, values: steps.map { values[$0] ?? .nan })
        }
        // Stages in execution order; within one, by model and metric (the names' order).
        let order = { (stage: String) in
            StageName.allCases.firstIndex { $0.rawValue == stage } ?? StageName.allCases.count
        }
        let ordered = series.enumerated().sorted { left, right in
            let (a, b) = (order(left.element.stage), order(right.element.stage))
            return a != b ? a < b : left.offset < right.offset
        }.map(\.element)
        return RunMetrics(run: run, series: ordered)
    }
}
