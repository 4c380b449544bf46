import NeuralEngine
import Randomness
import Testing

@testable import Pipeline

@Suite struct TaskFamilyTests {
    static let families: [TaskFamilyName] = [.runningSum, .sparseAddition]

    @Test(arguments: families)
    func everyLevelHasTheSameLayoutAndItsOwnNumberOfNonTrivialSteps(name: TaskFamilyName) {
        let family = name.family
        var random = RandomGenerator(seed: 11)
        for (index, nonTrivial) in [1, 2, 4, 6, 10].enumerated() {
            for _ in 0..<50 {
                let problem = family.generate(nonTrivialSteps: nonTrivial, level: index + 1, using: &random)
                #expect(problem.template.count == family.sequenceLength)
                #expect(problem.solution.count == family.sequenceLength)
                let written = Set(family.writtenPositions)
                for position in 0..<family.sequenceLength {
                    if written.contains(position) {
                        #expect(problem.template[position] == Vocabulary.written)
                    } else {
                        #expect(problem.template[position] == problem.solution[position])
                    }
                }
                let stepsWithOperands = family.steps.filter { step in
                    step.operands.contains { Vocabulary.value(of: problem.template[$0]) != 0 }
                }
                #expect(stepsWithOperands.count == nonTrivial)
                let verdict = family.verify(problem.solution, against: problem)
                #expect(verdict.final && verdict.steps.allSatisfy { $0 })
            }
        }
    }

    @Test func runningSumSolutionsAreTheArithmetic() {
        var random = RandomGenerator(seed: 3)
        let family = RunningSum()
        for _ in 0..<100 {
            let problem = family.generate(nonTrivialSteps: 6, level: 4, using: &random)
            let tokens = problem.solution.map { Vocabulary.value(of: $0) }
            var total = tokens[1]! * 10 + tokens[2]!
            for slot in 0..<TaskLayout.slots {
                let base = 4 + slot * 8
                #expect(tokens[base]! * 10 + tokens[base + 1]! == total)
                total = (total + tokens[base + 3]!) % 100
                #expect(tokens[base + 5]! * 10 + tokens[base + 6]! == total)
            }
            #expect(family.verify(problem.solution, against: problem).answer == String(format: "%02d", total))
        }
    }

    @Test func sparseAdditionSolutionsAreTheSum() {
        var random = RandomGenerator(seed: 5)
        let family = SparseAddition()
        for _ in 0..<100 {
            let problem = family.generate(nonTrivialSteps: 4, level: 3, using: &random)
            let tokens = problem.solution.map { Vocabulary.value(of: $0) }
            var a = 0
            var b = 0
            var scale = 1
            for column in 0..<TaskLayout.slots {
                a += tokens[2 + column * 9]! * scale
                b += tokens[4 + column * 9]! * scale
                scale *= 10
            }
            // The answer is written least significant digit first, then the final carry.
            let answer = family.verify(problem.solution, against: problem).answer
            #expect(String(answer.reversed()).drop(while: { $0 == "0" }) == String(a + b).drop(while: { $0 == "0" }))
        }
    }

    @Test(arguments: families)
    func theVerifierFlagsTheWrongStepAndAnswer(name: TaskFamilyName) {
        let family = name.family
        var random = RandomGenerator(seed: 9)
        let problem = family.generate(nonTrivialSteps: 3, level: 2, using: &random)
        for (index, step) in family.steps.enumerated() {
            var written = problem.solution
            let position = step.checked[0]
            written[position] = Vocabulary.digit(((Vocabulary.value(of: written[position]) ?? 0) + 1) % 10)
            let verdict = family.verify(written, against: problem)
            #expect(verdict.steps.enumerated().allSatisfy { $0.offset == index ? !$0.element : $0.element })
            #expect(verdict.final == !family.answerPositions.contains(position))
        }
        // A wrong restatement alone is not a wrong step: the label is about the values the step produces.
        var restated = problem.solution
        let first = family.steps[0].written[0]
        restated[first] = Vocabulary.digit(((Vocabulary.value(of: restated[first]) ?? 0) + 1) % 10)
        #expect(family.verify(restated, against: problem).steps.allSatisfy { $0 })
    }

    @Test func splitsAreDisjointCountedAndReproducible() throws {
        let spec = try ExperimentSpec.parse(
            yaml: "name: d\ntask: {train_per_level: 30, validation_per_level: 5, test_per_level: 10}\n", file: "d.yaml")
        let dataset = try Dataset.generate(task: spec.task, seed: 42)
        #expect(dataset.train.count == 150 && dataset.validation.count == 25 && dataset.test.count == 50)
        let templates = (dataset.train + dataset.validation + dataset.test).map(\.template)
        #expect(Set(templates).count == templates.count)
        #expect(try Dataset.generate(task: spec.task, seed: 42) == dataset)
        #expect(try Dataset.generate(task: spec.task, seed: 43) != dataset)
        for level in 1...5 { #expect(dataset.test.filter { $0.level == level }.count == 10) }
    }

    /// Sparse addition's level with one non-trivial column has 10 · 99 = 990 problems: the parser takes splits of
    /// 990 (and a dataset draws every one of them, so the count is not an overestimate) and refuses 991.
    @Test func theParserRefusesSplitsLargerThanTheProblemsThereAre() throws {
        func yaml(train: Int) -> String {
            """
            name: d
            task: {family: sparse_addition, non_trivial_steps: [1, 2, 3, 4, 5], train_per_level: \(train), \
            validation_per_level: 50, test_per_level: 100}

            """
        }
        #expect(SparseAddition().distinctProblems(nonTrivialSteps: 1) == 990)
        #expect(RunningSum().distinctProblems(nonTrivialSteps: 2) == 100 * 45 * 81)
        #expect(SparseAddition().distinctProblems(nonTrivialSteps: 10) == .max)
        let full = try ExperimentSpec.parse(yaml: yaml(train: 840), file: "d.yaml")
        let dataset = try Dataset.generate(task: full.task, seed: 1)
        #expect(Set(dataset.train.filter { $0.level == 1 }.map(\.template)).count == 840)
        let error = #expect(throws: PipelineError.self) {
            try ExperimentSpec.parse(yaml: yaml(train: 841), file: "d.yaml")
        }
        #expect(
            error?.diagnostics.map(\.description) == [
                "d.yaml:2:86: task.train_per_level: level 1 (1 non-trivial steps) has 990 distinct problems, fewer "
                    + "than its splits need (train_per_level + validation_per_level + test_per_level = 991) — lower "
                    + "the split sizes, or give the level more non-trivial steps"
            ])
        // Past the parser (a spec built in code), the dataset still refuses rather than loop.
        var task = full.task
        task.trainPerLevel = 841
        #expect(throws: PipelineError.self) { try Dataset.generate(task: task, seed: 1) }
    }
}
