/// One problem: the template the environment supplies, and the reference solution (its label).
struct Problem: Codable, Sendable, Hashable {
    var level: Int
    /// Forced tokens, and `Vocabulary.written` where the policy writes.
    var template: [Int32]
    /// The full correct sequence. Hard-level solutions are used for scoring only.
    var solution: [Int32]
}

/// The positions of one step within a sequence.
struct StepSpan: Sendable, Equatable {
    /// Positions the policy writes in this step.
    var written: [Int]
    /// Environment-supplied operand positions: the step is non-trivial when one is non-zero (for
    /// Sudoku, the cell's prompt position, non-trivial when blank).
    var operands: [Int]
    /// Positions whose value the step's label checks: the running total, or the digit and carry.
    var checked: [Int]
    /// The step's last position (a forced separator): where a scalar head reads the step's score.
    var end: Int
}

/// The verdict on one written sequence.
struct Verdict: Sendable, Equatable {
    var steps: [Bool]
    var final: Bool
    /// The final answer as written, for voting.
    var answer: String
}

/// A procedural task family with levels 1–5: every level has the same sequence layout, so a
/// hard problem has more non-trivial steps, never more tokens.
protocol TaskFamily: Sendable {
    var sequenceLength: Int { get }
    var steps: [StepSpan] { get }
    /// Positions of the final answer.
    var answerPositions: [Int] { get }
    /// The level knob (`task.non_trivial_steps`): its allowed values, and its value at levels 1–5.
    var nonTrivialStepRange: ClosedRange<Int> { get }
    var defaultNonTrivialSteps: [Int] { get }
    func generate(nonTrivialSteps: Int, level: Int, using random: inout some RandomNumberGenerator) -> Problem
    /// What no two problems of a run may share, so that the splits are disjoint: the template for
    /// the arithmetic families, the solution grid up to relabelling for Sudoku.
    func identity(of problem: Problem) -> [Int32]
    /// How many problems with distinct identities a level with this many non-trivial steps can have (saturating at
    /// `Int.max`): the most its three splits can hold together, which `e2h validate` checks the split sizes against
    /// rather than letting a run find out by drawing in vain.
    func distinctProblems(nonTrivialSteps: Int) -> Int
    /// Whether one identity can occur at every level (Sudoku's grids): then the levels draw from one shared count,
    /// and all their splits together must fit in it. An arithmetic template fixes its count of non-trivial steps,
    /// so distinct levels never compete.
    var levelsShareIdentities: Bool { get }
    /// A training variant of an easy training problem with the same answer up to a symmetry of
    /// the task (for Sudoku, a random relabelling of the digits): data augmentation for SFT.
    func trainingVariant(of problem: Problem, using random: inout some RandomNumberGenerator) -> Problem
    /// The digit values a written position may hold (every written position of every family is a digit).
    var writtenDigits: ClosedRange<Int> { get }
}

extension TaskFamily {
    /// The arithmetic families: non-trivial slots out of `TaskLayout.slots`.
    var nonTrivialStepRange: ClosedRange<Int> { 1...TaskLayout.slots }
    var defaultNonTrivialSteps: [Int] { [2, 3, 4, 6, 8] }
    func identity(of problem: Problem) -> [Int32] { problem.template }
    var levelsShareIdentities: Bool { false }
    /// The problem itself, drawing nothing: the arithmetic families have no cheap symmetry, and
    /// their runs stay exactly as they were.
    func trainingVariant(of problem: Problem, using random: inout some RandomNumberGenerator) -> Problem { problem }
    var writtenDigits: ClosedRange<Int> { 0...9 }

    /// The question with a uniformly random digit at every written position: the task's format and nothing of
    /// its answers — what a format-only base model learns from (`evaluators[].initialization: format`). Reads the
    /// template alone, never the solution.
    func formatOnly(_ problem: Problem, using random: inout some RandomNumberGenerator) -> [Int32] {
        let digits = Array(writtenDigits)
        return problem.template.map { token in
            token == Vocabulary.written ? Vocabulary.digit(digits[random.uniform(below: digits.count)]) : token
        }
    }
}

extension TaskFamily {
    /// Checks a written sequence against the problem's reference solution. A step is right when
    /// the values it must produce (the running total; the sum digit and carry) are right — the
    /// "running-total" labels that SCIENCE-NOTES found to matter.
    func verify(_ sequence: [Int32], against problem: Problem) -> Verdict {
        precondition(sequence.count == sequenceLength && problem.solution.count == sequenceLength)
        let stepVerdicts = steps.map { step in step.checked.allSatisfy { sequence[$0] == problem.solution[$0] } }
        let final = answerPositions.allSatisfy { sequence[$0] == problem.solution[$0] }
        return Verdict(
            steps: stepVerdicts, final: final, answer: Vocabulary.render(answerPositions.map { sequence[$0] }))
    }

    /// Policy-written positions (in order): where the LM loss counts and samples differ.
    var writtenPositions: [Int] { steps.flatMap(\.written) }
}

extension TaskFamilyName {
    var family: any TaskFamily {
        switch self {
        case .runningSum: RunningSum()
        case .sparseAddition: SparseAddition()
        case .sudoku: Sudoku()
        }
    }
}
