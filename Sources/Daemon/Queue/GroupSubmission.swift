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
        let group = try Self.expand(request)
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
                    specHash: member.spec.canonicalHash, specYaml: request.yaml, priority: request.priority),
                settings: member.settings.map { GroupSetting(path: $0.path, value: $0.value) }
            )
        }
        let name = members.first?.submitted.name ?? "group"
        let record = try DaemonEvent.groupSubmitted(
            GroupSubmitted(
                name: name, specYaml: request.yaml, seeds: request.seeds, overrides: request.overrides,
                members: members.map {
                    GroupSubmitted.Member(run: $0.id, specHash: $0.submitted.specHash, settings: $0.settings)
                })
        ).recorded()
        let runEvents = try members.map { try DaemonEvent.submitted($0.submitted).recorded() }
        let lifecycle = RunLifecycle.submitted(maxAttempts: queue.settings.maxAttempts, policy: queue.policy)
        let (id, created) = try await queue.store.transaction { tx -> (String, Bool) in
            // The group's row first: a second submission with the same key waits here for the first to commit.
            let inserted = try tx.query(
                """
                INSERT INTO run_groups (id, name, idempotency_key) VALUES ($1, $2, $3)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
                """, [.text(groupID), .text(name), request.idempotencyKey.map { .text($0) } ?? .null])
            if inserted.isEmpty, let key = request.idempotencyKey {
                let existing = try tx.query("SELECT id FROM run_groups WHERE idempotency_key = $1", [.text(key)])
                return (try RunTable.required(existing.string(0, "id"), "id"), false)
            }
            for (position, (member, event)) in zip(members, runEvents).enumerated() {
                _ = try tx.query(
                    """
                    INSERT INTO runs (id, name, spec_hash, state, priority, max_attempts) VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    [
                        .text(member.id), .text(member.submitted.name), .text(member.submitted.specHash),
                        .text(lifecycle.state.runState.rawValue), .int(Int64(request.priority)),
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
            queue.metrics.eventsAppended(members.count + 1)
            queue.logger.info(
                "group queued", metadata: ["group": "\(id)", "name": "\(name)", "runs": "\(members.count)"])
        }
        return GroupSubmitResponse(group: try await GroupCatalog(queue: queue).details(id), created: created)
    }

    /// The request's sweep, expanded and validated; any problem is the user's, with every diagnostic.
    static func expand(_ request: GroupSubmitRequest) throws -> SpecGroup {
        do {
            let seeds = try request.seeds.map(SeedRange.init(parsing:))
            let overrides = try request.overrides.map(SpecOverride.init(parsing:))
            if let maximum = request.maxRuns, maximum < 1 {
                throw DaemonError(.badRequest, "--max-runs must be at least 1")
            }
            return try SpecGroup.expand(
                yaml: request.yaml, file: request.file, seeds: seeds, overrides: overrides,
                maximumRuns: request.maxRuns)
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
