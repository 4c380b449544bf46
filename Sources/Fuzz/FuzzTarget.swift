import Canonical
import EventStore
import Foundation
import Pipeline
import WireTypes

/// The readers that take bytes from outside the process, as a fuzzer feeds them. Errors are the expected answer to
/// almost every input; the only failures are a crash, a trap or a sanitizer report.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// A YAML experiment spec: libyaml, the tree reader, every key's validation, and a sweep's expansion.
    case spec
    /// A JSON archive of an older e2h (still imported): its JSON, then the chain with the store's own `ChainCheck`
    /// and every blob against its key, as e2hd's import checks them once it has converted the archive into a bundle
    /// (the tar reader itself is exercised by `FuzzSmokeTests` in the suite).
    case archive

    func run(_ data: Data) {
        switch self {
        case .spec:
            let yaml = String(decoding: data, as: UTF8.self)
            _ = try? ExperimentSpec.parse(yaml: yaml, file: "fuzz.yaml")
            // A sweep reads the same document through other paths (seeds, overrides, the sweep block).
            if let seeds = try? SeedRange(parsing: "0..2") {
                _ = try? SpecGroup.expand(yaml: yaml, file: "fuzz.yaml", seeds: seeds, maximumRuns: 8)
            }
        case .archive:
            guard let archive = try? StateDirectory.jsonDecoder.decode(RunArchive.self, from: data) else { return }
            var chain = ChainCheck(stream: "run-" + archive.run.id)
            for event in archive.events.sorted(by: { $0.version < $1.version }) {
                let broken = chain.accept(
                    version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
                    payload: event.payload, metadata: event.metadata, hash: event.hash,
                    previousHash: event.previousHash)
                if broken != nil { break }
            }
            for (key, bytes) in archive.blobs.sorted(by: { $0.key < $1.key }) where ContentHash.sha256Hex(bytes) != key
            {
                break
            }
        }
    }
}
