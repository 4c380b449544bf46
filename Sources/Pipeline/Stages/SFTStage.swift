import Foundation
import NeuralEngine

/// Stage 2: the policy, fine-tuned on easy problems only, with dense checkpoints; the one kept is
/// chosen by easy-validation pass@1 only.
enum SFTStage {
    struct Output: Codable, Sendable {
        /// The selected checkpoint's step and blob (a `TrainingCheckpoint`).
        var step: Int
        var checkpoint: String
        /// The best easy-validation checkpoint, scored as `sft_best` (`selection.best_control`).
        var best: Control?
        /// The weights of the all-levels ceiling (`policy.ceiling`), scored as `sft_oracle`.
        var ceiling: String?

        struct Control: Codable, Sendable {
            var step: Int
            var checkpoint: String
        }
    }

    static let model = "policy"
    /// The policy name of the best easy-validation checkpoint's scores: the strongest easy-only SFT generator.
    static let bestControl = "sft_best"
    /// The all-levels ceiling: its model name in checkpoints and its policy name in scores, which mark it an oracle.
    static let ceilingModel = "ceiling"
    static let ceilingPolicy = "sft_oracle"

    static func run(_ context: RunContext, dataset: Dataset) async throws -> Output {
        let spec = context.spec
        let easyTrain = dataset.train.filter { context.isEasy($0.level) }
        let selectionSplit = context.leak == .selectionOnTest ? dataset.test : dataset.validation
        let easyValidation = selectionSplit.filter { context.isEasy($0.level) }
        _ = try await TrainingLoop.languageModel(
            context, stage: .sft, model: model, initialization: .policyInitialization, batches: .sftBatches,
            sequences: { random in
                let picks = (0..<spec.policy.sft.batchSize).map { _ in easyTrain[random.uniform(below: easyTrain.count)]
                }
                return picks.map { context.family.trainingVariant(of: $0, using: &random).solution }
            },
            afterCheckpoint: { model in
                .easyValidationAccuracy(easyPassAtOne(model, problems: easyValidation, context: context))
            })
        var output = try select(context)
        if spec.policy.ceiling {
            output.ceiling = try await context.log.putBlob(try await ceiling(context, dataset: dataset).weightsData())
        }
        return output
    }

    /// The same SFT on every level's training labels, hard ones included: a full-supervision ceiling. Its last
    /// checkpoint is kept, with no figure attached, so nothing is selected by it — and it is selected by nothing
    /// (selection reads the `policy` model's checkpoints only).
    private static func ceiling(_ context: RunContext, dataset: Dataset) async throws -> Transformer {
        // The policy's initial weights: the two differ only in the labels they see.
        try await TrainingLoop.languageModel(
            context, stage: .sft, model: ceilingModel, initialization: .policyInitialization, batches: .ceilingBatches,
            sequences: { random in
                let picks = (0..<context.spec.policy.sft.batchSize).map { _ in
                    dataset.train[random.uniform(below: dataset.train.count)]
                }
                return picks.map { context.family.trainingVariant(of: $0, using: &random).solution }
            })
    }

    /// pass@1 estimated from `samples_per_problem` samples per easy validation problem.
    static func easyPassAtOne(_ model: Transformer, problems: [Problem], context: RunContext) -> Double {
        let k = context.spec.policy.selection.samplesPerProblem
        let sequences = context.sample(
            model, problems: problems, samplesPerProblem: k, stream: RandomStream(.selectionSamples),
            temperature: context.spec.sampling.temperature)
        let correct = sequences.enumerated().filter { index, sequence in
            context.judge(sequence, against: problems[index / k]).final
        }.count
        return sequences.isEmpty ? 0 : Double(correct) / Double(sequences.count)
    }

    /// Applies the selection rule to every interval checkpoint of the policy recorded so far; with the best control,
    /// the best one too.
    private static func select(_ context: RunContext) throws -> Output {
        let checkpoints = try context.log.eventsSoFar()
            .filter { $0.type == CheckpointSaved.eventType }
            .map { try CheckpointSaved(decoding: $0) }
            .filter { $0.stage == .sft && $0.model == model && $0.reason == .interval }
        let selection = context.spec.policy.selection
        guard let chosen = choose(selection.rule, target: selection.target, among: checkpoints) else {
            throw PipelineError(
                code: .invalidSpec, message: "SFT produced no checkpoint — set policy.sft.steps above 0")
        }
        context.logger.info(
            "SFT: selected the checkpoint at step \(chosen.step) (easy validation pass@1 \(chosen.easyValidationAccuracy ?? 0))"
        )
        var output = Output(step: chosen.step, checkpoint: chosen.blob)
        if selection.scoresBestControl, let best = choose(.best, target: selection.target, among: checkpoints) {
            output.best = Output.Control(step: best.step, checkpoint: best.blob)
        }
        return output
    }

    /// The checkpoint a rule picks by easy-validation pass@1 (the only figure it may read), or nil when there is
    /// none. Of equally good checkpoints the earliest wins, so ties never depend on anything but the record.
    static func choose(
        _ rule: CheckpointSelection, target: Double, among checkpoints: [CheckpointSaved]
    ) -> CheckpointSaved? {
        guard let last = checkpoints.last else { return nil }
        switch rule {
        case .last:
            return last
        case .best:
            return checkpoints.reduce(last) { best, next in
                (next.easyValidationAccuracy ?? 0) > (best.easyValidationAccuracy ?? 0)
                    || ((next.easyValidationAccuracy ?? 0) == (best.easyValidationAccuracy ?? 0)
                        && next.step < best.step)
                    ? next : best
            }
        case .target:
            return checkpoints.reduce(last) { best, next in
                let distance = abs((next.easyValidationAccuracy ?? 0) - target)
                let bestDistance = abs((best.easyValidationAccuracy ?? 0) - target)
                return distance < bestDistance || (distance == bestDistance && next.step < best.step) ? next : best
            }
        }
    }
}
