/// Sparse multi-digit addition with a carry scratchpad, least significant column first:
/// `^>` then ten columns `a+b+c=sk;` and a final `.`. The environment supplies the digits `a`,
/// `b` and the separators; the policy restates the carry in `c` and writes the sum digit `s`
/// and the carry out `k`. A level's non-trivial steps are the columns with a non-zero digit.
struct SparseAddition: TaskFamily {
    private static let stepWidth = 9
    private static let firstStep = 2

    var sequenceLength: Int { Self.firstStep + TaskLayout.slots * Self.stepWidth + 1 }

    var steps: [StepSpan] {
        (0..<TaskLayout.slots).map { column in
            let base = Self.firstStep + column * Self.stepWidth
            return StepSpan(
                written: [base + 4, base + 6, base + 7], operands: [base, base + 2], checked: [base + 6, base + 7],
                end: base + 8)
        }
    }

    /// Every sum digit and the last carry: the whole sum.
    var answerPositions: [Int] {
        steps.map { $0.checked[0] } + [steps[TaskLayout.slots - 1].checked[1]]
    }

    /// A digit pair other than (0, 0), 99 of them, in each non-trivial column.
    func distinctProblems(nonTrivialSteps: Int) -> Int { TaskLayout.placements(of: nonTrivialSteps, values: 99) }

    func generate(nonTrivialSteps: Int, level: Int, using random: inout some RandomNumberGenerator) -> Problem {
        var digits = [(Int, Int)](repeating: (0, 0), count: TaskLayout.slots)
        for column in random.distinct(nonTrivialSteps, below: TaskLayout.slots) {
            // Not both zero, so the column is non-trivial.
            let pair = 1 + random.uniform(below: 99)
            digits[column] = (pair / 10, pair % 10)
        }
        var template: [Int32] = [Vocabulary.start, Vocabulary.arrow]
        var solution = template
        var carry = 0
        for (a, b) in digits {
            let sum = a + b + carry
            template += [
                Vocabulary.digit(a), Vocabulary.plus, Vocabulary.digit(b), Vocabulary.plus, -1, Vocabulary.equals, -1,
                -1,
                Vocabulary.semicolon,
            ]
            solution += [
                Vocabulary.digit(a), Vocabulary.plus, Vocabulary.digit(b), Vocabulary.plus, Vocabulary.digit(carry),
                Vocabulary.equals, Vocabulary.digit(sum % 10), Vocabulary.digit(sum / 10), Vocabulary.semicolon,
            ]
            carry = sum / 10
        }
        template.append(Vocabulary.period)
        solution.append(Vocabulary.period)
        return Problem(level: level, template: template, solution: solution)
    }
}
