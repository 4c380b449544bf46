public import WireTypes

/// Statistics across seeds: the runs of a group that differ only by seed are independent repetitions.
public enum SeedStatistics {
    /// Mean, sample standard deviation (n − 1 denominator), n, and the 95 % Student t interval
    /// mean ± t₀.₉₇₅(n − 1) · sd / √n over per-seed values (one value per seed, e.g. one run's hard accuracy);
    /// another `confidence` c takes t at (1 + c)/2. The interval treats seeds as a sample from the run-to-run
    /// distribution; it says nothing about the problems, which every seed shares. Needs at least 2 seeds: one
    /// seed has no spread.
    public static func summary(
        _ values: [Double], problems: Int, confidence: Double = 0.95
    ) throws(AnalysisError) -> IntervalEstimate {
        guard !values.isEmpty else { throw AnalysisError(.emptyInput, "no per-seed values to summarize") }
        guard values.count >= 2 else {
            throw AnalysisError(
                .tooFewSeeds,
                "one seed has no spread across seeds; use the bootstrap over problems, or add seeds (--seeds 0..2)")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw AnalysisError(.invalidArgument, "a per-seed value is not a finite number")
        }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let sd = variance.squareRoot()
        let half =
            StudentT.quantile((1 + confidence) / 2, degreesOfFreedom: values.count - 1) * sd / n.squareRoot()
        return IntervalEstimate(
            mean: mean, lower: mean - half, upper: mean + half, method: .seedT, seeds: values.count, sd: sd,
            problems: problems)
    }

    /// The same summary of the per-seed differences a[i] − b[i]: both rows must come from the same seeds,
    /// in the same order, so that what a seed shares (its policy, its samples) cancels in each difference.
    public static func pairedDifference(
        _ a: [Double], minus b: [Double], problems: Int, confidence: Double = 0.95
    ) throws(AnalysisError) -> IntervalEstimate {
        guard a.count == b.count else {
            throw AnalysisError(
                .notPaired, "\(a.count) seeds against \(b.count): a paired difference needs the same seeds")
        }
        return try summary(zip(a, b).map { $0 - $1 }, problems: problems, confidence: confidence)
    }
}

extension Verdict {
    /// holds when the interval is above 0, reversed when below, not shown when it contains 0.
    public init(_ difference: IntervalEstimate) {
        if difference.lower > 0 {
            self = .holds
        } else if difference.upper < 0 {
            self = .reversed
        } else {
            self = .notShown
        }
    }
}
