import Canonical
import Foundation
import Testing

@testable import Pipeline

/// Determinism guarded against the future: the smoke run's record — every event's type and canonical payload,
/// in order, and every blob's address — must hash to the committed fixture. Any build on any x86-64 CPU with
/// FMA (or any change of code) that computes one different bit fails here, not in a user's replay.
///
/// A deliberate change of the record (a new event field, a new random stream) updates the fixture: the test
/// writes `smoke-record.actual.json` beside it; check why the record changed, then rename it over the fixture.
@Suite struct GoldenRecordTests {
    struct Fingerprint: Codable, Equatable {
        var events: Int
        var eventsSHA256: String
        var blobs: Int
        var blobsSHA256: String
    }

    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/smoke-record.json")

    static func fingerprint(events: [PipelineEvent], blobs: [String]) -> Fingerprint {
        var record = Data()
        for event in events {
            record.append(Data(event.type.utf8))
            record.append(0x0a)
            record.append(event.payload)
            record.append(0x0a)
        }
        return Fingerprint(
            events: events.count, eventsSHA256: ContentHash.sha256Hex(record), blobs: blobs.count,
            blobsSHA256: ContentHash.sha256Hex(Data(blobs.sorted().joined(separator: "\n").utf8)))
    }

    @Test func theSmokeRunsRecordMatchesTheCommittedFingerprint() async throws {
        let reference = try await RunExecutorTests.referenceRun.value()
        let actual = Self.fingerprint(
            events: RunExecutorTests.deterministicPart(reference.events), blobs: Array(reference.blobs.keys))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let expected = try? JSONDecoder().decode(Fingerprint.self, from: Data(contentsOf: Self.golden))
        if expected != actual {
            let path = Self.golden.deletingPathExtension().appendingPathExtension("actual.json")
            try encoder.encode(actual).write(to: path)
            let message =
                "the smoke run's record differs from \(Self.golden.lastPathComponent) (actual written to \(path.path)): "
                + "a computed bit changed — on purpose only if the record's definition changed"
            Issue.record(Comment(rawValue: message))
        }
    }

    /// A spec's name labels the run and enters its hash, but no computation: the same spec under another name
    /// records the same bits (so a figure measured under one name is the figure of the spec under another).
    @Test func aSpecsNameChangesNoRecordedBit() async throws {
        let reference = try await RunExecutorTests.referenceRun.value()
        var renamed = RunExecutorTests.smoke
        renamed.name = "another-name"
        let recorder = InMemoryRecorder()
        _ = try await RunExecutorTests.execute(renamed, recorder: recorder)
        let events = RunExecutorTests.deterministicPart(await recorder.events)
        #expect(events == RunExecutorTests.deterministicPart(reference.events))
        #expect(Set(await recorder.blobs.keys) == Set(reference.blobs.keys))
    }
}
