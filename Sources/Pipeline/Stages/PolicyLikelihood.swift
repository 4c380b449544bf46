import NeuralEngine

/// A written sequence's log-probability under the policy that wrote it: Σ log P(token | prefix) over the positions
/// the policy writes (`TaskFamily.writtenPositions`), at temperature 1 and without top-k — the model's own
/// distribution, not the truncated one a pool may have been sampled from. Forced tokens are the environment's and
/// count nothing. The weights of likelihood voting (`Reranking.pick`).
///
/// Computed by one scoring pass over the stored pool rather than recorded while sampling: the sample blobs and
/// every existing run's record stay as they were, and `Transformer.score` gives the same bits on any thread count.
struct PolicyLikelihood {
    let model: Transformer
    let family: any TaskFamily
    let compute: ComputePool

    /// Log-probabilities of one batch of sequences, in one engine call; summed in Double, position by position.
    func logProbabilities(_ sequences: [[Int32]]) -> [Double] {
        let length = family.sequenceLength
        let written = family.writtenPositions
        let output = model.score(
            tokens: sequences.flatMap { $0 }, batchSize: sequences.count, length: length, pool: compute)
        return sequences.indices.map { row in
            // nextTokenLogProb[t] is log P(token t+1 | tokens ...t); position 0 is always forced.
            written.reduce(0.0) { $0 + Double(output.nextTokenLogProb[row * length + $1 - 1]) }
        }
    }

    /// Log-probabilities of a whole pool, sliced with stop polls and progress (`RunContext.scoreInSlices`).
    func logProbabilities(
        _ sequences: [[Int32]], context: RunContext, reporting task: ProgressTask
    ) async throws -> [Double] {
        try await context.scoreInSlices(sequences, reporting: task) { logProbabilities($0) }
    }
}
