import Canonical
public import Foundation
import WireTypes

/// A figure a run recorded on validation problems: what may choose between runs (`e2h select`). The scores
/// `compare` shows are measured on the test split; choosing a run by one of them would make that run's test figure
/// optimistic, because the choice has seen the test set.
public enum ValidationFigure: String, Sendable, CaseIterable {
    /// Easy-validation pass@1 of the SFT checkpoint the run selected (the figure SFT selected it by).
    case sftPassAtOne = "validation:sft/pass@1"

    /// The row as `select --max` names it; a test-split row is refused with the reason.
    public init(parsing text: String) throws {
        if let figure = Self(rawValue: text.lowercased()) {
            self = figure
            return
        }
        let choices = Self.allCases.map(\.rawValue).joined(separator: ", ")
        if text.lowercased().hasPrefix("validation:") {
            throw PipelineError(code: .invalidArgument, message: "no validation row '\(text)': the rows are \(choices)")
        }
        throw PipelineError(
            code: .invalidArgument,
            message: "'\(text)' is a score on the test split: choosing a run by it would make the chosen run's test "
                + "figure optimistic (the choice has seen the test set). Select by a validation row: \(choices)")
    }

    /// The figure in a run's record, or nil when the run has not recorded it (it has not finished SFT).
    /// `blob` reads a stage's outputs by hash.
    public func value(
        in events: [(type: String, payload: Data)], blob: (String) async throws -> Data
    ) async throws -> Double? {
        switch self {
        case .sftPassAtOne:
            let completed = try events.filter { $0.type == StageCompleted.eventType }
                .map { try CanonicalJSON.decode(StageCompleted.self, from: $0.payload) }
            guard let sft = completed.first(where: { $0.stage == .sft }) else { return nil }
            let selected = try CanonicalJSON.decode(SFTStage.Output.self, from: try await blob(sft.outputs))
            let checkpoints = try events.filter { $0.type == CheckpointSaved.eventType }
                .map { try CanonicalJSON.decode(CheckpointSaved.self, from: $0.payload) }
            return checkpoints.first {
                $0.stage == .sft && $0.model == SFTStage.model && $0.step == selected.step && $0.reason == .interval
            }?.easyValidationAccuracy
        }
    }
}
