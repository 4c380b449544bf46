import Foundation
import NeuralEngine
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
    /// What `afterCheckpoint`'s figure is, and so where a checkpoint records it.
    var figure = CheckpointFigure.easyValidationAccuracy

    enum CheckpointFigure {
        /// A policy's pass@1 on easy validation problems.
        case easyValidationAccuracy
        /// An evaluator's outcome ROC-AUC on samples of easy validation problems.
        case easyValidationAuc
    }

    /// Trains from `initial` (or the latest recorded checkpoint) for `optimization.steps` steps, one per batch.
    /// `afterCheckpoint` may attach a figure (e.g. validation accuracy) to each interval checkpoint.
    func run(
        _ context: RunContext, initial: () -> Transformer,
        batch: (_ step: Int, _ model: Transformer) throws -> TrainingBatch,
        afterCheckpoint: ((_ model: Transformer) -> Double?)? = nil
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
        afterCheckpoint: ((_ model: Transformer) -> Double?)? = nil
    ) async throws -> Transformer {
        precondition(optimization.steps % stepsPerRound == 0, "steps must be whole rounds")
        let trainer = try await restoreOrStart(context, initial: initial)
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
                    try await save(trainer, context: context, reason: .interrupt, metrics: &metrics, figure: nil)
                }
            }
            let index = trainer.step / stepsPerRound
            let figures = try round(index, trainer.model) { batch in
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
                    trainer, context: context, reason: .interval, metrics: &metrics,
                    figure: afterCheckpoint?(trainer.model))
                lastSaved = trainer.step
            }
            await context.report(task, done: trainer.step, loss: loss)
        }
        try await context.log.recordMetrics(metrics)
        return trainer.model
    }

    private func restoreOrStart(_ context: RunContext, initial: () -> Transformer) async throws -> Trainer {
        if let (index, saved) = try context.log.latestCheckpoint(stage: stage, model: model) {
            let data = try await context.log.blob(saved.blob)
            do {
                let trainer = try Trainer(restoring: TrainingCheckpoint(decoding: data), pool: context.compute)
                guard trainer.step % stepsPerRound == 0 else {
                    throw PipelineError(code: .corruptHistory, message: "it is not between two rounds")
                }
                context.log.skip(through: index)
                context.logger.info("\(stage.rawValue)/\(model): resuming from the checkpoint at step \(saved.step)")
                return trainer
            } catch {
                throw PipelineError(
                    code: .corruptHistory, message: "the checkpoint of \(model) at step \(saved.step) does not load",
                    cause: error)
            }
        }
        let spec = optimization
        return Trainer(
            model: initial(),
            optimizer: AdamWConfig(
                learningRate: Float(spec.learningRate), beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                weightDecay: Float(spec.weightDecay)),
            schedule: LearningRateSchedule(
                warmupSteps: spec.warmupSteps, totalSteps: spec.scheduleSteps,
                minimumRatio: Float(spec.minimumLearningRateRatio)),
            gradientClip: Float(spec.gradientClip), pool: context.compute)
    }

    private func save(
        _ trainer: Trainer, context: RunContext, reason: CheckpointSaved.Reason, metrics: inout [TrainingMetric],
        figure: Double?
    ) async throws {
        // The step is the data cursor and names the random streams of the next batch.
        let checkpoint = trainer.checkpoint(metadata: [
            "stage": stage.rawValue, "model": model, "data_cursor": String(trainer.step),
            "random_streams": stepsPerRound == 1
                ? "seed \(context.spec.seed), one stream per step from step \(trainer.step)"
                : "seed \(context.spec.seed), streams per round of \(stepsPerRound) steps from round "
                    + "\(trainer.step / stepsPerRound)",
        ])
        let blob = try await context.log.putBlob(checkpoint.encoded())
        let event = CheckpointSaved(
            stage: stage, model: model, step: trainer.step, blob: blob, reason: reason,
            easyValidationAccuracy: self.figure == .easyValidationAccuracy ? figure : nil,
            easyValidationAuc: self.figure == .easyValidationAuc ? figure : nil)
        if reason == .interrupt {
            try await context.log.appendInterruptCheckpoint(event)
        } else {
            try await context.log.emit(event)
        }
        try await context.log.recordMetrics(metrics)
        metrics.removeAll()
    }
}
