import Foundation
import Testing
import WireTypes

@testable import Analysis

@Suite struct RowFilterAndTableTests {
    static func row(
        _ method: String, evaluator: String = "none", aggregation: String = "none", n: Int, levels: LevelScope = .hard,
        mean: Double = 0.3, seeds: Int = 1, difference: Double? = nil
    ) -> ComparisonRow {
        let accuracy = IntervalEstimate(
            mean: mean, lower: mean - 0.05, upper: mean + 0.05, method: seeds > 1 ? .seedT : .problemBootstrap,
            seeds: seeds, sd: seeds > 1 ? 0.02 : nil, problems: 300)
        let delta = difference.map {
            IntervalEstimate(
                mean: $0, lower: $0 - 0.04, upper: $0 + 0.04, method: .problemBootstrap, seeds: seeds,
                sd: nil, problems: 300)
        }
        return ComparisonRow(
            policy: "sft", method: method, evaluator: evaluator, aggregation: aggregation, n: n, levels: levels,
            accuracy: accuracy, difference: delta, verdict: delta.map(Verdict.init))
    }

    static let rows = [
        row("majority", n: 64),
        row("weighted", evaluator: "verifier", aggregation: "prod", n: 16, mean: 0.35, difference: 0.05),
        row("weighted", evaluator: "verifier", aggregation: "prod", n: 64, mean: 0.42, difference: 0.12),
        row("best_of_n", evaluator: "orm", aggregation: "min", n: 64, levels: .easy, mean: 0.6, difference: -0.1),
    ]

    func selected(_ filter: String) throws -> [Int] {
        let parsed = try RowFilter(parsing: filter)
        return Self.rows.indices.filter { parsed.matches(Self.rows[$0]) }
    }

    @Test func filtersCombineComparisonsWithAndOrAndParentheses() throws {
        #expect(try selected("evaluator=verifier and n>=16") == [1, 2])
        #expect(try selected("evaluator = verifier and n > 16") == [2])
        #expect(try selected("method in (majority, best_of_n)") == [0, 3])
        #expect(try selected("levels=easy or accuracy<0.31") == [0, 3])
        #expect(try selected("(method=weighted or method=majority) and n=64") == [0, 2])
        #expect(try selected("method=weighted or method=majority and n=64") == [0, 1, 2])
        #expect(try selected("verdict != holds") == [0, 3])
        #expect(try selected("difference < 0") == [3])
        #expect(try selected("evaluator='verifier' AND n<=16") == [1])
        let deepest = String(repeating: "(", count: 64) + "n<64" + String(repeating: ")", count: 64)
        #expect(try selected(deepest) == [1])
    }

    @Test(arguments: [
        ("evaluator=verifier and", "column 23: expected a field or '(', found the end"),
        ("evalutor=verifier", "column 1: unknown field 'evalutor' — did you mean 'evaluator'?"),
        ("n>=sixteen", "column 4: n is a number; 'sixteen' is not"),
        ("method<weighted", "column 7: method is text: compare it with =, != or in"),
        ("(n=4", "column 5: expected ')', found the end"),
        ("n=4 n=8", "column 5: unexpected 'n' after a complete condition"),
        ("method in (a b)", "column 14: expected ',' or ')', found 'b'"),
        ("method='open", "column 8: the quote ' is never closed"),
        ("n = = 4", "column 5: expected a value, found '='"),
    ])
    func malformedFiltersSayWhere(filter: String, message: String) {
        let error = #expect(throws: AnalysisError.self) { try RowFilter(parsing: filter) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "--where \(message)", "\(error?.message ?? "")")
    }

    /// The tables show percent and the fields are fractions: `accuracy > 10` matched nothing without a word.
    @Test func aFractionComparedWithAPercentageIsRefused() throws {
        for (filter, message) in [
            ("accuracy > 10", "write 0.1 for 10 %"), ("n = 4 and difference in (0, -12.5)", "write -0.125 for -12.5 %"),
        ] {
            let error = #expect(throws: AnalysisError.self) { try RowFilter(parsing: filter) }
            #expect(error?.message.hasSuffix(message) == true, "\(error?.message ?? "accepted")")
        }
        #expect(try selected("accuracy > 0.4 or n > 60") == [0, 2, 3])
    }

    /// Parsing recurses a level a parenthesis, so nesting is bounded: 10,000 levels ended e2hd's `runs --where`.
    @Test func deepNestingIsRefusedAtTheFirstParenthesisTooMany() {
        let filter = String(repeating: "(", count: 10_000) + "n=4" + String(repeating: ")", count: 10_000)
        let error = #expect(throws: AnalysisError.self) { try RowFilter(parsing: filter) }
        #expect(error?.message == "--where column 65: more than 64 parentheses nested; write the condition flatter")
    }

    static let report = ComparisonReport(
        runs: ["r1"], baseline: "majority@64", resamples: 2000, headline: true, rows: rows)

    @Test func theTextTableFitsAHundredColumns() {
        let text = ComparisonTable.render(Self.report, as: .text)
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(text)")
        #expect(lines[0].hasPrefix("row") && lines[0].contains("Δ vs majority@64 [95% CI]"))
        #expect(text.contains("weighted/verifier/prod@64  hard"))
        #expect(text.contains("42.0 [37.0, 47.0]") && text.contains("+12.0 [8.0, 16.0]"))
        #expect(text.contains("-10.0 [-14.0, -6.0]  reversed"))
        #expect(text.contains("(baseline)"))
        #expect(text.contains("bootstrap interval over problems (2000 resamples)"))
        // A group adds n and sd; a very long row name is cut, not wrapped.
        var group = Self.report
        group.rows = group.rows.map { row in
            var row = row
            row.accuracy.seeds = 3
            row.accuracy.sd = 0.012
            row.evaluator = String(repeating: "long", count: 20)
            return row
        }
        let groupText = ComparisonTable.render(group, as: .text)
        #expect(groupText.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(groupText)")
        #expect(groupText.contains("…") && groupText.contains("mean of 3 seeds"))
    }

    @Test func markdownCSVAndJSONCarryTheFigures() throws {
        let markdown = ComparisonTable.render(Self.report, as: .markdown)
        #expect(
            markdown.hasPrefix(
                "| row | levels | accuracy % [95% CI] | Δ vs majority@64 [95% CI] | verdict |\n|---|---|---:|---:|---:|"
            ))
        #expect(markdown.contains("| weighted/verifier/prod@16 | hard | 35.0 [30.0, 40.0] | +5.0 [1.0, 9.0] | holds |"))
        let csv = ComparisonTable.render(Self.report, as: .csv).split(separator: "\n")
        #expect(csv.count == 5)
        #expect(csv[0].hasPrefix("policy,method,evaluator,aggregation,n,levels,accuracy,lower,upper"))
        let fields = csv[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(
            fields.count == 18 && fields.prefix(7) == ["sft", "weighted", "verifier", "prod", "64", "hard", "0.42"])
        #expect(abs(Double(fields[7])! - 0.37) < 1e-12 && abs(Double(fields[15])! - 0.16) < 1e-12)
        #expect(fields[9] == "bootstrap_over_problems" && fields[11] == "" && fields[12] == "300")
        #expect(fields[16] == "holds" && fields[17] == "majority@64")
    }
}
