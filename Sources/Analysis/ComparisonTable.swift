import Foundation
public import WireTypes

/// A comparison as a table: text for a terminal (fits 100 columns), Markdown for papers and CI, CSV with every
/// field (interval bounds included, as fractions at full precision). JSON is the API's own response, printed whole
/// by `e2h compare --json`.
public enum ComparisonTable {
    public enum Format: String, Sendable, CaseIterable {
        case text, markdown, csv
    }

    public static func render(_ report: ComparisonReport, as format: Format) -> String {
        switch format {
        case .text: text(report)
        case .markdown: markdown(report)
        case .csv: csv(report)
        }
    }

    /// The shown columns: row, levels, accuracy with interval, difference with interval, verdict, n, sd. Public for
    /// the dashboard, which shows the same cells as an HTML table.
    public static func cells(_ report: ComparisonReport) -> (header: [String], rows: [[String]]) {
        let group = report.rows.contains { $0.accuracy.seeds > 1 }
        var header = ["row", "levels", "accuracy % [95% CI]"]
        if report.baseline != nil { header += ["Δ vs \(report.baseline!) [95% CI]", "verdict"] }
        if group { header += ["n", "sd"] }
        let rows = report.rows.map { row in
            var cells = [
                RowKey(
                    policy: row.policy, method: row.method, evaluator: row.evaluator, aggregation: row.aggregation,
                    n: row.n
                ).description, row.levels.description, interval(row.accuracy, signed: false),
            ]
            if report.baseline != nil {
                cells += [row.difference.map { interval($0, signed: true) } ?? "(baseline)", verdict(row.verdict)]
            }
            if group { cells += [String(row.accuracy.seeds), row.accuracy.sd.map { percent($0) } ?? ""] }
            return cells
        }
        return (header, rows)
    }

    /// The claims table: each claim named before the run, its row minus the row it is compared with on hard
    /// levels, the interval, the verdict, and the verdict family-wise over the table's k claims (Bonferroni; its
    /// interval is in `--json`). Empty when the report has no claims.
    public static func claimCells(_ report: ComparisonReport) -> (header: [String], rows: [[String]]) {
        let header = ["claim (hard levels)", "row", "versus", "Δ % [95% CI]", "verdict", "Bonferroni"]
        let rows = report.claims.map { claim in
            [
                claim.name,
                RowKey(
                    policy: claim.row.policy, method: claim.row.method, evaluator: claim.row.evaluator,
                    aggregation: claim.row.aggregation, n: claim.row.n
                ).description,
                claim.versus,
                claim.row.difference.map { interval($0, signed: true) } ?? "",
                verdict(claim.row.verdict),
                verdict(claim.family?.verdict),
            ]
        }
        return (header, rows)
    }

    /// What the claims table's last column means, with the table's k.
    static func claimsFootnote(_ report: ComparisonReport) -> String {
        let k = report.claims.count
        return
            "Bonferroni: each claim's difference at 1 − 0.05/\(k) for the \(k) claim\(k == 1 ? "" : "s") named, so the "
            + "chance of any false verdict in this column is at most 5 % (the 95 % verdicts: about 5 % each)."
    }

    static func text(_ report: ComparisonReport) -> String {
        var lines = [aligned(cells(report), textColumns: 2)]
        lines += wrapped(footnote(report), width: 100)
        if !report.claims.isEmpty {
            lines += ["", "Claims named before the run:", aligned(claimCells(report), textColumns: 3)]
            lines += wrapped(claimsFootnote(report), width: 100)
        }
        return lines.joined(separator: "\n")
    }

    /// A table in columns: the first `textColumns` left-aligned (the first cut with an ellipsis past 100
    /// columns), figures right-aligned.
    static func aligned(_ table: (header: [String], rows: [[String]]), textColumns: Int) -> String {
        let (header, rows) = table
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        // The row name is the one column that can grow; past 100 columns it is cut with an ellipsis.
        let others = widths.dropFirst().reduce(0, +) + 2 * (widths.count - 1)
        widths[0] = min(widths[0], max(12, 100 - others))
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let fitted = cell.count > widths[index] ? String(cell.prefix(widths[index] - 1)) + "…" : cell
                let padding = String(repeating: " ", count: widths[index] - fitted.count)
                // Text left, figures right.
                return index < textColumns ? fitted + padding : padding + fitted
            }.joined(separator: "  ").replacingTrailingSpaces()
        }
        var lines = [line(header), String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1))]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }

    /// Words filled into lines of at most `width` characters.
    static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func markdown(_ report: ComparisonReport) -> String {
        var lines = markdownTable(cells(report), textColumns: 2)
        lines.append("")
        lines.append(footnote(report))
        if !report.claims.isEmpty {
            lines += ["", "Claims named before the run:", ""] + markdownTable(claimCells(report), textColumns: 3)
            lines += ["", claimsFootnote(report)]
        }
        return lines.joined(separator: "\n")
    }

    static func markdownTable(_ table: (header: [String], rows: [[String]]), textColumns: Int) -> [String] {
        let escape = { (cell: String) in cell.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["| " + table.header.map(escape).joined(separator: " | ") + " |"]
        lines.append("|" + table.header.indices.map { $0 < textColumns ? "---|" : "---:|" }.joined())
        lines += table.rows.map { "| " + $0.map(escape).joined(separator: " | ") + " |" }
        return lines
    }

    /// Every field, one line per row and levels.
    static func csv(_ report: ComparisonReport) -> String {
        let header = [
            "policy", "method", "evaluator", "aggregation", "n", "levels", "accuracy", "lower", "upper", "interval",
            "seeds", "sd", "problems", "difference", "difference_lower", "difference_upper", "verdict", "baseline",
        ]
        func quoted(_ field: String) -> String {
            field.contains(where: { ",\"\n".contains($0) })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        let lines = report.rows.map { row -> String in
            let fields: [String] = [
                row.policy, row.method, row.evaluator, row.aggregation, String(row.n), row.levels.description,
                "\(row.accuracy.mean)", "\(row.accuracy.lower)", "\(row.accuracy.upper)", row.accuracy.method.rawValue,
                String(row.accuracy.seeds), row.accuracy.sd.map { "\($0)" } ?? "", String(row.accuracy.problems),
                row.difference.map { "\($0.mean)" } ?? "", row.difference.map { "\($0.lower)" } ?? "",
                row.difference.map { "\($0.upper)" } ?? "", row.verdict?.rawValue ?? "", report.baseline ?? "",
            ]
            return fields.map(quoted).joined(separator: ",")
        }
        return ([header.joined(separator: ",")] + lines).joined(separator: "\n")
    }

    /// The estimator under a table, and for the terminal (`allHint`) how to see every row.
    public static func footnote(_ report: ComparisonReport, allHint: Bool = true) -> String {
        // A filter may leave no rows; the runs compared still say which estimator the rows had.
        let seeds = report.rows.first?.accuracy.seeds ?? report.runs.count
        let how =
            seeds > 1
            ? "mean of \(seeds) seeds; 95 % t interval across seeds, differences paired by seed"
            : "one run; 95 % bootstrap interval over problems (\(report.resamples) resamples), differences paired by problem"
        return "Accuracy in %, \(how)."
            + (report.headline ? " Headline rows" + (allHint ? "; --all shows every row." : ".") : "")
    }

    static func percent(_ value: Double) -> String {
        let tenths = (value * 1000).rounded()
        // −0.04 % shows as 0.0, not "-0.0".
        return String(format: "%.1f", tenths == 0 ? 0 : tenths / 10)
    }

    static func interval(_ estimate: IntervalEstimate, signed: Bool) -> String {
        let sign = signed && estimate.mean >= 0 ? "+" : ""
        return "\(sign)\(percent(estimate.mean)) [\(percent(estimate.lower)), \(percent(estimate.upper))]"
    }

    static func verdict(_ verdict: Verdict?) -> String {
        switch verdict {
        case .holds?: "holds"
        case .reversed?: "reversed"
        case .notShown?: "not shown"
        case nil: ""
        }
    }
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
