import Canonical
import Foundation
import WireTypes

/// Which of a run's blobs its record still needs, and which may be pruned. Pure: it reads the run's pipeline events
/// and the outputs of its completed stages, nothing else.
///
/// With `.standard`, a blob is kept when
/// - a non-checkpoint event names it: the splits, the sample sets, each evaluator's weights and test scores, the
///   per-problem outcomes behind every score, and each completed stage's outputs;
/// - a completed stage's outputs name it: the selected SFT checkpoint, the `sft_best` one, the ceiling's and the
///   RL policies' final weights — what a later stage or a resume loads;
/// - it is the last checkpoint of its stage and model: each model's final weights and optimizer state, which for a
///   stage still in progress is where a resume restarts;
/// - its stage has not completed: SFT chooses among its checkpoints only at the stage's end.
///
/// Everything else — the intermediate (and stop) checkpoints of completed stages — is prunable. Replay re-executes
/// from the spec and never reads a recorded blob, so it does not depend on any of them.
public struct RetentionPolicy: Sendable, Equatable {
    public var mode: RetentionMode

    public init(mode: RetentionMode) { self.mode = mode }

    /// - Parameters:
    ///   - events: the run's pipeline events, in record order (other types are ignored).
    ///   - stageOutputs: the bytes of completed stages' outputs blobs, by hash. A completed stage whose outputs are
    ///     not given keeps every checkpoint, since what its outputs name is unknown.
    public func plan(events: [PipelineEvent], stageOutputs: [String: Data]) throws -> RetentionPlan {
        var named: [String] = []
        var seen: Set<String> = []
        func note(_ hash: String) {
            if seen.insert(hash).inserted { named.append(hash) }
        }
        var kept: Set<String> = []
        var completed: Set<StageName> = []
        var unreadOutputs: Set<StageName> = []
        var checkpoints: [CheckpointSaved] = []
        var lastOfModel: [String: [String]] = [:]
        for event in events {
            let references = try event.blobReferences()
            references.forEach(note)
            switch event.type {
            case CheckpointSaved.eventType:
                let checkpoint = try CheckpointSaved(decoding: event)
                checkpoints.append(checkpoint)
                lastOfModel["\(checkpoint.stage.rawValue)/\(checkpoint.model)"] = Self.blobs(of: checkpoint)
            case StageCompleted.eventType:
                let stage = try StageCompleted(decoding: event)
                completed.insert(stage.stage)
                kept.insert(stage.outputs)
                if let outputs = stageOutputs[stage.outputs] {
                    let inner = ContentReferences.named(in: outputs)
                    inner.forEach(note)
                    kept.formUnion(inner)
                } else {
                    unreadOutputs.insert(stage.stage)
                }
            default:
                kept.formUnion(references)
            }
        }
        kept.formUnion(lastOfModel.values.joined())
        for checkpoint in checkpoints
        where !completed.contains(checkpoint.stage) || unreadOutputs.contains(checkpoint.stage) {
            kept.formUnion(Self.blobs(of: checkpoint))
        }
        guard mode == .standard else { return RetentionPlan(named: named, prunable: []) }
        return RetentionPlan(named: named, prunable: named.filter { !kept.contains($0) })
    }

    /// A checkpoint's blobs: its own, and its companion's, which a resume restores with it.
    private static func blobs(of checkpoint: CheckpointSaved) -> [String] {
        [checkpoint.blob] + (checkpoint.companion.map { [$0] } ?? [])
    }
}

/// A retention policy's verdict on one run's record.
public struct RetentionPlan: Sendable, Equatable {
    /// Every blob the record names (its events, and its stages' outputs), in the order it first names them.
    public var named: [String]
    /// The blobs nothing depends on, in the same order.
    public var prunable: [String]

    /// The blobs kept, in the same order.
    public var kept: [String] {
        let pruned = Set(prunable)
        return named.filter { !pruned.contains($0) }
    }
}
