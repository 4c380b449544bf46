import Foundation
import NeuralEngine

/// Stage 6: reinforcement learning from the selected SFT policy.
///
/// - PPO (clipped surrogate) on questions of every level. Each iteration samples a rollout from
///   the current policy, records its log-probabilities, then takes `epochs × minibatches` steps on
///   it; each step re-scores its minibatch under the current weights for the importance ratio.
///   Rewards: the final answer's correctness on easy questions only (on every question for the
///   `outcome_rewards: all` oracle); the easy-trained process reward evaluator's score for every
///   step of every question (hard questions get only that).
///   No value network: a token's advantage is its step's return-to-go minus the mean return-to-go
///   of the same step over the question's other samples (group-relative, per step).
/// - ReST-EM on easy questions: sample, keep the correct solutions, fine-tune the SFT policy on
///   them; repeat. Each iteration's policy is scored on test (`RestEMSpec.policyNames`), so the
///   paper's rows after 1 and 2 iterations come from one run.
/// - Iterative DPO, one chain per ranking (`IterativeDPO`).
enum RLStage {
    struct Output: Codable, Sendable {
        var ppo: String?
        var restEm: String?
        /// The last iterate of each DPO ranking, in `DPOSpec.rankings` order.
        var dpo: [String]?
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer, evaluators: EvaluatorStage.Output
    ) async throws -> Output {
        var output = Output()
        if context.spec.rl.ppo.enabled && context.spec.rl.ppo.iterations > 0 {
            let model = try await ppo(context, dataset: dataset, policy: policy, evaluators: evaluators)
            output.ppo = try await context.log.putBlob(model.weightsData())
            try await context.record(
                try await context.greedyScores(
                    model, policy: context.spec.rl.ppo.policyName, stage: .rl, problems: dataset.test))
        }
        if !context.spec.rl.restEm.policyNames.isEmpty {
            let model = try await restEM(context, dataset: dataset, policy: policy)
            output.restEm = try await context.log.putBlob(model.weightsData())
        }
        let dpo = context.spec.rl.dpo
        if dpo.iterations > 0 {
            var last: [String] = []
            for ranking in dpo.rankings {
                var scoring: EvaluatorScoring?
                if case .evaluator(let name) = ranking {
                    scoring = try await evaluatorScoring(named: name, context, evaluators: evaluators)
                }
                let model = try await IterativeDPO(context: context, spec: dpo, ranking: ranking, evaluator: scoring)
                    .run(dataset: dataset, policy: policy)
                last.append(try await context.log.putBlob(model.weightsData()))
            }
            output.dpo = last
        }
        return output
    }

    /// The trained evaluator `name`, ready to score (a reward or a ranking).
    static func evaluatorScoring(
        named name: String, _ context: RunContext, evaluators: EvaluatorStage.Output
    ) async throws -> EvaluatorScoring {
        guard let evaluator = evaluators.evaluators.first(where: { $0.name == name }) else {
            throw PipelineError(code: .invalidSpec, message: "no evaluator named '\(name)'")
        }
        do {
            let model = try Transformer(weights: try await context.log.blob(evaluator.weights))
            return EvaluatorScoring(kind: evaluator.kind, model: model, family: context.family, compute: context.compute)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(code: .corruptHistory, message: "the evaluator '\(name)' does not load", cause: error)
        }
    }

    private static func ppo(
        _ context: RunContext, dataset: Dataset, policy: Transformer, evaluators: EvaluatorStage.Output
    ) async throws -> Transformer {
        let spec = context.spec.rl.ppo
        guard let evaluator = evaluators.evaluators.first(where: { $0.name == spec.processRewardEvaluator }) else {
            throw PipelineError(code: .invalidSpec, message: "no evaluator named '\(spec.processRewardEvaluator)'")
        }
        let rewardModel: Transformer
        do {
            rewardModel = try Transformer(weights: try await context.log.blob(evaluator.weights))
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(code: .corruptHistory, message: "the process reward model does not load", cause: error)
        }
        let processReward = EvaluatorScoring(
            kind: evaluator.kind, model: rewardModel, family: context.family, compute: context.compute)
        let family = context.family
        let rows = TrainingRows(family: family)
        let k = spec.samplesPerProblem
        let rolloutRows = spec.problemsPerIteration * k
        let minibatchRows = rolloutRows / spec.minibatches
        let stepsPerRound = spec.epochs * spec.minibatches
        // The step each written token belongs to, in `writtenPositions` order.
        let stepOfToken = family.steps.enumerated().flatMap { step, span in span.written.map { _ in step } }
        let optimization = OptimizationSpec(
            steps: spec.iterations * stepsPerRound, batchSize: minibatchRows, learningRate: spec.learningRate,
            warmupSteps: 0, scheduleSteps: spec.iterations * stepsPerRound, minimumLearningRateRatio: 1,
            weightDecay: 0, gradientClip: 1)
        var loop = TrainingLoop(stage: .rl, model: spec.policyName, optimization: optimization)
        let questions = context.leak == .testQuestionsInPPO ? dataset.train + dataset.test : dataset.train
        loop.stepsPerRound = stepsPerRound
        return try await loop.run(
            context, initial: { policy.copy() },
            round: { iteration, current, train in
                // Rollout from the current policy, seeded per question and sample.
                var random = context.random(.ppoProblems, index: iteration)
                let problems = (0..<spec.problemsPerIteration).map { _ in
                    questions[random.uniform(below: questions.count)]
                }
                let sequences = context.sample(
                    current, problems: problems, firstIndex: iteration * spec.problemsPerIteration,
                    samplesPerProblem: k, stream: RandomStream(.ppoRollouts),
                    temperature: context.spec.sampling.temperature)
                let processScores = processReward.stepScores(sequences)
                let rewards = sequences.indices.map { row in
                    let problem = problems[row / k]
                    // Final-answer rewards exist for easy questions only (hard ones get the process reward
                    // alone), unless the spec asks for the oracle.
                    let outcome: Double? =
                        spec.outcomeRewards == .all || context.isEasy(problem.level)
                        ? (context.judge(sequences[row], against: problem).final ? 1 : 0) : nil
                    return stepRewards(
                        processScores: processScores[row], weight: spec.processRewardWeight, outcome: outcome)
                }
                let returns = rewards.map(returnsToGo)
                let advantages = groupAdvantages(returns: returns, group: k)
                let old = logProbabilities(current, sequences, context: context)
                var (clipped, counted) = (0, 0)
                for epoch in 0..<spec.epochs {
                    var shuffle = context.random(.ppoShuffles, index: iteration * spec.epochs + epoch)
                    let order = permutation(rolloutRows, using: &shuffle)
                    for minibatch in 0..<spec.minibatches {
                        let members = Array(order[(minibatch * minibatchRows)..<((minibatch + 1) * minibatchRows)])
                        let batch = members.map { sequences[$0] }
                        let new = logProbabilities(current, batch, context: context)
                        let weights = members.indices.map { slot in
                            let row = members[slot]
                            return stepOfToken.indices.map { token -> Float in
                                let advantage = advantages[row][stepOfToken[token]]
                                let ratio = Double(DeterministicMath.exp(Float(new[slot][token] - old[row][token])))
                                let weight = surrogateWeight(
                                    advantage: advantage, ratio: ratio, clipRange: spec.clipRange)
                                counted += 1
                                if weight == nil { clipped += 1 }
                                return Float(weight ?? 0)
                            }
                        }
                        train(rows.policyGradientBatch(batch, weights: weights))
                    }
                }
                let meanReturn = returns.reduce(0) { $0 + ($1.first ?? 0) } / Double(returns.count)
                return ["clip_fraction": Double(clipped) / Double(max(counted, 1)), "mean_return": meanReturn]
            })
    }

    /// Per-step rewards of one solution: the process reward spread over the steps (step s gets
    /// `weight × score_s / steps`, so a solution's total is `weight × mean score`), and the outcome
    /// reward, where there is one, at the last step.
    static func stepRewards(processScores: [Double], weight: Double, outcome: Double?) -> [Double] {
        var rewards = processScores.map { weight * $0 / Double(processScores.count) }
        if let outcome, !rewards.isEmpty { rewards[rewards.count - 1] += outcome }
        return rewards
    }

    /// Return-to-go per step: the tokens of step s can change only the rewards of steps s and later.
    static func returnsToGo(_ rewards: [Double]) -> [Double] {
        var returns = rewards
        for step in returns.indices.reversed().dropFirst() { returns[step] += returns[step + 1] }
        return returns
    }

    /// Advantages without a value network: each step's return minus the mean return of the same
    /// step over the samples of the same question (consecutive groups of `group` rows).
    static func groupAdvantages(returns: [[Double]], group: Int) -> [[Double]] {
        var advantages = returns
        for start in stride(from: 0, to: returns.count, by: group) {
            let members = start..<min(start + group, returns.count)
            for step in returns[start].indices {
                let mean = members.reduce(0) { $0 + returns[$1][step] } / Double(members.count)
                for row in members { advantages[row][step] = returns[row][step] - mean }
            }
        }
        return advantages
    }

    /// The weight of a token's log-probability in the gradient of the PPO-clip objective
    /// min(r·A, clip(r, 1 − ε, 1 + ε)·A): ∂/∂log p = r·A where the unclipped term is the minimum,
    /// and nil (no gradient) where the clipped one is — A > 0 with r > 1 + ε, or A < 0 with r < 1 − ε.
    static func surrogateWeight(advantage: Double, ratio: Double, clipRange: Double) -> Double? {
        if advantage > 0 && ratio > 1 + clipRange || advantage < 0 && ratio < 1 - clipRange { return nil }
        return advantage * ratio
    }

    /// Log-probabilities of each row's written tokens (in `writtenPositions` order) under `model`.
    private static func logProbabilities(
        _ model: Transformer, _ sequences: [[Int32]], context: RunContext
    )
        -> [[Double]]
    {
        let length = context.family.sequenceLength
        let written = context.family.writtenPositions
        let scored = model.score(
            tokens: sequences.flatMap { $0 }, batchSize: sequences.count, length: length, pool: context.compute)
        // nextTokenLogProb[t] is log P(token t+1 | tokens ...t).
        return sequences.indices.map { row in
            written.map { Double(scored.nextTokenLogProb[row * length + $0 - 1]) }
        }
    }

    /// A uniformly random order of 0..<count (Fisher–Yates on our own generator, so the order does
    /// not depend on the standard library's shuffle algorithm).
    static func permutation(_ count: Int, using random: inout RandomGenerator) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, random.uniform(below: i + 1)) }
        return order
    }

    private static func restEM(_ context: RunContext, dataset: Dataset, policy: Transformer) async throws -> Transformer
    {
        let spec = context.spec.rl.restEm
        let easy = dataset.train.filter { context.isEasy($0.level) }
        let rows = TrainingRows(family: context.family)
        var current = policy
        for iteration in 0..<spec.iterations {
            // E-step: the current policy's correct solutions of easy questions.
            let sequences = try await context.sample(
                current, problems: easy, samplesPerProblem: spec.samplesPerProblem,
                stream: RandomStream(.restEMSamples, item: iteration), temperature: context.spec.sampling.temperature,
                reporting: ProgressTask(
                    stage: .rl, task: "rest_em_\(iteration) samples", unit: "problems", total: easy.count))
            let kept = sequences.enumerated().filter { row, sequence in
                context.judge(sequence, against: easy[row / spec.samplesPerProblem]).final
            }.map(\.element)
            guard !kept.isEmpty else {
                throw PipelineError(
                    code: .invalidSpec,
                    message: """
                        ReST-EM iteration \(iteration) found no correct easy solution in \(spec.samplesPerProblem) \
                        sample(s) of each of \(easy.count) problems, so it has nothing to train on — train the SFT \
                        policy longer or raise rl.rest_em.samples_per_problem
                        """)
            }
            // M-step: fine-tune the SFT policy (not the previous iterate) on them, as ReST-EM does.
            current = try await TrainingLoop(stage: .rl, model: "rest_em_\(iteration)", optimization: spec.optimization)
                .run(
                    context, initial: { policy.copy() },
                    batch: { step, _ in
                        var random = context.random(.restEMBatches, item: iteration, index: step)
                        return rows.languageModelBatch(
                            (0..<spec.optimization.batchSize).map { _ in kept[random.uniform(below: kept.count)] })
                    })
            try await context.record(
                try await context.greedyScores(
                    current, policy: spec.policyNames[iteration], stage: .rl, problems: dataset.test))
        }
        return current
    }
}
