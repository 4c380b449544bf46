/// The token set shared by every task family: digits, a few separators, and the start token.
enum Vocabulary {
    static let size = 20
    static let padding: Int32 = 0
    static let start: Int32 = 1
    static let plus: Int32 = 12
    static let equals: Int32 = 13
    static let semicolon: Int32 = 14
    static let arrow: Int32 = 15
    static let period: Int32 = 16
    /// Marks a template position the model writes (the engine's sampling convention).
    static let written: Int32 = -1

    static func digit(_ value: Int) -> Int32 { Int32(2 + value) }

    /// The digit a token stands for, or nil for a separator.
    static func value(of token: Int32) -> Int? { (2...11).contains(token) ? Int(token - 2) : nil }

    static func render(_ tokens: [Int32]) -> String {
        String(
            tokens.map { token -> Character in
                switch token {
                case written: "_"
                case start: "^"
                case plus: "+"
                case equals: "="
                case semicolon: ";"
                case arrow: ">"
                case period: "."
                default: value(of: token).map { Character(String($0)) } ?? "?"
                }
            })
    }
}

extension RandomNumberGenerator {
    /// Uniform in 0..<bound without modulo bias. Written out rather than `Int.random(in:using:)`
    /// so that datasets never depend on the standard library's algorithm.
    mutating func uniform(below bound: Int) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        let threshold = (0 &- range) % range
        while true {
            let product = next().multipliedFullWidth(by: range)
            if product.low >= threshold { return Int(product.high) }
        }
    }

    /// `count` distinct values of 0..<bound in increasing order.
    mutating func distinct(_ count: Int, below bound: Int) -> [Int] {
        var pool = Array(0..<bound)
        for index in 0..<count { pool.swapAt(index, index + uniform(below: bound - index)) }
        return pool.prefix(count).sorted()
    }

    /// The items in random order (Fisher–Yates, with `uniform(below:)` for the same reason).
    mutating func shuffled<Item>(_ items: [Item]) -> [Item] {
        var result = items
        for index in result.indices.dropLast() { result.swapAt(index, index + uniform(below: result.count - index)) }
        return result
    }
}
