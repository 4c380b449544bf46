import Foundation
import NeuralEngine
import Randomness
import Testing

@testable import Pipeline

@Suite struct SudokuTests {
    /// Every completion of a puzzle by plain row-major backtracking that checks each placement by
    /// scanning its row, column and box: independent of the solver's bitmasks and cell choice.
    static func referenceSolutions(_ puzzle: [Int]) -> Set<[Int]> {
        func conflicts(_ grid: [Int], _ cell: Int) -> Bool {
            (0..<36).contains { other in
                guard other != cell && grid[other] == grid[cell] else { return false }
                let sameBox = cell / 12 == other / 12 && (cell % 6) / 3 == (other % 6) / 3
                return cell / 6 == other / 6 || cell % 6 == other % 6 || sameBox
            }
        }
        guard !(0..<36).contains(where: { puzzle[$0] != 0 && conflicts(puzzle, $0) }) else { return [] }
        var found: Set<[Int]> = []
        var grid = puzzle
        func fill(_ cell: Int) {
            if cell == 36 {
                found.insert(grid)
                return
            }
            if grid[cell] != 0 { return fill(cell + 1) }
            for digit in 1...6 {
                grid[cell] = digit
                if !conflicts(grid, cell) { fill(cell + 1) }
            }
            grid[cell] = 0
        }
        fill(0)
        return found
    }

    @Test func theSolverFindsExactlyTheSolutionsABruteForceSearchFinds() {
        var random = RandomGenerator(seed: 21)
        var counts: [Int] = []
        for trial in 0..<60 {
            var cells = SudokuGrid.random(using: &random).cells
            for cell in random.shuffled(Array(0..<36)).prefix([0, 4, 8, 12, 16][trial % 5]) { cells[cell] = 0 }
            if trial % 3 == 0 {
                // A wrong given usually leaves no solution at all.
                let givens = (0..<36).filter { cells[$0] != 0 }
                let given = givens[random.uniform(below: givens.count)]
                cells[given] = cells[given] % 6 + 1
            }
            let expected = Self.referenceSolutions(cells)
            let solutions = SudokuGrid(cells: cells).solutions().map(\.cells)
            #expect(Set(solutions) == expected)
            #expect(solutions.count == expected.count, "no completion is found twice")
            #expect(SudokuGrid(cells: cells).solutionCount(limit: 2) == min(expected.count, 2))
            counts.append(expected.count)
        }
        // The trials cover contradictory, unique and ambiguous puzzles.
        #expect(counts.contains(0) && counts.contains(1) && counts.contains { $0 > 1 })
    }

    @Test func aRandomGridIsAFullValidGrid() {
        var random = RandomGenerator(seed: 4)
        for _ in 0..<50 {
            let grid = SudokuGrid.random(using: &random)
            #expect(grid.blankCount == 0)
            #expect(Self.referenceSolutions(grid.cells) == [grid.cells])
        }
    }

    @Test func everyGeneratedPuzzleHasExactlyItsLevelsBlanksAndOneSolution() {
        let family = Sudoku()
        var random = RandomGenerator(seed: 8)
        for (index, blanks) in family.defaultNonTrivialSteps.enumerated() {
            for _ in 0..<40 {
                let problem = family.generate(nonTrivialSteps: blanks, level: index + 1, using: &random)
                #expect(problem.template.count == 73 && problem.solution.count == 73)
                #expect(problem.template[36] == Vocabulary.arrow)
                #expect(problem.template[37...].allSatisfy { $0 == Vocabulary.written })
                let puzzle = problem.template[0..<36].map { Vocabulary.value(of: $0)! }
                let solution = problem.solution[37...].map { Vocabulary.value(of: $0)! }
                #expect(puzzle.filter { $0 == 0 }.count == blanks)
                #expect(Array(problem.solution[0..<37]) == Array(problem.template[0..<37]))
                #expect(SudokuGrid(cells: puzzle).solutions().map(\.cells) == [solution])
                let stepsWithBlanks = family.steps.filter { step in
                    step.operands.contains { Vocabulary.value(of: problem.template[$0]) == 0 }
                }
                #expect(stepsWithBlanks.count == blanks)
            }
        }
    }

    @Test func oneRemovalOrderGivesNestedPuzzles() throws {
        var random = RandomGenerator(seed: 15)
        let blanks = [8, 12, 16, 20, 24]
        var nested = 0
        for _ in 0..<30 {
            let grid = SudokuGrid.random(using: &random)
            guard
                let puzzles = Sudoku.nestedPuzzles(of: grid, removing: random.shuffled(Array(0..<36)), blanks: blanks)
            else { continue }
            nested += 1
            #expect(puzzles.map(\.blankCount) == blanks)
            for (easier, harder) in zip(puzzles, puzzles.dropFirst()) {
                // Every given of the harder puzzle is a given of the easier one, with the grid's digit.
                #expect((0..<36).allSatisfy { harder.cells[$0] == 0 || easier.cells[$0] == harder.cells[$0] })
            }
            #expect(puzzles.allSatisfy { $0.solutions() == [grid] })
        }
        // Almost every removal order reaches 24 blanks (measured: 1,999 of 2,000).
        #expect(nested >= 28)
    }

    @Test func theCheckerAcceptsTheSolutionAndRejectsAnySingleWrongCell() {
        let family = Sudoku()
        var random = RandomGenerator(seed: 2)
        let problem = family.generate(nonTrivialSteps: 20, level: 4, using: &random)
        let right = family.verify(problem.solution, against: problem)
        #expect(right.final && right.steps.count == 36 && right.steps.allSatisfy { $0 })
        for cell in 0..<36 {
            var written = problem.solution
            let position = 37 + cell
            written[position] = Vocabulary.digit(Vocabulary.value(of: written[position])! % 6 + 1)
            let verdict = family.verify(written, against: problem)
            #expect(!verdict.final)
            #expect(verdict.steps.enumerated().allSatisfy { $0.offset == cell ? !$0.element : $0.element })
            #expect(verdict.answer != right.answer)
        }
        // The answer voted on is the written grid.
        #expect(right.answer == Vocabulary.render(Array(problem.solution[37...])))
    }

    @Test func aTrainingVariantRelabelsTheDigitsOfTheSameGrid() {
        let family = Sudoku()
        var random = RandomGenerator(seed: 6)
        let problem = family.generate(nonTrivialSteps: 12, level: 2, using: &random)
        var variants: Set<[Int32]> = []
        for _ in 0..<20 {
            let variant = family.trainingVariant(of: problem, using: &random)
            let puzzle = variant.template[0..<36].map { Vocabulary.value(of: $0)! }
            #expect(variant.template[37...].allSatisfy { $0 == Vocabulary.written })
            #expect(
                SudokuGrid(cells: puzzle).solutions().map(\.cells) == [
                    variant.solution[37...].map { Vocabulary.value(of: $0)! }
                ])
            #expect(family.identity(of: variant) == family.identity(of: problem))
            variants.insert(variant.solution)
        }
        #expect(variants.count > 10)
    }

    static func spec(_ task: String) throws -> ExperimentSpec {
        try ExperimentSpec.parse(yaml: "name: s\ntask: {family: sudoku\(task)}\n", file: "s.yaml")
    }

    @Test func theSplitsComeFromDisjointGridsAndTheSameSeedGivesTheSamePuzzles() throws {
        let spec = try Self.spec(", train_per_level: 60, validation_per_level: 10, test_per_level: 20")
        #expect(spec.task.nonTrivialSteps == [8, 12, 16, 20, 24])
        let family = Sudoku()
        let dataset = try Dataset.generate(task: spec.task, seed: 5)
        #expect(dataset.train.count == 300 && dataset.validation.count == 50 && dataset.test.count == 100)
        let grids = (dataset.train + dataset.validation + dataset.test).map { family.identity(of: $0) }
        #expect(Set(grids).count == grids.count)
        for problem in dataset.test {
            let blanks = problem.template[0..<36].filter { $0 == Vocabulary.digit(0) }.count
            #expect(blanks == spec.task.nonTrivialSteps[problem.level - 1])
        }
        #expect(try Dataset.generate(task: spec.task, seed: 5) == dataset)
        #expect(try Dataset.generate(task: spec.task, seed: 6) != dataset)
    }

    /// 39,168 grids up to relabelling: the grids whose first row is 1–6 in order, one per class. Every level draws
    /// from them, so the parser refuses five levels whose splits add up to more.
    @Test func theLevelsShareTheGridsThereAre() throws {
        var firstRow = SudokuGrid(cells: [Int](repeating: 0, count: 36))
        for column in 0..<6 { firstRow.cells[column] = column + 1 }
        #expect(firstRow.solutionCount(limit: .max) == Sudoku().distinctProblems(nonTrivialSteps: 20))
        #expect(Sudoku().levelsShareIdentities)
        #expect(
            try Self.spec(", train_per_level: 7533, validation_per_level: 200, test_per_level: 100").task.trainPerLevel
                == 7533)
        let error = #expect(throws: PipelineError.self) {
            try Self.spec(", train_per_level: 12000, validation_per_level: 200, test_per_level: 300")
        }
        #expect(
            error?.diagnostics.map(\.message) == [
                "sudoku has 39168 distinct problems and no two of a run may share one, but its 5 levels need 5 × "
                    + "(train_per_level + validation_per_level + test_per_level = 12500) = 62500 — lower the split "
                    + "sizes to at most 7833 per level in all"
            ])
    }

    @Test func theParserRefusesBlankCountsThatAreNotDistinctOrOutOfRange() throws {
        #expect(throws: PipelineError.self) { try Self.spec(", non_trivial_steps: [8, 12, 16, 16, 24]") }
        #expect(throws: PipelineError.self) { try Self.spec(", non_trivial_steps: [8, 12, 16, 20, 30]") }
        #expect(try Self.spec(", non_trivial_steps: [4, 8, 12, 22, 26]").task.nonTrivialSteps == [4, 8, 12, 22, 26])
        // The arithmetic families keep their own knob.
        let running = try ExperimentSpec.parse(yaml: "name: r\n", file: "r.yaml")
        #expect(running.task.nonTrivialSteps == [2, 3, 4, 6, 8])
    }

    /// The prototype took 90 s in Python for 40k grids. Measured in this thread's CPU time, so that
    /// a loaded machine (or tests running beside it) cannot make it fail.
    @Test func fortyThousandPuzzlesGenerateInSeconds() {
        func threadSeconds() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let family = Sudoku()
        var random = RandomGenerator(seed: 12)
        let started = (wall: Date(), cpu: threadSeconds())
        var blanks = 0
        for index in 0..<40_000 {
            let problem = family.generate(
                nonTrivialSteps: family.defaultNonTrivialSteps[index % 5], level: index % 5 + 1, using: &random)
            blanks += problem.template.filter { $0 == Vocabulary.digit(0) }.count
        }
        let cpu = threadSeconds() - started.cpu
        print("SudokuTests: 40,000 puzzles in \(cpu) s of CPU (\(Date().timeIntervalSince(started.wall)) s wall)")
        #expect(blanks == 8_000 * (8 + 12 + 16 + 20 + 24))
        #expect(cpu < 20)
    }
}
