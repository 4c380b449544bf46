public import Analysis
public import WireTypes

/// A typed, validated experiment with every default filled in.
///
/// Its canonical JSON is what a run records, so replaying a run never depends on the code's
/// defaults at replay time.
public struct ExperimentSpec: Codable, Sendable, Equatable {
    public var name: String
    /// The one seed every random stream of the run derives from.
    public var seed: UInt64
    /// Worker threads for the engine; results do not depend on it.
    public var threads: Int
    /// Training steps (for PPO, rollout iterations) between two `CheckpointSaved` events (and resume points).
    public var checkpointInterval: Int
    public var task: TaskSpec
    public var policy: PolicySpec
    public var sampling: SamplingSpec
    public var evaluators: [EvaluatorSpec]
    public var rerank: RerankSpec
    public var rl: RLSpec
    /// The headline named before the run: absent from specs without a `report:` block (whose canonical
    /// JSON, and hash, stay what they were; `compare` then derives a default headline).
    public var report: ReportSpec?
    /// Which blobs the run keeps once finished, overriding the daemon's `--retention`: absent from specs that do not
    /// say (whose canonical JSON, and hash, stay what they were). Not part of the science: replay ignores it.
    public var retention: RetentionMode?
}

/// Which rows are the experiment's claims, fixed in advance: `compare` shows them first, with their
/// difference to the baseline, and a reader can check nothing was picked after seeing the results.
public struct ReportSpec: Codable, Sendable, Equatable {
    /// The headline rows, in the order they are shown.
    public var rows: [RowReference]
    /// The row every headline row is compared with (e.g. `sft/majority`).
    public var baseline: RowReference
    /// The N of rows that name none; absent: each row's largest N.
    public var n: Int?
    /// The claims the run tests, named before it: each a row against another on hard problems, given a verdict
    /// by `compare` from the paired difference's interval.
    public var claims: [Claim]

    public init(rows: [RowReference], baseline: RowReference, n: Int?, claims: [Claim] = []) {
        self.rows = rows
        self.baseline = baseline
        self.n = n
        self.claims = claims
    }

    /// Specs recorded before `claims` existed read back with none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rows = try container.decode([RowReference].self, forKey: .rows)
        baseline = try container.decode(RowReference.self, forKey: .baseline)
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        claims = try container.decodeIfPresent([Claim].self, forKey: .claims) ?? []
    }

    /// What `compare` shows by default for a run of this spec.
    public var request: ComparisonRequest { ComparisonRequest(rows: rows, baseline: baseline, n: n) }
}

public enum TaskFamilyName: String, Codable, Sendable, CaseIterable {
    /// `SS>` then, per slot, `PP+d=TT;` (mod 100): the policy restates the previous total and writes the new one.
    case runningSum = "running_sum"
    /// Ten columns, least significant first, `a+b+c=sk;`: the policy restates the carry in and writes digit and carry out.
    case sparseAddition = "sparse_addition"
    /// 6×6 Sudoku with a unique solution, `<36 cells>>` then the 36 cells of the solution; the
    /// non-trivial steps of a level are its blank cells.
    case sudoku
}

public struct TaskSpec: Codable, Sendable, Equatable {
    public var family: TaskFamilyName
    /// Non-trivial steps (non-zero terms or columns; blank cells for Sudoku) at levels 1...5,
    /// distinct so that no problem is both easy and hard.
    public var nonTrivialSteps: [Int]
    public var easyLevels: [Int]
    public var hardLevels: [Int]
    public var trainPerLevel: Int
    public var validationPerLevel: Int
    public var testPerLevel: Int

    public var levels: [Int] { (easyLevels + hardLevels).sorted() }
}

public struct ModelSpec: Codable, Sendable, Equatable {
    public var layers: Int
    public var width: Int
    public var heads: Int
    public var mlpMultiplier: Int
}

public struct OptimizationSpec: Codable, Sendable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Double
    public var warmupSteps: Int
    /// Length of the cosine schedule; may exceed `steps` to stop early on a still-high learning rate.
    public var scheduleSteps: Int
    public var minimumLearningRateRatio: Double
    public var weightDecay: Double
    public var gradientClip: Double
}

public enum CheckpointSelection: String, Codable, Sendable, CaseIterable {
    /// The last checkpoint.
    case last
    /// The checkpoint with the highest easy-validation pass@1.
    case best
    /// The checkpoint whose easy-validation pass@1 is closest to `target` (a deliberately weak policy).
    case target
}

public struct SelectionSpec: Codable, Sendable, Equatable {
    public var rule: CheckpointSelection
    public var target: Double
    /// Samples per easy validation problem used to estimate pass@1.
    public var samplesPerProblem: Int
    /// Also score, as policy `sft_best`, the checkpoint with the best easy-validation pass@1 — the strongest
    /// easy-only generator — beside a deliberately weak selected one (unless the rule is `best` already).
    public var bestControl: Bool

    public init(rule: CheckpointSelection, target: Double, samplesPerProblem: Int, bestControl: Bool) {
        self.rule = rule
        self.target = target
        self.samplesPerProblem = samplesPerProblem
        self.bestControl = bestControl
    }

    /// Specs recorded before `best_control` existed read back with what their runs did: no control.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rule = try container.decode(CheckpointSelection.self, forKey: .rule)
        target = try container.decode(Double.self, forKey: .target)
        samplesPerProblem = try container.decode(Int.self, forKey: .samplesPerProblem)
        bestControl = try container.decodeIfPresent(Bool.self, forKey: .bestControl) ?? false
    }

    /// Whether the run scores an `sft_best` policy.
    public var scoresBestControl: Bool { bestControl && rule != .best }
}

public struct PolicySpec: Codable, Sendable, Equatable {
    public var model: ModelSpec
    public var sft: OptimizationSpec
    public var selection: SelectionSpec
    /// Also train the same SFT on every level's labels and score its last checkpoint as `sft_oracle`: a
    /// full-supervision ceiling, an oracle that no selection reads.
    public var ceiling: Bool

    public init(model: ModelSpec, sft: OptimizationSpec, selection: SelectionSpec, ceiling: Bool) {
        self.model = model
        self.sft = sft
        self.selection = selection
        self.ceiling = ceiling
    }

    /// Specs recorded before `ceiling` existed read back with what their runs did: no ceiling.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(ModelSpec.self, forKey: .model)
        sft = try container.decode(OptimizationSpec.self, forKey: .sft)
        selection = try container.decode(SelectionSpec.self, forKey: .selection)
        ceiling = try container.decodeIfPresent(Bool.self, forKey: .ceiling) ?? false
    }
}

public struct SamplingSpec: Codable, Sendable, Equatable {
    /// Reranking budgets; the pool per validation/test problem is the largest.
    public var n: [Int]
    public var temperature: Double
    /// 0 means no top-k truncation.
    public var topK: Int
    /// Samples per easy training problem: the evaluators' training data.
    public var trainingSamplesPerProblem: Int

    public var poolSize: Int { n.max() ?? 1 }
}

public enum EvaluatorKind: String, Codable, Sendable, CaseIterable {
    /// Scalar head, final-answer label at every step end and at the final token (where the paper reads it).
    case orm
    /// Scalar head, step labels.
    case prm
    /// Scalar head, both kinds of data (`OPRMData`); scored as PRM steps plus the final outcome.
    case oprm
    /// The policy fine-tuned on correct easy samples; a step's score is the likelihood of what it wrote.
    case generative
}

public enum LabelScope: String, Codable, Sendable, CaseIterable {
    /// Easy levels only: the easy-to-hard setting.
    case easy
    /// Every level: a full-supervision ceiling, not an easy-to-hard result.
    case all
}

public enum SampleFilter: String, Codable, Sendable, CaseIterable {
    /// Keep samples whose every step is right (the safest filter for the generative verifier).
    case steps
    /// Keep samples whose final answer is right.
    case outcome
}

/// Which steps of a sample a process label covers.
public enum StepLabels: String, Codable, Sendable, CaseIterable {
    /// Every step, labelled by whether the value it writes (the running total, the cell) is right: a step
    /// after a slip that recovers is right again. SCIENCE-NOTES §2 found this definition to matter here.
    case runningTotal = "running_total"
    /// The steps up to and including the first wrong one; later steps carry no label (the paper's convention,
    /// from PRM800K).
    case firstError = "first_error"
}

/// What an OPRM trains on.
public enum OPRMData: String, Codable, Sendable, CaseIterable {
    /// The union of a full PRM dataset and a full ORM dataset: every sample once with step labels and once with
    /// its outcome label (the paper's definition).
    case union
    /// Each sample once: even-numbered samples with step labels, odd-numbered with the outcome (half of each).
    case parity
}

/// Which of a model's training checkpoints is the trained model: an evaluator's (that scores the test pools) or a
/// PPO policy's (that is scored on test and may be reranked).
public enum CheckpointChoice: String, Codable, Sendable, CaseIterable {
    /// The last one (what the recipe was measured with).
    case last
    /// The one with the best easy-validation figure among the checkpoints every `checkpoint_interval` rounds — an
    /// evaluator's outcome ROC-AUC on solutions of easy validation problems, a policy's easy-validation pass@1:
    /// chosen on validation data, never on test.
    case bestValidation = "best_validation"
}

/// What a scalar evaluator's trunk starts from, beneath its new scalar head.
public enum EvaluatorInitialization: String, Codable, Sendable, CaseIterable {
    /// The selected SFT policy (what the recipe was measured with).
    case sft
    /// A base model of the same shape trained only on the task's format — easy training questions with random
    /// digits where the policy writes, no answer read — as the paper's reward models start from a base model, not
    /// from the policy they judge.
    case format
}

/// Where an outcome evaluator (ORM, and an OPRM's outcome examples) carries the final answer's label.
public enum OutcomeLabels: String, Codable, Sendable, CaseIterable {
    /// At every step end and at the final token: the head learns to predict the outcome from any prefix, and
    /// each step's reading is an estimate of it (what the recipe was measured with).
    case everyStep = "every_step"
    /// At the final token alone: the one reading the paper scores an ORM by gets the whole gradient, instead of
    /// one position in (steps + 1) whose other positions must guess an outcome not yet written.
    case finalToken = "final_token"
}

public struct EvaluatorSpec: Codable, Sendable, Equatable {
    public var name: String
    public var kind: EvaluatorKind
    public var labels: LabelScope
    public var filter: SampleFilter
    /// The process labels of a PRM or OPRM.
    public var stepLabels: StepLabels
    /// The training data of an OPRM.
    public var oprmData: OPRMData
    /// Where an ORM's (or an OPRM's outcome examples') label sits.
    public var outcomeLabels: OutcomeLabels
    public var optimization: OptimizationSpec
    public var checkpoint: CheckpointChoice
    /// What a scalar head's trunk starts from (the generative verifier always starts from the SFT policy).
    public var initialization: EvaluatorInitialization

    public init(
        name: String, kind: EvaluatorKind, labels: LabelScope, filter: SampleFilter,
        stepLabels: StepLabels = .runningTotal, oprmData: OPRMData = .union, outcomeLabels: OutcomeLabels = .everyStep,
        optimization: OptimizationSpec, checkpoint: CheckpointChoice = .last,
        initialization: EvaluatorInitialization = .sft
    ) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.filter = filter
        self.stepLabels = stepLabels
        self.oprmData = oprmData
        self.outcomeLabels = outcomeLabels
        self.optimization = optimization
        self.checkpoint = checkpoint
        self.initialization = initialization
    }

    private enum CodingKeys: String, CodingKey {
        case name, kind, labels, filter, stepLabels, oprmData, outcomeLabels, optimization, checkpoint, initialization
    }

    /// Specs recorded before `step_labels`, `oprm_data`, `outcome_labels` and `checkpoint` existed read back with what
    /// their runs did: running-total labels, the parity split, outcome labels at every step, the last checkpoint.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kind = try container.decode(EvaluatorKind.self, forKey: .kind)
        labels = try container.decode(LabelScope.self, forKey: .labels)
        filter = try container.decode(SampleFilter.self, forKey: .filter)
        stepLabels = try container.decodeIfPresent(StepLabels.self, forKey: .stepLabels) ?? .runningTotal
        oprmData = try container.decodeIfPresent(OPRMData.self, forKey: .oprmData) ?? .parity
        outcomeLabels = try container.decodeIfPresent(OutcomeLabels.self, forKey: .outcomeLabels) ?? .everyStep
        optimization = try container.decode(OptimizationSpec.self, forKey: .optimization)
        checkpoint = try container.decodeIfPresent(CheckpointChoice.self, forKey: .checkpoint) ?? .last
        initialization = try container.decodeIfPresent(EvaluatorInitialization.self, forKey: .initialization) ?? .sft
    }

    /// `initialization` is written only when it is not `sft`, so specs written before it keep their canonical form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(labels, forKey: .labels)
        try container.encode(filter, forKey: .filter)
        try container.encode(stepLabels, forKey: .stepLabels)
        try container.encode(oprmData, forKey: .oprmData)
        try container.encode(outcomeLabels, forKey: .outcomeLabels)
        try container.encode(optimization, forKey: .optimization)
        try container.encode(checkpoint, forKey: .checkpoint)
        if initialization != .sft { try container.encode(initialization, forKey: .initialization) }
    }
}

extension EvaluatorKind {
    /// Whether the evaluator is trained, and read, at the sequence's final token: the outcome evaluators.
    public var readsFinalToken: Bool { self == .orm || self == .oprm }
}

public enum RerankMethod: String, Codable, Sendable, CaseIterable {
    case majority
    case weighted
    case bestOfN = "best_of_n"
    /// Weighted voting by the generator's own likelihood, no evaluator (`Reranking.pick`): the control that
    /// separates "an evaluator helps" from "any confidence weighting helps".
    case likelihood

    /// `rerank.methods` when the spec names none: the methods specs had before `likelihood` existed, so that a
    /// spec without the key keeps its canonical form and its record.
    public static let defaults: [RerankMethod] = [.majority, .weighted, .bestOfN]

    /// Whether the method reads an evaluator's scores: one row per evaluator and aggregation.
    public var usesEvaluator: Bool { self == .weighted || self == .bestOfN }
}

/// How a solution's score is made from an evaluator's readings of it.
public enum StepAggregation: String, Codable, Sendable, CaseIterable {
    case min, prod, mean, last
    /// The reading at the final token alone: the paper's ORM score (ORM and OPRM only).
    case final
}

public struct RerankSpec: Codable, Sendable, Equatable {
    public var methods: [RerankMethod]
    public var aggregations: [StepAggregation]
    /// Random subsets of size N drawn from each pool, as the paper averages.
    public var resamples: Int
    /// Easy-only generators besides the SFT policy (`ExperimentSpec.rerankableGenerators`) whose own test pools
    /// the easy-trained evaluators also rerank, so "the evaluator beats its generator's majority vote" is measured
    /// for each generator, not only the deliberately weak SFT policy.
    public var generators: [String] = []

    public init(methods: [RerankMethod], aggregations: [StepAggregation], resamples: Int, generators: [String] = []) {
        self.methods = methods
        self.aggregations = aggregations
        self.resamples = resamples
        self.generators = generators
    }

    private enum CodingKeys: String, CodingKey { case methods, aggregations, resamples, generators }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        methods = try container.decode([RerankMethod].self, forKey: .methods)
        aggregations = try container.decode([StepAggregation].self, forKey: .aggregations)
        resamples = try container.decode(Int.self, forKey: .resamples)
        generators = try container.decodeIfPresent([String].self, forKey: .generators) ?? []
    }

    /// Without generators the key is left out, so specs written before it keep their canonical form and hash.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(methods, forKey: .methods)
        try container.encode(aggregations, forKey: .aggregations)
        try container.encode(resamples, forKey: .resamples)
        if !generators.isEmpty { try container.encode(generators, forKey: .generators) }
    }
}

extension ExperimentSpec {
    /// The generators `rerank.generators` may name: every easy-only policy the run has trained by its evaluate
    /// stage — the best SFT checkpoint, generative verifiers used as policies, PPO variants, and the last iterate
    /// of ReST-EM and of each DPO ranking. Oracles (trained with hard labels) are not among them, and neither is
    /// `sft`, whose pools the rerank stage always reranks.
    public var rerankableGenerators: [String] {
        var names: [String] = []
        if policy.selection.scoresBestControl { names.append(SFTStage.bestControl) }
        names += evaluators.filter { $0.kind == .generative && $0.labels == .easy }.map(\.name)
        names += rl.trainedPPO.map(\.policyName).filter { !$0.hasSuffix("_oracle") }
        if let restEM = rl.restEm.policyNames.last { names.append(restEM) }
        if rl.dpo.iterations > 0 { names += rl.dpo.rankings.map(\.policyBase) }
        return names
    }
}

public struct RestEMSpec: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var iterations: Int
    public var samplesPerProblem: Int
    public var optimization: OptimizationSpec

    /// The policy each iteration yields (`iterationPolicyNames`).
    public var policyNames: [String] { enabled ? iterationPolicyNames("rest_em", iterations: iterations) : [] }
}

/// The policy each iteration of an iterated method yields, in order: the intermediate ones named as their training
/// curves (`rest_em_0` after the first iteration, …) and the last by the method's own name, so a report or claim
/// naming `rest_em` means the finished policy whatever the iteration count, and the paper's "after k iterations"
/// rows come from the same run.
func iterationPolicyNames(_ base: String, iterations: Int) -> [String] {
    guard iterations > 0 else { return [] }
    return (0..<(iterations - 1)).map { "\(base)_\($0)" } + [base]
}

/// Iterative DPO (the paper's Table 2): each iteration samples solutions of training questions from the current
/// policy, pairs a preferred with a dispreferred solution of each question by a ranking, and trains the current
/// policy on the pairs with the DPO loss, the policy at the iteration's start as the reference.
public struct DPOSpec: Codable, Sendable, Equatable {
    /// What prefers one solution of a question to another.
    public enum Ranking: Codable, Sendable, Equatable {
        /// The final answer's correctness, on easy questions only (a correct solution over a wrong one).
        case easyAnswers
        /// An easy-trained evaluator's score (by `aggregation`) on questions of every level, labels unread: its
        /// highest-scored solution over its lowest.
        case evaluator(String)

        static let easyAnswersName = "easy_answers"

        /// Recorded as one string: `easy_answers` or the evaluator's name (the parser refuses an evaluator of
        /// that name here).
        public init(from decoder: any Decoder) throws {
            let name = try decoder.singleValueContainer().decode(String.self)
            self = name == Self.easyAnswersName ? .easyAnswers : .evaluator(name)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(name)
        }

        var name: String {
            switch self {
            case .easyAnswers: Self.easyAnswersName
            case .evaluator(let evaluator): evaluator
            }
        }

        /// The policy this ranking trains: `dpo` by easy answers, `dpo_<evaluator>` by an evaluator.
        public var policyBase: String {
            switch self {
            case .easyAnswers: "dpo"
            case .evaluator(let evaluator): "dpo_\(evaluator)"
            }
        }
    }

    /// 0: no DPO.
    public var iterations: Int
    /// Each ranking trains its own chain of policies from the SFT policy, on the same sampling streams.
    public var rankings: [Ranking]
    public var samplesPerProblem: Int
    /// β of the DPO loss −log σ(β[(log π(y⁺) − log π_ref(y⁺)) − (log π(y⁻) − log π_ref(y⁻))]).
    public var beta: Double
    /// How an evaluator's readings of a solution become the one score that ranks it.
    public var aggregation: StepAggregation
    /// Per iteration; `batchSize` counts pairs.
    public var optimization: OptimizationSpec
    /// α of an added negative log-likelihood of the preferred solution, per written token: the loss becomes
    /// −log σ(z) + α·(−log π(y⁺))/T, as iterative reasoning preference optimisation (Pang et al., 2024) adds it.
    /// DPO alone can lower the preferred solution's likelihood with the dispreferred one's when the two share most of
    /// their tokens; 0 is plain DPO.
    public var nllWeight: Double
    /// Which checkpoint of each iteration's training is that iteration's policy (and the next one's start): with
    /// `best_validation`, the one with the best easy-validation pass@1, whose figure `e2h select` then reads as
    /// `validation:<policy>/pass@1`, so DPO's settings can be chosen on validation as PPO's are.
    public var checkpoint: CheckpointChoice

    public init(
        iterations: Int, rankings: [Ranking], samplesPerProblem: Int, beta: Double, aggregation: StepAggregation,
        optimization: OptimizationSpec, nllWeight: Double = 0, checkpoint: CheckpointChoice = .last
    ) {
        self.iterations = iterations
        self.rankings = rankings
        self.samplesPerProblem = samplesPerProblem
        self.beta = beta
        self.aggregation = aggregation
        self.optimization = optimization
        self.nllWeight = nllWeight
        self.checkpoint = checkpoint
    }

    private enum CodingKeys: String, CodingKey {
        case iterations, rankings, samplesPerProblem, beta, aggregation, optimization, nllWeight, checkpoint
    }

    /// `nll_weight` and `checkpoint` are recorded only where they are set: specs recorded before they existed keep
    /// their bytes and hashes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        iterations = try container.decode(Int.self, forKey: .iterations)
        rankings = try container.decode([Ranking].self, forKey: .rankings)
        samplesPerProblem = try container.decode(Int.self, forKey: .samplesPerProblem)
        beta = try container.decode(Double.self, forKey: .beta)
        aggregation = try container.decode(StepAggregation.self, forKey: .aggregation)
        optimization = try container.decode(OptimizationSpec.self, forKey: .optimization)
        nllWeight = try container.decodeIfPresent(Double.self, forKey: .nllWeight) ?? 0
        checkpoint = try container.decodeIfPresent(CheckpointChoice.self, forKey: .checkpoint) ?? .last
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(iterations, forKey: .iterations)
        try container.encode(rankings, forKey: .rankings)
        try container.encode(samplesPerProblem, forKey: .samplesPerProblem)
        try container.encode(beta, forKey: .beta)
        try container.encode(aggregation, forKey: .aggregation)
        try container.encode(optimization, forKey: .optimization)
        if nllWeight != 0 { try container.encode(nllWeight, forKey: .nllWeight) }
        if checkpoint != .last { try container.encode(checkpoint, forKey: .checkpoint) }
    }

    public static let off = DPOSpec(
        iterations: 0, rankings: [.easyAnswers], samplesPerProblem: 4, beta: 0.1, aggregation: .prod,
        optimization: OptimizationSpec(
            steps: 50, batchSize: 16, learningRate: 5e-5, warmupSteps: 5, scheduleSteps: 50,
            minimumLearningRateRatio: 1, weightDecay: 0, gradientClip: 1))

    /// Every ranking's policies, ranking by ranking, each in iteration order.
    public var policyNames: [String] {
        rankings.flatMap { iterationPolicyNames($0.policyBase, iterations: iterations) }
    }

    /// The training whose checkpoints yield `policy`: iteration i of a ranking trains as `<policy base>_<i>`, while
    /// its last iterate is named by the base alone (`iterationPolicyNames`). Nil when no iteration yields it.
    func trainingModel(ofPolicy policy: String) -> String? {
        for ranking in rankings {
            let names = iterationPolicyNames(ranking.policyBase, iterations: iterations)
            if let iteration = names.firstIndex(of: policy) { return "\(ranking.policyBase)_\(iteration)" }
        }
        return nil
    }
}

public struct RLSpec: Codable, Sendable, Equatable {
    /// PPO's variants, each its own policy trained from the SFT policy (`PPOSpec.name`). The single-mapping form
    /// (`rl.ppo: {...}`) is one unnamed variant and reads and writes as a mapping, as before variants existed.
    public var ppo: [PPOSpec]
    public var restEm: RestEMSpec
    public var dpo: DPOSpec

    public init(ppo: [PPOSpec], restEm: RestEMSpec, dpo: DPOSpec) {
        self.ppo = ppo
        self.restEm = restEm
        self.dpo = dpo
    }

    /// The PPO variants that train: enabled, with at least one iteration.
    public var trainedPPO: [PPOSpec] { ppo.filter { $0.enabled && $0.iterations > 0 } }

    private enum CodingKeys: String, CodingKey { case ppo, restEm, dpo }

    /// Specs recorded before DPO existed read back without it; before PPO variants, with one unnamed variant.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let variants = try? container.decode([PPOSpec].self, forKey: .ppo) {
            ppo = variants
        } else {
            ppo = [try container.decode(PPOSpec.self, forKey: .ppo)]
        }
        restEm = try container.decode(RestEMSpec.self, forKey: .restEm)
        dpo = try container.decodeIfPresent(DPOSpec.self, forKey: .dpo) ?? .off
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if ppo.count == 1, ppo[0].name == nil {
            try container.encode(ppo[0], forKey: .ppo)
        } else {
            try container.encode(ppo, forKey: .ppo)
        }
        try container.encode(restEm, forKey: .restEm)
        try container.encode(dpo, forKey: .dpo)
    }
}
