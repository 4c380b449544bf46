import Analysis
import WireTypes

/// A comparison's headline as an HTML table: the same cells and footnote `e2h compare` prints.
enum ComparisonTableHTML {
    static func table(_ report: ComparisonReport) -> HTML {
        let (header, rows) = ComparisonTable.cells(report)
        let head = header.enumerated().map { index, cell -> HTML in
            index < 2 ? "<th>\(cell)</th>" : "<th class=\"number\">\(cell)</th>"
        }
        let body = rows.map { cells -> HTML in
            let row = cells.enumerated().map { index, cell -> HTML in
                index < 2 ? "<td>\(cell)</td>" : "<td class=\"number\">\(cell)</td>"
            }
            return "<tr>\(row)</tr>\n"
        }
        return """
            <table class="comparison">
            <thead><tr>\(head)</tr></thead>
            <tbody>
            \(body)</tbody>
            </table>
            <p class="muted">\(ComparisonTable.footnote(report))</p>

            """
    }
}
