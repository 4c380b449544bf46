import Foundation
import NeuralEngine
import Randomness
import WireTypes

/// A resumable training loop: checkpoints every `checkpoint_interval` rounds and at the end,
/// restores from the latest recorded checkpoint of the same stage and model, and stops at round
/// boundaries when asked (checkpointing first).
///
/// A round is one optimizer step, or — for PPO — one rollout and the `stepsPerRound` updates on
/// it. Each round is a pure function of its index and the model at its start, so the step counter
/// is the whole data cursor: a restored trainer sees exactly the rounds an uninterrupted one would.
/// Checkpoints fall only between rounds, because a round's later steps depend on state (the
/// rollout, its old log-probabilities) prepared at its start.
struct TrainingLoop {
    var stage: StageName
    var model: String
    var optimization: OptimizationSpec
    /// Optimizer steps per round; `optimization.steps` must be a multiple of it.
    var stepsPerRound = 1

    /// What `afterCheckpoint` measures on an interval checkpoint, and so where the checkpoint records it.
    enum CheckpointFigure {
        /// A policy's pass@1 on easy validation problems.
        case easyValidationAccuracy(Double)
        /// An evaluator's outcome ROC-AUC on samples of easy validation problems.
        case easyValidationAuc(Double)
    }

    /// A second model trained in the same rounds, with its own optimizer (PPO's value model).
    struct Companion {
        var initial: () -> Transformer
        var optimization: OptimizationSpec
    }

    /// Trains a language model with SFT's recipe (`policy.sft`): the SFT policy, its all-levels ceiling, the
    /// format-only base model. Its initial weights, of the policy's shape, come from the `initialization` stream;
    /// each step's batch is the `sequences` drawn with that step's `batches` stream.
    static func languageModel(
        _ context: RunContext, stage: StageName, model: String, initialization: RandomStream.Purpose,
        batches: RandomStream.Purpose, sequences: (_ random: inout RandomGenerator) -> [[Int32]],
        afterCheckpoint: ((_ model: Transformer) -> CheckpointFigure?)? = nil
    ) async throws -> Transformer {
        let rows = TrainingRows(family: context.family)
        return try await TrainingLoop(stage: stage, model: model, optimization: context.spec.policy.sft).run(
            context,
            initial: {
                Transformer(
                    config: context.modelConfig(head: .languageModel),
                    seed: RandomStream(initialization).seed(from: context.spec.seed))
            },
            batch: { step, _ in
                var random = context.random(batches, index: step)
                return rows.languageModelBatch(sequences(&random))
            }, afterCheckpoint: afterCheckpoint)
    }

    /// Trains from `initial` (or the latest recorded checkpoint) for `optimization.steps` steps, one per batch.
    /// `afterCheckpoint` may attach a figure (e.g. validation accuracy) to each interval checkpoint.
    func run(
        _ context: RunContext, initial: () -> Transformer,
        batch: (_ step: Int, _ model: Transformer) throws -> TrainingBatch,
        afterCheckpoint: ((_ model: Transformer) -> CheckpointFigure?)? = nil
    ) async throws -> Transformer {
        try await run(
            context, initial: initial,
            round: { step, model, train in
                train(try batch(step, model))
                return [:]
            }, afterCheckpoint: afterCheckpoint)
    }

    /// Trains round by round: `round` takes its `stepsPerRound` steps through `train`, and may
    /// return figures of the round (recorded as metrics under the model's prefix).
    func run(
        _ context: RunContext, initial: () -> Transformer,
        round: (_ index: Int, _ model: Transformer, _ train: (TrainingBatch) -> Void) throws -> [String: Double],
        afterCheckpoint: ((_ model: Transformer) -> CheckpointFigure?)? = nil
    ) async throws -> Transformer {
        try await run(
            context, initial: initial, companion: nil,
            round: { index, model, _, train in
                // Only forwarded: `train` is called within this call, never kept.
                try withoutActuallyEscaping(train) { try round(index, model, $0) }
            }, afterCheckpoint: afterCheckpoint)
    }

    /// Trains round by round with a `companion` model trained in the same rounds (PPO's value model): `round` gets
    /// the companion's trainer, which it steps as it likes; the companion is saved and restored with each checkpoint.
    func run(
        _ context: RunContext, initial: () -> Transformer, companion: Companion?,
        round: (_ index: Int, _ model: Transformer, _ companion: Trainer?, _ train: (TrainingBatch) -> Void) throws
            -> [String: Double],
        afterCheckpoint: ((_ model: Transformer) -> CheckpointFigure?)? = nil
    ) async throws -> Transformer {
        precondition(optimization.steps % stepsPerRound == 0, "steps must be whole rounds")
        let (trainer, companionTrainer) = try await restoreOrStart(context, initial: initial, companion: companion)
        let interval = context.spec.checkpointInterval
        let prefix = "\(stage.rawValue).\(model)"
        var metrics: [TrainingMetric] = []
        var lastSaved = trainer.step
        let task = ProgressTask(
            stage: stage, task: model, unit: "steps", total: optimization.steps, doneAtStart: trainer.step)
        var loss: Double?
        while trainer.step < optimization.steps {
            try await context.pollStop {
                if trainer.step > lastSaved {
                    try await save(
                        trainer, companion: companionTrainer, context: context, reason: .interrupt, metrics: &metrics,
                        figure: nil)
                }
            }
            let index = trainer.step / stepsPerRound
            let figures = try round(index, trainer.model, companionTrainer) { batch in
                let report = trainer.train(batch)
                loss = Double(report.loss)
                metrics.append(TrainingMetric(name: "\(prefix).loss", step: report.step, value: Double(report.loss)))
                metrics.append(
                    TrainingMetric(
                        name: "\(prefix).learning_rate", step: report.step, value: Double(report.learningRate)))
                metrics.append(
                    TrainingMetric(
                        name: "\(prefix).gradient_norm", step: report.step, value: Double(report.gradientNorm)))
            }
            precondition(trainer.step == (index + 1) * stepsPerRound, "a round took other than stepsPerRound steps")
            for (name, value) in figures.sorted(by: { $0.key < $1.key }) {
                metrics.append(TrainingMetric(name: "\(prefix).\(name)", step: trainer.step, value: value))
            }
            if (index + 1) % interval == 0 || trainer.step == optimization.steps {
                try await save(
                    trainer, companion: companionTrainer, context: context, reason: .interval, metrics: &metrics,
                    figure: afterCheckpoint?(trainer.model))
                lastSaved = trainer.step
            }
            await context.report(task, done: trainer.step, loss: loss)
        }
        try await context.log.recordMetrics(metrics)
        return trainer.model
    }

    /// The trained model when the record already holds this loop's final checkpoint (a resume past its end), else
    /// nil: a caller skips preparing what only the loop's rounds would read — the samples and pairs of a finished
    /// ReST-EM or DPO iteration — instead of drawing them again to no effect.
    func recordedResult(_ context: RunContext) async throws -> Transformer? {
        guard let (_, saved) = try context.log.latestCheckpoint(stage: stage, model: model),
            saved.step == optimization.steps
        else { return nil }
        return try await run(
            context, initial: { preconditionFailure("a finished loop restores its model") }, companion: nil,
            round: { _, _, _, _ in preconditionFailure("a finished loop runs no round") })
    }

    /// The checkpoint with the best figure, the earliest of equals (fewer steps, the simpler model); the last when
    /// no checkpoint has a figure.
    static func chooseCheckpoint(_ checkpoints: [(step: Int, figure: Double?)]) -> Int? {
        var best: (step: Int, figure: Double)?
        for checkpoint in checkpoints.sorted(by: { $0.step < $1.step }) {
            guard let figure = checkpoint.figure else { continue }
            if best == nil || figure > best!.figure { best = (checkpoint.step, figure) }
        }
        return best?.step ?? checkpoints.map(\.step).max()
    }

    /// After `run` with an `afterCheckpoint` figure: the model of the interval checkpoint whose figure (`figure`
    /// reads it from the record) is best, with its step — or `trained` and nil when that is the last step.
    func bestOnValidation(
        _ context: RunContext, trained: Transformer, figure: KeyPath<CheckpointSaved, Double?>
    ) async throws -> (model: Transformer, step: Int?) {
        let checkpoints = try context.log.eventsSoFar().filter { $0.type == CheckpointSaved.eventType }
            .map { try CheckpointSaved(decoding: $0) }
            .filter { $0.stage == stage && $0.model == model && $0.reason == .interval }
        guard let step = Self.chooseCheckpoint(checkpoints.map { ($0.step, $0[keyPath: figure]) }),
            step != optimization.steps, let checkpoint = checkpoints.first(where: { $0.step == step })
        else { return (trained, nil) }
        let chosen = try await context.log.model(
            checkpoint.blob, recordedAs: .checkpoint, what: "the checkpoint of \(model) at step \(step)")
        return (chosen, step)
    }

    /// The main trainer, from the latest recorded checkpoint of this stage and model or from `initial`, and the
    /// companion's, from the blob that checkpoint names or from the companion's `initial`.
    private func restoreOrStart(
        _ context: RunContext, initial: () -> Transformer, companion: Companion?
    ) async throws -> (Trainer, Trainer?) {
        if let (index, saved) = try context.log.latestCheckpoint(stage: stage, model: model) {
            let data = try await context.log.blob(saved.blob)
            do {
                let trainer = try Trainer(restoring: TrainingCheckpoint(decoding: data), pool: context.compute)
                guard trainer.step % stepsPerRound == 0 else {
                    throw PipelineError(code: .corruptHistory, message: "it is not between two rounds")
                }
                var companionTrainer: Trainer?
                if companion != nil {
                    guard let blob = saved.companion else {
                        throw PipelineError(code: .corruptHistory, message: "it names no companion checkpoint")
                    }
                    companionTrainer = try Trainer(
                        restoring: TrainingCheckpoint(decoding: try await context.log.blob(blob)),
                        pool: context.compute)
                }
                context.log.skip(through: index)
                context.logger.info("\(stage.rawValue)/\(model): resuming from the checkpoint at step \(saved.step)")
                return (trainer, companionTrainer)
            } catch {
                throw PipelineError(
                    code: .corruptHistory, message: "the checkpoint of \(model) at step \(saved.step) does not load",
                    cause: error)
            }
        }
        return (
            Self.trainer(initial(), optimization: optimization, context: context),
            companion.map { Self.trainer($0.initial(), optimization: $0.optimization, context: context) }
        )
    }

    private static func trainer(
        _ model: Transformer, optimization spec: OptimizationSpec, context: RunContext
    ) -> Trainer {
        Trainer(
            model: model,
            optimizer: AdamWConfig(
                learningRate: Float(spec.learningRate), beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                weightDecay: Float(spec.weightDecay)),
            schedule: LearningRateSchedule(
                warmupSteps: spec.warmupSteps, totalSteps: spec.scheduleSteps,
                minimumRatio: Float(spec.minimumLearningRateRatio)),
            gradientClip: Float(spec.gradientClip), pool: context.compute)
    }

    private func save(
        _ trainer: Trainer, companion: Trainer?, context: RunContext, reason: CheckpointSaved.Reason,
        metrics: inout [TrainingMetric], figure: CheckpointFigure?
    ) async throws {
        // The step is the data cursor and names the random streams of the next batch.
        let checkpoint = trainer.checkpoint(metadata: [
            "stage": stage.rawValue, "model": model, "data_cursor": String(trainer.step),
            "random_streams": stepsPerRound == 1
                ? "seed \(context.spec.seed), one stream per step from step \(trainer.step)"
                : "seed \(context.spec.seed), streams per round of \(stepsPerRound) steps from round "
                    + "\(trainer.step / stepsPerRound)",
        ])
        // The companion is named by the same event, not one of its own: one `CheckpointSaved` stays one resume
        // point, and retention keeps (or prunes) the two together.
        var companionBlob: String?
        if let companion {
            let saved = companion.checkpoint(metadata: [
                "stage": stage.rawValue, "model": model, "role": "companion", "data_cursor": String(trainer.step),
            ])
            companionBlob = try await context.log.putBlob(saved.encoded())
        }
        let blob = try await context.log.putBlob(checkpoint.encoded())
        let event = CheckpointSaved(
            stage: stage, model: model, step: trainer.step, blob: blob, reason: reason,
            easyValidationAccuracy: figure.flatMap {
                if case .easyValidationAccuracy(let value) = $0 { value } else { nil }
            },
            easyValidationAuc: figure.flatMap { if case .easyValidationAuc(let value) = $0 { value } else { nil } },
            companion: companionBlob)
        if reason == .interrupt {
            try await context.log.appendInterruptCheckpoint(event)
        } else {
            try await context.log.emit(event)
        }
        try await context.log.recordMetrics(metrics)
        metrics.removeAll()
    }
}
