import Analysis
import Canonical
import EventStore
import Foundation
import RunBundle
import WireTypes

/// Reading the queue: a run by id or prefix, listings, and the census `/metrics` shows.
struct RunCatalog {
    let queue: Queue

    static let detailColumns = """
        id, name, state, priority, attempt, failures, max_attempts, spec_hash, lease_owner, cancel_requested,
        CASE WHEN state = 'running' THEN lease_expires_at END AS lease_expires_at, submitted_at, updated_at, errors::text AS errors, progress::text AS progress, replay_of,
        headline::text AS headline,
        (SELECT membership.group_id FROM run_group_members AS membership WHERE membership.run_id = runs.id) AS group_id,
        (e2h_latest_payload('\(RunStreams.annotationPrefix)' || runs.id, '\(AnnotationEvent.TagsChanged.eventType)')
            -> 'tags')::text AS tags
        """

    /// Accepts a full id or a unique prefix (ids are lowercase hex and dashes).
    func resolve(_ idOrPrefix: String) async throws -> String {
        let prefix = idOrPrefix.lowercased()
        guard !prefix.isEmpty, prefix.utf8.count <= 36, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw DaemonError(.notFound, "no run \(idOrPrefix.prefix(80)) — `e2h runs` lists them")
        }
        // An exact id sorts first and always wins, so an id that is also another's prefix stays addressable.
        let rows = try await queue.store.transaction { tx in
            try tx.query(
                "SELECT id FROM runs WHERE id LIKE $1 ORDER BY id = $2 DESC, id LIMIT 2",
                [.text(prefix + "%"), .text(prefix)])
        }
        if rows.count > 0, let first = try rows.string(0, "id"), first == prefix || rows.count == 1 { return first }
        switch rows.count {
        case 0: throw DaemonError(.notFound, "no run \(idOrPrefix) — `e2h runs` lists them")
        default: throw DaemonError(.badRequest, "\(idOrPrefix) names more than one run; give more of the id")
        }
    }

    func details(_ id: String) async throws -> RunDetails {
        let rows = try await queue.store.transaction { tx in
            try tx.query("SELECT \(Self.detailColumns) FROM runs WHERE id = $1", [.text(id)])
        }
        guard rows.count == 1 else { throw DaemonError(.notFound, "no run \(id) — `e2h runs` lists them") }
        return try await withEventCounts(rows)[0]
    }

    /// Newest first. Everything that narrows the list is evaluated by PostgreSQL before the limit: `query`
    /// (`runs --where`), and the dashboard's filters — the start of a group's id (as `e2h runs` shows it), one tag
    /// whole, and text found in the id or, ignoring case, the name. (The runs page once filtered the newest 500 runs
    /// it had read, and never found an older one.)
    func list(
        state: RunState?, limit: Int, query: RunQuery? = nil, groupPrefix: String? = nil, tag: String? = nil,
        text: String? = nil
    ) async throws -> [RunDetails] {
        let condition = RunQuery(all: [query?.condition, tag.map { .compare(.tag, .equal, .text($0)) }])
            .sql(firstParameter: 5)
        let rows = try await queue.store.transaction { tx in
            try tx.query(
                """
                SELECT \(Self.detailColumns) FROM runs
                WHERE ($1::text IS NULL OR state = $1::text) AND \(condition.text)
                    AND ($3::text IS NULL OR EXISTS (
                        SELECT 1 FROM run_group_members AS membership
                        WHERE membership.run_id = runs.id AND starts_with(membership.group_id, lower($3::text))))
                    AND ($4::text IS NULL OR strpos(runs.id, lower($4::text)) > 0
                        OR strpos(lower(runs.name), lower($4::text)) > 0)
                ORDER BY submission_order DESC LIMIT $2
                """,
                [
                    state.map { .text($0.rawValue) } ?? .null, .int(Int64(limit)),
                    groupPrefix.map { .text($0) } ?? .null, text.map { .text($0) } ?? .null,
                ] + condition.parameters)
        }
        if rows.count == 0, let query, let unknown = try await unknownSpecPath(in: query) {
            throw DaemonError(.badRequest, unknown)
        }
        return try await withEventCounts(rows)
    }

    /// Why an empty answer is empty when the condition names a `spec.<path>` that no recorded spec has: almost
    /// always a typo, which would otherwise read as "no such runs". The message names the path and, at the deepest
    /// level of it that some spec has, the nearest key (or the keys there). Nil when every path is in some spec, or
    /// when there are no runs to tell.
    private func unknownSpecPath(in query: RunQuery) async throws -> String? {
        let paths = query.specPaths
        guard !paths.isEmpty else { return nil }
        let spec = RunQuery.recordedSpec(streamPrefix: "$1")
        let prefix = PostgresValue.text(DaemonEvent.stream(""))
        return try await queue.store.transaction { tx -> String? in
            for path in paths {
                let known = try tx.query(
                    """
                    SELECT NOT EXISTS (SELECT 1 FROM runs)
                        OR EXISTS (SELECT 1 FROM runs WHERE \(spec) #> $2::text[] IS NOT NULL) AS known
                    """, [prefix, .textArray(path)])
                if try known.bool(0, "known") != false { continue }
                for depth in stride(from: path.count - 1, through: 0, by: -1) {
                    let level = Array(path.prefix(depth))
                    let rows = try tx.query(
                        """
                        SELECT DISTINCT key FROM runs, jsonb_object_keys(
                            CASE WHEN jsonb_typeof(\(spec) #> $2::text[]) = 'object' THEN \(spec) #> $2::text[]
                            ELSE '{}'::jsonb END) AS key
                        ORDER BY key
                        """, [prefix, .textArray(level)])
                    let keys = try (0..<rows.count).compactMap { try rows.string($0, "key") }
                    guard !keys.isEmpty else { continue }
                    let message = "--where: no recorded spec has \(RunQuery.display(path))"
                    if let close = Suggestion.closest(to: path[depth], among: keys) {
                        return message + " — did you mean '\(RunQuery.display(level + [close]))'?"
                    }
                    return message + "; \(RunQuery.display(level)) has \(keys.joined(separator: ", "))"
                }
                return "--where: no recorded spec has \(RunQuery.display(path))"
            }
            return nil
        }
    }

    /// The rows as the API shows them, with each run's event count from the store.
    func withEventCounts(_ rows: PostgresRows) async throws -> [RunDetails] {
        let ids = try (0..<rows.count).map { try RunTable.required(rows.string($0, "id"), "id") }
        let versions = try await queue.store.versions(of: ids.map(DaemonEvent.stream))
        return try (0..<rows.count).map { row in
            try Self.details(rows, row, eventCount: Int(versions[DaemonEvent.stream(ids[row])] ?? 0))
        }
    }

    static func details(_ rows: PostgresRows, _ row: Int, eventCount: Int) throws -> RunDetails {
        func required<T>(_ value: T?, _ column: String) throws -> T { try RunTable.required(value, column) }
        let errors = try CanonicalJSON.decode(
            [String].self, from: Data(try required(rows.string(row, "errors"), "errors").utf8))
        let progress = try rows.string(row, "progress").map {
            try CanonicalJSON.decode(RunProgress.self, from: Data($0.utf8))
        }
        let stateText = try required(rows.string(row, "state"), "state")
        guard let state = RunState(rawValue: stateText) else {
            throw DaemonError(.internalError, "a run has the unknown state \(stateText)")
        }
        return RunDetails(
            id: try required(rows.string(row, "id"), "id"), name: try required(rows.string(row, "name"), "name"),
            state: state, priority: try required(rows.int(row, "priority"), "priority"),
            attempt: try required(rows.int(row, "attempt"), "attempt"),
            failures: try required(rows.int(row, "failures"), "failures"),
            maxAttempts: try required(rows.int(row, "max_attempts"), "max_attempts"),
            specHash: try required(rows.string(row, "spec_hash"), "spec_hash"),
            leaseOwner: try rows.string(row, "lease_owner"),
            cancelRequested: try required(rows.bool(row, "cancel_requested"), "cancel_requested"),
            submittedAt: try required(rows.date(row, "submitted_at"), "submitted_at"),
            updatedAt: try required(rows.date(row, "updated_at"), "updated_at"), errors: errors, progress: progress,
            eventCount: eventCount, replayOf: try rows.string(row, "replay_of"),
            group: try rows.string(row, "group_id"),
            tags: try rows.string(row, "tags").map { try CanonicalJSON.decode([String].self, from: Data($0.utf8)) },
            headline: try rows.string(row, "headline").map {
                try CanonicalJSON.decode(RunHeadline.self, from: Data($0.utf8))
            }, leaseExpiresAt: try rows.date(row, "lease_expires_at"))
    }

    /// (state, count) for every state, and the number of queued runs.
    func census() async throws -> (byState: [(String, Int)], queued: Int) {
        let rows = try await queue.store.transaction { tx in
            try tx.query("SELECT state, count(*) AS n FROM runs GROUP BY state ORDER BY state", [])
        }
        var counts = Dictionary(uniqueKeysWithValues: RunState.allCases.map { ($0.rawValue, 0) })
        for row in 0..<rows.count {
            counts[try rows.string(row, "state") ?? ""] = try rows.int(row, "n") ?? 0
        }
        let byState = RunState.allCases.map { ($0.rawValue, counts[$0.rawValue] ?? 0) }
        return (byState, counts[RunState.queued.rawValue] ?? 0)
    }
}
