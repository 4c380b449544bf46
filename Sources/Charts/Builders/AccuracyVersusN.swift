/// One score of a run's results table: the accuracy of a policy's samples, picked by a method (with an
/// evaluator and an aggregation) out of N, on one difficulty level.
public struct AccuracyMeasurement: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable {
        case easy, hard, all
    }

    public var policy: String
    public var method: String
    public var evaluator: String
    public var aggregation: String
    /// What else tells this line apart when several runs are overlaid: ("run", id), ("group", name).
    public var attributes: [Attribute]
    public var level: Level
    public var n: Int
    /// A fraction, 0…1.
    public var accuracy: Double
    /// The interval around `accuracy` (a confidence interval, or a group's spread over seeds).
    public var interval: Band?

    public init(
        policy: String, method: String, evaluator: String, aggregation: String, attributes: [Attribute] = [],
        level: Level, n: Int, accuracy: Double, interval: Band? = nil
    ) {
        self.policy = policy
        self.method = method
        self.evaluator = evaluator
        self.aggregation = aggregation
        self.attributes = attributes
        self.level = level
        self.n = n
        self.accuracy = accuracy
        self.interval = interval
    }

    var label: SeriesLabel {
        SeriesLabel(
            [
                Attribute(key: "policy", value: policy), Attribute(key: "method", value: method),
                Attribute(key: "evaluator", value: evaluator), Attribute(key: "aggregation", value: aggregation),
            ] + attributes)
    }
}

/// Accuracy against the number of samples N: a log-2 N axis, accuracy in percent, one line per policy,
/// method, evaluator and aggregation with its interval band, and one panel per difficulty level. The
/// panels share their accuracy axis, so the gap between easy and hard is seen at a glance.
public enum AccuracyVersusNFigure {
    public static func figure(
        title: String = "Accuracy vs N", subtitle: String? = nil, measurements: [AccuracyMeasurement],
        levels: [AccuracyMeasurement.Level] = [.easy, .hard]
    ) -> Figure {
        var labels: [SeriesLabel] = []
        for measurement in measurements where !labels.contains(measurement.label) {
            labels.append(measurement.label)
        }
        let shown = measurements.filter { levels.contains($0.level) }
        // An interval computed as mean ± spread can reach past 0 or 100%; accuracy cannot, so the axis
        // stops there and the band is clipped.
        var values: [Double] = []
        for measurement in shown {
            values += [measurement.accuracy] + (measurement.interval.map { [$0.lower, $0.upper] } ?? [])
        }
        values = values.map { min(max($0, 0), 1) }
        let shared = ResolvedAxis(
            Axis(label: "accuracy", domain: .automatic(includingZero: true), tickFormat: .percent), values: values)
        let panels = levels.map { level in
            LineChart(
                title: level.rawValue,
                xAxis: Axis(label: "N", unit: "samples", scale: .log2),
                yAxis: Axis(
                    label: "accuracy", domain: .fixed(lower: shared.lower, upper: shared.upper), tickFormat: .percent),
                series: labels.compactMap { label in
                    let points = shown.filter { $0.level == level && $0.label == label }.map { measurement in
                        DataPoint(x: Double(measurement.n), y: measurement.accuracy, band: measurement.interval)
                    }
                    return points.isEmpty ? nil : Series(label: label, points: points)
                })
        }
        return Figure(title: title, subtitle: subtitle, panels: panels, columns: max(1, levels.count))
    }
}
