import Canonical
import EventStore
import Foundation
import WireTypes

/// Reading groups: a group by id or prefix, its members in sweep order, and listings with members by state.
struct GroupCatalog {
    let queue: Queue

    /// Accepts a full id or a unique prefix, like runs.
    func resolve(_ idOrPrefix: String) async throws -> String {
        let prefix = idOrPrefix.lowercased()
        guard !prefix.isEmpty, prefix.utf8.count <= 36, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw DaemonError(.notFound, "no group \(idOrPrefix.prefix(80)) — `e2h groups` lists them")
        }
        let rows = try await queue.store.transaction { tx in
            try tx.query(
                "SELECT id FROM run_groups WHERE id LIKE $1 ORDER BY id = $2 DESC, id LIMIT 2",
                [.text(prefix + "%"), .text(prefix)])
        }
        if rows.count > 0, let first = try rows.string(0, "id"), first == prefix || rows.count == 1 { return first }
        switch rows.count {
        case 0: throw DaemonError(.notFound, "no group \(idOrPrefix) — `e2h groups` lists them")
        default: throw DaemonError(.badRequest, "\(idOrPrefix) names more than one group; give more of the id")
        }
    }

    func details(_ id: String) async throws -> GroupDetails {
        guard let summary = try await summaries(id: id, limit: 1).first else {
            throw DaemonError(.notFound, "no group \(id) — `e2h groups` lists them")
        }
        let rows = try await queue.store.transaction { tx in
            try tx.query(
                """
                SELECT \(RunCatalog.detailColumns) FROM runs JOIN run_group_members ON run_id = runs.id
                WHERE group_id = $1 ORDER BY position
                """, [.text(id)])
        }
        let runs = try await RunCatalog(queue: queue).withEventCounts(rows)
        let settings = try await record(of: id).members
        guard settings.map(\.run) == runs.map(\.id) else {
            throw DaemonError(.internalError, "group \(id)'s GroupSubmitted and its member rows disagree")
        }
        return GroupDetails(
            summary: summary,
            members: zip(settings, runs).map { GroupMemberDetails(settings: $0.settings, run: $1) })
    }

    func list(limit: Int) async throws -> [GroupSummary] { try await summaries(id: nil, limit: limit) }

    /// Newest first; one group when `id` is given.
    private func summaries(id: String?, limit: Int) async throws -> [GroupSummary] {
        let states = RunState.allCases.map(\.rawValue)
        let counts = states.map { "count(*) FILTER (WHERE runs.state = '\($0)') AS \($0)" }.joined(separator: ", ")
        let rows = try await queue.store.transaction { tx in
            try tx.query(
                """
                SELECT run_groups.id, run_groups.name, run_groups.submitted_at, \(counts)
                FROM run_groups
                JOIN run_group_members ON group_id = run_groups.id JOIN runs ON runs.id = run_id
                WHERE ($1::text IS NULL OR run_groups.id = $1::text)
                GROUP BY run_groups.id ORDER BY run_groups.submission_order DESC LIMIT $2
                """, [id.map { .text($0) } ?? .null, .int(Int64(limit))])
        }
        return try (0..<rows.count).map { row in
            var members = GroupStateCounts()
            for state in RunState.allCases {
                members.add(state, count: try RunTable.required(rows.int(row, state.rawValue), state.rawValue))
            }
            return GroupSummary(
                id: try RunTable.required(rows.string(row, "id"), "id"),
                name: try RunTable.required(rows.string(row, "name"), "name"),
                submittedAt: try RunTable.required(rows.date(row, "submitted_at"), "submitted_at"), members: members)
        }
    }

    /// The group's `GroupSubmitted`: the first event of its stream.
    func record(of group: String) async throws -> GroupSubmitted {
        let first = try await queue.store.read(stream: DaemonEvent.groupStream(group), fromVersion: 1, limit: 1)
        guard let event = first.first, event.type == DaemonEventType.groupSubmitted.rawValue else {
            throw DaemonError(.conflict, "group \(group) has no GroupSubmitted event")
        }
        do {
            return try CanonicalJSON.decode(GroupSubmitted.self, from: event.payload)
        } catch {
            throw DaemonError(.conflict, "group \(group)'s GroupSubmitted event does not decode", cause: error)
        }
    }
}
