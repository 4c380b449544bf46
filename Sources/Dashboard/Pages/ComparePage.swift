import WireTypes

/// `/compare?runs=a,b` and `/groups/:id`: several runs on the same axes — their training curves overlaid,
/// accuracy against N as the mean over the runs with the t interval across seeds, the headline table with
/// intervals, the spec fields that differ and the comparison's warnings.
public struct ComparePage: Sendable {
    public var title: String
    public var comparison: CompareResponse
    /// The full grid of the same runs, for the accuracy-vs-N figure.
    public var grid: ComparisonReport
    public var metrics: [RunMetrics]
    /// The group's name when the runs are one group's members: their curves are drawn as a mean with a band.
    /// Otherwise each run's curves are overlaid.
    public var group: String?

    public init(
        title: String, comparison: CompareResponse, grid: ComparisonReport, metrics: [RunMetrics], group: String? = nil
    ) {
        self.title = title
        self.comparison = comparison
        self.grid = grid
        self.metrics = metrics
        self.group = group
    }

    public func page() -> Page {
        let runs = comparison.runs.map { run -> HTML in
            """
            <li><a href="\(URLPath.make("runs", run.id))"><code>\(String(run.id.prefix(8)))</code></a> \
            \(run.name) <span class="state \(run.state.rawValue)">\(run.state.rawValue)</span></li>

            """
        }
        let warnings = comparison.warnings.map { warning -> HTML in "<li>\(warning)</li>\n" }
        let warningList: HTML = warnings.isEmpty ? "" : "<ul class=\"warnings\">\n\(warnings)</ul>\n"
        let curves: HTML =
            metrics.allSatisfy { $0.series.isEmpty }
            ? "<p class=\"muted\">No training step has been recorded.</p>\n"
            : HTML.chart(
                group.map { RecordFigures.groupTrainingCurves(metrics, group: $0) }
                    ?? RecordFigures.trainingCurves(metrics), id: "curves")
        let main: HTML = """
            <ul class="members">
            \(runs)</ul>
            \(warningList)<h2>Accuracy vs N</h2>
            \(HTML.chart(RecordFigures.accuracyVersusN(grid, linesOf: comparison.report, subtitle: "\(comparison.runs.count) runs"), id: "accuracy"))\
            <h2>Headline</h2>
            \(ComparisonTableHTML.table(comparison.report))<h2>Training curves</h2>
            \(curves)<h2>Spec differences</h2>
            \(differences)
            """
        return Page(title: title, navigation: Navigation.links(current: .compare), main: main)
    }

    private var differences: HTML {
        guard !comparison.specDifferences.isEmpty else {
            return "<p class=\"muted\">The specs are identical.</p>\n"
        }
        let head = comparison.runs.map { run -> HTML in "<th><code>\(String(run.id.prefix(8)))</code></th>" }
        let rows = comparison.specDifferences.map { difference -> HTML in
            let cells = difference.values.map { value -> HTML in "<td><code>\(value)</code></td>" }
            return "<tr><td>\(difference.path)</td>\(cells)</tr>\n"
        }
        return """
            <table class="spec-differences">
            <thead><tr><th>field</th>\(head)</tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>

            """
    }
}
