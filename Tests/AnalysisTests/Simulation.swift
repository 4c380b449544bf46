import Foundation
import Randomness

@testable import Analysis

/// Simulated data for coverage tests: seeded, so every run of the suite sees the same datasets.
struct Simulation {
    var random: RandomGenerator

    init(seed: UInt64) { random = RandomGenerator(splitMixSeed: seed) }

    mutating func bernoulli(_ p: Double) -> Bool { random.nextUnitInterval() < p }

    /// A standard normal draw (Box–Muller).
    mutating func normal() -> Double {
        let u = 1 - random.nextUnitInterval()
        let v = random.nextUnitInterval()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Outcomes of `problems` problems with one draw each, drawn by `correct(problem)`.
    static func outcomes(problems: Int, first: Int = 0, _ correct: (Int) -> Bool) -> ProblemOutcomes {
        var outcomes = ProblemOutcomes(draws: 1)
        for problem in 0..<problems { outcomes.append(problem: first + problem, outcomes: [correct(problem)]) }
        return outcomes
    }
}
