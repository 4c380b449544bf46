/// A field a `--where` condition may name: the vocabulary of one kind of filter (comparison rows, runs).
public protocol FilterField: Sendable {
    /// The field a name denotes, or nil for an unknown name.
    init?(filterName: String)
    /// The names to suggest from when a name is unknown.
    static var filterNames: [String] { get }
    /// Whether the field takes text (compared with =, != and in), numbers (every operator), or either (by the value).
    var filterKind: FilterValueKind { get }
}

public enum FilterValueKind: Sendable {
    case text, number, either
}

/// A parsed `--where` condition over `Field`s.
public indirect enum FilterCondition<Field: FilterField>: Sendable {
    case all([FilterCondition])
    case any([FilterCondition])
    case compare(Field, FilterOperator, FilterValue)
    case member(Field, [FilterValue])
}

public enum FilterOperator: String, Sendable {
    case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

public enum FilterValue: Sendable, Equatable {
    case text(String)
    case number(Double)
}

/// The one `--where` grammar: `condition := term (or term)*`, `term := factor (and factor)*`,
/// `factor := ( condition ) | field op value | field in (value, ...) | field:value`, `op := = != < <= > >=`.
/// `field:value` is `field = value` (`tag:baseline`). Values are bare words (`best_of_n`, `0.3`) or quoted ('a b').
/// Errors name the column of the mistake.
public struct FilterParser<Field: FilterField> {
    struct Token {
        var text: String
        var column: Int
        var quoted: Bool
    }

    private let source: String
    private var tokens: [Token] = []
    private var position = 0
    private var lexError: AnalysisError?
    /// Parentheses open at the current token. Parsing recurses once a level, and the daemon parses `runs --where`
    /// on a task's stack: 10,000 of them overflowed it and ended e2hd.
    private var depth = 0
    static var maximumDepth: Int { 64 }

    /// Parses `text` whole.
    public static func parse(_ text: String) throws(AnalysisError) -> FilterCondition<Field> {
        var parser = FilterParser(text: text)
        let condition = try parser.condition()
        if let extra = parser.peek() {
            throw parser.error("unexpected '\(extra.text)' after a complete condition", at: extra)
        }
        return condition
    }

    private init(text: String) {
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
                while end < characters.count, !characters[end].isWhitespace, !"(),=!<>'\"".contains(characters[end]) {
                    end += 1
                }
                tokens.append(Token(text: String(characters[index..<end]), column: column, quoted: false))
                index = end
            }
        }
    }

    private func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

    private func error(_ message: String, at token: Token?) -> AnalysisError {
        let column = token?.column ?? source.count + 1
        return AnalysisError(.invalidArgument, "--where column \(column): \(message)")
    }

    private mutating func next(_ expected: String) throws(AnalysisError) -> Token {
        if let lexError { throw lexError }
        guard let token = peek() else { throw error("expected \(expected), found the end", at: nil) }
        position += 1
        return token
    }

    private mutating func keyword(_ word: String) -> Bool {
        guard let token = peek(), !token.quoted, token.text.lowercased() == word else { return false }
        position += 1
        return true
    }

    private mutating func condition() throws(AnalysisError) -> FilterCondition<Field> {
        var parts = [try term()]
        while keyword("or") { parts.append(try term()) }
        return parts.count == 1 ? parts[0] : .any(parts)
    }

    private mutating func term() throws(AnalysisError) -> FilterCondition<Field> {
        var parts = [try factor()]
        while keyword("and") { parts.append(try factor()) }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private mutating func factor() throws(AnalysisError) -> FilterCondition<Field> {
        let first = try next("a field or '('")
        if first.text == "(" && !first.quoted {
            guard depth < Self.maximumDepth else {
                throw error("more than \(Self.maximumDepth) parentheses nested; write the condition flatter", at: first)
            }
            depth += 1
            defer { depth -= 1 }
            let inner = try condition()
            let close = try next("')'")
            guard close.text == ")" else { throw error("expected ')', found '\(close.text)'", at: close) }
            return inner
        }
        if !first.quoted, let colon = first.text.firstIndex(of: ":") {
            // `field:value` is `field = value`.
            let name = String(first.text[..<colon])
            let field = try self.field(name, at: first)
            var valueToken = first
            valueToken.text = String(first.text[first.text.index(after: colon)...])
            valueToken.column += name.count + 1
            guard !valueToken.text.isEmpty else { throw error("expected a value after '\(name):'", at: first) }
            return .compare(field, .equal, try value(valueToken, for: field, named: name.lowercased()))
        }
        guard !first.quoted else { throw error("expected a field, found the quoted '\(first.text)'", at: first) }
        let field = try self.field(first.text, at: first)
        let name = first.text.lowercased()
        if keyword("in") {
            let open = try next("'('")
            guard open.text == "(" else { throw error("expected '(' after in, found '\(open.text)'", at: open) }
            var values = [try value(try next("a value"), for: field, named: name)]
            while true {
                let separator = try next("',' or ')'")
                if separator.text == ")" { break }
                guard separator.text == "," else {
                    throw error("expected ',' or ')', found '\(separator.text)'", at: separator)
                }
                values.append(try value(try next("a value"), for: field, named: name))
            }
            return .member(field, values)
        }
        let opToken = try next("an operator (=, !=, <, <=, >, >=, in)")
        guard let op = FilterOperator(rawValue: opToken.text), !opToken.quoted else {
            throw error("expected an operator (=, !=, <, <=, >, >=, in), found '\(opToken.text)'", at: opToken)
        }
        let ordered = op != .equal && op != .notEqual
        if case .text = field.filterKind, ordered {
            throw error("\(name) is text: compare it with =, != or in", at: opToken)
        }
        let operand = try value(try next("a value"), for: field, named: name)
        if case .text = operand, ordered {
            throw error("\(name) is compared with text here: use =, != or in (<, > compare numbers)", at: opToken)
        }
        return .compare(field, op, operand)
    }

    private func field(_ name: String, at token: Token) throws(AnalysisError) -> Field {
        guard let field = Field(filterName: name.lowercased()) else {
            var message = "unknown field '\(name)'"
            if let close = Suggestion.closest(to: name, among: Field.filterNames) {
                message += " — did you mean '\(close)'?"
            } else {
                message += " — fields: \(Field.filterNames.joined(separator: ", "))"
            }
            throw error(message, at: token)
        }
        return field
    }

    private func value(_ token: Token, for field: Field, named name: String) throws(AnalysisError) -> FilterValue {
        guard token.quoted || !"(),=!<>".contains(token.text.first ?? " ") else {
            throw error("expected a value, found '\(token.text)'", at: token)
        }
        let number = token.quoted ? nil : Double(token.text).flatMap { $0.isFinite ? $0 : nil }
        switch field.filterKind {
        case .text: return .text(token.text)
        case .either: return number.map(FilterValue.number) ?? .text(token.text)
        case .number:
            guard let number else { throw error("\(name) is a number; '\(token.text)' is not", at: token) }
            return .number(number)
        }
    }
}
