import Canonical
import Foundation

extension ExperimentSpec {
    /// The spec as canonical JSON, defaults included: what a run records and hashes.
    // A spec is plain data (its numbers validated finite); failure would be a programming error.
    public func canonicalJSON() -> Data { try! CanonicalJSON.encode(self) }

    /// SHA-256 (hex) of `canonicalJSON()`: key order, comments and spelled-out defaults don't change it.
    public var canonicalHash: String { ContentHash.sha256Hex(canonicalJSON()) }

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
