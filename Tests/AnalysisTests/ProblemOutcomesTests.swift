import Foundation
import Testing

@testable import Analysis

@Suite struct ProblemOutcomesTests {
    @Test func roundTripsEveryDrawsOutcome() throws {
        var outcomes = ProblemOutcomes(draws: 11)
        let problems = [3, 4, 5, 9, 10, 40]
        for problem in problems {
            outcomes.append(problem: problem, outcomes: (0..<11).map { ($0 * problem) % 3 == 0 })
        }
        let decoded = try ProblemOutcomes(decoding: outcomes.encoded())
        #expect(decoded == outcomes)
        #expect(decoded.problems == problems)
        #expect(decoded.hits == problems.map { problem in (0..<11).filter { ($0 * problem) % 3 == 0 }.count })
        #expect(decoded.isCorrect(offset: 1, draw: 3) && !decoded.isCorrect(offset: 1, draw: 1))
        // 5 header bytes, draws, count, 3 ranges of 2 words, 2 bytes per problem.
        #expect(outcomes.encoded().count == 5 + 4 + 4 + 4 + 3 * 8 + 6 * 2)
    }

    @Test func accuracyAveragesDrawsPerProblem() {
        var outcomes = ProblemOutcomes(draws: 4)
        outcomes.append(problem: 0, outcomes: [true, true, true, true])
        outcomes.append(problem: 1, outcomes: [true, false, false, false])
        #expect(outcomes.accuracy == 0.625)
        #expect(outcomes.problemAccuracies == [1, 0.25])
        #expect(ProblemOutcomes(draws: 1).accuracy == nil)
    }

    @Test func malformedBlobsAreRefusedWithAReason() throws {
        var outcomes = ProblemOutcomes(draws: 3)
        outcomes.append(problem: 7, outcomes: [true, false, true])
        let good = [UInt8](outcomes.encoded())
        var strayBit = good
        strayBit[strayBit.count - 1] |= 0x80
        var badVersion = good
        badVersion[4] = 2
        let cases: [([UInt8], String)] = [
            (Array(good.dropLast()), "holds 0 outcome bytes, not 1"),
            (Array("nope!".utf8), "does not start with E2HO"),
            (badVersion, "has version 2"),
            (Array(good.prefix(10)), "ends inside its header"),
            (strayBit, "sets bits past its 3 draws"),
        ]
        for (bytes, reason) in cases {
            let error = #expect(throws: AnalysisError.self) { try ProblemOutcomes(decoding: Data(bytes)) }
            #expect(error?.code == .malformedOutcomes)
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
    }
}
