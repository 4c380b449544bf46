import Foundation
import NeuralEngine

/// Stage 2: the policy, fine-tuned on easy problems only, with dense checkpoints; the one kept is
/// chosen by easy-validation pass@1 only.
enum SFTStage {
    struct Output: Codable, Sendable {
        /// The selected checkpoint's step and blob (a `TrainingCheckpoint`).
        var step: Int
        var checkpoint: String
    }

    static let model = "policy"

    static func run(_ context: RunContext, dataset: Dataset) async throws -> Output {
        let spec = context.spec
        let easyTrain = dataset.train.filter { context.isEasy($0.level) }
        let easyValidation = dataset.validation.filter { context.isEasy($0.level) }
        let rows = TrainingRows(family: context.family)
        let loop = TrainingLoop(stage: .sft, model: model, optimization: spec.policy.sft)
        _ = try await loop.run(
            context,
            initial: {
                Transformer(
                    config: context.modelConfig(head: .languageModel),
                    seed: RandomStream(.policyInitialization).seed(from: spec.seed))
            },
            batch: { step, _ in
                var random = context.random(.sftBatches, index: step)
                let picks = (0..<spec.policy.sft.batchSize).map { _ in easyTrain[random.uniform(below: easyTrain.count)]
                }
                return rows.languageModelBatch(
                    picks.map { context.family.trainingVariant(of: $0, using: &random).solution })
            },
            afterCheckpoint: { model in
                easyPassAtOne(model, problems: easyValidation, context: context)
            })
        return try select(context)
    }

    /// pass@1 estimated from `samples_per_problem` samples per easy validation problem.
    static func easyPassAtOne(_ model: Transformer, problems: [Problem], context: RunContext) -> Double {
        let k = context.spec.policy.selection.samplesPerProblem
        let sequences = context.sample(
            model, problems: problems, samplesPerProblem: k, stream: RandomStream(.selectionSamples),
            temperature: context.spec.sampling.temperature)
        let correct = sequences.enumerated().filter { index, sequence in
            context.family.verify(sequence, against: problems[index / k]).final
        }.count
        return sequences.isEmpty ? 0 : Double(correct) / Double(sequences.count)
    }

    /// Applies the selection rule to every interval checkpoint of the policy recorded so far.
    private static func select(_ context: RunContext) throws -> Output {
        let checkpoints = try context.log.eventsSoFar()
            .filter { $0.type == CheckpointSaved.eventType }
            .map { try CheckpointSaved(decoding: $0) }
            .filter { $0.stage == .sft && $0.model == model && $0.reason == .interval }
        guard let last = checkpoints.last else {
            throw PipelineError(
                code: .invalidSpec, message: "SFT produced no checkpoint — set policy.sft.steps above 0")
        }
        let selection = context.spec.policy.selection
        let chosen: CheckpointSaved
        switch selection.rule {
        case .last:
            chosen = last
        case .best:
            // The earliest of equally good checkpoints: ties never depend on anything but the record.
            chosen = checkpoints.reduce(last) { best, next in
                (next.easyValidationAccuracy ?? 0) > (best.easyValidationAccuracy ?? 0)
                    || ((next.easyValidationAccuracy ?? 0) == (best.easyValidationAccuracy ?? 0)
                        && next.step < best.step)
                    ? next : best
            }
        case .target:
            chosen = checkpoints.reduce(last) { best, next in
                let distance = abs((next.easyValidationAccuracy ?? 0) - selection.target)
                let bestDistance = abs((best.easyValidationAccuracy ?? 0) - selection.target)
                return distance < bestDistance || (distance == bestDistance && next.step < best.step) ? next : best
            }
        }
        context.logger.info(
            "SFT: selected the checkpoint at step \(chosen.step) (easy validation pass@1 \(chosen.easyValidationAccuracy ?? 0))"
        )
        return Output(step: chosen.step, checkpoint: chosen.blob)
    }
}
