import Foundation
import NeuralEngine

/// The problems of a run, split into disjoint training, validation and test sets.
struct Dataset: Codable, Sendable, Equatable {
    var train: [Problem]
    var validation: [Problem]
    var test: [Problem]

    static let splitNames = ["train", "validation", "test"]

    func split(_ name: String) -> [Problem] {
        switch name {
        case "train": train
        case "validation": validation
        default: test
        }
    }

    /// Generates `train + validation + test` problems per level from the run seed (one random
    /// stream per level), no two with the same `identity`, and deals them out in order, so the
    /// splits are disjoint by construction and the same seed always gives the same splits.
    static func generate(task: TaskSpec, seed: UInt64) throws -> Dataset {
        let family = task.family.family
        var dataset = Dataset(train: [], validation: [], test: [])
        // Shared by every level: for Sudoku a grid may not recur at another level either.
        var seen: Set<[Int32]> = []
        for level in task.levels {
            var random = RandomStream(.dataset, item: level).generator(seed: seed)
            var problems: [Problem] = []
            let needed = task.trainPerLevel + task.validationPerLevel + task.testPerLevel
            var attempts = 0
            while problems.count < needed {
                attempts += 1
                // The spec reader has checked that the problems exist (`distinctProblems`); this bounds the draws
                // where the splits ask for nearly all of them.
                guard attempts <= 50 * needed else {
                    throw PipelineError(
                        code: .invalidSpec,
                        message: """
                            \(attempts - 1) draws found only \(problems.count) of the \(needed) distinct problems \
                            level \(level) needs: the splits ask for nearly every problem there is — lower the \
                            split sizes, or change task.non_trivial_steps
                            """)
                }
                let problem = family.generate(
                    nonTrivialSteps: task.nonTrivialSteps[level - 1], level: level, using: &random)
                if seen.insert(family.identity(of: problem)).inserted { problems.append(problem) }
            }
            dataset.train += problems[0..<task.trainPerLevel]
            dataset.validation += problems[task.trainPerLevel..<(task.trainPerLevel + task.validationPerLevel)]
            dataset.test += problems[(task.trainPerLevel + task.validationPerLevel)...]
        }
        return dataset
    }
}
