import Foundation

/// Where labels and test questions reach, read off two records of one spec and seed: a clean run and one under a
/// `Counterfactual`. The only events the altered data may change are the scores of the levels it belongs to
/// (test `ScoreRecorded` rows and the evaluators' test ROC-AUCs), the recorded label blobs and the split stage's
/// outputs that hold them — and, where test questions were replaced, the test split, the samples of it and the
/// stage outputs that name them. Any other difference — a checkpoint, a training sample, a selection figure, an
/// evaluator's weights, an RL policy — means the data fed training or selection: a leak.
///
/// The check compares records, not accuracies, so it fails on a leak even when the policy solves no hard
/// problem (under `hardVerdictsTrue` every hard verdict a leak could read flips).
struct LeakageCheck {
    /// Levels whose test scores may change.
    var scoredLevels: [Int]
    var easyLevels: [Int]
    /// Splits whose questions may change (and the sample sets of the same name).
    var replacedSplits: [String]

    init(_ counterfactual: Counterfactual, task: TaskSpec) {
        scoredLevels = counterfactual.scoredLevels(task)
        easyLevels = task.easyLevels
        replacedSplits = counterfactual.replacedSplits
    }

    /// One line per event the altered labels changed without leave; empty when no label leaked.
    func leaks(clean: [PipelineEvent], altered: [PipelineEvent]) -> [String] {
        guard clean.count == altered.count else {
            return ["the records differ in length (\(clean.count) events clean, \(altered.count) altered)"]
        }
        var found: [String] = []
        for (index, (mine, theirs)) in zip(clean, altered).enumerated() where mine != theirs {
            if let reason = leak(clean: mine, altered: theirs) {
                found.append("event \(index) (\(mine.type)): \(reason)")
            }
        }
        return found
    }

    /// Why a changed event is a leak, or nil when the change is one the labels may make.
    private func leak(clean: PipelineEvent, altered: PipelineEvent) -> String? {
        guard clean.type == altered.type else { return "became \(altered.type)" }
        do {
            switch clean.type {
            case ScoreRecorded.eventType:
                let (a, b) = (try ScoreRecorded(decoding: clean), try ScoreRecorded(decoding: altered))
                guard a.level == b.level else { return "a score of another level" }
                return scoredLevels.contains(a.level)
                    ? nil : "the \(a.policy)/\(a.method) score of level \(a.level) changed"
            case EvaluatorTrained.eventType:
                var (a, b) = (try EvaluatorTrained(decoding: clean), try EvaluatorTrained(decoding: altered))
                // ROC-AUCs are scores on test samples; a level group's may change when its labels do.
                let easyScored = easyLevels.contains { scoredLevels.contains($0) }
                let hardScored = scoredLevels.contains { !easyLevels.contains($0) }
                for area in [\AreaUnderCurve.stepEasy, \.outcomeEasy] where easyScored {
                    (a.rocAuc[keyPath: area], b.rocAuc[keyPath: area]) = (nil, nil)
                }
                for area in [\AreaUnderCurve.stepHard, \.outcomeHard] where hardScored {
                    (a.rocAuc[keyPath: area], b.rocAuc[keyPath: area]) = (nil, nil)
                }
                return a == b ? nil : "evaluator \(a.name) learned something else"
            case DatasetSplitCreated.eventType:
                var (a, b) = (try DatasetSplitCreated(decoding: clean), try DatasetSplitCreated(decoding: altered))
                if replacedSplits.contains(a.split) { return nil }
                (a.labelsSha256, b.labelsSha256) = ("", "")
                return a == b ? nil : "the \(a.split) split's questions changed"
            case SamplesGenerated.eventType:
                let samples = try SamplesGenerated(decoding: clean)
                return replacedSplits.contains(samples.set)
                    ? nil : "the \(samples.policy) \(samples.set) samples (chunk \(samples.chunk)) changed"
            case StageCompleted.eventType:
                // The split stage's outputs are the problems with their labels; the sample and evaluator stages'
                // name the test samples and their scores.
                let stage = try StageCompleted(decoding: clean).stage
                let namesTest = !replacedSplits.isEmpty && (stage == .sample || stage == .evaluators)
                return stage == .split || namesTest ? nil : "the outputs of stage \(stage.rawValue) changed"
            case CheckpointSaved.eventType:
                let checkpoint = try CheckpointSaved(decoding: clean)
                return
                    "the \(checkpoint.stage.rawValue)/\(checkpoint.model) checkpoint at step \(checkpoint.step) changed"
            default:
                return "changed"
            }
        } catch {
            return "does not decode"
        }
    }
}
