import Foundation

/// Which problems a figure covers: the spec's easy levels, its hard levels, all of them, or one level.
public enum LevelScope: Codable, Sendable, Hashable, CustomStringConvertible {
    case easy, hard, all
    case level(Int)

    /// "easy", "hard", "all" or the level's number.
    public var description: String {
        switch self {
        case .easy: "easy"
        case .hard: "hard"
        case .all: "all"
        case .level(let level): String(level)
        }
    }

    public init?(_ text: String) {
        switch text {
        case "easy": self = .easy
        case "hard": self = .hard
        case "all": self = .all
        default:
            guard let level = Int(text) else { return nil }
            self = .level(level)
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let scope = LevelScope(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not easy, hard, all or a level"))
        }
        self = scope
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// How an interval was computed.
public enum IntervalMethod: String, Codable, Sendable {
    /// One run: percentile bootstrap over problems (stratified by level, seeded, so it is reproducible).
    case problemBootstrap = "bootstrap_over_problems"
    /// Several seeds: Student t interval over the per-seed values.
    case seedT = "t_across_seeds"
}

/// A figure with its 95 % interval, and what it rests on.
public struct IntervalEstimate: Codable, Sendable, Equatable {
    /// The point estimate: one run's value, or the mean over seeds.
    public var mean: Double
    public var lower: Double
    public var upper: Double
    public var method: IntervalMethod
    /// Seeds (runs) averaged: the n of the interval across seeds, 1 for one run.
    public var seeds: Int
    /// Sample standard deviation of the per-seed values; nil for one seed.
    public var sd: Double?
    /// Problems behind each run's value (the denominator; resampled subsets are averaged, never counted).
    public var problems: Int

    public init(
        mean: Double, lower: Double, upper: Double, method: IntervalMethod, seeds: Int, sd: Double?, problems: Int
    ) {
        self.mean = mean
        self.lower = lower
        self.upper = upper
        self.method = method
        self.seeds = seeds
        self.sd = sd
        self.problems = problems
    }
}

/// What an interval of a difference says about "A is better than B".
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// The whole interval is above 0.
    case holds
    /// The whole interval is below 0: the opposite holds.
    case reversed
    /// The interval contains 0.
    case notShown = "not_shown"
}

/// One row of a comparison: a policy × method × evaluator × aggregation × N on some levels, with its interval
/// and its paired difference to the baseline row.
public struct ComparisonRow: Codable, Sendable, Equatable {
    /// Whose samples: "sft", "verifier", "ppo", ...
    public var policy: String
    /// "majority", "likelihood", "weighted", "best_of_n", "greedy", "pass".
    public var method: String
    public var evaluator: String
    public var aggregation: String
    public var n: Int
    public var levels: LevelScope
    public var accuracy: IntervalEstimate
    /// This row minus the baseline row on the same problems (one run) or the same seeds (a group).
    public var difference: IntervalEstimate?
    /// From `difference`'s interval; nil without a baseline, and for the baseline itself.
    public var verdict: Verdict?

    public init(
        policy: String, method: String, evaluator: String, aggregation: String, n: Int, levels: LevelScope,
        accuracy: IntervalEstimate, difference: IntervalEstimate?, verdict: Verdict?
    ) {
        self.policy = policy
        self.method = method
        self.evaluator = evaluator
        self.aggregation = aggregation
        self.n = n
        self.levels = levels
        self.accuracy = accuracy
        self.difference = difference
        self.verdict = verdict
    }
}

/// `compare` of one run or of a group of runs that differ only by seed: rows with 95 % intervals.
public struct ComparisonReport: Codable, Sendable, Equatable {
    /// The runs, in the order their per-seed values were taken.
    public var runs: [String]
    /// The baseline row as written (e.g. "sft/majority@64"), when there is one.
    public var baseline: String?
    /// Bootstrap resamples behind one-run intervals.
    public var resamples: Int
    /// True when the rows are the spec's `report:` headline rather than the full grid.
    public var headline: Bool
    public var rows: [ComparisonRow]
    /// The claims the spec named in advance, each tested on hard levels (empty when it names none, and in a
    /// report from a daemon that predates claims).
    public var claims: [ClaimResult]

    public init(
        runs: [String], baseline: String?, resamples: Int, headline: Bool, rows: [ComparisonRow],
        claims: [ClaimResult] = []
    ) {
        self.runs = runs
        self.baseline = baseline
        self.resamples = resamples
        self.headline = headline
        self.rows = rows
        self.claims = claims
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        runs = try container.decode([String].self, forKey: .runs)
        baseline = try container.decodeIfPresent(String.self, forKey: .baseline)
        resamples = try container.decode(Int.self, forKey: .resamples)
        headline = try container.decode(Bool.self, forKey: .headline)
        rows = try container.decode([ComparisonRow].self, forKey: .rows)
        claims = try container.decodeIfPresent([ClaimResult].self, forKey: .claims) ?? []
    }
}

/// One claim a spec named before its run (`report.claims`): a row against another on hard problems, with the
/// paired difference, its 95 % interval and the verdict the interval gives.
public struct ClaimResult: Codable, Sendable, Equatable {
    /// The claim as the spec words it, e.g. "(a) weighted voting beats majority voting".
    public var name: String
    /// The row the claim is about, with `difference` = it minus `versus` and its verdict.
    public var row: ComparisonRow
    /// The row it is compared with, as written (e.g. "sft/majority@64").
    public var versus: String
    /// The claim tested family-wise over its table; nil from a daemon that predates it.
    public var family: FamilyTest?

    /// A claim's difference at 1 − 0.05/k for a table of k claims (Bonferroni): "holds" there keeps the chance of
    /// any false verdict in the whole table at 5 % or less.
    public struct FamilyTest: Codable, Sendable, Equatable {
        /// k: the claims the spec named, this one included.
        public var claims: Int
        /// The difference with its interval at 1 − 0.05/k.
        public var difference: IntervalEstimate
        public var verdict: Verdict

        public init(claims: Int, difference: IntervalEstimate, verdict: Verdict) {
            self.claims = claims
            self.difference = difference
            self.verdict = verdict
        }
    }

    public init(name: String, row: ComparisonRow, versus: String, family: FamilyTest? = nil) {
        self.name = name
        self.row = row
        self.versus = versus
        self.family = family
    }
}
