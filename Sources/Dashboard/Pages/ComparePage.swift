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
    /// The group when the runs are its completed members: every member is listed with its state, the page says
    /// which were left out, and the curves are drawn as a mean with a band. Otherwise each run's curves are overlaid.
    public var group: GroupDetails?

    public init(
        title: String, comparison: CompareResponse, grid: ComparisonReport, metrics: [RunMetrics],
        group: GroupDetails? = nil
    ) {
        self.title = title
        self.comparison = comparison
        self.grid = grid
        self.metrics = metrics
        self.group = group
    }

    public func page() -> Page {
        let members =
            group.map { Self.memberList($0) }
            ?? "<ul class=\"members\">\n\(comparison.runs.map { Self.memberItem($0, label: $0.name) })</ul>\n"
        let warnings = comparison.warnings.map { warning -> HTML in "<li>\(warning)</li>\n" }
        let warningList: HTML = warnings.isEmpty ? "" : "<ul class=\"warnings\">\n\(warnings)</ul>\n"
        let curves: HTML =
            metrics.allSatisfy { $0.series.isEmpty }
            ? "<p class=\"muted\">No training step has been recorded.</p>\n"
            : HTML.chart(
                group.map { RecordFigures.groupTrainingCurves(metrics, group: $0.summary.name) }
                    ?? RecordFigures.trainingCurves(metrics), id: "curves")
        let leftOut: HTML =
            group.map { group -> HTML in
                let others = group.members.count - comparison.runs.count
                guard others > 0 else { return "" }
                return """
                    <p class="muted">The figures and tables are of the \(comparison.runs.count) completed \
                    \(Self.members(comparison.runs.count)); the other \(others) are left out until they complete\
                    \(Self.resumeAdvice(group)).</p>

                    """
            } ?? ""
        let main: HTML = """
            \(members)\(leftOut)\(warningList)<h2>Accuracy vs N</h2>
            \(HTML.chart(RecordFigures.accuracyVersusN(grid, linesOf: comparison.report, subtitle: comparison.runs.count == 1 ? "1 run" : "\(comparison.runs.count) runs"), id: "accuracy"))\
            <h2>Headline</h2>
            \(ComparisonTableHTML.table(comparison.report))<h2>Training curves</h2>
            \(curves)<h2>Spec differences</h2>
            \(differences)
            """
        return Page(title: title, navigation: Navigation.links(current: .compare), main: main)
    }

    /// A group none of whose members has completed: its members and their states, and what it waits for.
    public static func awaitingCompletion(_ group: GroupDetails) -> Page {
        let main: HTML = """
            \(memberList(group))<p class="muted">No member has completed, so there is nothing to compare yet; \
            the figures appear as members complete\(resumeAdvice(group)).</p>

            """
        return Page(
            title: "Group \(group.summary.name)", navigation: Navigation.links(current: .compare), main: main)
    }

    /// Every member of the group in sweep order, with its sweep values and its state.
    static func memberList(_ group: GroupDetails) -> HTML {
        let items = group.members.map { member -> HTML in
            memberItem(
                member.run,
                label: member.settings.isEmpty
                    ? member.run.name : member.settings.map { "\($0.path)=\($0.value)" }.joined(separator: " "))
        }
        return "<ul class=\"members\">\n\(items)</ul>\n"
    }

    static func memberItem(_ run: RunDetails, label: String) -> HTML {
        """
        <li><a href="\(URLPath.make("runs", run.id))"><code>\(String(run.id.prefix(8)))</code></a> \
        \(label) <span class="state \(run.state.rawValue)">\(run.state.rawValue)</span></li>

        """
    }

    /// What brings failed or cancelled members back: they never complete by themselves.
    static func resumeAdvice(_ group: GroupDetails) -> HTML {
        guard group.summary.members.failed + group.summary.members.cancelled > 0 else { return "" }
        return
            "; failed and cancelled members complete only after <code>e2h resume \(String(group.summary.id.prefix(8)))</code>"
    }

    static func members(_ count: Int) -> String { count == 1 ? "member" : "members" }

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
