import NeuralEngine

/// Iterative DPO (the paper's Table 2), one chain of policies per ranking (`DPOSpec`).
///
/// Iteration i samples `samplesPerProblem` solutions of each training question from the policy π_i, pairs one
/// preferred solution y⁺ of each question with one dispreferred y⁻ (`pairs`), and trains π_i on the pairs with
/// the DPO loss against π_i itself as the reference; the result is π_{i+1}, scored greedily on test as the row
/// of that iteration (`DPOSpec.policyNames`). Rankings share their sampling and batch streams (per iteration),
/// so two rankings differ only by the pairs they form.
///
/// Ranked by easy answers, only easy questions are paired; ranked by an evaluator, every question is, and no
/// label is read — hard questions reach training only through the easy-trained evaluator's scores.
struct IterativeDPO {
    let context: RunContext
    let spec: DPOSpec
    let ranking: DPOSpec.Ranking
    /// The ranking evaluator's scoring, for `.evaluator` rankings.
    let evaluator: EvaluatorScoring?

    struct Pair {
        var preferred: [Int32]
        var dispreferred: [Int32]
    }

    func run(dataset: Dataset, policy: Transformer) async throws -> Transformer {
        let questions: [Problem]
        switch ranking {
        case .easyAnswers:
            questions =
                context.leak == .hardAnswersInDPO ? dataset.train : dataset.train.filter { context.isEasy($0.level) }
        case .evaluator: questions = dataset.train
        }
        let names = iterationPolicyNames(ranking.policyBase, iterations: spec.iterations)
        // Chosen on validation, as PPO's checkpoints are: each interval checkpoint's easy-validation pass@1.
        let validation =
            spec.checkpoint == .bestValidation
            ? (context.leak == .dpoSelectionOnTest ? dataset.test : dataset.validation).filter {
                context.isEasy($0.level)
            } : nil
        var current = policy
        for iteration in 0..<spec.iterations {
            let loop = TrainingLoop(
                stage: .rl, model: "\(ranking.policyBase)_\(iteration)", optimization: spec.optimization)
            if let trained = try await loop.recordedResult(context) {
                current = trained
            } else {
                current = try await train(
                    loop, iteration: iteration, from: current, questions: questions, validation: validation)
            }
            if validation != nil {
                let (chosen, step) = try await loop.bestOnValidation(
                    context, trained: current, figure: \.easyValidationAccuracy)
                if let step {
                    context.logger.info("\(loop.model): the checkpoint at step \(step) is best on validation")
                }
                current = chosen
            }
            try await context.record(
                try await context.greedyScores(current, policy: names[iteration], stage: .rl, problems: dataset.test))
        }
        return current
    }

    /// One iteration: samples of `questions` from `policy`, their pairs, and DPO on them against `policy`; with
    /// `validation` problems, each interval checkpoint records its pass@1 on them.
    private func train(
        _ loop: TrainingLoop, iteration: Int, from policy: Transformer, questions: [Problem], validation: [Problem]?
    ) async throws -> Transformer {
        let sequences = try await context.sample(
            policy, problems: questions, samplesPerProblem: spec.samplesPerProblem,
            stream: RandomStream(.dpoSamples, item: iteration), temperature: context.spec.sampling.temperature,
            reporting: ProgressTask(stage: .rl, task: "\(loop.model) samples", unit: "problems", total: questions.count)
        )
        let pairs = try await self.pairs(sequences, questions: questions, iteration: iteration)
        guard !pairs.isEmpty else {
            throw PipelineError(
                code: .invalidSpec,
                message: """
                    DPO (\(ranking.name)) iteration \(iteration) found no question whose \
                    \(spec.samplesPerProblem) samples it could rank apart, so it has nothing to train on — train \
                    the SFT policy longer or raise rl.dpo.samples_per_problem
                    """)
        }
        let likelihood = { (model: Transformer) in
            PolicyLikelihood(model: model, family: context.family, compute: context.compute)
        }
        let reference = likelihood(policy)
        let written = Float(context.family.writtenPositions.count)
        let rows = TrainingRows(family: context.family)
        let batchSize = spec.optimization.batchSize
        return try await loop.run(
            context, initial: { policy.copy() },
            round: { step, model, train in
                var random = context.random(.dpoBatches, item: iteration, index: step)
                let batch = (0..<batchSize).map { _ in pairs[random.uniform(below: pairs.count)] }
                let sequences = batch.map(\.preferred) + batch.map(\.dispreferred)
                let margins = Self.margins(
                    policy: likelihood(model).logProbabilities(sequences),
                    reference: reference.logProbabilities(sequences), beta: spec.beta)
                let weights = Self.tokenWeights(
                    margins: margins, beta: spec.beta, writtenTokens: written, nllWeight: spec.nllWeight)
                let tokens = context.family.writtenPositions.count
                train(
                    rows.policyGradientBatch(
                        sequences,
                        weights: weights.preferred.map { [Float](repeating: $0, count: tokens) }
                            + weights.dispreferred.map { [Float](repeating: $0, count: tokens) }))
                return Self.figures(margins)
            },
            afterCheckpoint: validation.map { problems in
                { .easyValidationAccuracy(SFTStage.easyPassAtOne($0, problems: problems, context: context)) }
            })
    }

    /// One pair per question whose samples the ranking tells apart, in question order.
    private func pairs(_ sequences: [[Int32]], questions: [Problem], iteration: Int) async throws -> [Pair] {
        let k = spec.samplesPerProblem
        let scores: [Double]
        switch ranking {
        case .easyAnswers:
            scores = sequences.indices.map { context.judge(sequences[$0], against: questions[$0 / k]).final ? 1 : 0 }
        case .evaluator(let name):
            guard let evaluator else { preconditionFailure("an evaluator ranking without its scoring") }
            let readings = try await evaluator.readings(
                sequences, context: context,
                reporting: ProgressTask(
                    stage: .rl, task: "\(ranking.policyBase)_\(iteration) scored by \(name)", unit: "sequences",
                    total: sequences.count))
            let steps = context.family.steps.count
            scores = readings.map { spec.aggregation.score($0, kind: evaluator.kind, steps: steps) }
        }
        return stride(from: 0, to: sequences.count, by: k).compactMap { first in
            Self.pair(scores: Array(scores[first..<(first + k)])).map {
                Pair(preferred: sequences[first + $0.preferred], dispreferred: sequences[first + $0.dispreferred])
            }
        }
    }

    /// The highest- and the lowest-scored of one question's samples (the first of each on ties), or nil when all
    /// score the same.
    static func pair(scores: [Double]) -> (preferred: Int, dispreferred: Int)? {
        guard let high = scores.indices.max(by: { scores[$0] < scores[$1] || scores[$0] == scores[$1] && $0 > $1 }),
            let low = scores.indices.min(by: { scores[$0] < scores[$1] || scores[$0] == scores[$1] && $0 < $1 }),
            scores[high] > scores[low]
        else { return nil }
        return (high, low)
    }

    /// z = β[(log π(y⁺) − log π_ref(y⁺)) − (log π(y⁻) − log π_ref(y⁻))] per pair, from log-probabilities of the
    /// batch's B preferred rows followed by its B dispreferred rows.
    static func margins(policy: [Double], reference: [Double], beta: Double) -> [Float] {
        let pairs = policy.count / 2
        return (0..<pairs).map { pair in
            let preferred = policy[pair] - reference[pair]
            let dispreferred = policy[pairs + pair] - reference[pairs + pair]
            return Float(beta * (preferred - dispreferred))
        }
    }

    /// The weight of each written token of a pair's preferred and dispreferred rows. The loss the engine minimises is
    /// −Σ w·log p / (2B·T) over 2B rows × T written tokens; the DPO gradient of the batch mean is
    /// −(1/B) Σ β σ(−z) (∇log π(y⁺) − ∇log π(y⁻)), so each token of y⁺ weighs 2T·β σ(−z) and each token of y⁻ the
    /// opposite; α·(−log π(y⁺))/T per pair adds 2α to each token of y⁺.
    static func tokenWeights(
        margins: [Float], beta: Double, writtenTokens: Float, nllWeight: Double
    ) -> (preferred: [Float], dispreferred: [Float]) {
        let dpo = margins.map { Float(beta) * 2 * writtenTokens * DeterministicMath.sigmoid(-$0) }
        return (dpo.map { $0 + Float(2 * nllWeight) }, dpo.map { -$0 })
    }

    /// The round's DPO loss (mean −log σ(z), before the step) and the share of pairs the policy already prefers.
    static func figures(_ margins: [Float]) -> [String: Double] {
        let count = Double(max(margins.count, 1))
        return [
            "dpo_loss": margins.reduce(0) { $0 + Double(DeterministicMath.softplus(-$1)) } / count,
            "preference_accuracy": Double(margins.filter { $0 > 0 }.count) / count,
        ]
    }
}
