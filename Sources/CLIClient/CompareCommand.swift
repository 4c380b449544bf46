import ArgumentParser
import Foundation
import WireTypes

struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scores of runs side by side: method × evaluator × aggregation × N, easy/hard/all, with deltas.")

    @Argument(help: "Run ids (or unique prefixes); deltas are against the first.") var runs: [String]
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if runs.isEmpty { throw ValidationError("name at least one run") }
    }

    func run() async throws {
        try await E2H.guarded {
            let report = try await connection.client().post(
                "v1/compare", body: ["runs": runs], as: CompareReport.self)
            if output.json { return try printJSON(report) }
            let table = Self.table(report)
            if output.csv {
                print(table.csv())
                return
            }
            print(table.rendered())
            if report.runs.count > 1 {
                print("")
                if report.specDifferences.isEmpty {
                    print("specs: identical")
                } else {
                    print("spec differences:")
                    for difference in report.specDifferences {
                        print("  \(difference.path): " + difference.values.joined(separator: " | "))
                    }
                }
            }
        }
    }

    static func table(_ report: CompareReport) -> TextTable {
        var header = ["policy", "method", "evaluator", "aggregation", "N"]
        for (index, run) in report.runs.enumerated() {
            let label = String(run.id.prefix(8))
            header += ["\(label) easy", "\(label) hard", "\(label) all"]
            if index > 0 { header += ["Δeasy", "Δhard", "Δall"] }
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0 * 100) } ?? "-" }
        func delta(_ value: Double?, _ base: Double?) -> String {
            guard let value, let base else { return "-" }
            return String(format: "%+.1f", (value - base) * 100)
        }
        let rows = report.rows.map { row -> [String] in
            var cells = [row.policy, row.method, row.evaluator, row.aggregation, "\(row.n)"]
            let base = row.cells.first ?? nil
            for (index, cell) in row.cells.enumerated() {
                cells += [percent(cell?.easy), percent(cell?.hard), percent(cell?.all)]
                if index > 0 {
                    cells += [
                        delta(cell?.easy, base?.easy), delta(cell?.hard, base?.hard), delta(cell?.all, base?.all),
                    ]
                }
            }
            return cells
        }
        return TextTable(header: header, rows: rows)
    }
}
