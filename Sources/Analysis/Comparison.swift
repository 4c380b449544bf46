public import WireTypes

/// `compare`: the requested rows of one run, or of a group of runs that differ only by seed, each with
/// its 95 % interval and its paired difference to the baseline row.
///
/// One run: intervals by the percentile bootstrap over problems (`ProblemBootstrap`), differences by the
/// paired bootstrap on the same redrawn problems. Several runs: each run's value is taken as one seed's,
/// and rows get mean, sd, n and the Student t interval across seeds (`SeedStatistics`), differences paired
/// by seed (each run's row minus the same run's baseline). Rows missing from any run of a group are left out:
/// a mean over the seeds that happen to have a row would not be the group's.
public enum Comparison {
    public static func compare(runs: [RunScores], request: ComparisonRequest) throws(AnalysisError) -> ComparisonReport
    {
        guard let first = runs.first else { throw AnalysisError(.emptyInput, "no runs to compare") }
        for run in runs.dropFirst() where run.easyLevels != first.easyLevels || run.hardLevels != first.hardLevels {
            throw AnalysisError(
                .notPaired, "run \(run.run) has other easy or hard levels than \(first.run); compare them one by one")
        }
        let tables = runs.map(OutcomeTable.init)
        let keys = tables[0].keys.filter { key in tables.dropFirst().allSatisfy { $0.has(key) } }
        // An N no row was sampled at would quietly become each row's largest N.
        let sampled = Set(keys.filter { $0.method != "greedy" }.map(\.n))
        if let n = request.n, !sampled.isEmpty, !sampled.contains(n) {
            throw AnalysisError(
                .unknownRow,
                "N = \(n) is not sampled in these runs; they have N = "
                    + sampled.sorted().map(String.init).joined(separator: ", "))
        }
        // A row some runs lack is left out of `keys`; naming one says which run lacks it, not "did you mean".
        func resolved(_ reference: RowReference) throws(AnalysisError) -> RowKey {
            do {
                return try resolve(reference, n: request.n, among: keys)
            } catch {
                let lacking = tables.filter { table in (try? resolve(reference, n: request.n, among: table.keys)) == nil
                }
                guard !lacking.isEmpty, lacking.count < tables.count else { throw error }
                throw AnalysisError(
                    .unknownRow,
                    "row '\(reference)' is not recorded by every run compared (not by "
                        + lacking.prefix(3).map { String($0.run.prefix(8)) }.joined(separator: ", ")
                        + (lacking.count > 3 ? " and \(lacking.count - 3) more" : "")
                        + "): a row is shown only when every run has it — name another, or compare the runs that have it"
                )
            }
        }
        let selected =
            try request.rows.map { references throws(AnalysisError) in
                try references.map { reference throws(AnalysisError) in try resolved(reference) }
            } ?? keys
        let baseline = try request.baseline.map { reference throws(AnalysisError) in try resolved(reference) }
        let scopes = scopes(request.levels, easy: first.easyLevels, hard: first.hardLevels)
        var bootstrap = try ProblemBootstrap(resamples: request.resamples)
        // One run: every needed row's replicates, one batch per level, then summed over each scope's levels.
        var replicates: [Int: [RowKey: ProblemBootstrap.LevelReplicates]] = [:]
        if tables.count == 1 {
            var needed: [RowKey] = []
            for key in selected + (baseline.map { [$0] } ?? []) where !needed.contains(key) { needed.append(key) }
            var levels: [Int] = []
            for level in scopes.flatMap(\.1) where !levels.contains(level) { levels.append(level) }
            for level in levels {
                let rows = try needed.map { key throws(AnalysisError) in
                    try tables[0].outcomes(key, levels: [level])[0].1
                }
                let batch = try bootstrap.levelReplicates(level: level, rows: rows)
                replicates[level] = Dictionary(uniqueKeysWithValues: zip(needed, batch))
            }
        }
        func combined(_ key: RowKey, _ levels: [Int]) throws(AnalysisError) -> ProblemBootstrap.Replicates {
            try bootstrap.combine(levels.map { replicates[$0]![key]! })
        }
        var rows: [ComparisonRow] = []
        for key in selected {
            for (scope, levels) in scopes {
                let accuracy: IntervalEstimate
                var difference: IntervalEstimate?
                if tables.count == 1 {
                    let row = try combined(key, levels)
                    accuracy = bootstrap.interval(row, confidence: request.confidence)
                    if let baseline, baseline != key {
                        difference = try bootstrap.difference(
                            row, minus: try combined(baseline, levels), confidence: request.confidence)
                    }
                } else {
                    let values = try tables.map { table throws(AnalysisError) in try table.accuracy(key, levels: levels)
                    }
                    let problems = try tables[0].problems(key, levels: levels)
                    accuracy = try SeedStatistics.summary(values, problems: problems, confidence: request.confidence)
                    if let baseline, baseline != key {
                        let base = try tables.map { table throws(AnalysisError) in
                            try table.accuracy(baseline, levels: levels)
                        }
                        difference = try SeedStatistics.pairedDifference(
                            values, minus: base, problems: problems, confidence: request.confidence)
                    }
                }
                rows.append(
                    ComparisonRow(
                        policy: key.policy, method: key.method, evaluator: key.evaluator, aggregation: key.aggregation,
                        n: key.n, levels: scope, accuracy: accuracy, difference: difference,
                        verdict: difference.map(Verdict.init)))
            }
        }
        return ComparisonReport(
            runs: runs.map(\.run), baseline: baseline?.description, resamples: request.resamples,
            headline: request.rows != nil, rows: rows)
    }

    /// The recorded row a reference names: its N, else the request's N when the row has it, else its largest N.
    static func resolve(_ reference: RowReference, n: Int?, among keys: [RowKey]) throws(AnalysisError) -> RowKey {
        var named = reference
        named.n = nil
        let candidates = keys.filter { named.matches($0) }
        let chosen =
            if let wanted = reference.n {
                candidates.first { $0.n == wanted }
            } else if let n, let atN = candidates.first(where: { $0.n == n }) {
                atN
            } else {
                candidates.max { $0.n < $1.n }
            }
        guard let chosen else {
            var names: [String] = []
            for key in keys {
                let name = RowReference(
                    policy: key.policy, method: key.method, evaluator: key.evaluator, aggregation: key.aggregation
                ).description
                if !names.contains(name) { names.append(name) }
            }
            var message = "no row '\(reference)' in these runs"
            if candidates.isEmpty, let close = Suggestion.closest(to: named.description, among: names) {
                message += " — did you mean '\(close)'?"
            } else if !candidates.isEmpty {
                message += "; it has N = " + candidates.map { String($0.n) }.joined(separator: ", ")
            }
            throw AnalysisError(.unknownRow, message)
        }
        return chosen
    }

    static func scopes(
        _ requested: [ComparisonRequest.LevelScopeRequest], easy: [Int], hard: [Int]
    ) -> [(LevelScope, [Int])] {
        requested.flatMap { scope -> [(LevelScope, [Int])] in
            switch scope {
            case .easy: [(.easy, easy)]
            case .hard: [(.hard, hard)]
            case .all: [(.all, (easy + hard).sorted())]
            case .eachLevel: (easy + hard).sorted().map { (.level($0), [$0]) }
            }
        }
    }
}

/// One run's outcomes by row and level, for lookup (never iterated: row order comes from `keys`).
private struct OutcomeTable {
    let run: String
    let keys: [RowKey]
    private let outcomes: [RowKey: [Int: ProblemOutcomes]]

    init(_ scores: RunScores) {
        run = scores.run
        var keys: [RowKey] = []
        var outcomes: [RowKey: [Int: ProblemOutcomes]] = [:]
        for score in scores.scores {
            if outcomes[score.row] == nil { keys.append(score.row) }
            outcomes[score.row, default: [:]][score.level] = score.outcomes
        }
        self.keys = keys
        self.outcomes = outcomes
    }

    func has(_ key: RowKey) -> Bool { outcomes[key] != nil }

    func outcomes(_ key: RowKey, levels: [Int]) throws(AnalysisError) -> [(level: Int, outcomes: ProblemOutcomes)] {
        try levels.map { level throws(AnalysisError) in
            guard let found = outcomes[key]?[level] else {
                throw AnalysisError(.unknownRow, "run \(run) has no score for \(key) at level \(level)")
            }
            return (level, found)
        }
    }

    /// The mean over the levels' problems of each problem's accuracy.
    func accuracy(_ key: RowKey, levels: [Int]) throws(AnalysisError) -> Double {
        let found = try outcomes(key, levels: levels)
        let problems = found.reduce(0) { $0 + $1.outcomes.problems.count }
        guard problems > 0 else { throw AnalysisError(.emptyInput, "\(key) has no problems on levels \(levels)") }
        let hits = found.reduce(0) { $0 + $1.outcomes.hits.reduce(0, +) }
        return Double(hits) / Double(problems * found[0].outcomes.draws)
    }

    func problems(_ key: RowKey, levels: [Int]) throws(AnalysisError) -> Int {
        try outcomes(key, levels: levels).reduce(0) { $0 + $1.outcomes.problems.count }
    }
}
