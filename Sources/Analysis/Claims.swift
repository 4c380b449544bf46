public import WireTypes

/// A claim named before the run: `row` is better than `versus` on hard problems. Its verdict comes from the
/// paired difference's 95 % interval (holds above 0, reversed below, not shown across it) — the same
/// estimators as every other comparison row, so a claims table is a view of `compare`, not a second statistic.
public struct Claim: Sendable, Hashable, Codable {
    public var name: String
    public var row: RowReference
    public var versus: RowReference

    public init(name: String, row: RowReference, versus: RowReference) {
        self.name = name
        self.row = row
        self.versus = versus
    }
}

extension Comparison {
    /// Each claim tested on the hard levels of `runs` (one run: paired bootstrap over problems; several: paired by
    /// seed), in the order given. References without N take `n`, else their largest N.
    public static func claims(
        _ claims: [Claim], runs: [RunScores], n: Int?, resamples: Int = ProblemBootstrap.defaultResamples
    ) throws(AnalysisError) -> [ClaimResult] {
        try claims.map { claim throws(AnalysisError) in
            let report = try compare(
                runs: runs,
                request: ComparisonRequest(
                    rows: [claim.row], baseline: claim.versus, n: n, levels: [.hard], resamples: resamples))
            guard let row = report.rows.first, row.difference != nil else {
                throw AnalysisError(
                    .unknownRow, "claim '\(claim.name)' compares \(claim.row) with itself; name two different rows")
            }
            return ClaimResult(name: claim.name, row: row, versus: report.baseline ?? claim.versus.description)
        }
    }
}
