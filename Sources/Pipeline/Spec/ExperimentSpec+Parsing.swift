import Analysis
import WireTypes

extension ExperimentSpec {
    /// Parses and validates a YAML spec. Throws `PipelineError` with code `.invalidSpec`
    /// carrying every problem found, each located by file, line, column and key path.
    public static func parse(yaml: String, file: String) throws -> ExperimentSpec {
        try parse(document: try readDocument(yaml, file: file), file: file)
    }

    /// The YAML tree of a spec, before any key is interpreted (a sweep edits it, then parses each member).
    static func readDocument(_ yaml: String, file: String) throws -> YAMLNode? {
        do {
            return try YAMLReader().read(yaml)
        } catch {
            let diagnostics = SpecDiagnostics(file: file)
            diagnostics.report(
                error.message, at: YAMLNode(value: .sequence([]), line: error.line, column: error.column, weight: 0),
                path: "")
            throw invalid(diagnostics)
        }
    }

    /// Validates a spec's YAML tree.
    static func parse(document root: YAMLNode?, file: String) throws -> ExperimentSpec {
        let diagnostics = SpecDiagnostics(file: file)
        guard let root else {
            diagnostics.report("the spec is empty; it needs at least 'name'", at: nil, path: "")
            throw invalid(diagnostics)
        }
        let spec = read(MappingReader(root, path: "", diagnostics: diagnostics))
        if !diagnostics.items.isEmpty { throw invalid(diagnostics) }
        return spec
    }

    static func invalid(_ diagnostics: SpecDiagnostics) -> PipelineError {
        let count = diagnostics.items.count
        return PipelineError(
            code: .invalidSpec,
            message: "\(diagnostics.file): \(count) problem\(count == 1 ? "" : "s") in the experiment spec",
            diagnostics: diagnostics.items)
    }

    private static func read(_ root: MappingReader) -> ExperimentSpec {
        let name = root.requiredString("name")
        if !RunName.isValid(name) { root.report(RunName.rule, at: root.value("name"), key: "name") }
        let seed = root.uint64("seed", default: 0)
        let threads = root.int("threads", default: 2, in: 1...256)
        let checkpointInterval = root.int("checkpoint_interval", default: 25, in: 1...1_000_000)
        let task = readTask(root.mapping("task"))
        let policy = readPolicy(root.mapping("policy"))
        let sampling = readSampling(root.mapping("sampling"))
        let evaluators = readEvaluators(root)
        let (rerank, generators) = readRerank(root.mapping("rerank"))
        let rl = readRL(root.mapping("rl"), evaluators: evaluators)
        if let sweep = root.value("sweep") {
            root.report(
                "a sweep describes a group of runs, not one run: submit it as a group (`e2h submit`, POST /v1/groups)",
                at: sweep, key: "sweep")
        }
        var spec = ExperimentSpec(
            name: name, seed: seed, threads: threads, checkpointInterval: checkpointInterval, task: task,
            policy: policy, sampling: sampling, evaluators: evaluators, rerank: rerank, rl: rl, report: nil)
        checkGenerators(spec, nodes: generators, diagnostics: root.diagnostics)
        if root.value("report") != nil { spec.report = readReport(root.mapping("report"), spec: spec) }
        if root.value("retention") != nil { spec.retention = root.choice("retention", default: RetentionMode.standard) }
        root.finish()
        return spec
    }

    private static func readTask(_ map: MappingReader) -> TaskSpec {
        let family = map.choice("family", default: TaskFamilyName.runningSum)
        let steps = map.intList(
            "non_trivial_steps", default: family.family.defaultNonTrivialSteps, in: family.family.nonTrivialStepRange)
        if steps.count != 5 {
            map.report(
                "expected 5 entries, one per level 1–5, found \(steps.count)", at: map.value("non_trivial_steps"),
                key: "non_trivial_steps")
        } else if Set(steps).count != steps.count {
            map.report(
                "expected 5 different counts: two levels with the same count would share problems, and one could be both easy and hard",
                at: map.value("non_trivial_steps"), key: "non_trivial_steps")
        }
        let easy = map.intList("easy_levels", default: [1, 2, 3], in: 1...5)
        let hard = map.intList("hard_levels", default: [4, 5], in: 1...5)
        if easy.isEmpty {
            map.report("at least one easy level is needed", at: map.value("easy_levels"), key: "easy_levels")
        }
        if hard.isEmpty {
            map.report("at least one hard level is needed", at: map.value("hard_levels"), key: "hard_levels")
        }
        for level in hard where easy.contains(level) {
            map.report("level \(level) is both easy and hard", at: map.value("hard_levels"), key: "hard_levels")
        }
        let task = TaskSpec(
            family: family, nonTrivialSteps: steps, easyLevels: easy.sorted(), hardLevels: hard.sorted(),
            trainPerLevel: map.int("train_per_level", default: 400, in: 1...100_000),
            validationPerLevel: map.int("validation_per_level", default: 50, in: 1...100_000),
            testPerLevel: map.int("test_per_level", default: 100, in: 1...100_000))
        if steps.count == 5 { checkProblemCounts(of: task, map) }
        map.finish()
        return task
    }

    /// Refuses split sizes the family cannot fill with distinct problems, so that `e2h validate` says so rather
    /// than a run that draws in vain.
    private static func checkProblemCounts(of task: TaskSpec, _ map: MappingReader) {
        let family = task.family.family
        let perLevel = task.trainPerLevel + task.validationPerLevel + task.testPerLevel
        let sizes = "train_per_level + validation_per_level + test_per_level = \(perLevel)"
        let node = map.value("train_per_level") ?? map.value("test_per_level") ?? map.value("validation_per_level")
        let counts = task.levels.map { family.distinctProblems(nonTrivialSteps: task.nonTrivialSteps[$0 - 1]) }
        if family.levelsShareIdentities, let shared = counts.max() {
            let levels = task.levels.count
            guard perLevel * levels > shared else { return }
            map.report(
                """
                \(task.family.rawValue) has \(shared) distinct problems and no two of a run may share one, but its \
                \(levels) levels need \(levels) × (\(sizes)) = \(perLevel * levels) — lower the split sizes to at most \
                \(shared / levels) per level in all
                """, at: node, key: "train_per_level")
        } else {
            for (level, count) in zip(task.levels, counts) where perLevel > count {
                map.report(
                    """
                    level \(level) (\(task.nonTrivialSteps[level - 1]) non-trivial steps) has \(count) distinct \
                    problems, fewer than its splits need (\(sizes)) — lower the split sizes, or give the level more \
                    non-trivial steps
                    """, at: node, key: "train_per_level")
            }
        }
    }

    private static func readModel(_ map: MappingReader) -> ModelSpec {
        let model = ModelSpec(
            layers: map.int("layers", default: 2, in: 1...32),
            width: map.int("width", default: 128, in: 8...4096),
            heads: map.int("heads", default: 4, in: 1...64),
            mlpMultiplier: map.int("mlp_multiplier", default: 4, in: 1...16))
        if model.width % model.heads != 0 {
            map.report(
                "width \(model.width) is not a multiple of heads \(model.heads)", at: map.value("heads"), key: "heads")
        }
        map.finish()
        return model
    }

    static func readOptimization(_ map: MappingReader, defaults: OptimizationSpec) -> OptimizationSpec {
        let steps = map.int("steps", default: defaults.steps, in: 0...1_000_000)
        let optimization = OptimizationSpec(
            steps: steps,
            batchSize: map.int("batch_size", default: defaults.batchSize, in: 1...4096),
            learningRate: map.double("learning_rate", default: defaults.learningRate, in: 0...1),
            warmupSteps: map.int("warmup_steps", default: defaults.warmupSteps, in: 0...1_000_000),
            scheduleSteps: map.int("schedule_steps", default: max(steps, defaults.scheduleSteps), in: 1...1_000_000),
            minimumLearningRateRatio: map.double(
                "minimum_learning_rate_ratio", default: defaults.minimumLearningRateRatio, in: 0...1),
            weightDecay: map.double("weight_decay", default: defaults.weightDecay, in: 0...1),
            gradientClip: map.double("gradient_clip", default: defaults.gradientClip, in: 0...1_000))
        if optimization.scheduleSteps < optimization.steps {
            map.report(
                "schedule_steps (\(optimization.scheduleSteps)) must be at least steps (\(optimization.steps))",
                at: map.value("schedule_steps"), key: "schedule_steps")
        }
        map.finish()
        return optimization
    }

    static let sftDefaults = OptimizationSpec(
        steps: 300, batchSize: 32, learningRate: 1e-3, warmupSteps: 30, scheduleSteps: 1500,
        minimumLearningRateRatio: 0.1, weightDecay: 0.01, gradientClip: 1)

    private static func readPolicy(_ map: MappingReader) -> PolicySpec {
        let model = readModel(map.mapping("model"))
        let sftMap = map.mapping("sft")
        let sft = readOptimization(sftMap, defaults: sftDefaults)
        if sft.steps == 0 {
            // Every later stage starts from an SFT checkpoint, and a loop of no steps saves none.
            sftMap.report(
                "SFT of 0 steps saves no checkpoint, and every later stage starts from one — set steps to 1 or more",
                at: sftMap.value("steps"), key: "steps")
        }
        let selectionMap = map.mapping("selection")
        let selection = SelectionSpec(
            rule: selectionMap.choice("rule", default: CheckpointSelection.target),
            target: selectionMap.double("target", default: 0.3, in: 0...1),
            samplesPerProblem: selectionMap.int("samples_per_problem", default: 4, in: 1...1024),
            bestControl: selectionMap.bool("best_control", default: true))
        selectionMap.finish()
        let ceiling = map.bool("ceiling", default: false)
        map.finish()
        return PolicySpec(model: model, sft: sft, selection: selection, ceiling: ceiling)
    }

    private static func readSampling(_ map: MappingReader) -> SamplingSpec {
        let n = map.intList("n", default: [1, 2, 4, 8, 16, 32, 64], in: 1...4096)
        if n.isEmpty || n != n.sorted() || Set(n).count != n.count {
            map.report("expected a non-empty increasing list of sample counts", at: map.value("n"), key: "n")
        }
        let sampling = SamplingSpec(
            n: n,
            temperature: map.double("temperature", default: 1, in: 0...10),
            topK: map.int("top_k", default: 0, in: 0...1_000_000),
            trainingSamplesPerProblem: map.int("training_samples_per_problem", default: 8, in: 1...4096))
        map.finish()
        return sampling
    }

    static let evaluatorDefaults = OptimizationSpec(
        steps: 300, batchSize: 32, learningRate: 5e-4, warmupSteps: 30, scheduleSteps: 300,
        minimumLearningRateRatio: 0.1, weightDecay: 0.01, gradientClip: 1)

    static let defaultEvaluators: [EvaluatorSpec] = [
        EvaluatorSpec(name: "orm", kind: .orm, labels: .easy, filter: .outcome, optimization: evaluatorDefaults),
        EvaluatorSpec(name: "prm", kind: .prm, labels: .easy, filter: .outcome, optimization: evaluatorDefaults),
        EvaluatorSpec(name: "oprm", kind: .oprm, labels: .easy, filter: .outcome, optimization: evaluatorDefaults),
        EvaluatorSpec(
            name: "verifier", kind: .generative, labels: .easy, filter: .steps, optimization: evaluatorDefaults),
    ]

    private static func readEvaluators(_ root: MappingReader) -> [EvaluatorSpec] {
        guard let items = root.list("evaluators") else { return defaultEvaluators }
        var evaluators: [EvaluatorSpec] = []
        for (index, item) in items.enumerated() {
            let map = MappingReader(item, path: "evaluators[\(index)]", diagnostics: root.diagnostics)
            let kind = map.choice("kind", default: EvaluatorKind.prm)
            let evaluator = EvaluatorSpec(
                name: map.string("name", default: kind.rawValue),
                kind: kind,
                labels: map.choice("labels", default: LabelScope.easy),
                filter: map.choice("filter", default: kind == .generative ? SampleFilter.steps : .outcome),
                stepLabels: map.choice("step_labels", default: StepLabels.runningTotal),
                oprmData: map.choice("oprm_data", default: OPRMData.union),
                outcomeLabels: map.choice("outcome_labels", default: OutcomeLabels.everyStep),
                optimization: readOptimization(map.mapping("optimization"), defaults: evaluatorDefaults),
                checkpoint: map.choice("checkpoint", default: CheckpointChoice.last),
                initialization: map.choice("initialization", default: EvaluatorInitialization.sft))
            // A setting the evaluator would ignore is a mistake in the spec, not a no-op.
            if kind == .generative, evaluator.initialization != .sft, let node = map.value("initialization") {
                map.report(
                    "the generative verifier is a policy fine-tuned from the SFT policy; initialization applies to "
                        + "orm, prm and oprm evaluators", at: node, key: "initialization")
            }
            if kind != .prm && kind != .oprm, let node = map.value("step_labels") {
                map.report(
                    "step_labels apply to prm and oprm evaluators, not \(kind.rawValue)", at: node, key: "step_labels")
            }
            if !kind.readsFinalToken, let node = map.value("outcome_labels") {
                map.report(
                    "outcome_labels apply to orm and oprm evaluators, not \(kind.rawValue)", at: node,
                    key: "outcome_labels")
            }
            if kind != .oprm, let node = map.value("oprm_data") {
                map.report("oprm_data applies to oprm evaluators, not \(kind.rawValue)", at: node, key: "oprm_data")
            }
            if let problem = evaluatorNameProblem(evaluator.name) {
                map.report(problem, at: map.value("name") ?? item, key: "name")
            } else if evaluators.contains(where: { $0.name == evaluator.name }) {
                map.report("duplicate evaluator name '\(evaluator.name)'", at: map.value("name") ?? item, key: "name")
            } else if evaluator.name == EvaluatorStage.formatBaseModel {
                map.report(
                    "'\(evaluator.name)' names the format-only base model's checkpoints; choose another name",
                    at: map.value("name") ?? item, key: "name")
            }
            map.finish()
            evaluators.append(evaluator)
        }
        return evaluators
    }

    /// An evaluator's name is a part of its rows (`weighted/orm/prod@32`) and, for the generative verifier, the policy
    /// of its own (`verifier/greedy@1`): so it is an identifier, and not a policy's name, a row method or the `none`
    /// that rows without an evaluator carry — `name: sft` once recorded the verifier's votes as the SFT policy's rows.
    static func evaluatorNameProblem(_ name: String) -> String? {
        guard isRowNamePart(name) else {
            return "an evaluator's name is a lowercase letter, then up to 59 lowercase letters, digits or '_'"
        }
        let reserved = ["sft", SFTStage.bestControl, SFTStage.ceilingPolicy, "ppo", "none"] + RowReference.methods
        if reserved.contains(name) || isIteratedPolicyName(name) {
            return "'\(name)' already names a policy, a row method or the absence of an evaluator; choose another name"
        }
        return nil
    }

    /// The rerank section, and where each of `generators`' names stands in the list: which generators a run has
    /// is known only once its policy, evaluators and RL are read (`checkGenerators`).
    private static func readRerank(_ map: MappingReader) -> (RerankSpec, generators: [(index: Int, node: YAMLNode)]) {
        var rerank = RerankSpec(
            methods: map.choiceList("methods", default: RerankMethod.defaults),
            aggregations: map.choiceList("aggregations", default: StepAggregation.allCases),
            resamples: map.int("resamples", default: 8, in: 1...10_000))
        if !rerank.methods.contains(.majority) {
            map.report(
                "rerank.methods must include majority: majority voting is the baseline every comparison of a run "
                    + "is made against", at: map.value("methods"), key: "methods")
        }
        if rerank.aggregations.isEmpty, let method = rerank.methods.first(where: { $0 == .weighted || $0 == .bestOfN })
        {
            map.report(
                "rerank.aggregations is empty, so \(method.rawValue) would record nothing: name at least one "
                    + "(\(StepAggregation.allCases.map(\.rawValue).joined(separator: ", ")))",
                at: map.value("aggregations"), key: "aggregations")
        }
        var nodes: [(index: Int, node: YAMLNode)] = []
        for (index, node) in (map.list("generators") ?? []).enumerated() {
            guard case .scalar(let name, _) = node.value else {
                map.diagnostics.report(
                    "expected a generator's name, found \(node.kindName)", at: node,
                    path: "\(map.childPath("generators"))[\(index)]")
                continue
            }
            rerank.generators.append(name)
            nodes.append((index, node))
        }
        map.finish()
        return (rerank, nodes)
    }

    /// Each of `rerank.generators` must be an easy-only generator the run trains, listed once.
    private static func checkGenerators(
        _ spec: ExperimentSpec, nodes: [(index: Int, node: YAMLNode)], diagnostics: SpecDiagnostics
    ) {
        let known = spec.rerankableGenerators
        for (position, (name, entry)) in zip(spec.rerank.generators, nodes).enumerated() {
            let (index, node) = entry
            let path = "rerank.generators[\(index)]"
            let problem: String?
            if name == "sft" {
                problem = "the SFT policy's pools are always reranked (the rerank stage); list other generators"
            } else if name.hasSuffix("_oracle")
                || spec.evaluators.contains(where: { $0.name == name && $0.labels == .all })
            {
                problem = "'\(name)' is an oracle, trained with hard labels: only easy-only generators are reranked"
            } else if spec.rerank.generators[..<position].contains(name) {
                problem = "'\(name)' is listed twice"
            } else if !known.contains(name) {
                var message = "this spec trains no easy-only generator named '\(name)'"
                if let close = Suggestion.closest(to: name, among: known) {
                    message += " — did you mean '\(close)'?"
                } else {
                    message +=
                        known.isEmpty
                        ? " — it trains none besides the SFT policy"
                        : " — expected one of: \(known.joined(separator: ", "))"
                }
                problem = message
            } else {
                problem = nil
            }
            if let problem { diagnostics.report(problem, at: node, path: path) }
        }
    }

    private static func readRL(_ map: MappingReader, evaluators: [EvaluatorSpec]) -> RLSpec {
        let ppo = readPPO(map, evaluators: evaluators)
        let restMap = map.mapping("rest_em")
        let rest = RestEMSpec(
            enabled: restMap.bool("enabled", default: true),
            iterations: restMap.int("iterations", default: 1, in: 0...100),
            samplesPerProblem: restMap.int("samples_per_problem", default: 4, in: 1...4096),
            optimization: readOptimization(
                restMap.mapping("optimization"),
                defaults: OptimizationSpec(
                    steps: 100, batchSize: 32, learningRate: 3e-4, warmupSteps: 10, scheduleSteps: 100,
                    minimumLearningRateRatio: 0.1, weightDecay: 0.01, gradientClip: 1)))
        restMap.finish()
        let dpo = readDPO(map.mapping("dpo"), evaluators: evaluators)
        map.finish()
        return RLSpec(ppo: ppo, restEm: rest, dpo: dpo)
    }

    private static func readDPO(_ map: MappingReader, evaluators: [EvaluatorSpec]) -> DPOSpec {
        let off = DPOSpec.off
        let aggregation = map.choice("aggregation", default: off.aggregation)
        var rankings = off.rankings
        if let items = map.list("rankings") {
            rankings = items.enumerated().compactMap { index, node in
                readRanking(node, aggregation: aggregation, evaluators: evaluators, map: map, index: index)
            }
            if rankings.count != items.count { rankings = off.rankings }
        }
        let dpo = DPOSpec(
            iterations: map.int("iterations", default: off.iterations, in: 0...100),
            rankings: rankings,
            samplesPerProblem: map.int("samples_per_problem", default: off.samplesPerProblem, in: 2...4096),
            beta: map.double("beta", default: off.beta, in: 1e-6...1000),
            aggregation: aggregation,
            optimization: readOptimization(map.mapping("optimization"), defaults: off.optimization),
            nllWeight: map.double("nll_weight", default: off.nllWeight, in: 0...1000),
            checkpoint: map.choice("checkpoint", default: off.checkpoint))
        if Set(rankings.map(\.name)).count != rankings.count {
            map.report("a ranking is listed twice", at: map.value("rankings"), key: "rankings")
        }
        map.finish()
        return dpo
    }

    /// `easy_answers`, or the name of an easy-trained evaluator whose readings `aggregation` can combine.
    private static func readRanking(
        _ node: YAMLNode, aggregation: StepAggregation, evaluators: [EvaluatorSpec], map: MappingReader, index: Int
    ) -> DPOSpec.Ranking? {
        let path = "\(map.childPath("rankings"))[\(index)]"
        guard case .scalar(let name, _) = node.value else {
            map.diagnostics.report(
                "expected \(DPOSpec.Ranking.easyAnswersName) or an evaluator's name, found \(node.kindName)", at: node,
                path: path)
            return nil
        }
        if name == DPOSpec.Ranking.easyAnswersName {
            if evaluators.contains(where: { $0.name == name }) {
                map.diagnostics.report(
                    "'\(name)' names both the easy-answer ranking and an evaluator; rename the evaluator", at: node,
                    path: path)
                return nil
            }
            return .easyAnswers
        }
        guard let evaluator = evaluators.first(where: { $0.name == name }) else {
            var message = "no evaluator named '\(name)'"
            let names = [DPOSpec.Ranking.easyAnswersName] + evaluators.map(\.name)
            if let close = Suggestion.closest(to: name, among: names) {
                message += " — did you mean '\(close)'?"
            } else {
                message += " — expected one of: \(names.joined(separator: ", "))"
            }
            map.diagnostics.report(message, at: node, path: path)
            return nil
        }
        guard evaluator.labels == .easy else {
            map.diagnostics.report(
                "DPO pairs must be ranked by an easy-trained evaluator; '\(name)' uses all labels", at: node, path: path
            )
            return nil
        }
        guard aggregation.applies(to: evaluator.kind) else {
            map.diagnostics.report(
                "'\(name)' (\(evaluator.kind.rawValue)) has no final-token reading for aggregation \(aggregation.rawValue); "
                    + "only orm and oprm evaluators do", at: node, path: path)
            return nil
        }
        return .evaluator(name)
    }
}
