import Testing

@testable import Daemon

/// Who may delete a released blob, decided without a database: no record may still hold it.
@Suite struct BlobReleaseTests {
    typealias Mention = BlobRelease.Mention

    @Test func aBlobGoesOnlyOnceEveryRecordNamingItReleasedIt() {
        let mentions = [
            Mention(stream: "run-a", hash: "x", tombstone: false),
            Mention(stream: "run-a", hash: "y", tombstone: false),
            Mention(stream: "run-b", hash: "x", tombstone: false),
        ]
        // b still holds x; nobody else names y.
        #expect(BlobRelease(releases: [("run-a", ["x", "y"])], mentions: mentions).deletable.map(\.hashes) == [["y"]])
        // b released x earlier: its tombstone names it.
        let released = mentions + [Mention(stream: "run-b", hash: "x", tombstone: true)]
        #expect(
            BlobRelease(releases: [("run-a", ["x", "y"])], mentions: released).deletable.map(\.hashes) == [["x", "y"]])
    }

    @Test func twoRecordsReleasingTogetherFreeTheSharedBlobOnceForTheFirst() {
        let mentions = [
            Mention(stream: "run-a", hash: "x", tombstone: false),
            Mention(stream: "run-b", hash: "x", tombstone: false),
            Mention(stream: "run-c", hash: "z", tombstone: false),
        ]
        let release = BlobRelease(releases: [("run-a", ["x"]), ("run-b", ["x"]), ("run-c", [])], mentions: mentions)
        #expect(release.deletable.map(\.stream) == ["run-a", "run-b", "run-c"])
        #expect(release.deletable.map(\.hashes) == [["x"], [], []])
        // Without b's release, a's is not enough.
        #expect(BlobRelease(releases: [("run-a", ["x"])], mentions: mentions).deletable.map(\.hashes) == [[]])
    }
}
