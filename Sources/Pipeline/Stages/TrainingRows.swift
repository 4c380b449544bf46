import NeuralEngine

/// Builds training batches from written sequences: inputs are the sequence, targets the next
/// token, and the language-model loss counts only where the policy wrote (never on tokens the
/// environment supplies).
struct TrainingRows {
    let family: any TaskFamily

    var length: Int { family.sequenceLength }

    /// Next-token targets and a mask that selects policy-written targets (the loss is their mean).
    func languageModelBatch(_ sequences: [[Int32]]) -> TrainingBatch {
        weightedBatch(sequences) { _, _ in 1 }
    }

    /// A policy-gradient batch: `weights[row][i]` multiplies the log-probability of the row's i-th
    /// written token (in `family.writtenPositions` order), and the loss is divided by the number of
    /// written tokens, not by the weights' sum — signed weights can sum to anything.
    func policyGradientBatch(_ sequences: [[Int32]], weights: [[Float]]) -> TrainingBatch {
        let index = Dictionary(uniqueKeysWithValues: family.writtenPositions.enumerated().map { ($1, $0) })
        var batch = weightedBatch(sequences) { row, position in weights[row][index[position]!] }
        batch.lossNormalizer = Float(sequences.count * index.count)
        return batch
    }

    /// `weight(row, position)` for each written target position; 0 elsewhere.
    private func weightedBatch(
        _ sequences: [[Int32]], weight: (_ row: Int, _ position: Int) -> Float
    )
        -> TrainingBatch
    {
        let written = Set(family.writtenPositions)
        var tokens: [Int32] = []
        var targets: [Int32] = []
        var mask: [Float] = []
        for (row, sequence) in sequences.enumerated() {
            tokens += sequence
            for position in 0..<length {
                let next = position + 1
                targets.append(next < length ? sequence[next] : Vocabulary.padding)
                mask.append(next < length && written.contains(next) ? weight(row, next) : 0)
            }
        }
        return TrainingBatch(
            batchSize: sequences.count, length: length, tokens: tokens, targets: targets, lossMask: mask)
    }

    /// Scalar-head labels at each step's end position and at the final token; nil where no label counts.
    func scalarBatch(_ sequences: [[Int32]], labels: [ScalarLabels]) -> TrainingBatch {
        var tokens: [Int32] = []
        var targets = [Float](repeating: 0, count: sequences.count * length)
        var mask = [Float](repeating: 0, count: sequences.count * length)
        for (row, sequence) in sequences.enumerated() {
            tokens += sequence
            var positions = zip(family.steps.map(\.end), labels[row].steps).map { ($0, $1) }
            positions.append((length - 1, labels[row].finalToken))
            for (position, label) in positions {
                guard let label else { continue }
                targets[row * length + position] = label
                mask[row * length + position] = 1
            }
        }
        return TrainingBatch(
            batchSize: sequences.count, length: length, tokens: tokens, targets: [], lossMask: [],
            scalarTargets: targets, scalarMask: mask)
    }
}

/// A scalar head's targets for one sequence: one per step (read at the step's end) and one at the final token.
struct ScalarLabels: Equatable {
    var steps: [Float?]
    var finalToken: Float?

    /// ORM data: the final answer's correctness at the final token, and with `everyStep` at every step end too.
    static func outcome(_ verdict: Verdict, at positions: OutcomeLabels) -> ScalarLabels {
        let label: Float = verdict.final ? 1 : 0
        return ScalarLabels(
            steps: verdict.steps.map { _ in positions == .everyStep ? label : nil }, finalToken: label)
    }

    /// PRM data: each step's correctness under `rule`; nothing at the final token.
    static func process(_ verdict: Verdict, rule: StepLabels) -> ScalarLabels {
        switch rule {
        case .runningTotal:
            return ScalarLabels(steps: verdict.steps.map { $0 ? 1 : 0 }, finalToken: nil)
        case .firstError:
            let firstError = verdict.steps.firstIndex(of: false) ?? verdict.steps.count
            return ScalarLabels(
                steps: verdict.steps.indices.map { $0 < firstError ? 1 : $0 == firstError ? 0 : nil }, finalToken: nil)
        }
    }
}
