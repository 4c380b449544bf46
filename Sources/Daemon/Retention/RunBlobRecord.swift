import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// What a run's record says about its blobs: its pipeline events (with their volatile facts), what its tombstones
/// released, and the outputs of its completed stages — the inputs of `RetentionPolicy`, read once.
struct RunBlobRecord: Sendable {
    var run: String
    /// The stream's version when read: a release is applied only to the record it was planned on.
    var version: Int64
    var events: [PipelineEvent]
    /// Released by the run's tombstones, in record order (those left out of a scores-only import included).
    var released: [String]
    /// Left out of the `--scores-only` bundle the run was imported from: never here.
    var leftOut: Set<String>
    var stageOutputs: [String: Data]
    /// The spec's own `retention:`, which overrides the daemon's.
    var retention: RetentionMode?

    /// The record of `run`, read from its stream whole.
    static func read(_ run: String, from store: EventStore) async throws -> RunBlobRecord {
        var record = RunBlobRecord(run: run)
        for event in try await store.readWhole(stream: DaemonEvent.stream(run)) {
            try record.accept(
                type: event.type, version: event.version, payload: event.payload, metadata: event.metadata)
        }
        try await record.fetchStageOutputs(from: store)
        return record
    }

    /// An empty record, for `accept` to read a stream into: from the store (`read`), or from a bundle as the import
    /// checks it, before any of it is stored.
    init(run: String) {
        self.run = run
        version = 0
        events = []
        released = []
        leftOut = []
        stageOutputs = [:]
    }

    /// Reads the record's next event; `stageOutputs` is for the caller to fill once every event is read.
    mutating func accept(type: String, version: Int64, payload: Data, metadata: Data) throws {
        self.version = version
        if type == DaemonEventType.submitted.rawValue {
            // A spec this e2h cannot read (an older format) might have asked to keep everything: keep it.
            let submitted = try? CanonicalJSON.decode(RunSubmitted.self, from: payload)
            let spec = submitted.flatMap { try? ExperimentSpec(canonicalJSON: Data($0.specJson.utf8)) }
            retention = spec == nil ? .keepAll : spec?.retention
        } else if type == DaemonEventType.blobsPruned.rawValue {
            do {
                let tombstone = try CanonicalJSON.decode(BlobsPruned.self, from: payload)
                released += tombstone.hashes
                if tombstone.cause == .scoresOnlyImport { leftOut.formUnion(tombstone.hashes) }
            } catch {
                throw DaemonError(
                    .conflict, "run \(run)'s tombstone at version \(version) does not decode", cause: error)
            }
        } else if !DaemonEventType.isDaemonEvent(type) {
            events.append(PipelineEvent(type: type, payload: payload, volatile: try LeasedRecorder.volatile(metadata)))
        }
    }

    /// Fetches the outputs of the record's completed stages (small JSON blobs): from `carried` where it holds them (a
    /// bundle being imported), else from the store. One neither holds is left out, and the policy keeps its stage whole.
    mutating func fetchStageOutputs(
        from store: EventStore, carried: (String) throws -> Data? = { _ in nil }
    ) async throws {
        let outputs = try events.filter { $0.type == StageCompleted.eventType }.map {
            try CanonicalJSON.decode(StageCompleted.self, from: $0.payload).outputs
        }
        var fetched: [String: Data] = [:]
        for hash in outputs { fetched[hash] = try carried(hash) }
        let others = outputs.filter { fetched[$0] == nil }
        let stored = try await store.blobSizes(others)
        stageOutputs = fetched.merging(try await store.blobs(others.filter { stored[$0] != nil })) { carried, _ in
            carried
        }
    }

    func plan(_ mode: RetentionMode) throws -> RetentionPlan {
        do {
            return try RetentionPolicy(mode: mode).plan(events: events, stageOutputs: stageOutputs)
        } catch {
            throw DaemonError(.conflict, "run \(run)'s record cannot be read for retention", cause: error)
        }
    }

    /// What the policy prunes that no tombstone released yet: the run's next tombstone.
    func release(_ mode: RetentionMode) throws -> [String] {
        let done = Set(released)
        return try plan(mode).prunable.filter { !done.contains($0) }
    }

    /// Every blob the record names, stored, pruned (released and gone), left out of a scores-only import, or
    /// missing (gone without a tombstone).
    func verification(in store: EventStore) async throws -> BlobVerification {
        let named = try plan(.keepAll).named
        let stored = try await store.blobSizes(named)
        let done = Set(released)
        let absent = named.filter { stored[$0] == nil }
        return BlobVerification(
            named: named.count, stored: stored.count,
            pruned: absent.filter { done.contains($0) && !leftOut.contains($0) },
            leftOut: absent.filter { leftOut.contains($0) }, missing: absent.filter { !done.contains($0) })
    }
}
