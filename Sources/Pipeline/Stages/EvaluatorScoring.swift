import Foundation
import NeuralEngine

/// An evaluator's readings of written sequences, each in [0, 1]: one per step — the scalar head's probability at
/// the step's end, or, for the generative verifier, the likelihood of the tokens the step wrote,
/// P(written tokens | prefix) — then, for the outcome evaluators (`readsFinalToken`), the scalar head's
/// probability at the final token.
struct EvaluatorScoring {
    let kind: EvaluatorKind
    let model: Transformer
    let family: any TaskFamily
    let compute: ComputePool

    /// Readings per sequence: the steps, plus one at the final token for ORM and OPRM.
    static func readingsPerSequence(_ kind: EvaluatorKind, family: any TaskFamily) -> Int {
        family.steps.count + (kind.readsFinalToken ? 1 : 0)
    }

    /// Readings of one batch of sequences, in one engine call.
    func readings(_ sequences: [[Int32]]) -> [[Double]] {
        let length = family.sequenceLength
        let output = model.score(
            tokens: sequences.flatMap { $0 }, batchSize: sequences.count, length: length, pool: compute)
        return sequences.indices.map { row in
            let base = row * length
            let steps = family.steps.map { step in
                switch kind {
                case .generative:
                    // nextTokenLogProb[t] is log P(token t+1 | tokens ...t).
                    let logLikelihood = step.written.reduce(0.0) {
                        $0 + Double(output.nextTokenLogProb[base + $1 - 1])
                    }
                    return Double(DeterministicMath.exp(Float(logLikelihood)))
                case .orm, .prm, .oprm:
                    return Double(output.scalar[base + step.end])
                }
            }
            return kind.readsFinalToken ? steps + [Double(output.scalar[base + length - 1])] : steps
        }
    }

    /// The step readings alone (e.g. a process reward).
    func stepScores(_ sequences: [[Int32]]) -> [[Double]] {
        readings(sequences).map { Array($0.prefix(family.steps.count)) }
    }

    /// Readings of a whole pool, sliced with stop polls and progress (`RunContext.scoreInSlices`).
    func readings(
        _ sequences: [[Int32]], context: RunContext, reporting task: ProgressTask
    ) async throws
        -> [[Double]]
    {
        try await context.scoreInSlices(sequences, reporting: task) { readings($0) }
    }

    /// Float32 scores, row-major: the blob a reranker reads back.
    static func encode(_ scores: [[Double]]) -> Data {
        var data = Data(capacity: scores.count * (scores.first?.count ?? 0) * 4)
        for row in scores {
            for value in row {
                withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    static func decode(_ data: Data, readingsPerSequence width: Int) throws -> [[Double]] {
        guard width > 0, data.count % (4 * width) == 0 else {
            throw PipelineError(code: .corruptHistory, message: "a score blob of \(data.count) bytes is not whole rows")
        }
        let bytes = [UInt8](data)
        let values = stride(from: 0, to: bytes.count, by: 4).map { offset -> Double in
            let bits =
                UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
            return Double(Float(bitPattern: bits))
        }
        return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<($0 + width)]) }
    }
}
