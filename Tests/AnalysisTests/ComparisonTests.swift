import Testing
import WireTypes

@testable import Analysis

@Suite struct ComparisonTests {
    static let majority = RowKey(policy: "sft", method: "majority", evaluator: "none", aggregation: "none", n: 4)
    static let weighted = RowKey(policy: "sft", method: "weighted", evaluator: "orm", aggregation: "prod", n: 4)
    static let greedy = RowKey(policy: "ppo", method: "greedy", evaluator: "none", aggregation: "none", n: 1)

    /// A run with levels 1 (easy) and 2 (hard), 40 problems each; `skill` shifts which problems are right, and
    /// `weightedBonus` is how many more problems a level the weighted row gets right than majority voting.
    static func run(_ id: String, skill: Int, weightedBonus: Int = 10) -> RunScores {
        var scores: [RunScores.LevelScore] = []
        for key in [majority, weighted, greedy] {
            for level in [1, 2] {
                let bonus = key == weighted ? weightedBonus : (key == greedy ? -5 : 0)
                let outcomes = Simulation.outcomes(problems: 40, first: (level - 1) * 40) { problem in
                    (problem * 7 + skill) % 40 < 20 + bonus - 8 * level
                }
                scores.append(.init(row: key, level: level, outcomes: outcomes))
            }
        }
        return RunScores(run: id, easyLevels: [1], hardLevels: [2], scores: scores)
    }

    @Test func oneRunGetsBootstrapIntervalsAndPairedDifferences() throws {
        let request = ComparisonRequest(
            rows: [RowReference(method: "weighted", evaluator: "orm", aggregation: "prod")],
            baseline: RowReference(method: "majority"), levels: [.hard])
        let report = try Comparison.compare(runs: [Self.run("a", skill: 0)], request: request)
        #expect(report.headline && report.baseline == "majority@4" && report.rows.count == 1)
        let row = try #require(report.rows.first)
        #expect(row.levels == .hard && row.accuracy.method == .problemBootstrap && row.accuracy.problems == 40)
        // Level 2: (7p + skill) mod 40 falls below 20 + 10 − 16 for 14 of 40 problems, and below 4 for majority.
        #expect(abs(row.accuracy.mean - 14.0 / 40) < 1e-12)
        let difference = try #require(row.difference)
        #expect(abs(difference.mean - 10.0 / 40) < 1e-12)
        #expect(row.verdict == .holds)
    }

    @Test func aGroupGetsMeanSdAndTIntervalsAcrossSeeds() throws {
        let runs = (0..<3).map { Self.run("seed\($0)", skill: $0 * 3) }
        let request = ComparisonRequest(rows: nil, baseline: RowReference(method: "majority"))
        let report = try Comparison.compare(runs: runs, request: request)
        #expect(report.rows.count == 9)  // 3 rows × easy, hard, all
        #expect(report.rows.map(\.levels).prefix(3) == [.easy, .hard, .all])
        let hardWeighted = try #require(report.rows.first { $0.method == "weighted" && $0.levels == .hard })
        #expect(hardWeighted.accuracy.seeds == 3 && hardWeighted.accuracy.method == .seedT)
        #expect(hardWeighted.accuracy.sd != nil)
        #expect(report.rows.first { $0.method == "majority" }?.difference == nil)
    }

    @Test func eachLevelCanBeShownOnItsOwn() throws {
        let request = ComparisonRequest(
            rows: [RowReference(method: "majority")], baseline: nil, levels: [.eachLevel, .hard])
        let report = try Comparison.compare(runs: [Self.run("a", skill: 0)], request: request)
        #expect(report.rows.map(\.levels) == [.level(1), .level(2), .hard])
        // Level 2 is the hard level here: the same problems, so the same figures.
        #expect(report.rows[1].accuracy == report.rows[2].accuracy)
        #expect(report.rows[0].accuracy.problems == 40 && report.rows[0].difference == nil)
    }

    @Test func headlineRowsAndUnknownRowsAreResolvedByName() throws {
        let run = Self.run("a", skill: 0)
        let headline = ComparisonRequest.defaultHeadline(for: run.scores.map(\.row))
        #expect(headline.rows?.map(\.description) == ["majority", "weighted/orm/prod", "ppo/greedy"])
        let error = #expect(throws: AnalysisError.self) {
            try Comparison.compare(
                runs: [run],
                request: ComparisonRequest(rows: [try RowReference(parsing: "weighted/orn/prod")], baseline: nil))
        }
        #expect(error?.code == .unknownRow)
        #expect(error?.message.contains("did you mean 'weighted/orm/prod'") == true, "\(error?.message ?? "")")
        let atN = #expect(throws: AnalysisError.self) {
            try Comparison.compare(
                runs: [run], request: ComparisonRequest(rows: [try RowReference(parsing: "majority@8")], baseline: nil))
        }
        #expect(atN?.message.contains("it has N = 4") == true, "\(atN?.message ?? "")")
        #expect(throws: AnalysisError.self) { try Comparison.compare(runs: [], request: headline) }
        // `--n 3` where nothing was sampled at 3 was quietly each row's largest N; greedy's 1 does not count.
        for n in [1, 3] {
            var unsampled = headline
            unsampled.n = n
            let error = #expect(throws: AnalysisError.self) { try Comparison.compare(runs: [run], request: unsampled) }
            #expect(error?.message == "N = \(n) is not sampled in these runs; they have N = 4")
        }
        // A row one run of several lacks is named as such, not as a typo.
        var partial = Self.run("b", skill: 3)
        partial.scores.removeAll { $0.row == Self.weighted }
        let lacking = #expect(throws: AnalysisError.self) {
            try Comparison.compare(runs: [run, partial], request: headline)
        }
        #expect(
            lacking?.message.hasPrefix("row 'weighted/orm/prod' is not recorded by every run compared (not by b)")
                == true,
            "\(lacking?.message ?? "")")
        var sampled = headline
        sampled.n = 4
        #expect(try Comparison.compare(runs: [run], request: sampled).rows.count == 9)
    }

    /// Likelihood voting joins the default headline, after majority voting, only in a run that records it.
    @Test func theDefaultHeadlineNamesLikelihoodVotingWhenRecorded() throws {
        let likelihood = RowKey(policy: "sft", method: "likelihood", evaluator: "none", aggregation: "none", n: 4)
        let headline = ComparisonRequest.defaultHeadline(for: [Self.majority, Self.weighted, likelihood, Self.greedy])
        #expect(headline.rows?.map(\.description) == ["majority", "likelihood", "weighted/orm/prod", "ppo/greedy"])
        #expect(try RowReference(parsing: "likelihood@4").matches(likelihood))
    }
}
