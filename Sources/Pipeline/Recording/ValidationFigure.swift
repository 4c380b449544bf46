import Canonical
public import Foundation
import WireTypes

/// A figure a run recorded on validation problems: what may choose between runs (`e2h select`). The scores
/// `compare` shows are measured on the test split; choosing a run by one of them would make that run's test figure
/// optimistic, because the choice has seen the test set.
///
/// The rows: `validation:sft/pass@1`, the easy-validation pass@1 of the SFT checkpoint the run selected (the figure
/// SFT selected it by), and `validation:<policy>/pass@1` for a PPO variant or a DPO iterate trained with
/// `checkpoint: best_validation`, the figure of the checkpoint it kept — so a sweep of PPO's or DPO's settings is
/// decided on validation, not on test.
public struct ValidationFigure: Sendable, Equatable {
    /// The policy whose figure it is: `sft`, or a PPO variant's policy name.
    public let policy: String

    public var rawValue: String { "validation:\(policy)/pass@1" }

    static let rows =
        "validation:sft/pass@1, or validation:<policy>/pass@1 for a PPO variant or DPO policy with checkpoint: "
        + "best_validation"

    /// The row as `select --max` names it; a test-split row is refused with the reason.
    public init(parsing text: String) throws {
        let lowered = text.lowercased()
        // Only something shaped like a row (`sft/pass@1`) is read as a test-split score; anything else is no row.
        guard lowered.hasPrefix("validation:") || lowered.contains("/") || lowered.contains("@") else {
            throw PipelineError(
                code: .invalidArgument, message: "'\(text.prefix(80))' is not a row: select by one of \(Self.rows)")
        }
        guard lowered.hasPrefix("validation:") else {
            throw PipelineError(
                code: .invalidArgument,
                message:
                    "'\(text)' is a score on the test split: choosing a run by it would make the chosen run's test "
                    + "figure optimistic (the choice has seen the test set). Select by a validation row: \(Self.rows)")
        }
        let row = lowered.dropFirst("validation:".count)
        guard row.hasSuffix("/pass@1"), case let policy = String(row.dropLast("/pass@1".count)), !policy.isEmpty,
            !policy.contains("/")
        else {
            throw PipelineError(
                code: .invalidArgument, message: "no validation row '\(text)': the rows are \(Self.rows)")
        }
        self.policy = policy
    }

    /// Why a run of `spec` never records this figure, or nil when it does (or will, once its training finished):
    /// a policy the spec does not train, or trains without validation checkpoints, is the request's mistake, not
    /// something to wait for.
    public func problem(in spec: ExperimentSpec) -> String? {
        guard policy != "sft" else { return nil }
        let validated =
            spec.rl.trainedPPO.filter { $0.checkpoint == .bestValidation }.map(\.policyName)
            + (spec.rl.dpo.checkpoint == .bestValidation && spec.rl.dpo.iterations > 0 ? spec.rl.dpo.policyNames : [])
        guard validated.contains(policy) else {
            return "the runs of this spec record no \(rawValue): the validation rows are validation:sft/pass@1"
                + validated.map { ", validation:\($0)/pass@1" }.joined()
                + " (a PPO variant's or DPO policy's needs its checkpoint: best_validation)"
        }
        return nil
    }

    /// The figure in the record of a run of `spec`, or nil when the run has not recorded it (it has not finished
    /// SFT, or that training). `blob` reads a stage's outputs by hash.
    public func value(
        in events: [(type: String, payload: Data)], spec: ExperimentSpec, blob: (String) async throws -> Data
    ) async throws -> Double? {
        let checkpoints = try events.filter { $0.type == CheckpointSaved.eventType }
            .map { try CanonicalJSON.decode(CheckpointSaved.self, from: $0.payload) }
        let completed = try events.filter { $0.type == StageCompleted.eventType }
            .map { try CanonicalJSON.decode(StageCompleted.self, from: $0.payload) }
        guard policy == "sft" else {
            // A PPO variant, or a DPO iteration, keeps its checkpoint with the best figure
            // (`TrainingLoop.bestOnValidation`), the earliest of equals: once its stage is over, that figure is the
            // best one its training recorded. A PPO variant trains under its policy's name, a DPO iterate under its
            // iteration's.
            guard completed.contains(where: { $0.stage == .rl }) else { return nil }
            let model = spec.rl.dpo.trainingModel(ofPolicy: policy) ?? policy
            return checkpoints.filter { $0.stage == .rl && $0.model == model && $0.reason == .interval }
                .compactMap(\.easyValidationAccuracy).max()
        }
        guard let sft = completed.first(where: { $0.stage == .sft }) else { return nil }
        let selected = try CanonicalJSON.decode(SFTStage.Output.self, from: try await blob(sft.outputs))
        return checkpoints.first {
            $0.stage == .sft && $0.model == SFTStage.model && $0.step == selected.step && $0.reason == .interval
        }?.easyValidationAccuracy
    }
}
