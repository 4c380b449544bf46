import Canonical
import Foundation

extension PipelineEvent {
    /// The blobs this event names, read from its typed payload (and, for a trained evaluator, the blob of test
    /// scores its volatile facts note), in payload order. Events of other types name none.
    public func blobReferences() throws -> [String] {
        switch type {
        case StageCompleted.eventType:
            return [try StageCompleted(decoding: self).outputs]
        case DatasetSplitCreated.eventType:
            let split = try DatasetSplitCreated(decoding: self)
            return [split.sha256, split.labelsSha256]
        case CheckpointSaved.eventType:
            let checkpoint = try CheckpointSaved(decoding: self)
            return [checkpoint.blob] + (checkpoint.companion.map { [$0] } ?? [])
        case SamplesGenerated.eventType:
            return [try SamplesGenerated(decoding: self).blob]
        case EvaluatorTrained.eventType:
            let facts = try? JSONDecoder().decode([String: VolatileFact].self, from: volatile)
            guard case .text(let scores) = facts?[EvaluatorTrained.testScoresFact] else {
                return [try EvaluatorTrained(decoding: self).weights]
            }
            return [try EvaluatorTrained(decoding: self).weights, scores]
        case ScoreRecorded.eventType:
            return [try ScoreRecorded(decoding: self).outcomes]
        default:
            return []
        }
    }
}
