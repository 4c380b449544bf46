import Analysis
import NeuralEngine

/// One sampled solution as the reranker sees it.
struct Candidate: Sendable, Equatable {
    var answer: String
    var correct: Bool
    /// The solution's score under some evaluator and aggregation; for likelihood voting, the natural log of the
    /// solution's probability under the policy that wrote it (`PolicyLikelihood`). Unused by majority voting.
    var score: Double
}

/// Picks one answer from N candidates. Ties go to the answer that appears first among the
/// candidates, so a pick never depends on hashing or iteration order.
enum Reranking {
    /// The index of a candidate holding the chosen answer.
    static func pick(_ method: RerankMethod, among candidates: [Candidate]) -> Int {
        precondition(!candidates.isEmpty)
        switch method {
        case .majority: return vote(candidates) { _ in 1 }
        case .weighted: return vote(candidates) { $0.score }
        case .likelihood:
            // An answer weighs the summed probability of the samples that give it, Σ e^logp: a log-sum-exp per
            // answer, every term shifted by the largest log-probability among these candidates. One shift for all
            // answers keeps their order, and the likeliest sample weighs 1, so the winner's weight never
            // underflows however negative the log-probabilities are (a sample e^-87 below the likeliest adds 0).
            let shift = candidates.map(\.score).max()!
            return vote(candidates) { Double(DeterministicMath.exp(Float($0.score - shift))) }
        case .bestOfN:
            var best = 0
            for index in candidates.indices.dropFirst() where candidates[index].score > candidates[best].score {
                best = index
            }
            return best
        }
    }

    private static func vote(_ candidates: [Candidate], weight: (Candidate) -> Double) -> Int {
        // Answers in order of first appearance, with their total weight.
        var answers: [(answer: String, first: Int, total: Double)] = []
        for (index, candidate) in candidates.enumerated() {
            if let slot = answers.firstIndex(where: { $0.answer == candidate.answer }) {
                answers[slot].total += weight(candidate)
            } else {
                answers.append((candidate.answer, index, weight(candidate)))
            }
        }
        var best = answers[0]
        for entry in answers.dropFirst() where entry.total > best.total { best = entry }
        return best.first
    }

    /// Whether `method` picks a correct answer among `candidates`.
    static func picksCorrectly(_ method: RerankMethod) -> ([Candidate]) -> Bool {
        { candidates in candidates[pick(method, among: candidates)].correct }
    }

    /// pass@N: some candidate is correct (the ceiling any reranker could reach).
    static func anyCorrect(_ candidates: [Candidate]) -> Bool { candidates.contains { $0.correct } }

    /// Whether `decides` is right with budget `n` on each of `resamples` random size-`n` subsets of
    /// each problem's pool (the paper's estimate averages them). Subsets depend only on the seed, the
    /// problem's index and the draw, so every method is judged on the same subsets. A full pool has
    /// one subset: drawing it again would only repeat the same pick, so it is drawn once. Pools must
    /// ascend by problem and have one size.
    static func outcomes(
        pools: [(problem: Int, candidates: [Candidate])], n: Int, resamples: Int, seed: UInt64,
        decides: ([Candidate]) -> Bool
    ) -> ProblemOutcomes {
        let poolSize = pools.first?.candidates.count ?? 0
        let size = min(n, poolSize)
        var outcomes = ProblemOutcomes(draws: size == poolSize ? 1 : resamples)
        for (problem, pool) in pools {
            precondition(pool.count == poolSize, "every pool of a score has the same size")
            let picks = (0..<outcomes.draws).map { draw in
                var random = RandomStream(.rerankSubsets, item: problem, index: draw).generator(seed: seed)
                return decides(size == pool.count ? pool : random.distinct(size, below: pool.count).map { pool[$0] })
            }
            outcomes.append(problem: problem, outcomes: picks)
        }
        return outcomes
    }
}
