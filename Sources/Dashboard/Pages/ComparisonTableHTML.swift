import Analysis
import WireTypes

/// A comparison's headline as an HTML table, then the claims the spec named before the run: the same cells and
/// footnote `e2h compare` prints.
enum ComparisonTableHTML {
    static func table(_ report: ComparisonReport) -> HTML {
        let headline = rendered(ComparisonTable.cells(report), textColumns: 2, className: "comparison")
        let claims = ComparisonTable.claimCells(report)
        let named: HTML =
            claims.rows.isEmpty
            ? ""
            : """
            <h3>Claims named before the run</h3>
            \(rendered(claims, textColumns: 3, className: "comparison claims"))
            """
        return """
            \(headline)<p class="muted">\(ComparisonTable.footnote(report, allHint: false))</p>
            \(named)
            """
    }

    /// Cells as a table, the first `textColumns` as text and the rest as numbers.
    private static func rendered(
        _ table: (header: [String], rows: [[String]]), textColumns: Int, className: String
    ) -> HTML {
        let head = table.header.enumerated().map { index, cell -> HTML in
            index < textColumns ? "<th>\(cell)</th>" : "<th class=\"number\">\(cell)</th>"
        }
        let body = table.rows.map { cells -> HTML in
            let row = cells.enumerated().map { index, cell -> HTML in
                index < textColumns ? "<td>\(cell)</td>" : "<td class=\"number\">\(cell)</td>"
            }
            return "<tr>\(row)</tr>\n"
        }
        return """
            <table class="\(className)">
            <thead><tr>\(head)</tr></thead>
            <tbody>
            \(body)</tbody>
            </table>

            """
    }
}
