public import WireTypes

/// `--where 'evaluator=verifier and n>=16'`: a condition on comparison rows.
///
/// Grammar: `FilterParser`'s (the one `--where` grammar, shared with `runs --where`). Text fields: policy, method,
/// evaluator, aggregation, levels, verdict (=, != and in only). Number fields: n, seeds, problems, and the fractions
/// accuracy, lower, upper, sd, difference (the baseline difference).
public struct RowFilter: Sendable {
    typealias Condition = FilterCondition<Field>
    typealias Value = FilterValue

    enum Field: String, CaseIterable, FilterField {
        case policy, method, evaluator, aggregation, levels, verdict
        case n, seeds, problems, accuracy, lower, upper, sd, difference

        init?(filterName: String) { self.init(rawValue: filterName) }
        static var filterNames: [String] { allCases.map(\.rawValue) }
        var filterKind: FilterValueKind {
            [.policy, .method, .evaluator, .aggregation, .levels, .verdict].contains(self) ? .text : .number
        }
    }

    let condition: Condition
    public let text: String

    public init(parsing text: String) throws(AnalysisError) {
        self.condition = try FilterParser<Field>.parse(text)
        self.text = text
        try Self.checkFractions(condition)
    }

    /// The tables show percent, the fields are fractions: `accuracy > 10`, written as read, matched nothing without
    /// a word. A fraction field compared with a number beyond ±1 is refused with what to write.
    private static func checkFractions(_ condition: Condition) throws(AnalysisError) {
        switch condition {
        case .all(let parts), .any(let parts): for part in parts { try checkFractions(part) }
        case .member(let field, let values): for value in values { try checkFractions(.compare(field, .equal, value)) }
        case .compare(let field, _, .number(let number)):
            guard [.accuracy, .lower, .upper, .sd, .difference].contains(field), abs(number) > 1 else { return }
            func plain(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : "\(value)" }
            throw AnalysisError(
                .invalidArgument,
                "--where \(field.rawValue) is a fraction, not a percentage (the tables show percent): write "
                    + "\(plain(number / 100)) for \(plain(number)) %")
        case .compare: return
        }
    }

    public func matches(_ row: ComparisonRow) -> Bool { Self.evaluate(condition, row) }

    private static func evaluate(_ condition: Condition, _ row: ComparisonRow) -> Bool {
        switch condition {
        case .all(let parts): return parts.allSatisfy { evaluate($0, row) }
        case .any(let parts): return parts.contains { evaluate($0, row) }
        case .member(let field, let values): return values.contains { compare(field, .equal, $0, row) }
        case .compare(let field, let op, let value): return compare(field, op, value, row)
        }
    }

    private static func compare(_ field: Field, _ op: FilterOperator, _ value: Value, _ row: ComparisonRow) -> Bool {
        switch value {
        case .text(let wanted):
            let actual: String =
                switch field {
                case .policy: row.policy
                case .method: row.method
                case .evaluator: row.evaluator
                case .aggregation: row.aggregation
                case .levels: row.levels.description
                case .verdict: row.verdict?.rawValue ?? "none"
                default: ""
                }
            return op == .equal ? actual == wanted : actual != wanted
        case .number(let wanted):
            let actual: Double? =
                switch field {
                case .n: Double(row.n)
                case .seeds: Double(row.accuracy.seeds)
                case .problems: Double(row.accuracy.problems)
                case .accuracy: row.accuracy.mean
                case .lower: row.accuracy.lower
                case .upper: row.accuracy.upper
                case .sd: row.accuracy.sd
                case .difference: row.difference?.mean
                default: nil
                }
            // A row without the figure (no baseline difference, one seed's sd) matches no comparison with it.
            guard let actual else { return false }
            switch op {
            case .equal: return actual == wanted
            case .notEqual: return actual != wanted
            case .less: return actual < wanted
            case .lessOrEqual: return actual <= wanted
            case .greater: return actual > wanted
            case .greaterOrEqual: return actual >= wanted
            }
        }
    }
}
