/// A run's data altered on purpose (a test hook), so that comparing the altered run's record with the clean one
/// shows where that data reaches: whatever it reaches, beyond the scores it is allowed to change, is a leak
/// (`LeakageCheck`).
enum Counterfactual: Sendable, Equatable {
    /// Every hard-level label made wrong, in every split.
    case hardLabelsWrong
    /// Every hard-level verdict all right, whatever was written. Unlike wrong labels, this changes what a leak of
    /// hard answers would feed training even when the policy solves no hard problem (a wrong solution is as
    /// wrong against a wrong label as against the right one).
    case hardVerdictsTrue
    /// Every test label made wrong, at every level: test labels may reach the final scores only, never a
    /// selection or a training step.
    case testLabelsWrong
    /// Other test questions (those of another seed): test questions may reach the test samples and scores only.
    case testQuestionsReplaced

    /// The levels whose test scores this counterfactual may change.
    func scoredLevels(_ task: TaskSpec) -> [Int] {
        switch self {
        case .hardLabelsWrong, .hardVerdictsTrue: task.hardLevels
        case .testLabelsWrong, .testQuestionsReplaced: task.levels
        }
    }

    /// The splits whose questions this counterfactual replaces.
    var replacedSplits: [String] { self == .testQuestionsReplaced ? ["test"] : [] }

    /// The dataset as this counterfactual alters it (verdicts are altered where they are read: `RunContext.judge`).
    func apply(to dataset: Dataset, task: TaskSpec, seed: UInt64) throws -> Dataset {
        var altered = dataset
        switch self {
        case .hardLabelsWrong: altered = dataset.corruptingLabels(of: task.hardLevels)
        case .testLabelsWrong: altered = dataset.corruptingLabels(of: task.levels, splits: ["test"])
        case .testQuestionsReplaced: altered.test = try Dataset.generate(task: task, seed: seed &+ 1).test
        case .hardVerdictsTrue: break
        }
        return altered
    }
}
