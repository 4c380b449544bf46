import Foundation
import Testing

@testable import Daemon

@Suite("Token, JSON differences, blob references, metrics")
struct SmallPartsTests {
    @Test func theTokenIsCreatedOnceReadableByItsOwnerOnly() throws {
        let directory = NSTemporaryDirectory() + "e2hd-token-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try AccessToken.loadOrCreate(stateDirectory: directory)
        let second = try AccessToken.loadOrCreate(stateDirectory: directory)
        #expect(first.value == second.value && first.value.count == 64)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(first.matches(first.value))
        #expect(!first.matches(String(first.value.dropLast())))
        #expect(!first.matches(""))
    }

    @Test(arguments: [
        (#"{"a":1,"b":[1,2]}"#, #"{"a":1,"b":[1,2]}"#, nil),
        (#"{"a":1,"b":[1,2]}"#, #"{"a":1,"b":[1,3]}"#, "$.b[1]"),
        (#"{"a":{"x":true}}"#, #"{"a":{"y":true}}"#, "$.a.x"),
        (#"[1]"#, #"[1,2]"#, "$[1]"),
    ])
    func theFirstDifferenceIsNamedByPath(left: String, right: String, path: String?) {
        #expect(JSONDifference.first(Data(left.utf8), Data(right.utf8))?.path == path)
    }

    @Test func blobReferencesAreLowercaseSHA256HexAnywhere() {
        let digest = String(repeating: "ab", count: 32)
        let json = #"{"blob":"\#(digest)","nested":[{"x":"\#(digest.uppercased())"}],"short":"abcd"}"#
        #expect(RunArchiver.blobReferences(in: Data(json.utf8)) == [digest])
        #expect(RunArchiver.blobReferences(in: Data([0, 1, 2])).isEmpty)
    }

    @Test func metricsExposeQueueFiguresAndStepRates() {
        let metrics = DaemonMetrics()
        metrics.eventsAppended(3)
        metrics.trainingSteps(30)
        let text = metrics.exposition(runsByState: [("queued", 2), ("running", 1)], queueDepth: 2)
        #expect(text.contains("e2h_queue_depth 2"))
        #expect(text.contains(#"e2h_runs{state="running"} 1"#))
        #expect(text.contains("e2h_events_appended_total 3"))
        #expect(text.contains("e2h_training_steps_per_second 0.500"))
    }
}
