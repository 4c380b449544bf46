public import WireTypes

/// A claim named before the run: `row` is better than `versus` on hard problems. Its verdict comes from the
/// paired difference's 95 % interval (holds above 0, reversed below, not shown across it) — the same
/// estimators as every other comparison row, so a claims table is a view of `compare`, not a second statistic.
///
/// A spec names several claims, and at 95 % each, some would "hold" by chance alone (with nine claims of no
/// effect, about one in three tables shows at least one). So each claim also gets a family-wise verdict: the same
/// estimator at 1 − 0.05/k for a table of k claims (Bonferroni), which keeps the chance of any false verdict in the
/// table at 5 % or less whatever the claims' dependence.
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
    /// seed), in the order given, at 95 % and family-wise over the k claims (1 − 0.05/k). References without N
    /// take `n`, else their largest N.
    public static func claims(
        _ claims: [Claim], runs: [RunScores], n: Int?, resamples: Int = ProblemBootstrap.defaultResamples
    ) throws(AnalysisError) -> [ClaimResult] {
        let familyConfidence = 1 - 0.05 / Double(claims.count)
        return try claims.map { claim throws(AnalysisError) in
            func tested(at confidence: Double) throws(AnalysisError) -> (row: ComparisonRow, versus: String) {
                let report = try compare(
                    runs: runs,
                    request: ComparisonRequest(
                        rows: [claim.row], baseline: claim.versus, n: n, levels: [.hard], resamples: resamples,
                        confidence: confidence))
                guard let row = report.rows.first, row.difference != nil else {
                    throw AnalysisError(
                        .unknownRow, "claim '\(claim.name)' compares \(claim.row) with itself; name two different rows")
                }
                return (row, report.baseline ?? claim.versus.description)
            }
            let (row, versus) = try tested(at: 0.95)
            let family = claims.count == 1 ? row : try tested(at: familyConfidence).row
            return ClaimResult(
                name: claim.name, row: row, versus: versus,
                family: .init(claims: claims.count, difference: family.difference!, verdict: family.verdict!))
        }
    }
}
