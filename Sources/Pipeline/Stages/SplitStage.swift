import Canonical
import Foundation

/// Stage 1: generates the problems and records each split (questions and labels as separate blobs).
enum SplitStage {
    static func run(_ context: RunContext) async throws -> Dataset {
        var dataset = try Dataset.generate(task: context.spec.task, seed: context.spec.seed)
        if let counterfactual = context.counterfactual {
            dataset = try counterfactual.apply(to: dataset, task: context.spec.task, seed: context.spec.seed)
        }
        for name in Dataset.splitNames {
            let problems = dataset.split(name)
            let questions = try CanonicalJSON.encode(problems.map { Question(level: $0.level, template: $0.template) })
            let labels = try CanonicalJSON.encode(problems.map(\.solution))
            let questionsHash = try await context.log.putBlob(questions)
            let labelsHash = try await context.log.putBlob(labels)
            let counts = context.spec.task.levels.map { level in
                LevelCount(level: level, count: problems.filter { $0.level == level }.count)
            }
            try await context.log.emit(
                DatasetSplitCreated(split: name, counts: counts, sha256: questionsHash, labelsSha256: labelsHash))
        }
        return dataset
    }

    private struct Question: Codable {
        var level: Int
        var template: [Int32]
    }
}

extension Dataset {
    /// Every label of the given levels in the given splits made wrong (each written digit shifted by one): what a
    /// test uses to show where labels reach.
    func corruptingLabels(of levels: [Int], splits: [String] = Dataset.splitNames) -> Dataset {
        func corrupt(_ problems: [Problem], split: String) -> [Problem] {
            problems.map { problem in
                guard splits.contains(split), levels.contains(problem.level) else { return problem }
                var wrong = problem
                for (position, token) in problem.solution.enumerated()
                where problem.template[position] == Vocabulary.written {
                    if let digit = Vocabulary.value(of: token) {
                        wrong.solution[position] = Vocabulary.digit((digit + 1) % 10)
                    }
                }
                return wrong
            }
        }
        return Dataset(
            train: corrupt(train, split: "train"), validation: corrupt(validation, split: "validation"),
            test: corrupt(test, split: "test"))
    }
}
