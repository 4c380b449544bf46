import EventStore
import Foundation
import RunBundle
import Testing
import WireTypes

@testable import Daemon

/// The in-suite short version of `scripts/fuzz`'s archive and query targets: seeded mutations through the real
/// checks. Every input ends accepted or refused as malformed (a 400) — a crash fails the test process, any other
/// error here.
@Suite("Archive and query readers under mutation")
struct FuzzSmokeTests {
    static var validArchivePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../fuzz/corpus/archive/valid.json").standardized.path
    }

    static var validArchive: Data {
        get throws { try Data(contentsOf: URL(fileURLWithPath: validArchivePath)) }
    }

    /// What an import checks before it writes, on a file: a JSON archive converted first, as import does.
    static func check(_ path: String, key: ReceiptKey) async throws {
        var bundle = path
        if try LegacyArchive.isLegacy(path) {
            bundle = path + ".bundle"
            try await LegacyArchive.convert(path, to: bundle)
        }
        defer { if bundle != path { try? FileManager.default.removeItem(atPath: bundle) } }
        _ = try BundleCheck(key: key).check(try BundleFile(path: bundle))
    }

    static func scratch() throws -> (directory: String, key: ReceiptKey) {
        let directory = try ReceiptTests.stateDirectory()
        return (directory, try ReceiptKey.loadOrCreate(stateDirectory: directory))
    }

    @Test func theCommittedSeedArchiveIsValid() async throws {
        let (directory, key) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/valid.json"
        try Self.validArchive.write(to: URL(fileURLWithPath: path))
        try await Self.check(path, key: key)
    }

    /// The fuzzer's bundle seed (`fuzz/corpus/archive/valid.tar`) is the JSON seed as an import converts it, and passes
    /// every check: the libFuzzer target starts from a bundle the reader accepts. A missing seed is written (commit it).
    @Test func theCommittedBundleSeedIsTheJSONSeedConverted() async throws {
        let (directory, key) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.validArchive.write(to: URL(fileURLWithPath: directory + "/valid.json"))
        try await LegacyArchive.convert(directory + "/valid.json", to: directory + "/valid.tar")
        let converted = try Data(contentsOf: URL(fileURLWithPath: directory + "/valid.tar"))
        let seed = URL(fileURLWithPath: Self.validArchivePath).deletingLastPathComponent().appendingPathComponent(
            "valid.tar")
        guard let committed = try? Data(contentsOf: seed) else {
            try converted.write(to: seed)
            Issue.record("fuzz/corpus/archive/valid.tar was missing; written now — commit it")
            return
        }
        #expect(committed == converted, "the bundle seed is not the JSON seed converted; delete it to rewrite it")
        _ = try BundleCheck(key: key).check(try BundleFile(path: seed.path))
    }

    /// Seeded mutations of the seed archive, and of the bundle it converts into: each refused as a 400 or accepted.
    @Test(arguments: ["json", "tar"])
    func mutatedArchivesAreRefusedAsBadRequests(_ form: String) async throws {
        let (directory, key) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var valid = try Self.validArchive
        if form == "tar" {
            try valid.write(to: URL(fileURLWithPath: directory + "/valid.json"))
            try await LegacyArchive.convert(directory + "/valid.json", to: directory + "/valid.tar")
            valid = try Data(contentsOf: URL(fileURLWithPath: directory + "/valid.tar"))
        }
        var random = SplitMix(seed: 7)
        var decoded = 0
        for _ in 0..<(form == "tar" ? 1500 : 3000) {
            var bytes = [UInt8](valid)
            for _ in 0...random.next(3) {
                let at = random.next(bytes.count)
                switch random.next(3) {
                case 0:
                    let replacements = Array("0123456789abcdef\"{}[],:-".utf8)
                    bytes[at] = replacements[random.next(replacements.count)]
                case 1: bytes[at] ^= UInt8(1 << random.next(8))
                default: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.next(8)))
                }
            }
            let path = directory + "/mutated.\(form)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let readable =
                form == "json"
                ? (try? StateDirectory.jsonDecoder.decode(RunArchive.self, from: Data(bytes))) != nil
                : (try? BundleFile(path: path)) != nil
            // An unreadable JSON document never reaches the checks; every tar does (its reader is one of them).
            if readable { decoded += 1 } else if form == "json" { continue }
            do {
                try await Self.check(path, key: key)
            } catch let error as BundleError {
                #expect(error.code == .malformed, "\(error)")
            } catch let error as DaemonError {
                #expect(error.code == .badRequest, "\(error)")
            }
        }
        #expect(decoded > 100, "the mutations should leave many archives readable, to reach the checks")
    }

    @Test func hostileQueryValuesAreBadRequestsOrInRange() {
        var random = SplitMix(seed: 11)
        let values = [
            "nan", "-nan", "inf", "-inf", "1e999", "-1", "0", "30", "30.000001", "9223372036854775807",
            "9223372036854775808", "-9223372036854775809", "1.5", "", " 1", "+1", "0x1f", "１", "1_000", "1e-400",
        ]
        for _ in 0..<2000 {
            let value =
                values[random.next(values.count)] + (random.next(4) == 0 ? values[random.next(values.count)] : "")
            let query = QueryParameters([("limit", value), ("wait", value), ("after", value)])
            do {
                #expect((1...1000).contains(try query.integer("limit", default: 50, in: 1...1000)))
            } catch let error as DaemonError {
                #expect(error.code == .badRequest)
            } catch {
                Issue.record("unexpected \(error)")
            }
            do {
                let wait = try query.seconds("wait", default: 0, in: 0...30)
                #expect(wait.isFinite && (0...30).contains(wait))
                _ = Int(wait * 1000)
            } catch let error as DaemonError {
                #expect(error.code == .badRequest)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}

struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }
}
