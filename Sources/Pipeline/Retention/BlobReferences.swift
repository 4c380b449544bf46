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

/// The blobs a stage's outputs (the JSON a `StageCompleted` names) name: every string in it shaped like a content
/// hash. Outputs of every stage are read alike, so a stage that comes to name a new blob is covered without a
/// change here.
public enum StageOutputReferences {
    public static func named(in outputs: Data) -> [String] {
        guard let document = try? JSONSerialization.jsonObject(with: outputs, options: [.fragmentsAllowed]) else {
            return []
        }
        var found: [String] = []
        func walk(_ value: Any) {
            switch value {
            case let text as String:
                if ContentHash.isSHA256Hex(text) { found.append(text) }
            case let array as [Any]:
                array.forEach(walk)
            case let object as [String: Any]:
                // Sorted keys: the order of what is found must not depend on a dictionary's.
                for key in object.keys.sorted() { walk(object[key]!) }
            default:
                break
            }
        }
        walk(document)
        return found
    }
}
