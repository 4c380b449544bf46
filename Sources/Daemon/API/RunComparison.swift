import Analysis
import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// `compare`: each run's scores with their per-problem outcomes, handed to `Analysis.Comparison` (the one
/// implementation of the statistics), the headline the spec named in advance unless `all` is asked, how the
/// specs differ, and a warning about runs that are not seeds of one experiment. A run whose record does not verify
/// is refused.
struct RunComparison {
    let queue: Queue

    func compare(_ request: CompareRequest) async throws -> CompareResponse {
        try await compare(request, withGrid: false).response
    }

    /// The comparison, and with `withGrid` also every recorded row at every N on easy and hard problems (what the
    /// dashboard's accuracy-vs-N figure draws), computed from the same reading of the record.
    func compare(
        _ request: CompareRequest, withGrid: Bool
    ) async throws -> (response: CompareResponse, grid: ComparisonReport?) {
        guard !request.runs.isEmpty else {
            throw DaemonError(.badRequest, "name at least one run: {\"runs\": [\"<id>\", ...]}")
        }
        guard request.runs.count <= 1000 else {
            throw DaemonError(.badRequest, "compare at most 1,000 runs at once")
        }
        if let n = request.n, n < 1 { throw DaemonError(.badRequest, "n must be at least 1") }
        // Each run is one seed of the figures, so a run named twice (by two prefixes, say) is refused before its
        // record is read twice.
        let catalog = RunCatalog(queue: queue)
        var ids: [String] = []
        var named: [String: String] = [:]
        for name in request.runs {
            let id = try await catalog.resolve(name)
            if let first = named.updateValue(name, forKey: id) {
                throw DaemonError(
                    .badRequest,
                    "run \(id) is named twice (as \(first) and \(name)); each run is one seed: name it once")
            }
            ids.append(id)
        }
        let loaded = try await loadInOrder(ids) { try await load(resolved: $0) }
        return try await compare(request, loaded: loaded, withGrid: withGrid)
    }

    /// One run's comparison (its headline, claims and grid) from a stream its caller has read already: the run
    /// page shows the same events and the same chain verdict, and reads them once.
    func compare(
        run: RunDetails, stream: VerifiedStream, withGrid: Bool
    ) async throws -> (response: CompareResponse, grid: ComparisonReport?) {
        try await compare(
            CompareRequest(runs: [run.id]), loaded: [try await recorded(run, stream: stream)], withGrid: withGrid)
    }

    private func compare(
        _ request: CompareRequest, loaded recorded: [RecordedRun], withGrid: Bool
    ) async throws -> (response: CompareResponse, grid: ComparisonReport?) {
        let (loaded, repeats) = Self.oneRunPerSpec(recorded)
        let runs = loaded.map(\.run)
        let specs = loaded.map(\.spec)
        if let other = specs.first(where: { $0.task.family != specs[0].task.family }) {
            throw DaemonError(
                .badRequest,
                "these runs are of different tasks (\(specs[0].task.family.rawValue) and \(other.task.family.rawValue)), "
                    + "so they are not seeds of one experiment: compare each task's runs on their own")
        }
        let scores = loaded.map(\.scores)
        let differences = Self.specDifferences(specs)
        let beyondSeed = differences.map(\.path).filter { $0 != "seed" && $0 != "name" }
        var warnings: [String] = []
        if !repeats.isEmpty {
            warnings.append(
                "counted once: "
                    + repeats.map { "\($0.repeated.prefix(8)) has \($0.kept.prefix(8))'s spec and seed" }
                    .joined(separator: ", ")
                    + " — the same spec and seed give the same results, so they are one seed, not several")
        }
        if let unfinished = Self.unfinished(runs) { warnings.append(unfinished) }
        if runs.count > 1, !beyondSeed.isEmpty {
            warnings.append(
                "these runs differ in more than their seed (\(beyondSeed.prefix(3).joined(separator: ", ")))"
                    + (beyondSeed.count > 3 ? " and \(beyondSeed.count - 3) more" : "")
                    + "; the figures treat them as seeds of one experiment — compare one setting's seeds at a time "
                    + "(for a group's sweep: e2h compare GROUP --setting PATH=VALUE)")
        }
        var comparison =
            request.all
            ? ComparisonRequest(rows: nil, baseline: specs[0].report?.baseline ?? RowReference(method: "majority"))
            : specs[0].headlineRequest(recorded: scores[0].scores.map(\.row))
        if let baseline = request.baseline {
            do {
                comparison.baseline = try RowReference(parsing: baseline)
            } catch {
                throw DaemonError(.badRequest, "baseline \(baseline): \(error.message)")
            }
        }
        if let n = request.n {
            comparison.n = n
            if let report = specs[0].report, !report.claims.isEmpty, !request.all, n != report.n {
                warnings.append(
                    "--n \(n) chooses the headline rows' N; the claims stay at the N named before the run")
            }
        }
        if request.eachLevel { comparison.levels = [.eachLevel] }
        do {
            // The grid (every row) is the larger part: computed meanwhile, on another core.
            async let computing = Result { () throws(AnalysisError) -> ComparisonReport? in
                guard withGrid else { return nil }
                return try Comparison.compare(
                    runs: scores, request: ComparisonRequest(rows: nil, baseline: nil, levels: [.easy, .hard]))
            }
            var report = try Comparison.compare(runs: scores, request: comparison)
            // The claims the first spec named before its run, with the headline (not with --all, which is the grid),
            // at the N named with them: `--n` choosing it would let a claim be tried at each N until one holds.
            if !request.all, let named = specs[0].report, !named.claims.isEmpty {
                report.claims = try Comparison.claims(named.claims, runs: scores, n: named.n)
            }
            let grid = try await computing.get()
            return (
                CompareResponse(
                    runs: runs, report: report, specDifferences: differences, warnings: warnings,
                    namedInAdvance: !request.all && specs[0].report != nil), grid
            )
        } catch {
            throw DaemonError(.badRequest, error.message)
        }
    }

    /// One run of each canonical spec, and which runs repeated it (a replay job, a spec submitted again, sweep
    /// values that canonicalise alike): runs of one spec and seed record the same bits, so they are one seed. The
    /// one kept is the first named of those that completed (else the first named), at the place of the first named:
    /// a cancelled run named first must not stand for a completed one, nor the order of the names decide it.
    static func oneRunPerSpec<Run>(
        _ loaded: [Run], specHash: (Run) -> String, completed: (Run) -> Bool, id: (Run) -> String
    ) -> (kept: [Run], repeats: [(repeated: String, kept: String)]) {
        var slot: [String: Int] = [:]
        var kept: [Run] = []
        for run in loaded {
            if let index = slot[specHash(run)] {
                if completed(run) && !completed(kept[index]) { kept[index] = run }
            } else {
                slot[specHash(run)] = kept.count
                kept.append(run)
            }
        }
        let keptIDs = Set(kept.map(id))
        let repeats = loaded.filter { !keptIDs.contains(id($0)) }.map { run in
            (repeated: id(run), kept: id(kept[slot[specHash(run)]!]))
        }
        return (kept, repeats)
    }

    private static func oneRunPerSpec(
        _ loaded: [RecordedRun]
    ) -> (kept: [RecordedRun], repeats: [(repeated: String, kept: String)]) {
        oneRunPerSpec(
            loaded, specHash: \.run.specHash, completed: { $0.run.state == .completed }, id: \.run.id)
    }

    /// What compare needs of one run: its row, its recorded spec, its scores with their outcomes.
    private struct RecordedRun: Sendable {
        var run: RunDetails
        var spec: ExperimentSpec
        var scores: RunScores
    }

    /// `id` is a run's whole id, resolved by the caller.
    private func load(resolved id: String) async throws -> RecordedRun {
        let run = try await RunCatalog(queue: queue).details(id)
        // One read gives the events and the chain's verdict; one query gives every outcome blob the scores name.
        return try await recorded(run, stream: try await queue.store.readVerified(stream: DaemonEvent.stream(run.id)))
    }

    private func recorded(_ run: RunDetails, stream: VerifiedStream) async throws -> RecordedRun {
        // Refused, not warned about: figures computed from an altered record must not reach a table or a paper.
        if case .broken(let version, _, let reason) = stream.verification {
            throw DaemonError(
                .conflict,
                "run \(run.id)'s hash chain does not verify at version \(version) (\(reason)): its figures may have "
                    + "been altered, so it is not compared. `e2h verify \(run.id)` shows the break; a receipt made "
                    + "earlier (`e2h verify \(run.id) --receipt FILE`) shows what changed")
        }
        let events = stream.events
        let spec = try RunReplay.recordedSpec(events)
        let recorded = try ScoreRecorded.recorded(in: events.map { ($0.type, $0.payload) })
        let levelScores: [RunScores.LevelScore]
        do {
            levelScores = try recorded.levelScores(blobs: try await queue.store.blobs(recorded.outcomeHashes))
        } catch {
            throw DaemonError(
                .conflict,
                "run \(run.id) has scores without readable per-problem outcomes; they were recorded by an older "
                    + "e2h — replay it to record them", cause: error)
        }
        guard !levelScores.isEmpty else {
            if let original = run.replayOf {
                throw DaemonError(
                    .conflict,
                    "run \(run.id) is a replay job: it records a verdict (`e2h show \(run.id.prefix(8))`), not scores; "
                        + "compare the run it replays, \(original.prefix(8))")
            }
            throw DaemonError(
                .conflict,
                "run \(run.id) has no scores (it is \(run.state.rawValue)); scores are recorded in a run's last stages")
        }
        return RecordedRun(
            run: run, spec: spec,
            scores: RunScores(
                run: run.id, easyLevels: spec.task.easyLevels, hardLevels: spec.task.hardLevels, scores: levelScores))
    }

    /// A run that has not completed has only the scores its stages reached: rows of later stages are missing, not
    /// zero, and a partial table must not pass for a finished one.
    static func unfinished(_ runs: [RunDetails]) -> String? {
        let unfinished = runs.filter { $0.state != .completed }
        guard !unfinished.isEmpty else { return nil }
        return unfinished.map { "\($0.id.prefix(8)) is \($0.state.rawValue)" }.joined(separator: ", ")
            + ": its figures are the scores recorded so far, and rows of the stages it did not reach are missing — "
            + "`e2h resume` a failed or cancelled run, or compare once it completed"
    }

    /// The canonical-spec fields whose values differ between the runs.
    static func specDifferences(_ specs: [ExperimentSpec]) -> [SpecDifference] {
        let canonical = specs.map { spec -> [String: String] in
            var leaves: [String: String] = [:]
            if let object = try? JSONSerialization.jsonObject(with: spec.canonicalJSON()) {
                JSONDifference.leaves(object, into: &leaves)
            }
            return leaves
        }
        let paths = Set(canonical.flatMap(\.keys)).sorted()
        return paths.compactMap { path in
            let values = canonical.map { $0[path] ?? "(absent)" }
            return Set(values).count > 1 ? SpecDifference(path: path, values: values) : nil
        }
    }
}
