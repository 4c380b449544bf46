public import WireTypes

extension Comparison {
    /// A completed run's headline (`RunHeadline`): the hard-level accuracy of the `request`'s baseline row with the
    /// interval `compare` gives it for one run, and the tally of `claims`' verdicts as `compare` gives them, at 95 %
    /// and family-wise. The row comes from the request (the spec's `report:` block, or the default headline), never
    /// from the results.
    public static func headline(
        of run: RunScores, request: ComparisonRequest, claims: [Claim],
        resamples: Int = ProblemBootstrap.defaultResamples
    ) throws(AnalysisError) -> RunHeadline {
        guard let baseline = request.baseline else {
            throw AnalysisError(.invalidArgument, "the headline needs a baseline row; the request names none")
        }
        let report = try compare(
            runs: [run],
            request: ComparisonRequest(
                rows: [baseline], baseline: nil, n: request.n, levels: [.hard], resamples: resamples))
        guard let row = report.rows.first else {
            throw AnalysisError(.unknownRow, "no row '\(baseline)' in run \(run.run)")
        }
        let key = RowKey(
            policy: row.policy, method: row.method, evaluator: row.evaluator, aggregation: row.aggregation, n: row.n)
        let tally =
            claims.isEmpty
            ? nil
            : ClaimTally(
                try Comparison.claims(claims, runs: [run], n: request.n, resamples: resamples).map {
                    // `claims` refuses a claim without a difference, so every result has both verdicts.
                    (verdict: $0.row.verdict ?? .notShown, family: $0.family?.verdict ?? .notShown)
                })
        return RunHeadline(row: key.description, accuracy: row.accuracy, claims: tally)
    }
}
