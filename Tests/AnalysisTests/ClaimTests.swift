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

    /// Each claim is also tested family-wise: at 1 − 0.05/k for k claims, so the table as a whole keeps a 5 % chance
    /// of any false verdict. The family interval contains the 95 % one; one claim alone is its own family.
    @Test func claimsAreAlsoTestedFamilyWiseOverTheTable() throws {
        // Seeds whose weighted row gains 8, 10 and 13 problems: a spread across seeds.
        let runs = [8, 10, 13].enumerated().map { ComparisonTests.run("seed\($0)", skill: $0 * 3, weightedBonus: $1) }
        let three = [
            Claim(name: "weighted beats majority", row: Self.weighted, versus: Self.majority),
            Claim(name: "majority beats weighted", row: Self.majority, versus: Self.weighted),
            Claim(name: "ppo beats majority", row: Self.ppo, versus: Self.majority),
        ]
        for runs in [[runs[0]], runs] {
            let claims = try Comparison.claims(three, runs: runs, n: 4)
            for claim in claims {
                let family = try #require(claim.family)
                let (narrow, wide) = (try #require(claim.row.difference), family.difference)
                #expect(family.claims == 3 && wide.mean == narrow.mean)
                #expect(wide.lower <= narrow.lower && wide.upper >= narrow.upper)
                #expect(family.verdict == Verdict(wide))
                // Family-wise can only be more cautious: it never holds where the claim alone does not.
                #expect(family.verdict == .notShown || family.verdict == claim.row.verdict)
            }
        }
        // Across seeds the family interval is the t interval at 1 − 0.05/3: t(1 − 0.025/3, 2) over t(0.975, 2) wide.
        let seeds = try Comparison.claims(three, runs: runs, n: 4)[0]
        let ratio =
            (seeds.family!.difference.upper - seeds.family!.difference.mean)
            / (seeds.row.difference!.upper - seeds.row.difference!.mean)
        #expect(abs(ratio - StudentT.quantile(1 - 0.025 / 3, degreesOfFreedom: 2) / 4.302652730) < 1e-9)
        let alone = try Comparison.claims([three[0]], runs: runs, n: 4)[0]
        #expect(alone.family?.claims == 1 && alone.family?.difference == alone.row.difference)
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
            [Claim(name: "(a) weighted wins", row: Self.weighted, versus: Self.majority)], runs: [run],
            n: nil)
        let text = ComparisonTable.render(report, as: .text)
        let claimsAt = try #require(text.range(of: "Claims named before the run:"))
        #expect(text[claimsAt.upperBound...].contains("(a) weighted wins"))
        #expect(text[claimsAt.upperBound...].contains("+25.0 ["))
        #expect(text[claimsAt.upperBound...].contains("holds"))
        #expect(text[claimsAt.upperBound...].contains("Bonferroni: each claim's difference at 1 − 0.05/1"))
        #expect(
            ComparisonTable.render(report, as: .markdown).contains(
                "| (a) weighted wins | weighted/orm/prod@4 | majority@4 | +25.0 ["))
        var object = try #require(
            try JSONSerialization.jsonObject(with: StateDirectory.jsonEncoder.encode(report)) as? [String: Any])
        object["claims"] = nil
        let older = try StateDirectory.jsonDecoder.decode(
            ComparisonReport.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(older.claims.isEmpty && older.rows == report.rows)
    }
}
