import Foundation
import Testing
import WireTypes

#if canImport(Glibc)
import Glibc
#endif

/// `e2h export` onto a full disk: a clear error, exit 1, and nothing partial under the name asked for.
@Suite("Full disk export")
struct FullDiskExportTests {
    /// A tmpfs of 16 KiB filled to the last block: the export fails with ENOSPC named in the message, the older file
    /// at the target survives byte for byte, and no temporary file is left. Grown, the same export then succeeds.
    @Test func anExportOntoAFullDiskFailsClearlyAndLeavesNothingBehind() async throws {
        // No workers: the run stays queued, and its bundle (RunSubmitted with the spec) is still a few KiB.
        let daemon = try await SmokeRunTests.daemon(arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            let run = try await daemon.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            let scratch = try Harness.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let disk = scratch + "/disk"
            try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
            let mounted = try await ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", disk])
            try #require(mounted.status == 0, "mount failed (the test needs root): \(mounted.output)")
            // Synchronous, so it runs on every path; lazy, so a file still open cannot keep it mounted.
            defer { umount2(disk, Int32(MNT_DETACH)) }

            let archive = disk + "/archive.tar"
            let previous = Data("an older archive".utf8)
            try previous.write(to: URL(fileURLWithPath: archive))
            // dd stops at ENOSPC (status 1): the disk is now full to the last block.
            let filled = try await ChildProcess.run("/bin/dd", ["if=/dev/zero", "of=\(disk)/filler", "bs=4k"])
            try #require(filled.output.contains("No space left on device"), "\(filled.output)")

            let failed = try await daemon.e2h("export", run, "-o", archive)
            #expect(failed.status == 1, "\(failed.output)")
            #expect(failed.output.contains("cannot write \(archive)"), "\(failed.output)")
            #expect(failed.output.contains("the disk is full (ENOSPC)"), "\(failed.output)")
            #expect(failed.output.contains("-o FILE"), "says what to do: \(failed.output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: disk).sorted() == ["archive.tar", "filler"])
            #expect(FileManager.default.contents(atPath: archive) == previous)

            let grown = try await ChildProcess.run("/bin/mount", ["-o", "remount,size=1m", disk])
            try #require(grown.status == 0, "\(grown.output)")
            let written = try await daemon.e2h("export", run, "-o", archive)
            #expect(written.status == 0, "\(written.output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: disk).sorted() == ["archive.tar", "filler"])
            let exported = try #require(FileManager.default.contents(atPath: archive))
            let served = try await daemon.request("GET", "/v1/runs/\(run)/export", token: try daemon.token).body
            // Each export signs a fresh receipt (its time differs), so the two agree in size, not in every byte.
            #expect(exported.count == served.count && exported.suffix(1024).allSatisfy { $0 == 0 })
            let mode = try FileManager.default.attributesOfItem(atPath: archive)[.posixPermissions] as? Int
            let mask = umask(0o022)
            umask(mask)  // read back, restored: e2h inherited this umask
            #expect(mode == 0o666 & ~Int(mask), "the mode a plain create gives")
        }
    }
}
