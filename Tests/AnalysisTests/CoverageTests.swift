import Testing
import WireTypes

@testable import Analysis

/// The 95 % intervals cover a known truth in 93–97 % of 1,000 simulated datasets: the check that the
/// estimators are neither too narrow (overconfident) nor too wide.
@Suite struct CoverageTests {
    static let datasets = 1000
    static let accepted = 930...970

    @Test func bootstrapIntervalOfABinomialCoversItsProbability() throws {
        let truth = 0.3
        var simulation = Simulation(seed: 1)
        var bootstrap = try ProblemBootstrap(resamples: 1000)
        var covered = 0
        for _ in 0..<Self.datasets {
            let outcomes = Simulation.outcomes(problems: 200) { _ in simulation.bernoulli(truth) }
            let interval = try bootstrap.mean([(level: 4, outcomes: outcomes)])
            if interval.lower <= truth && truth <= interval.upper { covered += 1 }
        }
        #expect(Self.accepted.contains(covered), "covered \(covered) of \(Self.datasets)")
    }

    /// Two rows on the same problems, strongly correlated (a problem one gets right the other mostly
    /// does too): the paired interval covers the true difference 0.45 − 0.35 = 0.10.
    @Test func pairedBootstrapOfADifferenceCoversTheTrueDifference() throws {
        // P(A right, B right) = 0.3, P(A only) = 0.15, P(B only) = 0.05, P(neither) = 0.5.
        let truth = 0.10
        var simulation = Simulation(seed: 2)
        var bootstrap = try ProblemBootstrap(resamples: 1000)
        var covered = 0
        var narrower = 0
        for _ in 0..<Self.datasets {
            var a: [Bool] = []
            var b: [Bool] = []
            for _ in 0..<200 {
                let u = simulation.random.nextUnitInterval()
                a.append(u < 0.45)
                b.append(u < 0.3 || (u >= 0.45 && u < 0.5))
            }
            let rowA = try bootstrap.replicates([(4, Simulation.outcomes(problems: 200) { a[$0] })])
            let rowB = try bootstrap.replicates([(4, Simulation.outcomes(problems: 200) { b[$0] })])
            let difference = try bootstrap.difference(rowA, minus: rowB)
            if difference.lower <= truth && truth <= difference.upper { covered += 1 }
            // Pairing is the point: the paired interval is narrower than the sum of the two half-widths.
            let (intervalA, intervalB) = (bootstrap.interval(rowA), bootstrap.interval(rowB))
            let unpaired = (intervalA.upper - intervalA.lower) + (intervalB.upper - intervalB.lower)
            if difference.upper - difference.lower < unpaired / 2 { narrower += 1 }
        }
        #expect(Self.accepted.contains(covered), "covered \(covered) of \(Self.datasets)")
        #expect(narrower > 900)
    }

    /// Per-seed values from a normal distribution, n = 5 seeds: the t interval is exact there.
    @Test func tIntervalAcrossFiveSeedsCoversTheMean() throws {
        let truth = 0.4
        var simulation = Simulation(seed: 3)
        var covered = 0
        var pairedCovered = 0
        for _ in 0..<Self.datasets {
            let values = (0..<5).map { _ in truth + 0.05 * simulation.normal() }
            let summary = try SeedStatistics.summary(values, problems: 300)
            if summary.lower <= truth && truth <= summary.upper { covered += 1 }
            // A seed effect shared by both rows cancels in the paired difference (truth: 0.1).
            let shared = (0..<5).map { _ in 0.1 * simulation.normal() }
            let a = shared.map { 0.5 + $0 + 0.02 * simulation.normal() }
            let b = shared.map { 0.4 + $0 + 0.02 * simulation.normal() }
            let difference = try SeedStatistics.pairedDifference(a, minus: b, problems: 300)
            if difference.lower <= 0.1 && 0.1 <= difference.upper { pairedCovered += 1 }
        }
        #expect(Self.accepted.contains(covered), "covered \(covered) of \(Self.datasets)")
        #expect(Self.accepted.contains(pairedCovered), "covered \(pairedCovered) of \(Self.datasets)")
    }

    /// Nine claims of no effect on three seeds, as a claims table has them: at 95 % each, about 1 − 0.95⁹ ≈ 37 % of
    /// tables show at least one false verdict; family-wise (1 − 0.05/9 each, Bonferroni) at most 5 %.
    @Test func familyWiseVerdictsKeepATableOfNullClaimsFalseAtMostOneTimeInTwenty() throws {
        var simulation = Simulation(seed: 4)
        var (anyFalse, anyFalseFamilyWise) = (0, 0)
        for _ in 0..<Self.datasets {
            var (falseHere, falseFamilyWise) = (false, false)
            for _ in 0..<9 {
                let differences = (0..<3).map { _ in 0.03 * simulation.normal() }
                let zeros = [Double](repeating: 0, count: 3)
                let alone = try SeedStatistics.pairedDifference(differences, minus: zeros, problems: 300)
                let family = try SeedStatistics.pairedDifference(
                    differences, minus: zeros, problems: 300, confidence: 1 - 0.05 / 9)
                falseHere = falseHere || Verdict(alone) != .notShown
                falseFamilyWise = falseFamilyWise || Verdict(family) != .notShown
            }
            if falseHere { anyFalse += 1 }
            if falseFamilyWise { anyFalseFamilyWise += 1 }
        }
        #expect((320...420).contains(anyFalse), "\(anyFalse) of \(Self.datasets) tables")
        #expect((20...65).contains(anyFalseFamilyWise), "\(anyFalseFamilyWise) of \(Self.datasets) tables")
    }
}
