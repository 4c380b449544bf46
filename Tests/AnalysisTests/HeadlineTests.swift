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
        #expect(headline.claims == ClaimTally(holds: 2, notShown: 0, reversed: 1, familyHolds: 2))
        #expect(headline.claims?.total == 3)
    }

    /// A small effect can hold at 95 % and not over the spec's claims taken together; the tally counts both, as the
    /// claims table shows both.
    @Test func theTallyCountsTheClaimsThatHoldFamilyWise() throws {
        // Hard level: weighted is right on 4 more of 40 problems than majority and never wrong where it is right.
        // A resample without any of the four has probability (36/40)^40 ≈ 1.5 %: inside the 2.5 % tail at 95 %,
        // outside the 0.83 % tail at 1 − 0.05/3.
        let run = ComparisonTests.run("a", skill: 0, weightedBonus: 4)
        let claims = [
            Claim(name: "weighted beats majority", row: Self.weighted, versus: Self.majority),
            Claim(name: "weighted beats majority again", row: Self.weighted, versus: Self.majority),
            Claim(name: "majority beats weighted", row: Self.majority, versus: Self.weighted),
        ]
        let headline = try Comparison.headline(
            of: run, request: ComparisonRequest(rows: nil, baseline: Self.majority), claims: claims)
        #expect(headline.claims == ClaimTally(holds: 2, notShown: 0, reversed: 1, familyHolds: 0))
        let table = try Comparison.claims(claims, runs: [run], n: nil)
        #expect(table.map(\.row.verdict) == [.holds, .holds, .reversed])
        #expect(table.map(\.family?.verdict) == [.notShown, .notShown, .notShown])
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
    // A record made before the family-wise count was kept.
    #expect(ComparisonTable.headlineClaims(headline) == "claims 3/14 hold")
    var reversed = headline
    reversed.claims = ClaimTally(holds: 1, notShown: 0, reversed: 2, familyHolds: 0)
    #expect(ComparisonTable.headlineClaims(reversed) == "claims 1/3 hold (0 family-wise), 2 reversed")
    // One claim is its own family.
    reversed.claims = ClaimTally(holds: 1, notShown: 0, reversed: 0, familyHolds: 1)
    #expect(ComparisonTable.headlineClaims(reversed) == "claims 1/1 hold")
    reversed.claims = nil
    #expect(ComparisonTable.headlineClaims(reversed) == nil)
}
