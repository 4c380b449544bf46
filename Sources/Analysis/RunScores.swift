/// What `compare` needs of one run: its levels and, per score row and level, the per-problem outcomes
/// (a `ScoreRecorded` event with its outcome blob decoded).
public struct RunScores: Sendable {
    public struct LevelScore: Sendable {
        public var row: RowKey
        public var level: Int
        public var outcomes: ProblemOutcomes

        public init(row: RowKey, level: Int, outcomes: ProblemOutcomes) {
            self.row = row
            self.level = level
            self.outcomes = outcomes
        }
    }

    public var run: String
    public var easyLevels: [Int]
    public var hardLevels: [Int]
    /// In recorded order; the full grid lists rows in the order of the first run's scores.
    public var scores: [LevelScore]

    public init(run: String, easyLevels: [Int], hardLevels: [Int], scores: [LevelScore]) {
        self.run = run
        self.easyLevels = easyLevels
        self.hardLevels = hardLevels
        self.scores = scores
    }
}

/// What to show: which rows, against which baseline, on which levels. Built from a spec's `report:`
/// block (the headline) or from the command line (`--all`, `--baseline`, `--levels`).
public struct ComparisonRequest: Sendable {
    /// The rows to show, in order; nil shows every row (the full grid).
    public var rows: [RowReference]?
    /// The row every other row is compared with; a reference without N means the report's N.
    public var baseline: RowReference?
    /// The N for references that name none; nil means each row's largest N.
    public var n: Int?
    public var levels: [LevelScopeRequest]
    public var resamples: Int
    /// The intervals' confidence: 0.95 for every figure a table prints; a claims table's family-wise verdicts
    /// ask for 1 − 0.05/k (`Comparison.claims`).
    public var confidence: Double

    public enum LevelScopeRequest: Sendable, Equatable {
        case easy, hard, all
        /// Each level on its own (`--levels`).
        case eachLevel
    }

    public init(
        rows: [RowReference]?, baseline: RowReference?, n: Int? = nil,
        levels: [LevelScopeRequest] = [.easy, .hard, .all], resamples: Int = ProblemBootstrap.defaultResamples,
        confidence: Double = 0.95
    ) {
        self.rows = rows
        self.baseline = baseline
        self.n = n
        self.levels = levels
        self.resamples = resamples
        self.confidence = confidence
    }

    /// The headline of a run without a `report:` block: majority voting, likelihood voting when recorded, weighted
    /// voting and best-of-N with each evaluator (product aggregation when recorded, else the first), and every
    /// policy's greedy accuracy, against `sft/majority`.
    public static func defaultHeadline(for keys: [RowKey]) -> ComparisonRequest {
        var rows: [RowReference] = [RowReference(method: "majority")]
        if keys.contains(where: { $0.policy == "sft" && $0.method == "likelihood" }) {
            rows.append(RowReference(method: "likelihood"))
        }
        var evaluators: [String] = []
        for key in keys where key.policy == "sft" && key.evaluator != "none" && !evaluators.contains(key.evaluator) {
            evaluators.append(key.evaluator)
        }
        for method in ["weighted", "best_of_n"] {
            for evaluator in evaluators {
                let aggregations = keys.filter {
                    $0.policy == "sft" && $0.method == method && $0.evaluator == evaluator
                }
                .map(\.aggregation)
                guard let aggregation = aggregations.contains("prod") ? "prod" : aggregations.first else { continue }
                rows.append(RowReference(method: method, evaluator: evaluator, aggregation: aggregation))
            }
        }
        var policies: [String] = []
        for key in keys where key.method == "greedy" && !policies.contains(key.policy) { policies.append(key.policy) }
        rows += policies.map { RowReference(policy: $0, method: "greedy") }
        return ComparisonRequest(rows: rows, baseline: RowReference(method: "majority"))
    }
}
