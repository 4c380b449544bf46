import Foundation

/// The stages of the easy-to-hard protocol, in execution order. Defined here, beside the wire shapes, so that
/// the pipeline, the daemon and the CLI name a stage with one type.
public enum StageName: String, Codable, Sendable, CaseIterable {
    case split, sft, sample, evaluators, rerank, rl, evaluate
}

/// Where a running run is: reported by the pipeline, stored by the daemon with the run's queue row and served
/// to clients as it is. One type from the training loop to the progress bar, so nothing parses a string.
public struct RunProgress: Codable, Sendable, Equatable {
    public var stage: StageName
    /// What the stage is working on: a model being trained ("policy", an evaluator's name, "ppo"), or a unit
    /// of sampling or scoring work ("test pool", "orm scores").
    public var task: String?
    /// Units done and the total, when the stage knows it: optimizer steps, or problems sampled or scored.
    public var done: Int?
    public var total: Int?
    /// What `done` and `total` count: "steps", "problems", "sequences".
    public var unit: String?
    /// The latest training loss, for stages that train.
    public var loss: Double?
    /// Units per second over the task so far (volatile: never part of the record's deterministic part).
    public var ratePerSecond: Double?

    public init(
        stage: StageName, task: String? = nil, done: Int? = nil, total: Int? = nil, unit: String? = nil,
        loss: Double? = nil, ratePerSecond: Double? = nil
    ) {
        self.stage = stage
        self.task = task
        self.done = done
        self.total = total
        self.unit = unit
        self.loss = loss
        self.ratePerSecond = ratePerSecond
    }

    /// Seconds until the task's total at the current rate, when both are known.
    public var secondsLeft: Double? {
        guard let done, let total, let rate = ratePerSecond, rate > 0, total >= done else { return nil }
        return Double(total - done) / rate
    }
}
