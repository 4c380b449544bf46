import Foundation
import NeuralEngine

/// Step scores of written sequences under an evaluator, each in [0, 1]: the scalar head's
/// probability at the step's end, or — for the generative verifier — the likelihood of the tokens
/// the step wrote, P(written tokens | prefix).
struct EvaluatorScoring {
    let kind: EvaluatorKind
    let model: Transformer
    let family: any TaskFamily
    let threads: Int

    /// Rows per engine call: bounds the flat arrays' memory; rows are independent.
    private static let rowsPerCall = 1024

    func stepScores(_ sequences: [[Int32]]) -> [[Double]] {
        let length = family.sequenceLength
        var scores: [[Double]] = []
        scores.reserveCapacity(sequences.count)
        for first in stride(from: 0, to: sequences.count, by: Self.rowsPerCall) {
            let rows = Array(sequences[first..<min(first + Self.rowsPerCall, sequences.count)])
            let output = model.score(
                tokens: rows.flatMap { $0 }, batchSize: rows.count, length: length, threads: threads)
            for row in rows.indices {
                let base = row * length
                scores.append(
                    family.steps.map { step in
                        if kind == .generative {
                            // nextTokenLogProb[t] is log P(token t+1 | tokens ...t).
                            let logLikelihood = step.written.reduce(0.0) {
                                $0 + Double(output.nextTokenLogProb[base + $1 - 1])
                            }
                            return Double(DeterministicMath.exp(Float(logLikelihood)))
                        }
                        return Double(output.scalar[base + step.end])
                    })
            }
        }
        return scores
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

    static func decode(_ data: Data, steps: Int) throws -> [[Double]] {
        guard steps > 0, data.count % (4 * steps) == 0 else {
            throw PipelineError(code: .corruptHistory, message: "a score blob of \(data.count) bytes is not whole rows")
        }
        let bytes = [UInt8](data)
        let values = stride(from: 0, to: bytes.count, by: 4).map { offset -> Double in
            let bits =
                UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
            return Double(Float(bitPattern: bits))
        }
        return stride(from: 0, to: values.count, by: steps).map { Array(values[$0..<($0 + steps)]) }
    }
}
