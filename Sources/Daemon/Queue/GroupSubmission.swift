import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// Expands a spec's sweep and queues the group: every member an ordinary run (its row and its `RunSubmitted`), the
/// group's rows, and the group's `GroupSubmitted` in a stream of its own, all in one transaction, so a group is
/// queued whole or not at all.
struct GroupSubmission {
    let queue: Queue

    func submit(_ request: GroupSubmitRequest) async throws -> GroupSubmitResponse {
        let group = try Self.userSpecs {
            try SpecGroup.expand(
                yaml: request.yaml, file: request.file, seeds: try request.seeds.map(SeedRange.init(parsing:)),
                overrides: try request.overrides.map(SpecOverride.init(parsing:)),
                maximumRuns: request.maxRuns)
        }
        return try await queueGroup(
            group, yaml: request.yaml, seeds: request.seeds, overrides: request.overrides, from: nil,
            priority: request.priority, idempotencyKey: request.idempotencyKey)
    }

    /// `submit --from`: the run's recorded YAML with its own sweep values (if it is a group's member) and the
    /// request's edits, queued as a new group. The clone records the source's YAML and every value written in.
    func clone(_ run: String, _ request: CloneRequest) async throws -> GroupSubmitResponse {
        let source = try await DaemonEvent.submission(of: run, in: queue.store)
        if let original = source.replayOf {
            throw DaemonError(.badRequest, "run \(run) is a replay job; clone the run it replays (\(original))")
        }
        var settings: [(path: String, value: String)] = []
        if let groupID = try await RunCatalog(queue: queue).details(run).group {
            let record = try await GroupCatalog(queue: queue).record(of: groupID)
            settings = (record.members.first { $0.run == run }?.settings ?? []).map { ($0.path, $0.value) }
        }
        var overrides: [SpecOverride] = []
        let group = try Self.userSpecs {
            let seeds = try request.seeds.map(SeedRange.init(parsing:))
            overrides = SpecGroup.cloneOverrides(
                settings: settings, edits: try request.overrides.map(SpecOverride.init(parsing:)), seeds: seeds)
            return try SpecGroup.clone(
                yaml: source.specYaml, file: "run \(run)'s spec", overrides: overrides, seeds: seeds,
                maximumRuns: request.maxRuns)
        }
        return try await queueGroup(
            group, yaml: source.specYaml, seeds: request.seeds, overrides: overrides.map(\.argument), from: run,
            priority: request.priority, idempotencyKey: request.idempotencyKey)
    }

    private func queueGroup(
        _ group: SpecGroup, yaml: String, seeds: String?, overrides: [String], from: String?, priority: Int,
        idempotencyKey: String?
    ) async throws -> GroupSubmitResponse {
        try RunSubmission.check(priority: priority)
        let admission = SpecAdmission(settings: queue.settings)
        for (index, member) in group.members.enumerated() {
            try admission.check(member.spec, member: "member \(index + 1) of \(group.members.count)")
        }
        let groupID = UUID().uuidString.lowercased()
        let members = group.members.map { member in
            (
                id: UUID().uuidString.lowercased(),
                submitted: RunSubmitted(
                    name: member.spec.name, specJson: String(decoding: member.spec.canonicalJSON(), as: UTF8.self),
                    specHash: member.spec.canonicalHash, specYaml: yaml, priority: priority),
                settings: member.settings.map { GroupSetting(path: $0.path, value: $0.value) }
            )
        }
        let name = members.first?.submitted.name ?? "group"
        let record = try DaemonEvent.groupSubmitted(
            GroupSubmitted(
                name: name, specYaml: yaml, seeds: seeds, overrides: overrides,
                members: members.map {
                    GroupSubmitted.Member(run: $0.id, specHash: $0.submitted.specHash, settings: $0.settings)
                }, from: from)
        ).recorded()
        let runEvents = try members.map { try DaemonEvent.submitted($0.submitted).recorded() }
        let lifecycle = RunLifecycle.submitted(maxAttempts: queue.settings.maxAttempts, policy: queue.policy)
        let (id, created) = try await queue.store.transaction { tx -> (String, Bool) in
            // The group's row first: a second submission with the same key waits here for the first to commit.
            let inserted = try tx.query(
                """
                INSERT INTO run_groups (id, name, idempotency_key) VALUES ($1, $2, $3)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
                """, [.text(groupID), .text(name), idempotencyKey.map { .text($0) } ?? .null])
            if inserted.isEmpty, let key = idempotencyKey {
                let existing = try tx.query(
                    """
                    SELECT g.id, (SELECT string_agg(r.spec_hash, ',' ORDER BY m.position) FROM run_group_members m
                        JOIN runs r ON r.id = m.run_id WHERE m.group_id = g.id) AS hashes
                    FROM run_groups g WHERE g.idempotency_key = $1
                    """, [.text(key)])
                let id = try RunTable.required(existing.string(0, "id"), "id")
                // The key names what it was first given for: another group under it is a mistake, not a repeat.
                guard try existing.string(0, "hashes") == members.map(\.submitted.specHash).joined(separator: ",")
                else { throw RunSubmission.keyReused(key, for: "group \(id)") }
                return (id, false)
            }
            for (position, (member, event)) in zip(members, runEvents).enumerated() {
                _ = try tx.query(
                    """
                    INSERT INTO runs (id, name, spec_hash, state, priority, max_attempts) VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    [
                        .text(member.id), .text(member.submitted.name), .text(member.submitted.specHash),
                        .text(lifecycle.state.runState.rawValue), .int(Int64(priority)),
                        .int(Int64(lifecycle.maxAttempts)),
                    ])
                _ = try tx.query(
                    "INSERT INTO run_group_members (run_id, group_id, position) VALUES ($1, $2, $3)",
                    [.text(member.id), .text(groupID), .int(Int64(position))])
                _ = try tx.append(stream: DaemonEvent.stream(member.id), expectedVersion: .noStream, events: [event])
                try QueueChannel.runnable.notify(tx, run: member.id)
            }
            _ = try tx.append(stream: DaemonEvent.groupStream(groupID), expectedVersion: .noStream, events: [record])
            return (groupID, true)
        }
        if created {
            queue.logger.info(
                "group queued", metadata: ["group": "\(id)", "name": "\(name)", "runs": "\(members.count)"])
        }
        return GroupSubmitResponse(group: try await GroupCatalog(queue: queue).details(id), created: created)
    }

    /// The members `expand` gives, or the user's problem with every diagnostic (a bad path, value, seed range or size).
    static func userSpecs(_ expand: () throws -> SpecGroup) throws -> SpecGroup {
        do {
            return try expand()
        } catch let error as PipelineError where error.code == .invalidSpec {
            guard !error.diagnostics.isEmpty else {
                throw DaemonError(.invalidSpec, error.message + "; nothing was queued")
            }
            throw DaemonError(
                .invalidSpec, "\(error.message); nothing was queued", diagnostics: error.diagnostics.map(\.description))
        }
    }
}

extension DaemonEvent {
    /// A group's stream: its `GroupSubmitted`.
    static func groupStream(_ group: String) -> String { "group-\(group)" }
}
