import Foundation
import Testing

@testable import Pipeline

/// `rl.ppo` as one mapping (as before) or as a list of named variants, and the PPO options of the paper.
@Suite struct PPOVariantSpecTests {
    static let variants = """
        name: ablations
        rl:
          ppo:
            - {name: ppo_easy, questions: easy, process_reward_weight: 0}
            - {name: ppo_prm, kl_coefficient: 0.05, advantages: gae, gae_lambda: 0.9}
            - {name: ppo_verifier, process_reward_evaluator: verifier}
            - {name: ppo_hard_oracle, outcome_rewards: all}
        """

    @Test func aListOfVariantsParsesAndRoundTripsThroughTheCanonicalSpec() throws {
        let spec = try ExperimentSpec.parse(yaml: Self.variants, file: "v.yaml")
        #expect(spec.rl.ppo.map(\.policyName) == ["ppo_easy", "ppo_prm", "ppo_verifier", "ppo_hard_oracle"])
        #expect(spec.rl.ppo[0].questions == .easy && !spec.rl.ppo[0].usesProcessReward)
        #expect(spec.rl.ppo[1].klCoefficient == 0.05 && spec.rl.ppo[1].advantages == .gae)
        #expect(spec.rl.ppo[1].gaeLambda == 0.9)
        #expect(spec.rl.ppo[2].processRewardEvaluator == "verifier")
        #expect(spec.rl.ppo[3].outcomeRewards == .all)
        #expect(try ExperimentSpec(canonicalJSON: spec.canonicalJSON()) == spec)
        // Every variant is a policy the report may name.
        var withReport = Self.variants
        withReport += "\nreport: {rows: [ppo_easy/greedy, ppo_hard_oracle/greedy], baseline: sft/greedy}\n"
        #expect(throws: Never.self) { try ExperimentSpec.parse(yaml: withReport, file: "r.yaml") }
    }

    /// The single mapping is variant 0, unnamed, and its canonical JSON has no key the options added: a spec that
    /// does not use them records (and hashes) what it did before they existed.
    @Test func theSingleMappingKeepsItsCanonicalForm() throws {
        let spec = try ExperimentSpec.parse(yaml: "name: one\nrl: {ppo: {iterations: 3}}\n", file: "one.yaml")
        #expect(spec.rl.ppo.count == 1 && spec.rl.ppo[0].name == nil && spec.rl.ppo[0].policyName == "ppo")
        let object = try #require(try JSONSerialization.jsonObject(with: spec.canonicalJSON()) as? [String: Any])
        let rl = try #require(object["rl"] as? [String: Any])
        let ppo = try #require(rl["ppo"] as? [String: Any])
        #expect(
            Set(ppo.keys) == [
                "enabled", "iterations", "problems_per_iteration", "samples_per_problem", "epochs", "minibatches",
                "clip_range", "learning_rate", "process_reward_evaluator", "process_reward_weight", "outcome_rewards",
            ])
        // A non-default option is recorded, and read back.
        let shaped = try ExperimentSpec.parse(
            yaml: "name: one\nrl: {ppo: {kl_coefficient: 0.1, advantages: gae}}\n", file: "one.yaml")
        let json = String(decoding: shaped.canonicalJSON(), as: UTF8.self)
        #expect(json.contains("\"kl_coefficient\":0.1") && json.contains("\"advantages\":\"gae\""))
        #expect(!json.contains("gae_lambda"))
        #expect(try ExperimentSpec(canonicalJSON: shaped.canonicalJSON()) == shaped)
    }

    /// The smoke experiment's `rl.ppo` (a single mapping) writes the bytes it wrote before variants and the new
    /// options existed (copied from `e2h validate --canonical experiments/smoke.yaml` before the change): with the
    /// golden record (`GoldenRecordTests`), its canonical spec, hash and events are unchanged.
    @Test func theSmokeExperimentsPPOCanonicalBytesAreUnchanged() throws {
        let json = String(decoding: RunExecutorTests.smoke.canonicalJSON(), as: UTF8.self)
        #expect(
            json.contains(
                #""ppo":{"clip_range":0.2,"enabled":true,"epochs":2,"iterations":8,"learning_rate":0.0003,"#
                    + #""minibatches":2,"outcome_rewards":"easy","problems_per_iteration":4,"#
                    + #""process_reward_evaluator":"prm","process_reward_weight":1,"samples_per_problem":2},"#))
    }

    /// Each variant costs its own rollouts and updates; a value model adds its passes, and a second model's
    /// weights, gradients and optimizer moments (6 floats a parameter) to the memory estimate.
    @Test func theResourceEstimateCountsEveryVariantAndTheValueModel() throws {
        var spec = RunExecutorTests.smoke
        let one = ResourceEstimate(spec)
        spec.rl.ppo.append(spec.rl.ppo[0])
        let two = ResourceEstimate(spec)
        let tokens = Double(spec.task.family.family.sequenceLength)
        let rollout = Double(spec.rl.ppo[0].problemsPerIteration * spec.rl.ppo[0].samplesPerProblem)
        let sampled = 2 * one.parameters * tokens
        let perVariant = Double(spec.rl.ppo[0].iterations) * rollout * (3 + 3 * Double(spec.rl.ppo[0].epochs)) * sampled
        #expect(two.operations - one.operations == perVariant)
        spec.rl.ppo[1].advantages = .gae
        let gae = ResourceEstimate(spec)
        #expect(
            gae.operations - two.operations == perVariant - 2 * Double(spec.rl.ppo[0].iterations) * rollout * sampled)
        #expect(gae.memoryBytes - two.memoryBytes == 4 * 6 * one.parameters)
    }

    /// Each refusal names the file, line, column and key path of what is wrong.
    /// Lines count the `name: bad` line every case starts with.
    @Test(arguments: [
        // The oracle must be marked by its name, and only the oracle.
        ("rl:\n  ppo:\n    - {name: ppo_hard, outcome_rewards: all}\n", "rl.ppo[0].name", 4, "_oracle"),
        ("rl:\n  ppo:\n    - {name: ppo_oracle}\n", "rl.ppo[0].name", 4, "marks an oracle"),
        // Names are policy names: plain, unique, no other generator's.
        ("rl:\n  ppo:\n    - {name: Ppo-A}\n", "rl.ppo[0].name", 4, "lowercase"),
        ("rl:\n  ppo:\n    - {name: a}\n    - {name: a}\n", "rl.ppo[1].name", 5, "duplicate"),
        ("rl:\n  ppo:\n    - {name: rest_em}\n", "rl.ppo[0].name", 4, "another policy"),
        ("rl:\n  ppo:\n    - {name: dpo_prm_1}\n", "rl.ppo[0].name", 4, "another policy"),
        ("rl:\n  ppo:\n    - {name: greedy}\n", "rl.ppo[0].name", 4, "row method"),
        ("rl:\n  ppo:\n    - {iterations: 2}\n", "rl.ppo[0].name", 4, "name"),
        ("rl:\n  ppo: []\n", "rl.ppo", 3, "at least one"),
        // The mapping form has no name; settings the run would ignore are refused.
        ("rl:\n  ppo: {name: x}\n", "rl.ppo.name", 3, "unknown key"),
        ("rl:\n  ppo: {gae_lambda: 0.9}\n", "rl.ppo.gae_lambda", 3, "advantages: gae"),
        ("rl:\n  ppo:\n    - {name: a, value_learning_rate: 0.1}\n", "rl.ppo[0].value_learning_rate", 4, "gae"),
        ("rl:\n  ppo: {questions: easy, outcome_rewards: all}\n", "rl.ppo.outcome_rewards", 3, "no hard question"),
        ("rl:\n  ppo: {advantages: critic}\n", "rl.ppo.advantages", 3, "gae"),
        ("rl:\n  ppo: {kl_coefficient: -1}\n", "rl.ppo.kl_coefficient", 3, "out of range"),
        ("rl:\n  ppo: {gae_lambda: 2, advantages: gae}\n", "rl.ppo.gae_lambda", 3, "out of range"),
        (
            "rl:\n  ppo:\n    - {name: a, process_reward_evaluator: orn}\n", "rl.ppo[0].process_reward_evaluator", 4,
            "did you mean 'orm'"
        ),
        (
            "rl:\n  ppo: {process_reward_weight: 0, process_reward_evaluator: prm}\n",
            "rl.ppo.process_reward_evaluator", 3, "no process reward"
        ),
    ])
    func refusals(yaml: String, keyPath: String, line: Int, message: String) throws {
        let error = try #require(throws: PipelineError.self) {
            try ExperimentSpec.parse(yaml: "name: bad\n" + yaml, file: "bad.yaml")
        }
        let diagnostic = try #require(error.diagnostics.first { $0.keyPath == keyPath }, "\(error.diagnostics)")
        #expect(diagnostic.file == "bad.yaml" && diagnostic.line == line && diagnostic.column > 0)
        #expect(diagnostic.message.contains(message), "\(diagnostic.message)")
    }
}
