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
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }
}
