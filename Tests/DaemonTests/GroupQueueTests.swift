import EventStore
import Foundation
import Testing
import WireTypes

@testable import Daemon

@Suite("Groups of runs on PostgreSQL")
struct GroupQueueTests {
    static let spec = "name: tiny\nseed: 7\n"

    func submit(
        _ queue: Queue, yaml: String = spec, seeds: String? = "0..2", overrides: [String] = [], maxRuns: Int? = nil,
        key: String? = nil
    ) async throws -> GroupSubmitResponse {
        try await GroupSubmission(queue: queue).submit(
            GroupSubmitRequest(
                yaml: yaml, file: "tiny.yaml", seeds: seeds, overrides: overrides, maxRuns: maxRuns,
                idempotencyKey: key))
    }

    func groupCount(_ queue: Queue) async throws -> Int {
        try await GroupCatalog(queue: queue).list(limit: 100).count
    }

    @Test func aSweepBecomesOrdinaryRunsAndOneGroupRecord() async throws {
        let queue = try await TestDatabase.queue()
        let response = try await submit(queue, overrides: ["policy.sft.learning_rate=1e-3,3e-3"])
        let group = response.group
        #expect(response.created)
        #expect(group.members.count == 6)
        #expect(group.summary.members == GroupStateCounts(states: Array(repeating: .queued, count: 6)))
        // The first axis outermost, the seed last: a setting's seeds are adjacent.
        #expect(
            group.members.map(\.settings.label) == [
                "policy.sft.learning_rate=1e-3 seed=0", "policy.sft.learning_rate=1e-3 seed=1",
                "policy.sft.learning_rate=1e-3 seed=2", "policy.sft.learning_rate=3e-3 seed=0",
                "policy.sft.learning_rate=3e-3 seed=1", "policy.sft.learning_rate=3e-3 seed=2",
            ])
        #expect(Set(group.members.map(\.run.specHash)).count == 6)
        for member in group.members {
            let events = try await queue.store.readWhole(stream: DaemonEvent.stream(member.run.id))
            #expect(events.map(\.type) == ["RunSubmitted"])
            let seed = try #require(member.settings.last?.value)
            let submitted = try await DaemonEvent.submission(of: member.run.id, in: queue.store)
            #expect(submitted.specJson.contains("\"seed\":\(seed)"), "\(submitted.specJson)")
        }
        let record = try await GroupCatalog(queue: queue).record(of: group.summary.id)
        #expect(record.members.map(\.run) == group.members.map(\.run.id))
        #expect(record.members.map(\.settings) == group.members.map(\.settings))
        #expect(record.seeds == "0..2" && record.overrides == ["policy.sft.learning_rate=1e-3,3e-3"])
        // Members are ordinary queue entries: any worker claims them.
        let lease = try #require(try await queue.claim(owner: "w"))
        #expect(lease.run == group.members[0].run.id)
        #expect(try await queue.list(state: nil, limit: 100).count == 6)
    }

    @Test func aRetryWithTheSameKeyReturnsTheSameGroup() async throws {
        let queue = try await TestDatabase.queue()
        let first = try await submit(queue, key: "sweep-1")
        let again = try await submit(queue, key: "sweep-1")
        #expect(first.created && !again.created)
        #expect(again.group.summary.id == first.group.summary.id)
        #expect(again.group.members.map(\.run.id) == first.group.members.map(\.run.id))
        #expect(try await queue.list(state: nil, limit: 100).count == 3)
        #expect(try await groupCount(queue) == 1)
        let other = await #expect(throws: DaemonError.self) {
            _ = try await submit(queue, seeds: "0..3", key: "sweep-1")
        }
        #expect(other?.code == .conflict && other?.message.contains("of another spec") == true)
        #expect(try await groupCount(queue) == 1)
    }

    @Test(
        arguments: [
            (["policy.sft.learning_rat=1e-3"], "0..1", nil, "did you mean 'learning_rate'"),
            (["policy.sft.steps=many"], "0..1", nil, "steps"),
            ([], "3..1", nil, "empty"),
            (["policy.sft.learning_rate=1e-3,2e-3,3e-3"], "0..3", 10, "--max-runs"),
        ] as [([String], String, Int?, String)])
    func badInputQueuesNothingAndSaysWhy(
        overrides: [String], seeds: String, maxRuns: Int?, hint: String
    )
        async throws
    {
        let queue = try await TestDatabase.queue()
        do {
            _ = try await submit(queue, seeds: seeds, overrides: overrides, maxRuns: maxRuns)
            Issue.record("a bad group was accepted")
        } catch let error as DaemonError {
            #expect(error.code == .invalidSpec)
            let text = ([error.message] + error.diagnostics).joined(separator: "\n")
            #expect(text.contains(hint), "\(text)")
            #expect(text.contains("nothing was queued"), "\(text)")
        }
        #expect(try await queue.list(state: nil, limit: 100).isEmpty)
        #expect(try await groupCount(queue) == 0)
    }

    @Test func cancelAndResumeApplyToEveryMember() async throws {
        let queue = try await TestDatabase.queue()
        let group = try await submit(queue).group
        let control = GroupControl(queue: queue)
        let cancelled = try await control.cancel(group.summary.id)
        #expect(cancelled.summary.members == GroupStateCounts(states: [.cancelled, .cancelled, .cancelled]))
        // Already ended: a second cancel leaves every member as it is.
        #expect(try await control.cancel(group.summary.id).summary.members == cancelled.summary.members)
        let resumed = try await control.resume(group.summary.id)
        #expect(resumed.summary.members == GroupStateCounts(states: [.queued, .queued, .queued]))
    }

    @Test func groupsAreListedNewestFirstAndFoundByPrefix() async throws {
        let queue = try await TestDatabase.queue()
        let first = try await submit(queue, seeds: "0..1").group.summary.id
        let second = try await submit(queue, seeds: "5").group.summary.id
        let catalog = GroupCatalog(queue: queue)
        #expect(try await catalog.list(limit: 10).map(\.id) == [second, first])
        #expect(try await catalog.list(limit: 10).map(\.members.total) == [1, 2])
        #expect(try await catalog.resolve(String(first.prefix(12))) == first)
        await #expect(throws: DaemonError.self) { try await catalog.resolve("ffffffff-0000") }
    }
}
