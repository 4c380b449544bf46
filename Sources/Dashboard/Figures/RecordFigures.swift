import Charts
import WireTypes

/// The figures of a run's (or several runs') record, as the dashboard and `e2h plot` draw them: one mapping
/// from the API's typed shapes to the chart model, so a page and a file never show different pictures.
public enum RecordFigures {
    /// Metrics that describe the optimizer's schedule rather than what was learned: recorded, not drawn.
    public static let scheduleMetrics: Set<String> = ["learning_rate", "gradient_norm"]

    /// Training curves of each run, tagged with the run's id when there are several.
    public static func trainingCurves(_ runs: [RunMetrics]) -> Figure {
        var curves: [TrainingCurve] = []
        for run in runs {
            let attributes = runs.count > 1 ? [Attribute(key: "run", value: run.run)] : []
            for series in run.series where !scheduleMetrics.contains(series.metric) {
                curves.append(
                    TrainingCurve(
                        stage: series.stage, model: series.model, metric: series.metric, attributes: attributes,
                        points: zip(series.steps, series.values).map { CurvePoint(step: $0, value: $1) }))
            }
        }
        return TrainingCurvesFigure.figure(
            subtitle: runs.count == 1 ? runs[0].run : "\(runs.count) runs", curves: curves)
    }

    /// Training curves of a group: per stage, model and metric the mean over the members at each step all of
    /// them recorded, with the members' range (min to max) as the band. A curve some member lacks is left out,
    /// as a mean over the members that happen to have it would not be the group's.
    public static func groupTrainingCurves(_ members: [RunMetrics], group: String) -> Figure {
        var curves: [TrainingCurve] = []
        guard let first = members.first else { return TrainingCurvesFigure.figure(subtitle: group, curves: []) }
        for series in first.series where !scheduleMetrics.contains(series.metric) {
            let matching = members.compactMap { member in
                member.series.first {
                    $0.stage == series.stage && $0.model == series.model && $0.metric == series.metric
                }
            }
            guard matching.count == members.count else { continue }
            let byStep = matching.map { Dictionary(zip($0.steps, $0.values), uniquingKeysWith: { _, last in last }) }
            let points = series.steps.compactMap { step -> CurvePoint? in
                let values = byStep.compactMap { $0[step] }
                guard values.count == members.count else { return nil }
                let mean = values.reduce(0, +) / Double(values.count)
                return CurvePoint(
                    step: step, value: mean, spread: Band(lower: values.min() ?? mean, upper: values.max() ?? mean))
            }
            curves.append(
                TrainingCurve(stage: series.stage, model: series.model, metric: series.metric, points: points))
        }
        return TrainingCurvesFigure.figure(
            subtitle: "\(group): mean of \(members.count) runs, band from the lowest to the highest", curves: curves)
    }

    /// Accuracy against N for easy and hard problems, one line per policy, method, evaluator and aggregation,
    /// with the report's 95 % interval as the band (over problems for one run, across seeds for several).
    /// `linesOf`: only the lines of these rows (a headline's), drawn at every N the grid has — the full grid of
    /// a run has some 45 lines, too many to tell apart.
    public static func accuracyVersusN(
        _ report: ComparisonReport, linesOf headline: ComparisonReport? = nil, subtitle: String? = nil
    ) -> Figure {
        let shown = headline.map { headline in
            report.rows.filter { row in
                headline.rows.contains {
                    $0.policy == row.policy && $0.method == row.method && $0.evaluator == row.evaluator
                        && $0.aggregation == row.aggregation
                }
            }
        }
        let measurements = (shown ?? report.rows).compactMap { row -> AccuracyMeasurement? in
            let level: AccuracyMeasurement.Level
            switch row.levels {
            case .easy: level = .easy
            case .hard: level = .hard
            case .all: level = .all
            case .level: return nil
            }
            return AccuracyMeasurement(
                policy: row.policy, method: row.method, evaluator: row.evaluator, aggregation: row.aggregation,
                level: level, n: row.n, accuracy: row.accuracy.mean,
                interval: Band(lower: row.accuracy.lower, upper: row.accuracy.upper))
        }
        return AccuracyVersusNFigure.figure(subtitle: subtitle, measurements: measurements)
    }
}
