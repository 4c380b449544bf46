import NeuralEngine

/// PPO's value model: a scalar-head transformer (the SFT policy's trunk with a new head) that estimates, before
/// each step, the return-to-go of the rest of the solution.
///
/// The engine's scalar head is a sigmoid trained with binary cross-entropy. Rather than add a second scalar loss to
/// the engine for one model, returns are mapped affinely onto [0, 1] soft targets over a fixed range
/// [−c, c], c = 1 + process reward weight: the largest return a solution can earn (outcome 1 plus the whole
/// process reward). Cross-entropy with soft targets is minimised at the target, so the head still estimates the
/// expected return; the range is symmetric so a new head (reading about ½) starts at a value of 0. Only KL-shaped
/// returns can fall outside the range; they are clamped to its ends, which makes the value a worse estimate for
/// those solutions (the advantages subtract it), not a target the loss cannot take.
struct ValueModel {
    let family: any TaskFamily
    /// c: returns are read and targeted on [−c, c].
    let bound: Double

    init(family: any TaskFamily, processRewardWeight: Double) {
        self.family = family
        bound = 1 + processRewardWeight
    }

    /// Where the value of the state before each step is read: the last position before the step's first written
    /// token (the head at position t has seen tokens ...t).
    var positions: [Int] { family.steps.map { ($0.written.first ?? $0.end + 1) - 1 } }

    /// A return as the head's soft target in [0, 1].
    func target(_ value: Double) -> Float { Float(min(max((value + bound) / (2 * bound), 0), 1)) }

    /// The head's reading in [0, 1] as a value.
    func value(_ reading: Double) -> Double { reading * 2 * bound - bound }

    /// Values of the state before each step of each sequence, in one engine call.
    func values(_ model: Transformer, _ sequences: [[Int32]], compute: ComputePool) -> [[Double]] {
        let length = family.sequenceLength
        let output = model.score(
            tokens: sequences.flatMap { $0 }, batchSize: sequences.count, length: length, pool: compute)
        return sequences.indices.map { row in positions.map { value(Double(output.scalar[row * length + $0])) } }
    }

    /// A batch that regresses the value before each step onto that step's return-to-go.
    func batch(_ sequences: [[Int32]], returns: [[Double]]) -> TrainingBatch {
        let length = family.sequenceLength
        var targets = [Float](repeating: 0, count: sequences.count * length)
        var mask = [Float](repeating: 0, count: sequences.count * length)
        for row in sequences.indices {
            for (step, position) in positions.enumerated() {
                targets[row * length + position] = target(returns[row][step])
                mask[row * length + position] = 1
            }
        }
        return TrainingBatch(
            batchSize: sequences.count, length: length, tokens: sequences.flatMap { $0 }, targets: [], lossMask: [],
            scalarTargets: targets, scalarMask: mask)
    }
}
