/// Test hook: a leak built in on purpose, which the leakage check must catch.
enum DeliberateLeak: Sendable, Equatable {
    /// PPO draws its questions from the test split as well as the training split.
    case testQuestionsInPPO
    /// SFT checkpoints are judged on easy test problems instead of easy validation problems.
    case selectionOnTest
    /// DPO ranked by final answers pairs hard questions too (their answers are hard labels).
    case hardAnswersInDPO
    /// Evaluators' checkpoints are chosen on samples of easy test problems instead of easy validation problems.
    case evaluatorSelectionOnTest
    /// PPO's checkpoints (`checkpoint: best_validation`) are judged on easy test problems instead of easy
    /// validation problems.
    case ppoSelectionOnTest
    /// DPO's checkpoints (`checkpoint: best_validation`) are judged on easy test problems instead of easy
    /// validation problems.
    case dpoSelectionOnTest
}
