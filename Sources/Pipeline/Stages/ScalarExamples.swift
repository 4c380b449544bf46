/// The training examples of a scalar-head evaluator over its kept samples: which sample each example is and the
/// labels it carries. An OPRM on the union has two examples per sample (its step labels, then its outcome).
struct ScalarExamples {
    let evaluator: EvaluatorSpec
    let verdicts: [Verdict]

    /// nil for the generative verifier, which trains on tokens, not labels.
    init?(evaluator: EvaluatorSpec, verdicts: [Verdict]) {
        guard evaluator.kind != .generative else { return nil }
        self.evaluator = evaluator
        self.verdicts = verdicts
    }

    private var isUnion: Bool { evaluator.kind == .oprm && evaluator.oprmData == .union }

    var count: Int { isUnion ? 2 * verdicts.count : verdicts.count }

    func sample(of example: Int) -> Int { example % verdicts.count }

    func labels(of example: Int) -> ScalarLabels {
        let verdict = verdicts[sample(of: example)]
        switch evaluator.kind {
        // The generative verifier has no examples (`init` returns nil); an ORM learns the outcome.
        case .orm, .generative:
            return .outcome(verdict, at: evaluator.outcomeLabels)
        case .prm:
            return .process(verdict, rule: evaluator.stepLabels)
        case .oprm:
            // The union lists every sample with step labels, then every sample with its outcome; the parity split
            // gives even-numbered samples step labels and odd-numbered ones the outcome.
            let process = isUnion ? example < verdicts.count : example % 2 == 0
            return process
                ? .process(verdict, rule: evaluator.stepLabels) : .outcome(verdict, at: evaluator.outcomeLabels)
        }
    }
}
