import Testing

@testable import Analysis

@Suite struct RowReferenceTests {
    @Test(arguments: [
        ("sft/majority", "sft", "majority", "none", "none", nil as Int?),
        ("majority", "sft", "majority", "none", "none", nil),
        ("weighted/verifier/prod@16", "sft", "weighted", "verifier", "prod", 16),
        ("ppo/greedy", "ppo", "greedy", "none", "none", nil),
        ("verifier/best_of_n/orm/min@64", "verifier", "best_of_n", "orm", "min", 64),
    ])
    func parses(text: String, policy: String, method: String, evaluator: String, aggregation: String, n: Int?) throws {
        let reference = try RowReference(parsing: text)
        #expect(
            reference
                == RowReference(policy: policy, method: method, evaluator: evaluator, aggregation: aggregation, n: n))
        #expect(try RowReference(parsing: reference.description) == reference)
    }

    @Test(arguments: [
        ("sft/wieghted/verifier", "unknown method 'wieghted' — did you mean 'weighted'?"),
        ("weighted@0", "N must be a positive integer"),
        ("sft//orm", "a part is empty"),
        ("sft", "no method"),
        ("weighted/a/b/c", "too many parts"),
    ])
    func refusesMalformedReferences(text: String, reason: String) {
        let error = #expect(throws: AnalysisError.self) { try RowReference(parsing: text) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }
}
