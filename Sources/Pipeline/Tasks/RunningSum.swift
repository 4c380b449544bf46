/// Running sums over fixed slots, mod 100, with the operands restated in each step:
/// `^SS>` then ten steps `PP+d=TT;` and a final `.`. The environment supplies `SS`, `+d=` and
/// the separators; the policy restates the previous total `PP` and writes the new total `TT`.
/// A level's non-trivial steps are the slots with `d ≠ 0`.
struct RunningSum: TaskFamily {
    private static let stepWidth = 8
    private static let firstStep = 4

    var sequenceLength: Int { Self.firstStep + TaskLayout.slots * Self.stepWidth + 1 }

    var steps: [StepSpan] {
        (0..<TaskLayout.slots).map { slot in
            let base = Self.firstStep + slot * Self.stepWidth
            return StepSpan(
                written: [base, base + 1, base + 5, base + 6], operands: [base + 3], checked: [base + 5, base + 6],
                end: base + 7)
        }
    }

    var answerPositions: [Int] {
        let last = Self.firstStep + (TaskLayout.slots - 1) * Self.stepWidth
        return [last + 5, last + 6]
    }

    /// A start of 0–99 and a term of 1–9 in each non-trivial slot.
    func distinctProblems(nonTrivialSteps: Int) -> Int {
        TaskLayout.placements(of: nonTrivialSteps, values: 9).saturatingProduct(100)
    }

    func generate(nonTrivialSteps: Int, level: Int, using random: inout some RandomNumberGenerator) -> Problem {
        let start = random.uniform(below: 100)
        var terms = [Int](repeating: 0, count: TaskLayout.slots)
        for slot in random.distinct(nonTrivialSteps, below: TaskLayout.slots) {
            terms[slot] = 1 + random.uniform(below: 9)
        }
        var template: [Int32] = [
            Vocabulary.start, Vocabulary.digit(start / 10), Vocabulary.digit(start % 10), Vocabulary.arrow,
        ]
        var solution = template
        var total = start
        for term in terms {
            let next = (total + term) % 100
            template += [
                -1, -1, Vocabulary.plus, Vocabulary.digit(term), Vocabulary.equals, -1, -1, Vocabulary.semicolon,
            ]
            solution += [
                Vocabulary.digit(total / 10), Vocabulary.digit(total % 10), Vocabulary.plus, Vocabulary.digit(term),
                Vocabulary.equals, Vocabulary.digit(next / 10), Vocabulary.digit(next % 10), Vocabulary.semicolon,
            ]
            total = next
        }
        template.append(Vocabulary.period)
        solution.append(Vocabulary.period)
        return Problem(level: level, template: template, solution: solution)
    }
}
