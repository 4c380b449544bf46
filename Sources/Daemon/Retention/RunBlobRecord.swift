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

    static func read(_ run: String, from store: EventStore) async throws -> RunBlobRecord {
        let recorded = try await store.readWhole(stream: DaemonEvent.stream(run))
        var events: [PipelineEvent] = []
        var released: [String] = []
        var leftOut = Set<String>()
        var retention: RetentionMode?
        for event in recorded {
            if event.type == DaemonEventType.submitted.rawValue {
                // A spec this e2h cannot read (an older format) might have asked to keep everything: keep it.
                let submitted = try? CanonicalJSON.decode(RunSubmitted.self, from: event.payload)
                let spec = submitted.flatMap { try? ExperimentSpec(canonicalJSON: Data($0.specJson.utf8)) }
                retention = spec == nil ? .keepAll : spec?.retention
            } else if event.type == DaemonEventType.blobsPruned.rawValue {
                do {
                    let tombstone = try CanonicalJSON.decode(BlobsPruned.self, from: event.payload)
                    released += tombstone.hashes
                    if tombstone.cause == .scoresOnlyImport { leftOut.formUnion(tombstone.hashes) }
                } catch {
                    throw DaemonError(
                        .conflict, "run \(run)'s tombstone at version \(event.version) does not decode", cause: error)
                }
            } else if !DaemonEventType.isDaemonEvent(event.type) {
                events.append(
                    PipelineEvent(
                        type: event.type, payload: event.payload, volatile: try LeasedRecorder.volatile(of: event)))
            }
        }
        let outputs = try events.filter { $0.type == StageCompleted.eventType }.map {
            try CanonicalJSON.decode(StageCompleted.self, from: $0.payload).outputs
        }
        // Outputs are small JSON; one that is no longer stored is left out, and the policy keeps its stage whole.
        let stored = try await store.blobSizes(outputs)
        let stageOutputs = try await store.blobs(outputs.filter { stored[$0] != nil })
        return RunBlobRecord(
            run: run, version: recorded.last?.version ?? 0, events: events, released: released, leftOut: leftOut,
            stageOutputs: stageOutputs, retention: retention)
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
