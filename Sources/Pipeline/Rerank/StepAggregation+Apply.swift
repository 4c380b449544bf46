extension StepAggregation {
    /// One score for a solution from its step scores (each in [0, 1]).
    func apply(_ stepScores: [Double]) -> Double {
        guard let last = stepScores.last else { return 0 }
        switch self {
        case .min: return stepScores.min() ?? 0
        case .prod: return stepScores.reduce(1, *)
        case .mean: return stepScores.reduce(0, +) / Double(stepScores.count)
        case .last: return last
        }
    }
}
