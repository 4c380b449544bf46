import Foundation
import Testing
import WireTypes

@testable import Analysis

/// Claims named before a run: each is a paired comparison of two rows on hard levels with the verdict its interval
/// gives, built from the same estimators as every `compare` row.
@Suite struct ClaimTests {
    static let weighted = RowReference(method: "weighted", evaluator: "orm", aggregation: "prod")
    static let majority = RowReference(method: "majority")
    static let ppo = RowReference(policy: "ppo", method: "greedy")

    @Test func aClaimIsThePairedDifferenceOnHardLevelsWithItsVerdict() throws {
        let run = ComparisonTests.run("a", skill: 0)
        let claims = try Comparison.claims(
            [
                Claim(name: "weighted beats majority", row: Self.weighted, versus: Self.majority),
                Claim(name: "majority beats weighted", row: Self.majority, versus: Self.weighted),
                Claim(name: "ppo beats majority", row: Self.ppo, versus: Self.majority),
            ], runs: [run], n: nil)
        #expect(claims.map(\.name) == ["weighted beats majority", "majority beats weighted", "ppo beats majority"])
        #expect(claims.allSatisfy { $0.row.levels == .hard })
        // The same figure as the compare row with that baseline, and its mirror image the other way round.
        let row = try #require(
            Comparison.compare(
                runs: [run], request: ComparisonRequest(rows: [Self.weighted], baseline: Self.majority, levels: [.hard])
            ).rows.first)
        #expect(claims[0].row == row && claims[0].versus == "majority@4")
        #expect(claims[0].row.verdict == .holds && claims[1].row.verdict == .reversed)
        let forward = try #require(claims[0].row.difference)
        let backward = try #require(claims[1].row.difference)
        #expect(abs(forward.mean + backward.mean) < 1e-12)
        // ppo's hard greedy row: (7p) mod 40 < 20 − 5 − 16 holds for no problem, majority's for 4 of 40.
        #expect(claims[2].row.verdict == .reversed || claims[2].row.verdict == .notShown)
        #expect(try #require(claims[2].row.difference).mean < 0)
    }

    @Test func aGroupPairsClaimsBySeed() throws {
        let runs = (0..<3).map { ComparisonTests.run("seed\($0)", skill: $0 * 3) }
        let claims = try Comparison.claims(
            [Claim(name: "weighted beats majority", row: Self.weighted, versus: Self.majority)], runs: runs, n: 4)
        let claim = try #require(claims.first)
        #expect(claim.row.difference?.method == .seedT && claim.row.difference?.seeds == 3)
    }

    @Test func aClaimNamingAnUnrecordedRowSaysWhichRowsExist() {
        let error = #expect(throws: AnalysisError.self) {
            try Comparison.claims(
                [
                    Claim(
                        name: "x", row: RowReference(method: "weighted", evaluator: "orn", aggregation: "prod"),
                        versus: Self.majority)
                ], runs: [ComparisonTests.run("a", skill: 0)], n: nil)
        }
        #expect(error?.message.contains("did you mean 'weighted/orm/prod'") == true)
    }

    @Test func theTablesShowTheClaimsAfterTheRowsAndAnOlderReportDecodesWithout() throws {
        let run = ComparisonTests.run("a", skill: 0)
        var report = try Comparison.compare(
            runs: [run], request: ComparisonRequest(rows: [Self.weighted], baseline: Self.majority))
        report.claims = try Comparison.claims(
            [Claim(name: "(a) weighted beats majority", row: Self.weighted, versus: Self.majority)], runs: [run],
            n: nil)
        let text = ComparisonTable.render(report, as: .text)
        let claimsAt = try #require(text.range(of: "Claims named before the run:"))
        #expect(text[claimsAt.upperBound...].contains("(a) weighted beats majority"))
        #expect(text[claimsAt.upperBound...].contains("+25.0 ["))
        #expect(text[claimsAt.upperBound...].contains("holds"))
        #expect(
            ComparisonTable.render(report, as: .markdown).contains(
                "| (a) weighted beats majority | weighted/orm/prod@4 | majority@4 | +25.0 ["))
        var object = try #require(
            try JSONSerialization.jsonObject(with: StateDirectory.jsonEncoder.encode(report)) as? [String: Any])
        object["claims"] = nil
        let older = try StateDirectory.jsonDecoder.decode(
            ComparisonReport.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(older.claims.isEmpty && older.rows == report.rows)
    }
}
