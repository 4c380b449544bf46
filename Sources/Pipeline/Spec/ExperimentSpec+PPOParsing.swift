import Analysis

extension ExperimentSpec {
    /// `rl.ppo`: one mapping (one policy, named `ppo`), or a list of named variants, each a policy of the same
    /// run (the paper's ablations as rows of one experiment).
    static func readPPO(_ rl: MappingReader, evaluators: [EvaluatorSpec]) -> [PPOSpec] {
        guard let node = rl.value("ppo"), case .sequence(let items) = node.value else {
            return [readPPOVariant(rl.mapping("ppo"), named: false, evaluators: evaluators)]
        }
        if items.isEmpty {
            rl.report("expected at least one PPO variant (or a mapping, or enabled: false)", at: node, key: "ppo")
        }
        var variants: [PPOSpec] = []
        for (index, item) in items.enumerated() {
            let map = MappingReader(item, path: rl.childPath("ppo") + "[\(index)]", diagnostics: rl.diagnostics)
            let variant = readPPOVariant(map, named: true, evaluators: evaluators)
            if let name = variant.name, variants.contains(where: { $0.name == name }) {
                map.report("duplicate PPO variant name '\(name)'", at: map.value("name") ?? item, key: "name")
            }
            variants.append(variant)
        }
        return variants
    }

    /// Policy names a PPO variant may not take: the run's other generators, and the row methods (a row's first
    /// segment is read as a method before a policy).
    static func reservedPolicyNames(evaluators: [EvaluatorSpec]) -> [String] {
        ["sft", SFTStage.bestControl, SFTStage.ceilingPolicy] + evaluators.map(\.name) + RowReference.methods
    }

    /// The bases of the iterated policies' names (`rest_em`, `rest_em_0`, `dpo_prm_1`, …): a PPO variant takes none
    /// of their names, whatever the run's iterations.
    private static let iteratedPolicyBases = ["rest_em", "dpo"]

    static func isIteratedPolicyName(_ name: String) -> Bool {
        iteratedPolicyBases.contains { name == $0 || name.hasPrefix($0 + "_") }
    }

    /// What a name a run gives its rows (a PPO variant's, an evaluator's) may be: a lowercase letter, then up to 59
    /// lowercase letters, digits or '_' — one part of a row such as `weighted/orm/prod@32`.
    static func isRowNamePart(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII && first.isLowercase, name.count <= 60 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    /// The paper's best RL setting uses the easy-trained PRM; without one, the closest easy evaluator.
    private static func defaultProcessRewardEvaluator(_ evaluators: [EvaluatorSpec]) -> String {
        let easy = evaluators.filter { $0.labels == .easy }
        for kind in [EvaluatorKind.prm, .oprm, .generative, .orm] {
            if let evaluator = easy.first(where: { $0.kind == kind }) { return evaluator.name }
        }
        return "prm"
    }

    private static func readPPOVariant(_ map: MappingReader, named: Bool, evaluators: [EvaluatorSpec]) -> PPOSpec {
        let name = named ? map.requiredString("name") : nil
        let ppo = PPOSpec(
            name: name,
            enabled: map.bool("enabled", default: true),
            iterations: map.int("iterations", default: 40, in: 0...1_000_000),
            problemsPerIteration: map.int("problems_per_iteration", default: 8, in: 1...4096),
            samplesPerProblem: map.int("samples_per_problem", default: 4, in: 2...4096),
            epochs: map.int("epochs", default: 2, in: 1...100),
            minibatches: map.int("minibatches", default: 2, in: 1...4096),
            clipRange: map.double("clip_range", default: 0.2, in: 0...10),
            learningRate: map.double("learning_rate", default: 1e-4, in: 0...1),
            processRewardEvaluator: map.string(
                "process_reward_evaluator", default: defaultProcessRewardEvaluator(evaluators)),
            processRewardWeight: map.double("process_reward_weight", default: 1, in: 0...100),
            outcomeRewards: map.choice("outcome_rewards", default: LabelScope.easy),
            questions: map.choice("questions", default: PPOSpec.defaultQuestions),
            klCoefficient: map.double("kl_coefficient", default: PPOSpec.defaultKLCoefficient, in: 0...100),
            advantages: map.choice("advantages", default: PPOSpec.defaultAdvantages),
            gaeLambda: map.double("gae_lambda", default: PPOSpec.defaultGAELambda, in: 0...1),
            valueLearningRate: map.double(
                "value_learning_rate", default: PPOSpec.defaultValueLearningRate, in: 0...1),
            checkpoint: map.choice("checkpoint", default: PPOSpec.defaultCheckpoint))
        if let name { checkVariantName(name, of: ppo, map: map, evaluators: evaluators) }
        if (ppo.problemsPerIteration * ppo.samplesPerProblem) % ppo.minibatches != 0 {
            map.report(
                "expected a divisor of problems_per_iteration × samples_per_problem "
                    + "(\(ppo.problemsPerIteration * ppo.samplesPerProblem) rows per rollout)",
                at: map.value("minibatches"), key: "minibatches")
        }
        // A setting the run would ignore is a mistake in the spec, not a no-op.
        if ppo.advantages != .gae {
            for key in ["gae_lambda", "value_learning_rate"] {
                if let node = map.value(key) { map.report("\(key) applies to advantages: gae", at: node, key: key) }
            }
        }
        if !ppo.usesProcessReward, let node = map.value("process_reward_evaluator") {
            map.report(
                "process_reward_weight is 0: no process reward is read", at: node, key: "process_reward_evaluator")
        }
        if ppo.questions == .easy && ppo.outcomeRewards == .all, let node = map.value("outcome_rewards") {
            map.report(
                "outcome_rewards: all rewards hard answers, but questions: easy draws no hard question", at: node,
                key: "outcome_rewards")
        }
        if ppo.enabled && ppo.usesProcessReward {
            if let evaluator = evaluators.first(where: { $0.name == ppo.processRewardEvaluator }) {
                if evaluator.labels != .easy {
                    map.report(
                        "the process reward must come from an easy-trained evaluator; '\(evaluator.name)' uses all labels",
                        at: map.value("process_reward_evaluator"), key: "process_reward_evaluator")
                }
            } else {
                var message = "no evaluator named '\(ppo.processRewardEvaluator)'"
                if let close = Suggestion.closest(to: ppo.processRewardEvaluator, among: evaluators.map(\.name)) {
                    message += " — did you mean '\(close)'?"
                }
                map.report(message, at: map.value("process_reward_evaluator"), key: "process_reward_evaluator")
            }
        }
        map.finish()
        return ppo
    }

    /// A variant's name is its policy name in every row: a plain identifier, no other generator's, and marked an
    /// oracle exactly when hard final answers reward it.
    private static func checkVariantName(
        _ name: String, of ppo: PPOSpec, map: MappingReader, evaluators: [EvaluatorSpec]
    ) {
        let node = map.value("name")
        guard isRowNamePart(name) else {
            map.report(
                "a variant name is a lowercase letter, then up to 59 lowercase letters, digits or '_'", at: node,
                key: "name")
            return
        }
        if reservedPolicyNames(evaluators: evaluators).contains(name) || isIteratedPolicyName(name) {
            map.report("'\(name)' already names another policy or a row method", at: node, key: "name")
        }
        let marked = name.hasSuffix("_oracle")
        if ppo.outcomeRewards == .all && !marked {
            map.report(
                "outcome_rewards: all trains on hard labels: the variant is an oracle, and its name must end in "
                    + "'_oracle' (e.g. '\(name)_oracle') so every row of it is marked",
                at: node, key: "name")
        } else if ppo.outcomeRewards != .all && marked {
            map.report(
                "a name ending in '_oracle' marks an oracle; this variant rewards easy answers only", at: node,
                key: "name")
        }
    }
}
