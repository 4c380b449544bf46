/// One recorded training curve: a metric of a model trained in a stage, per optimizer step.
public struct TrainingCurve: Sendable, Equatable {
    /// "sft", "evaluators", "rl".
    public var stage: String
    /// "policy", an evaluator's name, "ppo".
    public var model: String
    /// "loss", "mean_return", "kl", …: curves of one metric share a panel.
    public var metric: String
    /// What else tells this curve apart when several runs are overlaid: ("run", id), ("group", name).
    public var attributes: [Attribute]
    public var points: [CurvePoint]

    public init(stage: String, model: String, metric: String, attributes: [Attribute] = [], points: [CurvePoint]) {
        self.stage = stage
        self.model = model
        self.metric = metric
        self.attributes = attributes
        self.points = points
    }
}

public struct CurvePoint: Sendable, Equatable {
    public var step: Int
    public var value: Double
    /// The spread around `value` when it is a group's mean (min–max or an interval over seeds).
    public var spread: Band?

    public init(step: Int, value: Double, spread: Band? = nil) {
        self.step = step
        self.value = value
        self.spread = spread
    }
}

/// Training curves as small multiples: one panel per metric, one line per stage and model (and run, when
/// several are overlaid), so a model keeps its colour from the loss panel to the reward panel.
public enum TrainingCurvesFigure {
    /// Metrics shown first, in this order; any others follow alphabetically.
    public static let leadingMetrics = ["loss", "reward", "mean_return", "kl"]

    public static func figure(
        title: String = "Training curves", subtitle: String? = nil, curves: [TrainingCurve], columns: Int = 2
    ) -> Figure {
        var metrics: [String] = []
        for curve in curves where !metrics.contains(curve.metric) {
            metrics.append(curve.metric)
        }
        let ordered =
            leadingMetrics.filter { metrics.contains($0) } + metrics.filter { !leadingMetrics.contains($0) }.sorted()
        let panels = ordered.map { metric in
            let name = metric.replacingUnderscores()
            return LineChart(
                title: name,
                xAxis: Axis(label: "step", tickFormat: .compact),
                yAxis: Axis(label: name),
                series: curves.filter { $0.metric == metric }.map { curve in
                    Series(
                        label: SeriesLabel(
                            [Attribute(key: "stage", value: curve.stage), Attribute(key: "model", value: curve.model)]
                                + curve.attributes),
                        points: curve.points.map { DataPoint(x: Double($0.step), y: $0.value, band: $0.spread) })
                })
        }
        return Figure(title: title, subtitle: subtitle, panels: panels, columns: columns)
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
