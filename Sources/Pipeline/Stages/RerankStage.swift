import Foundation
import NeuralEngine
import WireTypes

/// Stage 5: majority voting, likelihood voting (by the policy's own probabilities), weighted voting and best-of-N
/// over the SFT policy's test pools, for every N, evaluator and step-score aggregation, per level → `ScoreRecorded`
/// rows with per-problem outcomes. Other generators' pools (`rerank.generators`) are reranked the same way
/// (`poolRows`) at the evaluate stage, once every generator is trained.
enum RerankStage {
    struct Output: Codable, Sendable {
        var rows: Int
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer, samples: SampleStage.Output,
        evaluators: EvaluatorStage.Output
    ) async throws -> Output {
        let spec = context.spec
        let test = try await SampleStage.load(samples.test, samplesPerProblem: spec.sampling.poolSize, context: context)
        var scored: [ScoredPool] = []
        for evaluator in evaluators.evaluators {
            scored.append(
                ScoredPool(
                    evaluator: evaluator,
                    scores: try EvaluatorScoring.decode(
                        try await context.log.blob(evaluator.testScores),
                        readingsPerSequence: EvaluatorScoring.readingsPerSequence(
                            evaluator.kind, family: context.family))))
        }
        let rows = try await poolRows(
            context, generator: "sft", model: policy, pool: test, scored: scored, problems: dataset.test, stage: .rerank
        )
        try await context.record(rows)
        return Output(rows: rows.count)
    }

    /// One evaluator's readings of every sequence of a pool.
    struct ScoredPool {
        var evaluator: EvaluatorStage.Trained
        var scores: [[Double]]
    }

    /// Every row of one generator's pool, in the order the record keeps: pass@N, majority voting, likelihood
    /// voting by `model` (the generator's own probabilities, no evaluator read), then each evaluator's weighted
    /// voting and best-of-N under every aggregation it has a reading for.
    static func poolRows(
        _ context: RunContext, generator: String, model: Transformer, pool: SampleSet, scored: [ScoredPool],
        problems: [Problem], stage: StageName
    ) async throws -> [ScoreMeasurement] {
        let spec = context.spec
        let verdicts = EvaluatorStage.verdicts(pool, problems: problems, context: context)
        let answerOnly: (Verdict, [Double]?) -> Candidate = { verdict, _ in
            Candidate(answer: verdict.answer, correct: verdict.final, score: 1)
        }
        var rows = rows(
            method: .pass, evaluator: "none", aggregation: "none", policy: generator, stage: stage,
            candidates: answerOnly, verdicts: verdicts, scores: nil, problems: problems, context: context)
        if spec.rerank.methods.contains(.majority) {
            rows += self.rows(
                method: .rerank(.majority), evaluator: "none", aggregation: "none", policy: generator,
                stage: stage, candidates: answerOnly, verdicts: verdicts, scores: nil, problems: problems,
                context: context)
        }
        if spec.rerank.methods.contains(.likelihood) {
            // The pool was written by `model`: its own probabilities weigh the votes, and no evaluator is read.
            let likelihood = PolicyLikelihood(model: model, family: context.family, compute: context.compute)
            let logProbabilities = try await likelihood.logProbabilities(
                pool.sequences, context: context,
                reporting: ProgressTask(
                    stage: stage, task: "\(generator) likelihood", unit: "sequences", total: pool.sequences.count))
            rows += self.rows(
                method: .rerank(.likelihood), evaluator: "none", aggregation: "none", policy: generator, stage: stage,
                candidates: { verdict, logProbability in
                    Candidate(answer: verdict.answer, correct: verdict.final, score: logProbability?.first ?? 0)
                }, verdicts: verdicts, scores: logProbabilities.map { [$0] }, problems: problems, context: context)
        }
        let steps = context.family.steps.count
        for (evaluator, scores) in scored.map({ ($0.evaluator, $0.scores) }) {
            for method in spec.rerank.methods where method.usesEvaluator {
                // An aggregation the evaluator has no reading for (`final` of a PRM) gives no row.
                for aggregation in spec.rerank.aggregations
                where aggregation.applies(to: evaluator.kind) {
                    try await context.pollStop()
                    rows += self.rows(
                        method: .rerank(method), evaluator: evaluator.name, aggregation: aggregation.rawValue,
                        policy: generator, stage: stage,
                        candidates: { verdict, readings in
                            Candidate(
                                answer: verdict.answer, correct: verdict.final,
                                score: aggregation.score(readings ?? [], kind: evaluator.kind, steps: steps))
                        }, verdicts: verdicts, scores: scores, problems: problems, context: context)
                }
            }
        }
        return rows
    }

    /// One row per (N, level): accuracy of a decision rule over resampled subsets of each pool.
    static func rows(
        method: PoolMethod, evaluator: String, aggregation: String, policy: String, stage: StageName,
        candidates: (Verdict, [Double]?) -> Candidate, verdicts: [Verdict], scores: [[Double]]?, problems: [Problem],
        context: RunContext
    ) -> [ScoreMeasurement] {
        let spec = context.spec
        let pool = spec.sampling.poolSize
        let decides = method.decides
        var rows: [ScoreMeasurement] = []
        for level in spec.task.levels {
            let pools = problems.indices.filter { problems[$0].level == level }.map { problem in
                (
                    problem: problem,
                    candidates: (0..<pool).map { sample in
                        let row = problem * pool + sample
                        return candidates(verdicts[row], scores?[row])
                    }
                )
            }
            for n in spec.sampling.n {
                let outcomes = Reranking.outcomes(
                    pools: pools, n: n, resamples: spec.rerank.resamples,
                    seed: spec.seed, decides: decides)
                rows.append(
                    ScoreMeasurement(
                        stage: stage, policy: policy, method: method.recordedName, evaluator: evaluator,
                        aggregation: aggregation, n: n, level: level, outcomes: outcomes,
                        resamples: spec.rerank.resamples))
            }
        }
        return rows
    }
}
