import Testing
import WireTypes

@testable import Analysis

@Suite struct EstimatorTests {
    @Test func theSameRecordAlwaysGivesTheSameInterval() throws {
        var simulation = Simulation(seed: 7)
        let outcomes = Simulation.outcomes(problems: 150) { _ in simulation.bernoulli(0.4) }
        var first = try ProblemBootstrap()
        var second = try ProblemBootstrap()
        let a = try first.mean([(level: 5, outcomes: outcomes)])
        let b = try second.mean([(level: 5, outcomes: outcomes)])
        #expect(a == b)
        #expect(a.lower < a.mean && a.mean < a.upper)
        // Another seed redraws other problems: the interval moves a little, the estimate not at all.
        var reseeded = try ProblemBootstrap(seed: 99)
        let c = try reseeded.mean([(level: 5, outcomes: outcomes)])
        #expect(c.mean == a.mean && (c.lower, c.upper) != (a.lower, a.upper))
    }

    @Test func resamplesAreAveragedPerProblemNotCountedAsProblems() throws {
        // 4 problems × 8 draws: 8, 4, 0 and 2 correct → accuracies 1, 0.5, 0, 0.25.
        var outcomes = ProblemOutcomes(draws: 8)
        for (problem, hits) in [8, 4, 0, 2].enumerated() {
            outcomes.append(problem: problem, outcomes: (0..<8).map { $0 < hits })
        }
        var bootstrap = try ProblemBootstrap()
        let interval = try bootstrap.mean([(level: 1, outcomes: outcomes)])
        #expect(interval.problems == 4)
        #expect(interval.mean == 0.4375)
        // With only 4 problems the interval is wide; 32 "picks" counted as problems would make it narrow.
        #expect(interval.upper - interval.lower > 0.4)
    }

    @Test func allCorrectAndAllWrongGiveDegenerateIntervals() throws {
        var bootstrap = try ProblemBootstrap()
        let right = try bootstrap.mean([(level: 1, outcomes: Simulation.outcomes(problems: 50) { _ in true })])
        #expect((right.mean, right.lower, right.upper) == (1, 1, 1))
        let wrong = try bootstrap.mean([(level: 1, outcomes: Simulation.outcomes(problems: 50) { _ in false })])
        #expect((wrong.mean, wrong.lower, wrong.upper) == (0, 0, 0))
        let sameRow = try bootstrap.replicates([(1, Simulation.outcomes(problems: 50) { $0 % 3 == 0 })])
        let zero = try bootstrap.difference(sameRow, minus: sameRow)
        #expect((zero.mean, zero.lower, zero.upper) == (0, 0, 0))
        #expect(Verdict(zero) == .notShown)
    }

    @Test func levelsAreResampledWithinEachLevel() throws {
        // Level 4 all right, level 5 all wrong: every replicate keeps 10 problems of each, so the mean is 0.5.
        var bootstrap = try ProblemBootstrap()
        let interval = try bootstrap.mean([
            (level: 4, outcomes: Simulation.outcomes(problems: 10) { _ in true }),
            (level: 5, outcomes: Simulation.outcomes(problems: 10, first: 10) { _ in false }),
        ])
        #expect((interval.mean, interval.lower, interval.upper) == (0.5, 0.5, 0.5))
        #expect(interval.problems == 20)
    }

    @Test func emptyAndUnpairedInputsAreClearErrors() throws {
        var bootstrap = try ProblemBootstrap()
        #expect(throws: AnalysisError(.emptyInput, "no levels to estimate an accuracy over")) {
            try bootstrap.mean([])
        }
        #expect(throws: AnalysisError(.emptyInput, "level 2 has no problems")) {
            try bootstrap.mean([(level: 2, outcomes: ProblemOutcomes(draws: 1))])
        }
        let a = try bootstrap.replicates([(1, Simulation.outcomes(problems: 10) { _ in true })])
        let b = try bootstrap.replicates([(1, Simulation.outcomes(problems: 10, first: 100) { _ in true })])
        #expect(throws: AnalysisError(.notPaired, "the two rows were not measured on the same problems")) {
            try bootstrap.difference(a, minus: b)
        }
        #expect(throws: AnalysisError.self) { try ProblemBootstrap(resamples: 10) }
        #expect(throws: AnalysisError(.emptyInput, "no per-seed values to summarize")) {
            try SeedStatistics.summary([], problems: 1)
        }
        let oneSeed = #expect(throws: AnalysisError.self) { try SeedStatistics.summary([0.5], problems: 1) }
        #expect(oneSeed?.code == .tooFewSeeds)
        let unpaired = #expect(throws: AnalysisError.self) {
            try SeedStatistics.pairedDifference([0.1, 0.2], minus: [0.1, 0.2, 0.3], problems: 1)
        }
        #expect(unpaired?.code == .notPaired)
    }

    @Test func seedSummaryHasTheTextbookValues() throws {
        // Mean 0.5, sd 0.1 (values 0.4, 0.5, 0.6), t(2) = 4.302652730: half-width 4.3027 · 0.1 / √3.
        let summary = try SeedStatistics.summary([0.4, 0.5, 0.6], problems: 300)
        #expect(abs(summary.mean - 0.5) < 1e-12)
        #expect(abs(summary.sd! - 0.1) < 1e-12)
        #expect(summary.seeds == 3 && summary.problems == 300 && summary.method == .seedT)
        #expect(abs(summary.upper - (0.5 + 4.302652730 * 0.1 / 3.0.squareRoot())) < 1e-9)
        #expect(Verdict(summary) == .holds)
        let reversed = try SeedStatistics.pairedDifference([0.1, 0.2, 0.15], minus: [0.3, 0.35, 0.32], problems: 1)
        #expect(Verdict(reversed) == .reversed)
    }

    @Test(arguments: [
        (1, 12.706204736), (2, 4.302652730), (30, 2.042272456), (31, 2.039513446), (60, 2.000297822),
        (120, 1.979930405), (100_000, 1.959988),
    ])
    func tQuantilesMatchTables(df: Int, expected: Double) {
        #expect(abs(StudentT.quantile975(degreesOfFreedom: df) - expected) < 1e-5)
    }

    /// Other levels come from the exact distribution function, inverted; references from scipy's `t.ppf`.
    @Test(arguments: [
        (0.995, 10, 3.16927267261695), (0.9975, 2, 14.089047275555446), (0.999, 5, 5.893429531356009),
        (0.99722222, 2, 13.36043594943278), (0.9999, 1, 3183.098757118502), (0.99, 200, 2.345137082259468),
    ])
    func tQuantilesAtOtherLevelsMatchScipy(probability: Double, df: Int, expected: Double) {
        let t = StudentT.quantile(probability, degreesOfFreedom: df)
        #expect(abs(t - expected) < 1e-9 * expected, "\(t)")
    }

    /// Just below 0.975 the exact inversion agrees with the table the 95 % intervals use, at every tabled df.
    @Test func theExactInversionAgreesWithTheTable() {
        for df in 1...30 {
            let exact = StudentT.quantile(0.975 - 1e-15, degreesOfFreedom: df)
            #expect(abs(exact - StudentT.quantile975(degreesOfFreedom: df)) < 1e-8, "df \(df)")
        }
    }

    @Test func percentilesMatchASortedReference() {
        var simulation = Simulation(seed: 11)
        for count in [1, 2, 3, 10, 101, 2000] {
            let values = (0..<count).map { _ in Double(simulation.random.nextInt(below: 50)) / 7 }
            let sorted = values.sorted()
            for p in [0.0, 0.025, 0.5, 0.975, 1.0] {
                let position = Double(count - 1) * p
                let k = Int(position)
                let expected =
                    k + 1 < count ? sorted[k] + (position - Double(k)) * (sorted[k + 1] - sorted[k]) : sorted[k]
                #expect(abs(Percentile.quantile(values, p) - expected) < 1e-12, "count \(count), p \(p)")
            }
        }
    }
}
