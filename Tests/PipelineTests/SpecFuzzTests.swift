import Foundation
import Testing

@testable import Pipeline

/// The in-suite short version of `scripts/fuzz`'s spec target: seeded mutations of the committed corpus through the
/// spec reader. Every input must end in a spec or in the reader's own error with located diagnostics — a crash
/// fails the whole test process, any other error type fails here.
@Suite("Spec reader under mutation")
struct SpecFuzzTests {
    static var corpus: [Data] {
        get throws {
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../fuzz/corpus/spec")
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map {
                try Data(contentsOf: folder.appendingPathComponent($0))
            }
        }
    }

    @Test func mutatedSpecsEndInASpecOrADiagnostic() throws {
        let corpus = try Self.corpus
        #expect(corpus.count >= 5)
        var mutator = Mutator(seed: 1)
        var accepted = 0
        for round in 0..<3000 {
            let input = mutator.mutate(corpus[round % corpus.count], splice: corpus[(round * 7 + 3) % corpus.count])
            do {
                _ = try ExperimentSpec.parse(yaml: String(decoding: input, as: UTF8.self), file: "fuzz.yaml")
                accepted += 1
            } catch let error as PipelineError {
                #expect(error.code == .invalidSpec, "\(error)")
                #expect(!error.diagnostics.isEmpty || !error.message.isEmpty)
            }
        }
        // Mutation that always broke the input would not exercise the paths past the YAML reader.
        #expect(accepted > 0)
    }
}

/// Seeded byte-level mutation, as libFuzzer's simplest mutators: flip, insert, erase, duplicate a span, splice.
struct Mutator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }

    mutating func mutate(_ input: Data, splice other: Data) -> Data {
        var bytes = [UInt8](input)
        let interesting: [UInt8] = Array(":-[]{}&*!|>'\"#\n \t0\u{7f}".utf8) + [0, 0xff, 0xc3]
        for _ in 0...next(4) {
            let at = next(bytes.count + 1)
            switch next(6) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= UInt8(1 << next(8))
            case 1: bytes.insert(interesting[next(interesting.count)], at: at)
            case 2 where at < bytes.count: bytes.removeSubrange(at..<min(bytes.count, at + 1 + next(16)))
            case 3 where at < bytes.count:
                let span = bytes[at..<min(bytes.count, at + 1 + next(32))]
                bytes.insert(contentsOf: span, at: next(bytes.count + 1))
            case 4:
                let start = next(other.count + 1)
                bytes.insert(contentsOf: other[other.startIndex + start..<other.endIndex].prefix(next(64)), at: at)
            default: bytes = Array(bytes.prefix(at))
            }
        }
        return Data(bytes)
    }
}
