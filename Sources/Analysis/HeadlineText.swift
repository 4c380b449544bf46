public import WireTypes

extension ComparisonTable {
    /// A run's headline accuracy as the runs list and `e2h runs` print it: "17.0 % [12.7, 21.3]".
    public static func headlineAccuracy(_ headline: RunHeadline) -> String {
        let accuracy = headline.accuracy
        return "\(percent(accuracy.mean)) % [\(percent(accuracy.lower)), \(percent(accuracy.upper))]"
    }

    /// Its claims' tally, "claims 3/14 hold (1 family-wise)" (", 1 reversed" when any is); nil when the spec names no
    /// claims. The family-wise count is left out for a single claim, where it is the same test, and for records
    /// that lack it.
    public static func headlineClaims(_ headline: RunHeadline) -> String? {
        guard let claims = headline.claims else { return nil }
        let family = claims.familyHolds.map { claims.total > 1 ? " (\($0) family-wise)" : "" } ?? ""
        return "claims \(claims.holds)/\(claims.total) hold\(family)"
            + (claims.reversed > 0 ? ", \(claims.reversed) reversed" : "")
    }
}
