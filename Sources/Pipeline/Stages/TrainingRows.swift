import NeuralEngine

/// Builds training batches from written sequences: inputs are the sequence, targets the next
/// token, and the language-model loss counts only where the policy wrote (never on tokens the
/// environment supplies).
struct TrainingRows {
    let family: any TaskFamily

    var length: Int { family.sequenceLength }

    /// Next-token targets and a mask that selects policy-written targets, weighted per row.
    func languageModelBatch(_ sequences: [[Int32]], weights: [Float]? = nil) -> TrainingBatch {
        let written = Set(family.writtenPositions)
        var tokens: [Int32] = []
        var targets: [Int32] = []
        var mask: [Float] = []
        for (row, sequence) in sequences.enumerated() {
            tokens += sequence
            for position in 0..<length {
                let next = position + 1
                targets.append(next < length ? sequence[next] : Vocabulary.padding)
                mask.append(next < length && written.contains(next) ? (weights?[row] ?? 1) : 0)
            }
        }
        return TrainingBatch(
            batchSize: sequences.count, length: length, tokens: tokens, targets: targets, lossMask: mask)
    }

    /// Scalar-head labels at each step's end position; `labels[row][step]` is nil where no label counts.
    func scalarBatch(_ sequences: [[Int32]], labels: [[Float?]]) -> TrainingBatch {
        var tokens: [Int32] = []
        var targets = [Float](repeating: 0, count: sequences.count * length)
        var mask = [Float](repeating: 0, count: sequences.count * length)
        for (row, sequence) in sequences.enumerated() {
            tokens += sequence
            for (step, span) in family.steps.enumerated() {
                guard let label = labels[row][step] else { continue }
                targets[row * length + span.end] = label
                mask[row * length + span.end] = 1
            }
        }
        return TrainingBatch(
            batchSize: sequences.count, length: length, tokens: tokens, targets: [], lossMask: [],
            scalarTargets: targets, scalarMask: mask)
    }
}
