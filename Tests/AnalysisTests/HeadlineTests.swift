import Testing
import WireTypes

@testable import Analysis

/// The runs list's headline of a completed run: the baseline row's hard accuracy and the claims' tally, computed
/// without I/O from the same estimators as `compare`.
@Suite struct HeadlineTests {
    static let majority = RowReference(method: "majority")
    static let weighted = RowReference(method: "weighted", evaluator: "orm", aggregation: "prod")

    @Test func theHeadlineIsTheBaselineRowsHardFigureAsCompareGivesIt() throws {
        let run = ComparisonTests.run("a", skill: 0)
        // The spec's headline rows are weighted and greedy; its baseline, majority, is the headline's row.
        let request = ComparisonRequest(rows: [Self.weighted], baseline: Self.majority)
        let headline = try Comparison.headline(of: run, request: request, claims: [])
        #expect(headline.row == "majority@4")
        #expect(headline.claims == nil)
        // Level 2 (hard): (7p) mod 40 < 4 for 4 of 40 problems.
        #expect(abs(headline.accuracy.mean - 4.0 / 40) < 1e-12)
        #expect(headline.accuracy.problems == 40 && headline.accuracy.method == .problemBootstrap)
        #expect(headline.accuracy.lower < headline.accuracy.mean && headline.accuracy.mean < headline.accuracy.upper)
        let compared = try Comparison.compare(runs: [run], request: request)
        let baselineHard = try #require(
            Comparison.compare(
                runs: [run], request: ComparisonRequest(rows: [Self.majority], baseline: nil, levels: [.easy, .hard])
            ).rows.first { $0.levels == .hard })
        #expect(headline.accuracy == baselineHard.accuracy)
        #expect(compared.baseline == headline.row)
    }

    @Test func theRowIsTheBaselineWhateverScoresBest() throws {
        let run = ComparisonTests.run("a", skill: 0)
        // Weighted scores higher on hard problems; the headline still shows the named baseline.
        let headline = try Comparison.headline(
            of: run, request: ComparisonRequest(rows: nil, baseline: Self.majority), claims: [])
        let weightedHard = try Comparison.compare(
            runs: [run], request: ComparisonRequest(rows: [Self.weighted], baseline: nil, levels: [.hard])
        ).rows[0].accuracy.mean
        #expect(weightedHard > headline.accuracy.mean && headline.row == "majority@4")
    }

    @Test func claimsAreTalliedByVerdict() throws {
        let run = ComparisonTests.run("a", skill: 0)
        let claims = [
            Claim(name: "weighted beats majority", row: Self.weighted, versus: Self.majority),
            Claim(name: "majority beats weighted", row: Self.majority, versus: Self.weighted),
            Claim(name: "weighted beats majority again", row: Self.weighted, versus: Self.majority),
        ]
        let headline = try Comparison.headline(
            of: run, request: ComparisonRequest(rows: nil, baseline: Self.majority), claims: claims)
        #expect(headline.claims == ClaimTally(holds: 2, notShown: 0, reversed: 1))
        #expect(headline.claims?.total == 3)
    }

    @Test func aBaselineTheRunDidNotRecordIsAnError() {
        let run = ComparisonTests.run("a", skill: 0)
        #expect(throws: AnalysisError.self) {
            try Comparison.headline(
                of: run, request: ComparisonRequest(rows: nil, baseline: RowReference(method: "best_of_n")), claims: [])
        }
        #expect(throws: AnalysisError.self) {
            try Comparison.headline(of: run, request: ComparisonRequest(rows: nil, baseline: nil), claims: [])
        }
    }
}

@Test func theHeadlineReadsAsAPercentageWithItsIntervalAndTheClaimsTally() {
    let headline = RunHeadline(
        row: "sft/majority@64",
        accuracy: IntervalEstimate(
            mean: 0.17, lower: 0.1274, upper: 0.2126, method: .problemBootstrap, seeds: 1, sd: nil, problems: 200),
        claims: ClaimTally(holds: 3, notShown: 11, reversed: 0))
    #expect(ComparisonTable.headlineAccuracy(headline) == "17.0 % [12.7, 21.3]")
    #expect(ComparisonTable.headlineClaims(headline) == "claims 3/14 hold")
    var reversed = headline
    reversed.claims = ClaimTally(holds: 1, notShown: 0, reversed: 2)
    #expect(ComparisonTable.headlineClaims(reversed) == "claims 1/3 hold, 2 reversed")
    reversed.claims = nil
    #expect(ComparisonTable.headlineClaims(reversed) == nil)
}
