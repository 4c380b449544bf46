import Foundation
import NeuralEngine

/// One PPO variant (`rl.ppo`, or one entry of its list), trained from the selected SFT policy.
///
/// Each iteration samples a rollout from the current policy, records its log-probabilities, then takes
/// `epochs × minibatches` steps on it; each step re-scores its minibatch under the current weights for the
/// importance ratio. Rewards per step: the final answer's correctness on easy questions only (on every question for
/// an `outcome_rewards: all` oracle), at the last step; the easy-trained process reward evaluator's score for every
/// step (hard questions get only that); less, with `kl_coefficient` β > 0, β times each step's sampled KL to the
/// SFT policy. Advantages: group-relative per step (`group`), or GAE from a value model trained beside the policy
/// on the returns, whitened over the rollout (`gae`).
struct PPOTraining {
    let spec: PPOSpec
    /// The variant's place in `rl.ppo`: the item of its random streams, so variants draw independently (the
    /// single-mapping form is variant 0, which keeps the streams it had).
    let variant: Int

    func train(
        _ context: RunContext, dataset: Dataset, policy: Transformer, evaluators: EvaluatorStage.Output
    ) async throws -> Transformer {
        let processReward =
            try await spec.usesProcessReward
            ? RLStage.evaluatorScoring(named: spec.processRewardEvaluator, context, evaluators: evaluators) : nil
        let family = context.family
        let rows = TrainingRows(family: family)
        let k = spec.samplesPerProblem
        let rolloutRows = spec.problemsPerIteration * k
        let minibatchRows = rolloutRows / spec.minibatches
        let stepsPerRound = spec.epochs * spec.minibatches
        let totalSteps = spec.iterations * stepsPerRound
        // The step each written token belongs to, in `writtenPositions` order.
        let stepOfToken = family.steps.enumerated().flatMap { step, span in span.written.map { _ in step } }
        let optimization = OptimizationSpec(
            steps: totalSteps, batchSize: minibatchRows, learningRate: spec.learningRate, warmupSteps: 0,
            scheduleSteps: totalSteps, minimumLearningRateRatio: 1, weightDecay: 0, gradientClip: 1)
        var loop = TrainingLoop(stage: .rl, model: spec.policyName, optimization: optimization)
        loop.stepsPerRound = stepsPerRound
        let valueModel = ValueModel(family: family, processRewardWeight: spec.processRewardWeight)
        let companion =
            spec.advantages == .gae
            ? TrainingLoop.Companion(
                initial: {
                    policy.withHead(
                        .scalar,
                        seed: RandomStream(.ppoValueInitialization, item: variant).seed(from: context.spec.seed))
                },
                optimization: OptimizationSpec(
                    steps: totalSteps, batchSize: minibatchRows, learningRate: spec.valueLearningRate,
                    warmupSteps: 0, scheduleSteps: totalSteps, minimumLearningRateRatio: 1, weightDecay: 0,
                    gradientClip: 1))
            : nil
        let pool = context.leak == .testQuestionsInPPO ? dataset.train + dataset.test : dataset.train
        let questions = spec.questions == .all ? pool : pool.filter { context.isEasy($0.level) }
        // Chosen on validation: each interval checkpoint's easy-validation pass@1, as SFT's checkpoints are judged.
        let validation =
            spec.checkpoint == .bestValidation
            ? (context.leak == .ppoSelectionOnTest ? dataset.test : dataset.validation).filter {
                context.isEasy($0.level)
            } : nil
        let trained = try await loop.run(
            context, initial: { policy.copy() }, companion: companion,
            round: { iteration, current, value, train in
                // Rollout from the current policy, seeded per question and sample.
                var random = context.random(.ppoProblems, item: variant, index: iteration)
                let problems = (0..<spec.problemsPerIteration).map { _ in
                    questions[random.uniform(below: questions.count)]
                }
                let sequences = context.sample(
                    current, problems: problems, firstIndex: iteration * spec.problemsPerIteration,
                    samplesPerProblem: k, stream: RandomStream(.ppoRollouts, item: variant),
                    temperature: context.spec.sampling.temperature)
                let processScores = processReward?.stepScores(sequences)
                var rewards = sequences.indices.map { row in
                    let problem = problems[row / k]
                    // Final-answer rewards exist for easy questions only (hard ones get the process reward
                    // alone), unless the spec asks for the oracle.
                    let outcome: Double? =
                        spec.outcomeRewards == .all || context.isEasy(problem.level)
                        ? (context.judge(sequences[row], against: problem).final ? 1 : 0) : nil
                    return PolicyGradient.stepRewards(
                        processScores: processScores?[row] ?? family.steps.map { _ in 0 },
                        weight: spec.processRewardWeight, outcome: outcome)
                }
                let old = Self.logProbabilities(current, sequences, context: context)
                // The reference is the SFT policy, scored once per rollout; the KL is measured (a metric: how far
                // the policy has moved) whether or not it is charged.
                let reference = Self.logProbabilities(policy, sequences, context: context)
                if spec.klCoefficient > 0 {
                    rewards = rewards.indices.map { row in
                        PolicyGradient.klShaped(
                            rewards[row], policy: old[row], reference: reference[row], stepOfToken: stepOfToken,
                            coefficient: spec.klCoefficient)
                    }
                }
                var figures: [String: Double] = [:]
                figures["kl"] =
                    sequences.indices.reduce(0) {
                        $0 + PolicyGradient.klEstimate(policy: old[$1], reference: reference[$1])
                    } / Double(sequences.count)
                let returns = rewards.map(PolicyGradient.returnsToGo)
                let advantages: [[Double]]
                if let value {
                    let values = valueModel.values(value.model, sequences, compute: context.compute)
                    // How far the value model (before this rollout's updates) is from the returns it estimates: its
                    // cross-entropy loss cannot say, since soft targets keep that loss above their own entropy.
                    figures["value_error"] =
                        zip(values, returns).reduce(0) { total, row in
                            total + zip(row.0, row.1).reduce(0) { $0 + abs($1.0 - $1.1) }
                        } / Double(sequences.count * family.steps.count)
                    advantages = PolicyGradient.whitened(
                        rewards.indices.map { row in
                            PolicyGradient.generalizedAdvantages(
                                rewards: rewards[row], values: values[row], lambda: spec.gaeLambda)
                        })
                } else {
                    advantages = PolicyGradient.groupAdvantages(returns: returns, group: k)
                }
                var (clipped, counted) = (0, 0)
                var valueLoss = 0.0
                for epoch in 0..<spec.epochs {
                    var shuffle = context.random(
                        .ppoShuffles, item: variant, index: iteration * spec.epochs + epoch)
                    let order = PolicyGradient.permutation(rolloutRows, using: &shuffle)
                    for minibatch in 0..<spec.minibatches {
                        let members = Array(order[(minibatch * minibatchRows)..<((minibatch + 1) * minibatchRows)])
                        let batch = members.map { sequences[$0] }
                        let new = Self.logProbabilities(current, batch, context: context)
                        let weights = members.indices.map { slot in
                            let row = members[slot]
                            return stepOfToken.indices.map { token -> Float in
                                let advantage = advantages[row][stepOfToken[token]]
                                let ratio = Double(DeterministicMath.exp(Float(new[slot][token] - old[row][token])))
                                let weight = PolicyGradient.surrogateWeight(
                                    advantage: advantage, ratio: ratio, clipRange: spec.clipRange)
                                counted += 1
                                if weight == nil { clipped += 1 }
                                return Float(weight ?? 0)
                            }
                        }
                        train(rows.policyGradientBatch(batch, weights: weights))
                        if let value {
                            valueLoss += Double(
                                value.train(valueModel.batch(batch, returns: members.map { returns[$0] })).scalarLoss)
                        }
                    }
                }
                figures["clip_fraction"] = Double(clipped) / Double(max(counted, 1))
                figures["mean_return"] = returns.reduce(0) { $0 + ($1.first ?? 0) } / Double(returns.count)
                if value != nil { figures["value_loss"] = valueLoss / Double(stepsPerRound) }
                return figures
            },
            afterCheckpoint: validation.map { problems in
                { .easyValidationAccuracy(SFTStage.easyPassAtOne($0, problems: problems, context: context)) }
            })
        guard validation != nil else { return trained }
        let (chosen, step) = try await loop.bestOnValidation(
            context, trained: trained, figure: \.easyValidationAccuracy)
        if let step { context.logger.info("\(spec.policyName): the checkpoint at step \(step) is best on validation") }
        return chosen
    }

    /// Log-probabilities of each row's written tokens (in `writtenPositions` order) under `model`.
    static func logProbabilities(_ model: Transformer, _ sequences: [[Int32]], context: RunContext) -> [[Double]] {
        let length = context.family.sequenceLength
        let written = context.family.writtenPositions
        let scored = model.score(
            tokens: sequences.flatMap { $0 }, batchSize: sequences.count, length: length, pool: context.compute)
        // nextTokenLogProb[t] is log P(token t+1 | tokens ...t).
        return sequences.indices.map { row in
            written.map { Double(scored.nextTokenLogProb[row * length + $0 - 1]) }
        }
    }
}
