import Foundation
import NeuralEngine

/// A resumable training loop: checkpoints every `checkpoint_interval` steps and at the end,
/// restores from the latest recorded checkpoint of the same stage and model, and stops at step
/// boundaries when asked (checkpointing first).
///
/// Each step's batch is a pure function of the step index (and the model, for RL rollouts), so
/// the step counter is the whole data cursor: a restored trainer sees exactly the batches an
/// uninterrupted one would.
struct TrainingLoop {
    var stage: StageName
    var model: String
    var optimization: OptimizationSpec

    /// Trains from `initial` (or the latest recorded checkpoint) for `optimization.steps` steps.
    /// `afterCheckpoint` may attach a figure (e.g. validation accuracy) to each interval checkpoint.
    func run(
        _ context: RunContext, initial: () -> Transformer,
        batch: (_ step: Int, _ model: Transformer) throws -> TrainingBatch,
        afterCheckpoint: ((_ model: Transformer) -> Double?)? = nil
    ) async throws -> Transformer {
        let trainer = try await restoreOrStart(context, initial: initial)
        let interval = context.spec.checkpointInterval
        var metrics: [TrainingMetric] = []
        var lastSaved = trainer.step
        while trainer.step < optimization.steps {
            try await context.pollStop {
                if trainer.step > lastSaved {
                    try await save(trainer, context: context, reason: .interrupt, metrics: &metrics, figure: nil)
                }
            }
            let report = trainer.train(try batch(trainer.step, trainer.model))
            let prefix = "\(stage.rawValue).\(model)"
            metrics.append(TrainingMetric(name: "\(prefix).loss", step: report.step, value: Double(report.loss)))
            metrics.append(
                TrainingMetric(name: "\(prefix).learning_rate", step: report.step, value: Double(report.learningRate)))
            metrics.append(
                TrainingMetric(name: "\(prefix).gradient_norm", step: report.step, value: Double(report.gradientNorm)))
            if trainer.step % interval == 0 || trainer.step == optimization.steps {
                try await save(
                    trainer, context: context, reason: .interval, metrics: &metrics,
                    figure: afterCheckpoint?(trainer.model))
                lastSaved = trainer.step
            }
        }
        try await context.log.recordMetrics(metrics)
        return trainer.model
    }

    private func restoreOrStart(_ context: RunContext, initial: () -> Transformer) async throws -> Trainer {
        if let (index, saved) = try context.log.latestCheckpoint(stage: stage, model: model) {
            let data = try await context.log.blob(saved.blob)
            do {
                let trainer = try Trainer(restoring: TrainingCheckpoint(decoding: data), threads: context.threads)
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
            gradientClip: Float(spec.gradientClip), threads: context.threads)
    }

    private func save(
        _ trainer: Trainer, context: RunContext, reason: CheckpointSaved.Reason, metrics: inout [TrainingMetric],
        figure: Double?
    ) async throws {
        // The step is the data cursor and names the random streams of the next batch.
        let checkpoint = trainer.checkpoint(metadata: [
            "stage": stage.rawValue, "model": model, "data_cursor": String(trainer.step),
            "random_streams": "seed \(context.spec.seed), one stream per step from step \(trainer.step)",
        ])
        let blob = try await context.log.putBlob(checkpoint.encoded())
        let event = CheckpointSaved(
            stage: stage, model: model, step: trainer.step, blob: blob, reason: reason, easyValidationAccuracy: figure)
        if reason == .interrupt {
            try await context.log.appendInterruptCheckpoint(event)
        } else {
            try await context.log.emit(event)
        }
        try await context.log.recordMetrics(metrics)
        metrics.removeAll()
    }
}
