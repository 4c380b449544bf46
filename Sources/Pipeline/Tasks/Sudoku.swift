/// 6×6 Sudoku (2×3 boxes) with a unique solution: the 36 cells of the puzzle (`0` for a blank),
/// `>`, then the policy writes all 36 cells of the solution in row-major order — 73 tokens at
/// every level. A level's non-trivial steps are its blank cells: a hard puzzle has more blanks,
/// so more cells need propagation or lookahead, never more tokens (SCIENCE-NOTES §7).
///
/// The policy writes the given cells too, rather than the environment forcing them: a family's
/// step layout is the same for every problem (`steps`, the LM-loss mask, the PRM label positions),
/// and which cells are given differs from puzzle to puzzle. Copying a given cell costs the policy
/// nothing to learn and keeps the prototype's format.
///
/// A step is one written cell, right or wrong: the check is local (the cell against the unique
/// solution), the same at every level, and PRM/OPRM read their score at the cell itself.
struct Sudoku: TaskFamily {
    private static let cells = SudokuGrid.cellCount
    /// The first written position: after the 36 prompt cells and the separator.
    private static let firstWritten = cells + 1

    var sequenceLength: Int { 2 * Self.cells + 1 }
    var writtenDigits: ClosedRange<Int> { SudokuGrid.digits }

    var steps: [StepSpan] {
        (0..<Self.cells).map { cell in
            let position = Self.firstWritten + cell
            return StepSpan(written: [position], operands: [cell], checked: [position], end: position)
        }
    }

    /// The whole written grid: correct iff it equals the (unique) solution.
    var answerPositions: [Int] { Array(Self.firstWritten..<sequenceLength) }

    /// 36 − 8 givens is the fewest a 6×6 Sudoku with a unique solution can have; past ~26 blanks
    /// random removal orders rarely get there, so generation would stall.
    var nonTrivialStepRange: ClosedRange<Int> { 1...26 }

    var defaultNonTrivialSteps: [Int] { [8, 12, 16, 20, 24] }

    /// A random grid, then the first `nonTrivialSteps` blanks of a random removal order that keeps
    /// the solution unique (`nestedPuzzles`); a removal order that ends short draws a new grid.
    func generate(nonTrivialSteps blanks: Int, level: Int, using random: inout some RandomNumberGenerator) -> Problem {
        precondition(nonTrivialStepRange.contains(blanks))
        while true {
            let grid = SudokuGrid.random(using: &random)
            let order = random.shuffled(Array(0..<Self.cells))
            if let puzzle = Self.nestedPuzzles(of: grid, removing: order, blanks: [blanks])?[0] {
                return problem(puzzle: puzzle, solution: grid, level: level)
            }
        }
    }

    /// Every grid up to relabelling, at every level: 28,200,960 6×6 grids, each in a class of 6! = 720 relabellings
    /// (a relabelling other than the identity changes every grid), 39,168 classes. An upper bound at the levels with
    /// many blanks, where some grids have no removal order that keeps the solution unique.
    func distinctProblems(nonTrivialSteps: Int) -> Int { 39_168 }
    var levelsShareIdentities: Bool { true }

    /// The solution grid up to a relabelling of its digits: no two problems of a run share a grid,
    /// so no test grid is seen in training, even renamed.
    func identity(of problem: Problem) -> [Int32] {
        let solution = Self.grid(problem.solution[Self.firstWritten...])
        return solution.canonical.cells.map { Vocabulary.digit($0) }
    }

    /// The same puzzle with its digits renamed by a random permutation of 1–6: still a puzzle with
    /// a unique solution, of the same grid up to relabelling (so the splits stay disjoint).
    func trainingVariant(of problem: Problem, using random: inout some RandomNumberGenerator) -> Problem {
        let names = [0] + random.shuffled(Array(SudokuGrid.digits))
        func rename(_ token: Int32) -> Int32 {
            guard let digit = Vocabulary.value(of: token) else { return token }
            return Vocabulary.digit(names[digit])
        }
        var variant = problem
        variant.template = problem.template.map(rename)
        variant.solution = problem.solution.map(rename)
        return variant
    }

    /// Removes the cells of `grid` in `order`, keeping a removal only when the puzzle still has
    /// exactly one solution, and returns the puzzle at each blank count in `blanks` (ascending or
    /// not): puzzles of one removal order are nested, each easier one a superset of the givens of
    /// the harder. `nil` when the order ends before the largest count.
    static func nestedPuzzles(of grid: SudokuGrid, removing order: [Int], blanks: [Int]) -> [SudokuGrid]? {
        guard let deepest = blanks.max() else { return [] }
        var puzzle = grid
        var removed = 0
        var snapshots: [Int: SudokuGrid] = [0: grid]
        for cell in order where removed < deepest {
            let digit = puzzle.cells[cell]
            puzzle.cells[cell] = 0
            if puzzle.solutionCount(limit: 2) == 1 {
                removed += 1
                snapshots[removed] = puzzle
            } else {
                puzzle.cells[cell] = digit
            }
        }
        guard removed == deepest else { return nil }
        return blanks.map { snapshots[$0]! }
    }

    func problem(puzzle: SudokuGrid, solution: SudokuGrid, level: Int) -> Problem {
        let prompt = puzzle.cells.map { Vocabulary.digit($0) } + [Vocabulary.arrow]
        return Problem(
            level: level,
            template: prompt + Array(repeating: Vocabulary.written, count: Self.cells),
            solution: prompt + solution.cells.map { Vocabulary.digit($0) })
    }

    private static func grid(_ tokens: ArraySlice<Int32>) -> SudokuGrid {
        SudokuGrid(cells: tokens.map { Vocabulary.value(of: $0) ?? 0 })
    }
}
