import Foundation
import NeuralEngine

/// Stage 4: the evaluators, each trained on samples of easy problems only (unless the spec asks
/// for a full-supervision ceiling), then scored on the test pools.
enum EvaluatorStage {
    struct Trained: Codable, Sendable {
        var name: String
        var kind: EvaluatorKind
        var labels: LabelScope
        /// The evaluator's weights (safetensors).
        var weights: String
        /// Readings of every test sample (`EvaluatorScoring`), Float32 row-major (`EvaluatorScoring.encode`).
        var testScores: String
    }

    struct Output: Codable, Sendable {
        var evaluators: [Trained]
    }

    static func run(
        _ context: RunContext, dataset: Dataset, policy: Transformer, samples: SampleStage.Output
    ) async throws -> Output {
        let spec = context.spec
        let trainingProblems = SampleStage.evaluatorTrainingProblems(context, dataset: dataset)
        let training = try await SampleStage.load(
            samples.evaluatorTraining, samplesPerProblem: spec.sampling.trainingSamplesPerProblem, context: context)
        let test = try await SampleStage.load(samples.test, samplesPerProblem: spec.sampling.poolSize, context: context)
        let testVerdicts = verdicts(test, problems: dataset.test, context: context)
        // Drawn only when an evaluator's checkpoint is chosen on validation, so other records keep their bytes.
        let validation =
            spec.evaluators.contains { $0.checkpoint == .bestValidation }
            ? try await validationSamples(context, dataset: dataset, policy: policy) : nil
        // Trained only when an evaluator starts from it, so other records keep their bytes.
        let formatBase =
            spec.evaluators.contains { $0.initialization == .format }
            ? try await trainFormatBase(context, dataset: dataset) : nil
        var trained: [Trained] = []
        for (index, evaluator) in spec.evaluators.enumerated() {
            trained.append(
                try await train(
                    evaluator, index: index, context: context,
                    trunk: evaluator.initialization == .format ? formatBase ?? policy : policy, training: training,
                    trainingProblems: trainingProblems, test: test, testVerdicts: testVerdicts, dataset: dataset,
                    validation: evaluator.checkpoint == .bestValidation ? validation : nil))
        }
        return Output(evaluators: trained)
    }

    /// The format-only base model that `initialization: format` evaluators start from: a language model of the
    /// policy's shape trained with SFT's recipe on easy training questions whose written positions hold random
    /// digits. It learns where the task writes and what it may write there, and nothing of the answers: no
    /// solution is read.
    static func trainFormatBase(_ context: RunContext, dataset: Dataset) async throws -> Transformer {
        let questions = dataset.train.filter { context.isEasy($0.level) }
        return try await TrainingLoop.languageModel(
            context, stage: .evaluators, model: formatBaseModel, initialization: .formatBaseInitialization,
            batches: .formatBaseBatches,
            sequences: { random in
                (0..<context.spec.policy.sft.batchSize).map { _ in
                    context.family.formatOnly(questions[random.uniform(below: questions.count)], using: &random)
                }
            })
    }

    /// The format-only base model's name in the record (its checkpoints and training curve).
    static let formatBaseModel = "format_base"

    /// Samples of easy validation problems by the selected policy (as many per problem as the evaluators' training
    /// data has), with their verdicts: what an evaluator's checkpoints are judged on. Easy labels only, and never
    /// a test problem.
    struct ValidationSamples {
        var sequences: [[Int32]]
        var correct: [Bool]

        /// The ROC-AUC of `model`'s outcome scores (its step readings multiplied, as the test ROC-AUC is) against
        /// the verdicts; nil when every sample is right or every one wrong.
        func area(of scoring: EvaluatorScoring) -> Double? {
            let scores = scoring.stepScores(sequences).map { StepAggregation.prod.apply($0) }
            return ROCAUC.area(scores: scores, labels: correct)
        }
    }

    private static func validationSamples(
        _ context: RunContext, dataset: Dataset, policy: Transformer
    ) async throws -> ValidationSamples {
        let split = context.leak == .evaluatorSelectionOnTest ? dataset.test : dataset.validation
        let problems = split.filter { context.isEasy($0.level) }
        let perProblem = context.spec.sampling.trainingSamplesPerProblem
        let chunks = try await SampleStage.sampleSet(
            "evaluator_validation", problems: problems, samplesPerProblem: perProblem,
            stream: RandomStream(.evaluatorValidationSamples), policy: policy, policyName: "sft", stage: .evaluators,
            context: context)
        let set = try await SampleStage.load(chunks, samplesPerProblem: perProblem, context: context)
        return ValidationSamples(
            sequences: set.sequences, correct: verdicts(set, problems: problems, context: context).map(\.final))
    }

    static func verdicts(_ set: SampleSet, problems: [Problem], context: RunContext) -> [Verdict] {
        set.sequences.enumerated().map { index, sequence in
            context.judge(sequence, against: problems[set.firstProblem + index / set.samplesPerProblem])
        }
    }

    private static func train(
        _ evaluator: EvaluatorSpec, index: Int, context: RunContext, trunk: Transformer, training: SampleSet,
        trainingProblems: [Problem], test: SampleSet, testVerdicts: [Verdict], dataset: Dataset,
        validation: ValidationSamples?
    ) async throws -> Trained {
        // Training examples: samples of problems whose labels this evaluator may see.
        var sequences: [[Int32]] = []
        var labels: [Verdict] = []
        for (row, sequence) in training.sequences.enumerated() {
            let problem = trainingProblems[training.firstProblem + row / training.samplesPerProblem]
            guard evaluator.labels == .all || context.isEasy(problem.level) else { continue }
            let verdict = context.judge(sequence, against: problem)
            if evaluator.kind == .generative {
                let kept = evaluator.filter == .steps ? verdict.steps.allSatisfy { $0 } : verdict.final
                guard kept else { continue }
            }
            sequences.append(sequence)
            labels.append(verdict)
        }
        guard !sequences.isEmpty else {
            throw PipelineError(
                code: .invalidSpec,
                message:
                    "evaluator '\(evaluator.name)' has no training examples — the policy solved no easy problem; train it longer"
            )
        }
        // A scalar head's training examples: (sample, labels) pairs drawn uniformly; the generative verifier
        // learns the tokens instead.
        let examples = ScalarExamples(evaluator: evaluator, verdicts: labels)
        if let recorded = try context.log.recordedEvaluator(named: evaluator.name) {
            return try await reuse(
                recorded, evaluator: evaluator, trainingExamples: examples?.count ?? sequences.count,
                context: context, test: test, testVerdicts: testVerdicts, dataset: dataset)
        }
        let rows = TrainingRows(family: context.family)
        let optimization = evaluator.optimization
        let loop = TrainingLoop(stage: .evaluators, model: evaluator.name, optimization: optimization)
        let scoring = { (model: Transformer) in
            EvaluatorScoring(kind: evaluator.kind, model: model, family: context.family, compute: context.compute)
        }
        let trainedModel = try await loop.run(
            context,
            initial: {
                evaluator.kind == .generative
                    ? trunk.copy()
                    : trunk.withHead(
                        .scalar,
                        seed: RandomStream(.evaluatorInitialization, item: index).seed(from: context.spec.seed))
            },
            batch: { step, _ in
                var random = context.random(.evaluatorBatches, item: index, index: step)
                guard let examples else {
                    return rows.languageModelBatch(
                        (0..<optimization.batchSize).map { _ in sequences[random.uniform(below: sequences.count)] })
                }
                let picks = (0..<optimization.batchSize).map { _ in random.uniform(below: examples.count) }
                return rows.scalarBatch(
                    picks.map { sequences[examples.sample(of: $0)] }, labels: picks.map { examples.labels(of: $0) })
            },
            afterCheckpoint: validation.map { validation in
                { validation.area(of: scoring($0)).map(TrainingLoop.CheckpointFigure.easyValidationAuc) }
            })
        context.logger.info("evaluator \(evaluator.name): trained on \(examples?.count ?? sequences.count) examples")
        let (model, chosenStep) = try await chosen(
            evaluator, loop: loop, trained: trainedModel, onValidation: validation != nil, context: context)
        let testScores = try await scoring(model).readings(
            test.sequences, context: context,
            reporting: ProgressTask(
                stage: .evaluators, task: "\(evaluator.name) scores", unit: "sequences", total: test.sequences.count))
        let weights = try await context.log.putBlob(model.weightsData())
        let scoresBlob = try await context.log.putBlob(EvaluatorScoring.encode(testScores))
        return try await finish(
            evaluator, model: model, weights: weights, testScores: testScores, scoresBlob: scoresBlob,
            chosenStep: chosenStep, trainingExamples: examples?.count ?? sequences.count, context: context, test: test,
            testVerdicts: testVerdicts, dataset: dataset)
    }

    /// The model that scores: the trained one, or — chosen on validation — the recorded checkpoint with the best
    /// figure, loaded back (with its step, recorded in `EvaluatorTrained` when it is not the last).
    private static func chosen(
        _ evaluator: EvaluatorSpec, loop: TrainingLoop, trained: Transformer, onValidation: Bool, context: RunContext
    ) async throws -> (Transformer, Int?) {
        guard onValidation else { return (trained, nil) }
        let (model, step) = try await loop.bestOnValidation(context, trained: trained, figure: \.easyValidationAuc)
        if let step {
            context.logger.info("evaluator \(evaluator.name): the checkpoint at step \(step) is best on validation")
        }
        return (model, step)
    }

    /// A resume's shortcut for an evaluator the record shows trained: its weights and test scores come back from
    /// their blobs, and neither its training nor the scoring of every test sample is done again. Its
    /// `EvaluatorTrained` is still regenerated from them and compared with the recorded one.
    private static func reuse(
        _ recorded: (index: Int, event: EvaluatorTrained, testScores: String), evaluator: EvaluatorSpec,
        trainingExamples: Int, context: RunContext, test: SampleSet, testVerdicts: [Verdict], dataset: Dataset
    ) async throws -> Trained {
        let model = try await context.log.model(
            recorded.event.weights, recordedAs: .weights, what: "the recorded evaluator \(evaluator.name)")
        // `decode` and `blob` throw `corruptHistory` themselves.
        let testScores = try EvaluatorScoring.decode(
            try await context.log.blob(recorded.testScores),
            readingsPerSequence: EvaluatorScoring.readingsPerSequence(evaluator.kind, family: context.family))
        context.logger.info("evaluator \(evaluator.name): trained and scored before; reused from the record")
        // Its training checkpoints are behind it: the cursor goes to its EvaluatorTrained.
        context.log.skip(through: recorded.index - 1)
        return try await finish(
            evaluator, model: model, weights: recorded.event.weights, testScores: testScores,
            scoresBlob: recorded.testScores, chosenStep: recorded.event.chosenStep, trainingExamples: trainingExamples,
            context: context, test: test, testVerdicts: testVerdicts, dataset: dataset)
    }

    /// Records a trained evaluator — noting its scores' blob for a resume — and, for the generative verifier, its
    /// accuracy as a policy.
    private static func finish(
        _ evaluator: EvaluatorSpec, model: Transformer, weights: String, testScores: [[Double]], scoresBlob: String,
        chosenStep: Int?, trainingExamples: Int, context: RunContext, test: SampleSet, testVerdicts: [Verdict],
        dataset: Dataset
    ) async throws -> Trained {
        let levels = test.sequences.indices.map { dataset.test[test.firstProblem + $0 / test.samplesPerProblem].level }
        try await context.log.emit(
            EvaluatorTrained(
                name: evaluator.name, kind: evaluator.kind, labels: evaluator.labels,
                trainingExamples: trainingExamples,
                steps: evaluator.optimization.steps,
                rocAuc: areas(
                    scores: testScores.map { Array($0.prefix(context.family.steps.count)) }, verdicts: testVerdicts,
                    levels: levels, context: context),
                weights: weights, chosenStep: chosenStep),
            volatile: [EvaluatorTrained.testScoresFact: .text(scoresBlob)])
        if evaluator.kind == .generative {
            context.logger.info("evaluator \(evaluator.name): scoring its own samples as a policy")
            try await scoreAsPolicy(model, name: evaluator.name, context: context, dataset: dataset)
        }
        return Trained(
            name: evaluator.name, kind: evaluator.kind, labels: evaluator.labels, weights: weights,
            testScores: scoresBlob)
    }

    /// Step- and outcome-level ROC-AUC on the test samples of easy and of hard levels.
    static func areas(scores: [[Double]], verdicts: [Verdict], levels: [Int], context: RunContext) -> AreaUnderCurve {
        func area(easy: Bool, steps: Bool) -> Double? {
            var values: [Double] = []
            var truth: [Bool] = []
            for row in scores.indices where context.isEasy(levels[row]) == easy {
                if steps {
                    values += scores[row]
                    truth += verdicts[row].steps
                } else {
                    values.append(StepAggregation.prod.apply(scores[row]))
                    truth.append(verdicts[row].final)
                }
            }
            return ROCAUC.area(scores: values, labels: truth)
        }
        return AreaUnderCurve(
            stepEasy: area(easy: true, steps: true), stepHard: area(easy: false, steps: true),
            outcomeEasy: area(easy: true, steps: false), outcomeHard: area(easy: false, steps: false))
    }

    /// The generative verifier is also a policy (SFT + fine-tuning on its correct samples): its own
    /// greedy and majority accuracy are recorded so a better evaluator is not confused with a better model.
    private static func scoreAsPolicy(
        _ model: Transformer, name: String, context: RunContext, dataset: Dataset
    ) async throws {
        let spec = context.spec
        let chunks = try await SampleStage.sampleSet(
            "test", problems: dataset.test, samplesPerProblem: spec.sampling.poolSize,
            stream: RandomStream(.verifierPolicySamples), policy: model, policyName: name, stage: .evaluators,
            context: context)
        let pool = try await SampleStage.load(chunks, samplesPerProblem: spec.sampling.poolSize, context: context)
        let verdicts = verdicts(pool, problems: dataset.test, context: context)
        var rows = try await context.greedyScores(model, policy: name, stage: .evaluators, problems: dataset.test)
        rows += RerankStage.rows(
            method: .rerank(.majority), evaluator: "none", aggregation: "none", policy: name, stage: .evaluators,
            candidates: { verdict, _ in Candidate(answer: verdict.answer, correct: verdict.final, score: 1) },
            verdicts: verdicts, scores: nil, problems: dataset.test, context: context)
        try await context.record(rows)
    }
}
