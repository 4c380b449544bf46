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

    /// Generates `train + validation + test` distinct problems per level from the run seed
    /// (one random stream per level) and deals them out in order, so the splits are disjoint by
    /// construction and the same seed always gives the same splits.
    static func generate(task: TaskSpec, seed: UInt64) throws -> Dataset {
        let family = task.family.family
        var dataset = Dataset(train: [], validation: [], test: [])
        for level in task.levels {
            var random = RandomStream(.dataset, item: level).generator(seed: seed)
            var seen: Set<[Int32]> = []
            var problems: [Problem] = []
            let needed = task.trainPerLevel + task.validationPerLevel + task.testPerLevel
            var attempts = 0
            while problems.count < needed {
                attempts += 1
                guard attempts <= 50 * needed else {
                    throw PipelineError(
                        code: .invalidSpec,
                        message: """
                            level \(level) has too few distinct problems for \(needed) — lower the split sizes \
                            or raise task.non_trivial_steps
                            """)
                }
                let problem = family.generate(
                    nonTrivialSteps: task.nonTrivialSteps[level - 1], level: level, using: &random)
                if seen.insert(problem.template).inserted { problems.append(problem) }
            }
            dataset.train += problems[0..<task.trainPerLevel]
            dataset.validation += problems[task.trainPerLevel..<(task.trainPerLevel + task.validationPerLevel)]
            dataset.test += problems[(task.trainPerLevel + task.validationPerLevel)...]
        }
        return dataset
    }
}

/// The purposes that own a random stream of the run seed; distinct so that no purpose's draws
/// depend on another's.
