public import WireTypes

/// `--where 'evaluator=verifier and n>=16'`: a condition on comparison rows.
///
/// Grammar: `condition := term (or term)*`, `term := factor (and factor)*`,
/// `factor := ( condition ) | field op value | field in (value, ...)`, `op := = != < <= > >=`.
/// Text fields: policy, method, evaluator, aggregation, levels, verdict (=, != and in only). Number fields:
/// n, seeds, problems, and the fractions accuracy, lower, upper, sd, difference (the baseline difference).
/// Values are bare words (`best_of_n`, `0.3`) or quoted ('a b'). Errors name the column of the mistake.
public struct RowFilter: Sendable {
    indirect enum Condition: Sendable {
        case all([Condition])
        case any([Condition])
        case compare(Field, Operator, Value)
        case member(Field, [Value])
    }

    enum Field: String, CaseIterable, Sendable {
        case policy, method, evaluator, aggregation, levels, verdict
        case n, seeds, problems, accuracy, lower, upper, sd, difference

        var isText: Bool { [.policy, .method, .evaluator, .aggregation, .levels, .verdict].contains(self) }
    }

    enum Operator: String, Sendable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    enum Value: Sendable, Equatable {
        case text(String)
        case number(Double)
    }

    let condition: Condition
    public let text: String

    public init(parsing text: String) throws(AnalysisError) {
        var parser = Parser(text: text)
        let condition = try parser.condition()
        if let extra = parser.peek() {
            throw parser.error("unexpected '\(extra.text)' after a complete condition", at: extra)
        }
        self.condition = condition
        self.text = text
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

    private static func compare(_ field: Field, _ op: Operator, _ value: Value, _ row: ComparisonRow) -> Bool {
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

    /// A recursive-descent parser over tokens that know their column.
    private struct Parser {
        struct Token {
            var text: String
            var column: Int
            var quoted: Bool
        }

        let source: String
        var tokens: [Token] = []
        var position = 0
        var lexError: AnalysisError?

        init(text: String) {
            source = text
            let characters = Array(text)
            var index = 0
            while index < characters.count {
                let character = characters[index]
                let column = index + 1
                if character.isWhitespace {
                    index += 1
                } else if "(),".contains(character) {
                    tokens.append(Token(text: String(character), column: column, quoted: false))
                    index += 1
                } else if "=!<>".contains(character) {
                    var op = String(character)
                    if index + 1 < characters.count, characters[index + 1] == "=" { op.append("=") }
                    tokens.append(Token(text: op, column: column, quoted: false))
                    index += op.count
                } else if character == "'" || character == "\"" {
                    guard let end = characters[(index + 1)...].firstIndex(of: character) else {
                        lexError = AnalysisError(
                            .invalidArgument, "--where column \(column): the quote \(character) is never closed")
                        return
                    }
                    tokens.append(Token(text: String(characters[(index + 1)..<end]), column: column, quoted: true))
                    index = end + 1
                } else {
                    var end = index
                    while end < characters.count, !characters[end].isWhitespace, !"(),=!<>'\"".contains(characters[end])
                    {
                        end += 1
                    }
                    tokens.append(Token(text: String(characters[index..<end]), column: column, quoted: false))
                    index = end
                }
            }
        }

        func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

        func error(_ message: String, at token: Token?) -> AnalysisError {
            let column = token?.column ?? source.count + 1
            return AnalysisError(.invalidArgument, "--where column \(column): \(message)")
        }

        mutating func next(_ expected: String) throws(AnalysisError) -> Token {
            if let lexError { throw lexError }
            guard let token = peek() else { throw error("expected \(expected), found the end", at: nil) }
            position += 1
            return token
        }

        mutating func keyword(_ word: String) -> Bool {
            guard let token = peek(), !token.quoted, token.text.lowercased() == word else { return false }
            position += 1
            return true
        }

        mutating func condition() throws(AnalysisError) -> Condition {
            var parts = [try term()]
            while keyword("or") { parts.append(try term()) }
            return parts.count == 1 ? parts[0] : .any(parts)
        }

        mutating func term() throws(AnalysisError) -> Condition {
            var parts = [try factor()]
            while keyword("and") { parts.append(try factor()) }
            return parts.count == 1 ? parts[0] : .all(parts)
        }

        mutating func factor() throws(AnalysisError) -> Condition {
            let first = try next("a field or '('")
            if first.text == "(" && !first.quoted {
                let inner = try condition()
                let close = try next("')'")
                guard close.text == ")" else { throw error("expected ')', found '\(close.text)'", at: close) }
                return inner
            }
            guard let field = Field(rawValue: first.text.lowercased()), !first.quoted else {
                var message = "unknown field '\(first.text)'"
                let names = Field.allCases.map(\.rawValue)
                if let close = Suggestion.closest(to: first.text, among: names) {
                    message += " — did you mean '\(close)'?"
                } else {
                    message += " — fields: \(names.joined(separator: ", "))"
                }
                throw error(message, at: first)
            }
            if keyword("in") {
                let open = try next("'('")
                guard open.text == "(" else { throw error("expected '(' after in, found '\(open.text)'", at: open) }
                var values = [try value(for: field)]
                while true {
                    let separator = try next("',' or ')'")
                    if separator.text == ")" { break }
                    guard separator.text == "," else {
                        throw error("expected ',' or ')', found '\(separator.text)'", at: separator)
                    }
                    values.append(try value(for: field))
                }
                return .member(field, values)
            }
            let opToken = try next("an operator (=, !=, <, <=, >, >=, in)")
            guard let op = Operator(rawValue: opToken.text), !opToken.quoted else {
                throw error("expected an operator (=, !=, <, <=, >, >=, in), found '\(opToken.text)'", at: opToken)
            }
            if field.isText && op != .equal && op != .notEqual {
                throw error("\(field.rawValue) is text: compare it with =, != or in", at: opToken)
            }
            return .compare(field, op, try value(for: field))
        }

        mutating func value(for field: Field) throws(AnalysisError) -> Value {
            let token = try next("a value")
            guard token.quoted || !"(),=!<>".contains(token.text.first ?? " ") else {
                throw error("expected a value, found '\(token.text)'", at: token)
            }
            if field.isText { return .text(token.text) }
            guard let number = Double(token.text), number.isFinite else {
                throw error("\(field.rawValue) is a number; '\(token.text)' is not", at: token)
            }
            return .number(number)
        }
    }
}
