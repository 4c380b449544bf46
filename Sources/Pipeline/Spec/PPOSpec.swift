/// One PPO policy: how it samples, what rewards it, how its advantages are estimated.
public struct PPOSpec: Codable, Sendable, Equatable {
    /// The variant's name in the list form of `rl.ppo`, which is its policy name in the record; nil in the
    /// single-mapping form (named `ppo`, or `ppo_oracle`).
    public var name: String?
    public var enabled: Bool
    /// Rollout rounds. Each samples `problemsPerIteration × samplesPerProblem` solutions from the
    /// current policy, then takes `epochs × minibatches` optimizer steps on them.
    public var iterations: Int
    /// Questions per rollout (drawn from `questions`); each is sampled `samplesPerProblem` times.
    public var problemsPerIteration: Int
    public var samplesPerProblem: Int
    /// Passes over each rollout; from the second update on, the policy differs from the one that
    /// sampled, and the importance ratio and its clipping matter.
    public var epochs: Int
    /// Minibatches per epoch; must divide the rollout's row count.
    public var minibatches: Int
    /// ε of the clipped surrogate: the ratio's gradient stops outside [1 − ε, 1 + ε] in the
    /// advantage's direction.
    public var clipRange: Double
    public var learningRate: Double
    /// The evaluator (by name) that gives the process reward; trained on easy labels.
    public var processRewardEvaluator: String
    /// The process reward's total over a solution's steps is this weight times their mean score; 0: none.
    public var processRewardWeight: Double
    /// Which questions get a final-answer reward: easy ones (the easy-to-hard setting), or every level — the
    /// paper's PPO†, an oracle that trains on hard labels, recorded under a policy name ending in `_oracle`.
    public var outcomeRewards: LabelScope
    /// Which training questions the rollouts draw from. Questions carry no label, so `all` is not an oracle.
    public var questions: QuestionScope
    /// β of the KL penalty to the SFT policy: each step's reward loses β × Σ (log π_old − log π_sft) over the
    /// tokens it wrote. 0: no penalty (the KL is still measured and recorded as the metric `kl`).
    public var klCoefficient: Double
    public var advantages: AdvantageEstimator
    /// λ of generalized advantage estimation (`advantages: gae`); the discount is 1.
    public var gaeLambda: Double
    /// The value model's learning rate (`advantages: gae`): a new scalar head learns faster than a fine-tuned policy.
    public var valueLearningRate: Double
    /// Which checkpoint is the trained policy: the last, or the one with the best easy-validation pass@1 (each
    /// interval checkpoint then records its figure, which `e2h select` can choose a group's settings by).
    public var checkpoint: CheckpointChoice

    /// Defaults of the options added with the list form: the behaviour specs had before them, so a spec that
    /// names none keeps its canonical form (and its hash, and its record).
    public static let defaultQuestions = QuestionScope.all
    public static let defaultKLCoefficient = 0.0
    public static let defaultAdvantages = AdvantageEstimator.group
    public static let defaultGAELambda = 0.95
    public static let defaultValueLearningRate = 5e-4
    public static let defaultCheckpoint = CheckpointChoice.last

    public init(
        name: String? = nil, enabled: Bool, iterations: Int, problemsPerIteration: Int, samplesPerProblem: Int,
        epochs: Int, minibatches: Int, clipRange: Double, learningRate: Double, processRewardEvaluator: String,
        processRewardWeight: Double, outcomeRewards: LabelScope, questions: QuestionScope = Self.defaultQuestions,
        klCoefficient: Double = Self.defaultKLCoefficient, advantages: AdvantageEstimator = Self.defaultAdvantages,
        gaeLambda: Double = Self.defaultGAELambda, valueLearningRate: Double = Self.defaultValueLearningRate,
        checkpoint: CheckpointChoice = Self.defaultCheckpoint
    ) {
        self.name = name
        self.enabled = enabled
        self.iterations = iterations
        self.problemsPerIteration = problemsPerIteration
        self.samplesPerProblem = samplesPerProblem
        self.epochs = epochs
        self.minibatches = minibatches
        self.clipRange = clipRange
        self.learningRate = learningRate
        self.processRewardEvaluator = processRewardEvaluator
        self.processRewardWeight = processRewardWeight
        self.outcomeRewards = outcomeRewards
        self.questions = questions
        self.klCoefficient = klCoefficient
        self.advantages = advantages
        self.gaeLambda = gaeLambda
        self.valueLearningRate = valueLearningRate
        self.checkpoint = checkpoint
    }

    private enum CodingKeys: String, CodingKey {
        case name, enabled, iterations, problemsPerIteration, samplesPerProblem, epochs, minibatches, clipRange
        case learningRate, processRewardEvaluator, processRewardWeight, outcomeRewards, questions, klCoefficient
        case advantages, gaeLambda, valueLearningRate, checkpoint
    }

    /// Specs recorded before `outcome_rewards` existed read back with what their runs did: easy rewards only; those
    /// recorded before the later options, with their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        enabled = try container.decode(Bool.self, forKey: .enabled)
        iterations = try container.decode(Int.self, forKey: .iterations)
        problemsPerIteration = try container.decode(Int.self, forKey: .problemsPerIteration)
        samplesPerProblem = try container.decode(Int.self, forKey: .samplesPerProblem)
        epochs = try container.decode(Int.self, forKey: .epochs)
        minibatches = try container.decode(Int.self, forKey: .minibatches)
        clipRange = try container.decode(Double.self, forKey: .clipRange)
        learningRate = try container.decode(Double.self, forKey: .learningRate)
        processRewardEvaluator = try container.decode(String.self, forKey: .processRewardEvaluator)
        processRewardWeight = try container.decode(Double.self, forKey: .processRewardWeight)
        outcomeRewards = try container.decodeIfPresent(LabelScope.self, forKey: .outcomeRewards) ?? .easy
        questions = try container.decodeIfPresent(QuestionScope.self, forKey: .questions) ?? Self.defaultQuestions
        klCoefficient = try container.decodeIfPresent(Double.self, forKey: .klCoefficient) ?? Self.defaultKLCoefficient
        advantages =
            try container.decodeIfPresent(AdvantageEstimator.self, forKey: .advantages) ?? Self.defaultAdvantages
        gaeLambda = try container.decodeIfPresent(Double.self, forKey: .gaeLambda) ?? Self.defaultGAELambda
        valueLearningRate =
            try container.decodeIfPresent(Double.self, forKey: .valueLearningRate) ?? Self.defaultValueLearningRate
        checkpoint = try container.decodeIfPresent(CheckpointChoice.self, forKey: .checkpoint) ?? Self.defaultCheckpoint
    }

    /// The options added with the list form are written only where they differ from their defaults: a spec that
    /// does not use them records the canonical JSON it recorded before they existed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(iterations, forKey: .iterations)
        try container.encode(problemsPerIteration, forKey: .problemsPerIteration)
        try container.encode(samplesPerProblem, forKey: .samplesPerProblem)
        try container.encode(epochs, forKey: .epochs)
        try container.encode(minibatches, forKey: .minibatches)
        try container.encode(clipRange, forKey: .clipRange)
        try container.encode(learningRate, forKey: .learningRate)
        try container.encode(processRewardEvaluator, forKey: .processRewardEvaluator)
        try container.encode(processRewardWeight, forKey: .processRewardWeight)
        try container.encode(outcomeRewards, forKey: .outcomeRewards)
        if questions != Self.defaultQuestions { try container.encode(questions, forKey: .questions) }
        if klCoefficient != Self.defaultKLCoefficient { try container.encode(klCoefficient, forKey: .klCoefficient) }
        if advantages != Self.defaultAdvantages { try container.encode(advantages, forKey: .advantages) }
        if gaeLambda != Self.defaultGAELambda { try container.encode(gaeLambda, forKey: .gaeLambda) }
        if valueLearningRate != Self.defaultValueLearningRate {
            try container.encode(valueLearningRate, forKey: .valueLearningRate)
        }
        if checkpoint != Self.defaultCheckpoint { try container.encode(checkpoint, forKey: .checkpoint) }
    }

    /// The policy's name in the record: the variant's name, or for the single-mapping form `ppo` — `ppo_oracle`
    /// when hard labels reward it. An oracle's name ends in `_oracle` (the parser holds variants to it), so the
    /// oracle is marked wherever its rows appear.
    public var policyName: String { name ?? (outcomeRewards == .all ? "ppo_oracle" : "ppo") }

    /// Whether a process-reward evaluator is read at all.
    public var usesProcessReward: Bool { processRewardWeight > 0 }
}

/// Which training questions PPO's rollouts draw from.
public enum QuestionScope: String, Codable, Sendable, CaseIterable {
    /// Every level's training questions (their final answers rewarded per `outcome_rewards`).
    case all
    /// Easy training questions only: the paper's "PPO on easy questions".
    case easy
}

/// How PPO turns a rollout's rewards into per-step advantages.
public enum AdvantageEstimator: String, Codable, Sendable, CaseIterable {
    /// No value model: a step's return-to-go minus the mean over the same question's other samples.
    case group
    /// The paper's: a value model trained on the returns, generalized advantage estimation over steps, advantages
    /// whitened over the rollout.
    case gae
}
