import Foundation

/// Canonical JSON: sorted keys, no insignificant whitespace, unescaped slashes, snake_case keys. Two equal values
/// encode to the same bytes, so hashes of canonical JSON identify content. The one encoder of every recorded
/// byte: pipeline payloads, daemon events, specs.
public enum CanonicalJSON {
    /// Throws when the value cannot be encoded (a non-finite number, a failing custom encoding): a record must
    /// never silently become something else.
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(value)
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom(SnakeCaseKey.camelCased)
        return try decoder.decode(type, from: data)
    }
}

/// Foundation's `.convertFromSnakeCase`, key for key, without its cost where it changes nothing. Foundation splits
/// and rebuilds every key by Characters, underscore or not; most recorded keys have none (every key of a
/// `ScoreRecorded`), and that rebuilding was a third of decoding a run's scores for `compare` (`e2h-bench compare`).
/// `CanonicalJSONTests` checks this against Foundation's strategy on keys of every shape.
enum SnakeCaseKey {
    @Sendable static func camelCased(_ path: [any CodingKey]) -> any CodingKey {
        // A keyed container's path always ends in the key being converted.
        let key = path[path.count - 1]
        guard key.stringValue.utf8.contains(UInt8(ascii: "_")) else { return key }
        return Converted(stringValue: camelCased(key.stringValue))
    }

    /// `one_two` → `oneTwo`; leading and trailing underscores are kept, as Foundation keeps them.
    static func camelCased(_ key: String) -> String {
        guard let first = key.firstIndex(where: { $0 != "_" }) else { return key }
        var last = key.index(before: key.endIndex)
        while key[last] == "_" { key.formIndex(before: &last) }
        let words = key[first...last].split(separator: "_")
        let joined =
            words.count == 1
            ? String(key[first...last]) : ([words[0].lowercased()] + words.dropFirst().map(\.capitalized)).joined()
        return String(key[..<first]) + joined + String(key[key.index(after: last)...])
    }

    private struct Converted: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
