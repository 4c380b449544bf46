import Canonical
import EventStore
import Foundation
import Pipeline
import Testing
import WireTypes

@testable import Daemon

/// Retention on PostgreSQL: a run releases its intermediate checkpoints with a tombstone, a blob another run still
/// names survives until that run releases it too, and an attempt can never record a blob that was deleted under it.
@Suite("Retention: tombstones and shared blobs", .serialized)
struct RetentionTests {
    /// Leases are held here without heartbeats; a long one keeps a loaded machine (the whole suite at once) from
    /// expiring them between the claim and the completion, which would fence the completion.
    static func queue() async throws -> Queue {
        try await TestDatabase.queue(TestDatabase.settings(lease: .seconds(600)))
    }

    static func checkpoint(step: Int, blob: String) -> PipelineEvent {
        PipelineEvent(
            type: "CheckpointSaved",
            payload: Data(
                #"{"blob":"\#(blob)","model":"policy","reason":"interval","stage":"sft","step":\#(step)}"#.utf8))
    }

    /// A run whose SFT saved `shared` at step 5 and its own last checkpoint at step 10, selected by its outputs.
    /// Returns the run, its lease (still held) and its last checkpoint's hash.
    static func recordSFT(
        _ queue: Queue, key: String, shared: String
    ) async throws -> (run: String, lease: Lease, last: String) {
        let run = try await queue.submit(
            SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml", idempotencyKey: key)
        ).run.id
        let lease = try #require(try await queue.claim(owner: key))
        let recorder = LeasedRecorder(lease: lease, leases: Leases(queue: queue))
        let last = try await recorder.putBlob(Data("last checkpoint of \(key)".utf8))
        let outputs = try await recorder.putBlob(Data(#"{"checkpoint":"\#(last)","step":10}"#.utf8))
        try await recorder.append([
            PipelineEvent(type: "StageStarted", payload: Data(#"{"stage":"sft"}"#.utf8)),
            checkpoint(step: 5, blob: shared), checkpoint(step: 10, blob: last),
            PipelineEvent(type: "StageCompleted", payload: Data(#"{"outputs":"\#(outputs)","stage":"sft"}"#.utf8)),
        ])
        return (run, lease, last)
    }

    static func complete(_ queue: Queue, _ lease: Lease) async throws {
        let release = try await RetentionCollector(queue: queue, mode: .standard).releaseAtCompletion(of: lease.run)
        try await Leases(queue: queue).finish(lease, .completed(summary: "done"), release: release)
    }

    static func tombstones(_ queue: Queue, _ run: String) async throws -> [BlobsPruned] {
        try await queue.store.readWhole(stream: DaemonEvent.stream(run))
            .filter { $0.type == "BlobsPruned" }
            .map { try CanonicalJSON.decode(BlobsPruned.self, from: $0.payload) }
    }

    @Test func aBlobAnotherRunStillNamesSurvivesUntilThatRunReleasesItToo() async throws {
        let queue = try await Self.queue()
        let sharedBytes = Data("a checkpoint both runs saved".utf8)
        let shared = try await queue.store.putBlob(sharedBytes)
        let first = try await Self.recordSFT(queue, key: "first", shared: shared)
        let second = try await Self.recordSFT(queue, key: "second", shared: shared)

        try await Self.complete(queue, first.lease)
        #expect(try await Self.tombstones(queue, first.run) == [BlobsPruned(hashes: [shared], freedBytes: 0)])
        // Released by the first run, still named by the second (running): kept.
        #expect(try await queue.store.blob(shared) == sharedBytes)
        #expect(try await queue.store.readWhole(stream: DaemonEvent.stream(first.run)).last?.type == "BlobsPruned")
        let firstBlobs = try await RunBlobRecord.read(first.run, from: queue.store).verification(in: queue.store)
        #expect(firstBlobs.missing.isEmpty && firstBlobs.pruned.isEmpty && firstBlobs.stored == firstBlobs.named)

        try await Self.complete(queue, second.lease)
        #expect(
            try await Self.tombstones(queue, second.run)
                == [BlobsPruned(hashes: [shared], freedBytes: Int64(sharedBytes.count))])
        await #expect(throws: EventStoreError.self) { _ = try await queue.store.blob(shared) }
        // What each run selected stays; verify names the pruned blob, and nothing is missing.
        #expect(try await queue.store.blob(first.last) == Data("last checkpoint of first".utf8))
        for run in [first.run, second.run] {
            let blobs = try await RunBlobRecord.read(run, from: queue.store).verification(in: queue.store)
            #expect(blobs.pruned == [shared] && blobs.missing.isEmpty && blobs.named == 3 && blobs.stored == 2)
        }
        // Nothing more to release: a collection writes no second tombstone.
        let collected = try await RetentionCollector(queue: queue, mode: .standard).collect(dryRun: false)
        #expect(collected.runs.map(\.releasedBlobs) == [0, 0] && collected.freedBytes == 0)
        #expect(try await Self.tombstones(queue, first.run).count == 1)
    }

    /// Members of a sweep that share a seed store identical SFT checkpoints; one completing may delete the content
    /// another has stored but not yet named. The other's append stores it again (it still holds the bytes) and
    /// records, instead of failing its attempt (a 12-run sweep lost one that way).
    @Test func aBlobDeletedAfterAnAttemptStoredItIsStoredAgainByItsAppend() async throws {
        let queue = try await Self.queue()
        let bytes = Data("stored by both".utf8)
        let shared = try await queue.store.putBlob(bytes)
        let first = try await Self.recordSFT(queue, key: "first", shared: shared)
        // The second run has stored the same bytes (a no-op: they are there) but not yet recorded the event.
        let run = try await queue.submit(
            SubmitRequest(yaml: RunQueueTests.spec, file: "tiny.yaml", idempotencyKey: "late")
        ).run.id
        let lease = try #require(try await queue.claim(owner: "late"))
        let recorder = LeasedRecorder(lease: lease, leases: Leases(queue: queue))
        #expect(try await recorder.putBlob(bytes) == shared)
        try await Self.complete(queue, first.lease)
        await #expect(throws: EventStoreError.self) { _ = try await queue.store.blob(shared) }
        try await recorder.append([Self.checkpoint(step: 5, blob: shared)])
        #expect(try await queue.store.blob(shared) == bytes)
        #expect(
            try await queue.store.readWhole(stream: DaemonEvent.stream(run)).map(\.type) == [
                "RunSubmitted", "RunClaimed", "CheckpointSaved",
            ])
        let blobs = try await RunBlobRecord.read(run, from: queue.store).verification(in: queue.store)
        #expect(blobs.missing.isEmpty && blobs.stored == blobs.named)
    }

    @Test func aDryCollectionReportsWhatAKeepAllRunWouldFreeAndChangesNothing() async throws {
        let queue = try await Self.queue()
        let sharedBytes = Data("an intermediate checkpoint".utf8)
        let shared = try await queue.store.putBlob(sharedBytes)
        let run = try await Self.recordSFT(queue, key: "kept", shared: shared)
        try await Leases(queue: queue).finish(run.lease, .completed(summary: "done"))
        let collector = RetentionCollector(queue: queue, mode: .standard)

        let dry = try await collector.collect(dryRun: true)
        #expect(dry.dryRun && dry.runs.count == 1)
        #expect(dry.runs[0].releasedBlobs == 1 && dry.runs[0].freedBytes == Int64(sharedBytes.count))
        #expect(dry.runs[0].eventBytes > 0 && dry.runs[0].blobBytes > 0)
        #expect(try await queue.store.blob(shared) == sharedBytes)
        #expect(try await Self.tombstones(queue, run.run).isEmpty)

        let wet = try await collector.collect(dryRun: false)
        #expect(wet.runs.map(\.freedBytes) == dry.runs.map(\.freedBytes))
        #expect(wet.freedBytes == Int64(sharedBytes.count) && wet.runs[0].blobBytes == dry.runs[0].blobBytes)
        await #expect(throws: EventStoreError.self) { _ = try await queue.store.blob(shared) }
        #expect(try await Self.tombstones(queue, run.run).map(\.hashes) == [[shared]])
        #expect(try await collector.collect(dryRun: true).freedBytes == 0)
    }
}
