import Foundation
import Testing

@testable import Canonical

/// The keys a keyed container sees, as the decoder's key strategy converted them.
private struct Keys: Decodable {
    var names: Set<String>

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        names = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
    }
}

/// Keys of every shape the snake-case rule has a case for: none, one or several underscores, doubled ones, leading
/// and trailing ones, only underscores, digits, capitals, and non-ASCII letters.
private let keyShapes = [
    "n", "outcomes", "camelAlready", "outcome_labels", "checkpoint_interval", "a_b_c", "a__b", "_private", "__dunder__",
    "trailing_", "_", "___", "x_2y", "level_10", "HTTP_header", "mixed_CASE_words", "émigré_état", "a_", "_a_b_",
    "schema_version2", "policy.sft",
]

@Test func canonicalKeysConvertExactlyAsFoundationDoes() throws {
    let object = Dictionary(uniqueKeysWithValues: keyShapes.map { ($0, 1) })
    let data = try JSONSerialization.data(withJSONObject: object)
    let foundation = JSONDecoder()
    foundation.keyDecodingStrategy = .convertFromSnakeCase
    let expected = try foundation.decode(Keys.self, from: data).names
    #expect(try CanonicalJSON.decode(Keys.self, from: data).names == expected)
    for key in keyShapes {
        let one = try JSONSerialization.data(withJSONObject: [key: 1])
        #expect(try foundation.decode(Keys.self, from: one).names == [SnakeCaseKey.camelCased(key)], "\(key)")
    }
}

/// A round trip through the canonical encoder and decoder keeps every field, multi-word ones included, and a
/// dictionary's own keys as they are (neither direction converts them).
@Test func canonicalJSONRoundTripsSnakeCaseFields() throws {
    struct Payload: Codable, Equatable {
        var outcomeLabels: String
        var checkpointInterval: Int
        var n: Int
        var nested: [Inner]
        var byPolicy: [String: Int]
        struct Inner: Codable, Equatable { var stepLabels: [Double] }
    }
    let value = Payload(
        outcomeLabels: "final_token", checkpointInterval: 25, n: 64, nested: [.init(stepLabels: [1, 0])],
        byPolicy: ["rest_em": 1, "sft": 2])
    let encoded = try CanonicalJSON.encode(value)
    #expect(String(decoding: encoded, as: UTF8.self).contains("\"checkpoint_interval\":25"))
    #expect(String(decoding: encoded, as: UTF8.self).contains("\"rest_em\":1"))
    #expect(try CanonicalJSON.decode(Payload.self, from: encoded) == value)
    let foundation = JSONDecoder()
    foundation.keyDecodingStrategy = .convertFromSnakeCase
    #expect(try foundation.decode(Payload.self, from: encoded) == value)
}
