import Foundation

/// What the runs list shows of a completed run, computed once when it completes: the hard-level accuracy of the
/// row its spec names as baseline (`report.baseline` at `report.n`; `sft/majority` at its largest N without a
/// `report:` block), with the 95 % interval over problems that `compare` gives one run, and the tally of the
/// verdicts of the claims the spec named (`report.claims`). The row is fixed by the spec before the run, never
/// picked by its result.
public struct RunHeadline: Codable, Sendable, Equatable {
    /// The row as `compare` names it, with its N (e.g. "sft/majority@64").
    public var row: String
    /// Hard levels, one run: the percentile bootstrap over problems.
    public var accuracy: IntervalEstimate
    /// Nil when the spec names no claims.
    public var claims: ClaimTally?

    public init(row: String, accuracy: IntervalEstimate, claims: ClaimTally?) {
        self.row = row
        self.accuracy = accuracy
        self.claims = claims
    }
}

/// How many of a run's claims each verdict got, at 95 % each, and how many hold family-wise.
public struct ClaimTally: Codable, Sendable, Equatable {
    public var holds: Int
    public var notShown: Int
    public var reversed: Int
    /// How many claims hold family-wise: at 1 − 0.05/k over the spec's k claims (Bonferroni), as `compare`'s claims
    /// table reads them. A tally of 95 % verdicts alone overstates a long list of claims: with nine claims and no
    /// effect, about one table in three shows a claim that holds. Nil in records of an e2h that did not count it.
    public var familyHolds: Int?

    public init(holds: Int, notShown: Int, reversed: Int, familyHolds: Int? = nil) {
        self.holds = holds
        self.notShown = notShown
        self.reversed = reversed
        self.familyHolds = familyHolds
    }

    /// Each claim's 95 % verdict and its family-wise one.
    public init(_ verdicts: [(verdict: Verdict, family: Verdict)]) {
        holds = verdicts.filter { $0.verdict == .holds }.count
        notShown = verdicts.filter { $0.verdict == .notShown }.count
        reversed = verdicts.filter { $0.verdict == .reversed }.count
        familyHolds = verdicts.filter { $0.family == .holds }.count
    }

    public var total: Int { holds + notShown + reversed }
}
