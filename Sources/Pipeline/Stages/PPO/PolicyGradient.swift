import NeuralEngine
import Randomness

/// The arithmetic of PPO on one rollout, pure: rewards per step, their shaping by the KL penalty, returns,
/// advantages (group-relative, or GAE from a value model, whitened), and the clipped surrogate's gradient weight.
///
/// A solution is a sequence of steps; a step's tokens can change only the rewards of that step and later ones, so
/// credit is assigned per step, not per token.
enum PolicyGradient {
    /// Per-step rewards of one solution: the process reward spread over the steps (step s gets
    /// `weight × score_s / steps`, so a solution's total is `weight × mean score`), and the outcome
    /// reward, where there is one, at the last step.
    static func stepRewards(processScores: [Double], weight: Double, outcome: Double?) -> [Double] {
        var rewards = processScores.map { weight * $0 / Double(processScores.count) }
        if let outcome, !rewards.isEmpty { rewards[rewards.count - 1] += outcome }
        return rewards
    }

    /// The per-step rewards less the KL penalty to the reference (SFT) policy: step s loses
    /// `coefficient × Σ (log π_old(t) − log π_ref(t))` over the tokens t it wrote — the sampled estimate of the KL
    /// divergence, charged where it was incurred. Log-probabilities are per written token, `stepOfToken` their steps.
    static func klShaped(
        _ rewards: [Double], policy: [Double], reference: [Double], stepOfToken: [Int], coefficient: Double
    ) -> [Double] {
        var shaped = rewards
        for (token, step) in stepOfToken.enumerated() {
            shaped[step] -= coefficient * (policy[token] - reference[token])
        }
        return shaped
    }

    /// The sampled KL estimate of one solution: Σ (log π_old − log π_ref) over its written tokens.
    static func klEstimate(policy: [Double], reference: [Double]) -> Double {
        zip(policy, reference).reduce(0) { $0 + $1.0 - $1.1 }
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

    /// Generalized advantage estimation over one solution's steps, discount 1: with `values[s]` the value of the
    /// state before step s and 0 after the last, δ_s = r_s + V_{s+1} − V_s and A_s = δ_s + λ·A_{s+1}.
    /// λ = 1 gives the return minus the value (unbiased, high variance); λ = 0 the one-step TD error.
    static func generalizedAdvantages(rewards: [Double], values: [Double], lambda: Double) -> [Double] {
        precondition(rewards.count == values.count, "one value per step")
        var advantages = [Double](repeating: 0, count: rewards.count)
        var next = 0.0
        for step in rewards.indices.reversed() {
            let following = step + 1 < values.count ? values[step + 1] : 0
            next = rewards[step] + following - values[step] + lambda * next
            advantages[step] = next
        }
        return advantages
    }

    /// Advantages whitened over the whole rollout (every row and step): mean 0, standard deviation 1, so the
    /// step size does not depend on the rewards' scale. A rollout whose advantages are all equal is only centred
    /// (all zero): dividing by a zero spread would make noise of nothing.
    static func whitened(_ advantages: [[Double]]) -> [[Double]] {
        let values = advantages.flatMap { $0 }
        guard !values.isEmpty else { return advantages }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        let deviation = variance.squareRoot()
        let scale = deviation > 1e-8 ? 1 / deviation : 1
        return advantages.map { row in row.map { ($0 - mean) * scale } }
    }

    /// The weight of a token's log-probability in the gradient of the PPO-clip objective
    /// min(r·A, clip(r, 1 − ε, 1 + ε)·A): ∂/∂log p = r·A where the unclipped term is the minimum,
    /// and nil (no gradient) where the clipped one is — A > 0 with r > 1 + ε, or A < 0 with r < 1 − ε.
    static func surrogateWeight(advantage: Double, ratio: Double, clipRange: Double) -> Double? {
        if advantage > 0 && ratio > 1 + clipRange || advantage < 0 && ratio < 1 - clipRange { return nil }
        return advantage * ratio
    }

    /// A uniformly random order of 0..<count (Fisher–Yates on our own generator, so the order does
    /// not depend on the standard library's shuffle algorithm).
    static func permutation(_ count: Int, using random: inout RandomGenerator) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, random.uniform(below: i + 1)) }
        return order
    }
}
