/// One score row: whose samples (policy), how an answer is picked (method), with which evaluator and
/// step-score aggregation, and at which N.
public struct RowKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var policy: String
    public var method: String
    public var evaluator: String
    public var aggregation: String
    public var n: Int

    public init(policy: String, method: String, evaluator: String, aggregation: String, n: Int) {
        self.policy = policy
        self.method = method
        self.evaluator = evaluator
        self.aggregation = aggregation
        self.n = n
    }

    /// The row's reference text, e.g. `sft/weighted/verifier/prod@64`.
    public var description: String {
        RowReference(policy: policy, method: method, evaluator: evaluator, aggregation: aggregation, n: n).description
    }
}

/// A row named by a person: `[policy/]method[/evaluator[/aggregation]][@N]`, as in `sft/majority`,
/// `weighted/verifier/prod@16`, `ppo/greedy`. The policy defaults to `sft`, evaluator and aggregation to
/// `none`, and a missing N means "the report's N" (the largest N the row has, unless the report names one).
/// Encoded as that text, so a spec and a CLI argument read the same way.
public struct RowReference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The methods of score rows; the first segment is a policy unless it is one of these.
    public static let methods = ["pass", "majority", "likelihood", "weighted", "best_of_n", "greedy"]

    public var policy: String
    public var method: String
    public var evaluator: String
    public var aggregation: String
    public var n: Int?

    public init(
        policy: String = "sft", method: String, evaluator: String = "none", aggregation: String = "none", n: Int? = nil
    ) {
        self.policy = policy
        self.method = method
        self.evaluator = evaluator
        self.aggregation = aggregation
        self.n = n
    }

    public init(parsing text: String) throws(AnalysisError) {
        func fail(_ why: String) -> AnalysisError {
            AnalysisError(
                .invalidArgument,
                "row '\(text)': \(why); expected [policy/]method[/evaluator[/aggregation]][@N], e.g. sft/weighted/verifier/prod@64"
            )
        }
        var body = Substring(text)
        var n: Int?
        if let at = body.firstIndex(of: "@") {
            guard let parsed = Int(body[body.index(after: at)...]), parsed >= 1 else {
                throw fail("N must be a positive integer")
            }
            n = parsed
            body = body[..<at]
        }
        var parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
            throw fail("a part is empty or contains a space")
        }
        if let first = parts.first, !Self.methods.contains(first) {
            parts.removeFirst()
            self.policy = first
        } else {
            self.policy = "sft"
        }
        guard let method = parts.first, Self.methods.contains(method) else {
            var why = "no method"
            if let wrong = parts.first {
                why = "unknown method '\(wrong)'"
                if let close = Suggestion.closest(to: wrong, among: Self.methods) {
                    why += " — did you mean '\(close)'?"
                }
            }
            throw fail(why + " (methods: \(Self.methods.joined(separator: ", ")))")
        }
        guard parts.count <= 3 else { throw fail("too many parts") }
        self.method = method
        self.evaluator = parts.count > 1 ? parts[1] : "none"
        self.aggregation = parts.count > 2 ? parts[2] : "none"
        self.n = n
    }

    /// The shortest text that parses back to this reference.
    public var description: String {
        var parts = policy == "sft" ? [method] : [policy, method]
        if evaluator != "none" || aggregation != "none" { parts.append(evaluator) }
        if aggregation != "none" { parts.append(aggregation) }
        return parts.joined(separator: "/") + (n.map { "@\($0)" } ?? "")
    }

    /// Whether `key` is this row, at any N when the reference names none.
    public func matches(_ key: RowKey) -> Bool {
        key.policy == policy && key.method == method && key.evaluator == evaluator && key.aggregation == aggregation
            && (n == nil || key.n == n)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try RowReference(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
