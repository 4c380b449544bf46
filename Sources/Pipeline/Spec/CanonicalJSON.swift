import Crypto
import Foundation

/// Canonical JSON: sorted keys, no insignificant whitespace, snake_case keys. Two values that
/// are equal encode to the same bytes, so hashes of canonical JSON identify content.
enum CanonicalJSON {
    static func encode<Value: Encodable>(_ value: Value) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Every type encoded here is plain data; failure would be a programming error.
        return try! encoder.encode(value)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

extension ExperimentSpec {
    /// The spec as canonical JSON, defaults included: what a run records and hashes.
    public func canonicalJSON() -> Data { CanonicalJSON.encode(self) }

    /// SHA-256 (hex) of `canonicalJSON()`: key order, comments and spelled-out defaults don't change it.
    public var canonicalHash: String { CanonicalJSON.sha256Hex(canonicalJSON()) }

    /// Reads a spec back from its canonical JSON (e.g. from a `RunSubmitted` event).
    public init(canonicalJSON data: Data) throws {
        do {
            self = try CanonicalJSON.decode(ExperimentSpec.self, from: data)
        } catch {
            throw PipelineError(
                code: .invalidSpec, message: "the recorded spec is not valid canonical JSON", cause: error)
        }
    }
}
