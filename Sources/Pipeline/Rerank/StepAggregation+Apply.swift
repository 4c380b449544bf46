extension StepAggregation {
    /// One score from a series of readings (each in [0, 1]); `final` and `last` take the series' last reading.
    func apply(_ stepScores: [Double]) -> Double {
        guard let last = stepScores.last else { return 0 }
        switch self {
        case .min: return stepScores.min() ?? 0
        case .prod: return stepScores.reduce(1, *)
        case .mean: return stepScores.reduce(0, +) / Double(stepScores.count)
        case .last, .final: return last
        }
    }

    /// Whether an evaluator of `kind` has the readings this aggregation needs (`final` needs the final token's).
    func applies(to kind: EvaluatorKind) -> Bool { self != .final || kind.readsFinalToken }

    /// A solution's score from an evaluator's readings of it (`EvaluatorScoring`: its steps, then, for ORM and
    /// OPRM, the final token). The aggregation must apply to the kind.
    ///
    /// `final` is the reading at the final token (the paper's ORM score). The other aggregations combine the
    /// steps — for an OPRM the steps plus the final outcome, as the paper scores it; for an ORM its step ends
    /// only, as before the final token was read.
    func score(_ readings: [Double], kind: EvaluatorKind, steps: Int) -> Double {
        precondition(applies(to: kind), "\(rawValue) does not apply to \(kind.rawValue)")
        return apply(self == .final || kind == .oprm ? readings : Array(readings.prefix(steps)))
    }
}
