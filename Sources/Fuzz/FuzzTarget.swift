import Canonical
import Crypto
import EventStore
import Foundation
import Pipeline
import RunBundle
import WireTypes

/// The readers that take bytes from outside the process, as a fuzzer feeds them. Errors are the expected answer to
/// almost every input; the only failures are a crash, a trap or a sanitizer report.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// A YAML experiment spec: libyaml, the tree reader, every key's validation, and a sweep's expansion.
    case spec
    /// What `e2h import` reads: a run bundle (tar) through the import's own reader and checks (`BundleFile`,
    /// `BundleCheck`: the tar headers, every entry, each chain, every blob's hash, the receipt), or — for an input that
    /// starts with `{` — a JSON archive of an older e2h: its JSON, then the chain with the store's own `ChainCheck`
    /// and every blob against its key, as the import checks them once it has converted the archive into a bundle.
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
        case .archive where data.first != UInt8(ascii: "{"):
            // The reader works on a file (an import is spooled to one): one per process, rewritten per input.
            guard FileManager.default.createFile(atPath: Self.bundlePath, contents: data) else {
                Fuzz.fail("cannot write \(Self.bundlePath)")
            }
            _ = try? BundleCheck(key: Self.receiptKey).check(BundleFile(path: Self.bundlePath))
        case .archive:
            guard let archive = try? StateDirectory.jsonDecoder.decode(RunArchive.self, from: data) else { return }
            var chain = ChainCheck(stream: RunStreams.run(archive.run.id))
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

    static let bundlePath = NSTemporaryDirectory() + "e2h-fuzz-\(getpid()).tar"

    /// A fixed key, so that a receipt "signed by this daemon" is checked in full when the fuzzer makes one.
    static let receiptKey = ReceiptKey(
        try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32)))
}
