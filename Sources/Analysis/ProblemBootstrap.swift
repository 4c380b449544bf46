import Randomness
public import WireTypes

/// The percentile bootstrap over problems, for the figures of one run.
///
/// A run's accuracy on some levels is the mean, over those levels' problems, of each problem's
/// accuracy (its correct picks over its resampled subsets, so resamples are averaged, never counted
/// as problems). Its uncertainty comes from which problems the test split happens to hold; the
/// bootstrap estimates it by redrawing the problems: each of `resamples` replicates draws, within
/// every level, as many problems as the level has, uniformly with replacement (stratified by level,
/// because the split fixes each level's count), and recomputes the mean. The 95 % interval is the
/// 2.5th and 97.5th percentile of the replicates (type 7 interpolation).
///
/// The paired difference between two rows measured on the same problems (two methods on one run's
/// pools) uses the same replicates for both rows: each replicate's difference of means is the mean
/// of the per-problem differences, so what the problems share (their difficulty) cancels and the
/// interval is much narrower than one built from two independent intervals.
///
/// Replicates depend only on the seed, the level and the level's problem count, never on the
/// values, so the same record always gives the same interval, and every row of a run (and every
/// run with the same split sizes) is judged on the same redrawn problems.
public struct ProblemBootstrap: Sendable {
    public static let defaultResamples = 2000
    /// Fixed: an interval is a function of the record alone.
    public static let defaultSeed: UInt64 = 0x6532_685F_626F_6F74

    public let resamples: Int
    private let seed: UInt64
    /// Per level: its problem count and its replicates' multiplicities (resamples × problems, row-major):
    /// how often each problem is drawn in each replicate. Looked up by level, never iterated.
    private var levels: [Int: (problems: Int, multiplicities: [Float])] = [:]

    public init(resamples: Int = defaultResamples, seed: UInt64 = defaultSeed) throws(AnalysisError) {
        guard (100...1_000_000).contains(resamples) else {
            throw AnalysisError(.invalidArgument, "\(resamples) bootstrap resamples; use 100 to 1,000,000")
        }
        self.resamples = resamples
        self.seed = seed
    }

    /// The replicates of one level with `problems` problems; drawn once and reused for every row.
    private mutating func multiplicities(level: Int, problems: Int) -> [Float] {
        if let existing = levels[level], existing.problems == problems { return existing.multiplicities }
        var random = RandomGenerator(splitMixSeed: seed ^ UInt64(truncatingIfNeeded: level) &* 0x9E37_79B9_7F4A_7C15)
        var multiplicities = [Float](repeating: 0, count: resamples * problems)
        for replicate in 0..<resamples {
            let base = replicate * problems
            for _ in 0..<problems { multiplicities[base + random.nextInt(below: problems)] += 1 }
        }
        levels[level] = (problems, multiplicities)
        return multiplicities
    }

    /// Every row's replicate sums at one level, at once: for each row, the sum of its hits over each
    /// replicate's redrawn problems. The rows must share the level's problems (one run's test split).
    ///
    /// This is the hot path of `compare` (rows × resamples × problems multiply-adds), so it is one pass over
    /// flat buffers: a (resamples × problems) · (problems × rows) product, 16 rows per vector. Float is exact: every product
    /// and sum is an integer below 2^24 (checked), so the result is the same on any CPU.
    public mutating func levelReplicates(level: Int, rows: [ProblemOutcomes]) throws(AnalysisError) -> [LevelReplicates]
    {
        guard let first = rows.first else { return [] }
        let problems = first.problems.count
        guard problems > 0 else { throw AnalysisError(.emptyInput, "level \(level) has no problems") }
        for row in rows where row.problems != first.problems {
            throw AnalysisError(.notPaired, "rows at level \(level) were not measured on the same problems")
        }
        let maximumDraws = rows.map(\.draws).max() ?? 1
        guard problems * maximumDraws < 1 << 24 else {
            throw AnalysisError(
                .invalidArgument,
                "level \(level): \(problems) problems × \(maximumDraws) draws is beyond exact Float sums")
        }
        let weights = multiplicities(level: level, problems: problems)
        let width = (rows.count + 15) / 16 * 16
        // Hits transposed: problem-major, one lane per row, padded to whole 16-lane vectors.
        var hits = [Float](repeating: 0, count: problems * width)
        for (row, outcomes) in rows.enumerated() {
            for (problem, count) in outcomes.hits.enumerated() { hits[problem * width + row] = Float(count) }
        }
        var sums = [Float](repeating: 0, count: width * resamples)
        let resamples = resamples
        weights.withUnsafeBufferPointer { m in
            hits.withUnsafeBufferPointer { h in
                sums.withUnsafeMutableBufferPointer { out in
                    let stride = width * MemoryLayout<Float>.stride
                    for replicate in 0..<resamples {
                        let drawn = m.baseAddress! + replicate * problems
                        for tile in Swift.stride(from: 0, to: width, by: 16) {
                            // Four partial sums over interleaved problems keep four multiply-adds in flight.
                            var partial = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                            let column = UnsafeRawPointer(h.baseAddress! + tile)
                            var problem = 0
                            while problem + 4 <= problems {
                                let at = column + problem * stride
                                partial.0 += drawn[problem] * at.loadUnaligned(as: SIMD16<Float>.self)
                                partial.1 += drawn[problem + 1] * (at + stride).loadUnaligned(as: SIMD16<Float>.self)
                                partial.2 +=
                                    drawn[problem + 2] * (at + 2 * stride).loadUnaligned(as: SIMD16<Float>.self)
                                partial.3 +=
                                    drawn[problem + 3] * (at + 3 * stride).loadUnaligned(as: SIMD16<Float>.self)
                                problem += 4
                            }
                            while problem < problems {
                                partial.0 +=
                                    drawn[problem] * (column + problem * stride).loadUnaligned(as: SIMD16<Float>.self)
                                problem += 1
                            }
                            let total = (partial.0 + partial.1) + (partial.2 + partial.3)
                            // Row-major output: each row's replicates are contiguous.
                            for lane in 0..<16 { out[(tile + lane) * resamples + replicate] = total[lane] }
                        }
                    }
                }
            }
        }
        return rows.enumerated().map { row, outcomes in
            LevelReplicates(
                level: level, problems: outcomes.problems, draws: outcomes.draws, hits: outcomes.hits.reduce(0, +),
                sums: Array(sums[(row * resamples)..<((row + 1) * resamples)]))
        }
    }

    /// One row over several levels: the levels' replicate sums added, as accuracies.
    public func combine(_ parts: [LevelReplicates]) throws(AnalysisError) -> Replicates {
        guard let draws = parts.first?.draws else {
            throw AnalysisError(.emptyInput, "no levels to estimate an accuracy over")
        }
        var totals = [Double](repeating: 0, count: resamples)
        var problems = 0
        var hits = 0
        for part in parts {
            guard part.draws == draws else {
                throw AnalysisError(.notPaired, "level \(part.level) averages \(part.draws) draws, not \(draws)")
            }
            for index in 0..<resamples { totals[index] += Double(part.sums[index]) }
            problems += part.problems.count
            hits += part.hits
        }
        let scale = 1 / Double(problems * draws)
        return Replicates(
            estimate: Double(hits) * scale, values: totals.map { $0 * scale }, problems: problems,
            problemIndices: parts.map(\.problems))
    }

    /// A row's replicate means over several levels (each a `ProblemOutcomes`, all with the same draws).
    public mutating func replicates(
        _ outcomes: [(level: Int, outcomes: ProblemOutcomes)]
    ) throws(AnalysisError)
        -> Replicates
    {
        var parts: [LevelReplicates] = []
        for (level, levelOutcomes) in outcomes {
            parts += try levelReplicates(level: level, rows: [levelOutcomes])
        }
        return try combine(parts)
    }

    /// A row's accuracy with its percentile interval (95 % unless `confidence` says otherwise).
    public func interval(_ row: Replicates, confidence: Double = 0.95) -> IntervalEstimate {
        let (lower, upper) = Percentile.interval(row.values, confidence: confidence)
        return IntervalEstimate(
            mean: row.estimate, lower: lower, upper: upper, method: .problemBootstrap, seeds: 1, sd: nil,
            problems: row.problems)
    }

    /// `row − baseline` with its paired percentile interval (95 % unless `confidence` says otherwise); both must
    /// cover the same problems.
    public func difference(
        _ row: Replicates, minus baseline: Replicates, confidence: Double = 0.95
    ) throws(AnalysisError) -> IntervalEstimate {
        guard row.problemIndices == baseline.problemIndices, row.values.count == baseline.values.count else {
            throw AnalysisError(.notPaired, "the two rows were not measured on the same problems")
        }
        let (lower, upper) = Percentile.interval(
            zip(row.values, baseline.values).map { $0 - $1 }, confidence: confidence)
        return IntervalEstimate(
            mean: row.estimate - baseline.estimate, lower: lower, upper: upper, method: .problemBootstrap, seeds: 1,
            sd: nil, problems: row.problems)
    }

    /// Convenience for one row: its accuracy over the given levels with the 95 % interval.
    public mutating func mean(
        _ outcomes: [(level: Int, outcomes: ProblemOutcomes)]
    ) throws(AnalysisError)
        -> IntervalEstimate
    {
        interval(try replicates(outcomes))
    }

    /// One row's replicate sums at one level.
    public struct LevelReplicates: Sendable {
        public var level: Int
        var problems: [Int]
        var draws: Int
        var hits: Int
        /// Per replicate: the row's hits summed over the redrawn problems (an exact integer).
        var sums: [Float]
    }

    /// One row's bootstrap replicates: reused for its own interval and for every difference it enters.
    public struct Replicates: Sendable {
        /// The accuracy on the actual problems.
        public var estimate: Double
        /// The accuracy on each replicate's redrawn problems.
        public var values: [Double]
        public var problems: Int
        /// Which problems, per level: two rows pair only if these agree.
        var problemIndices: [[Int]]
    }
}
