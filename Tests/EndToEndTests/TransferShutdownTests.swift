import TestSupport
import Foundation
import RunBundle
import Testing
import WireTypes

/// SIGTERM while a large run moves in or out: the daemon exits 0 and the database holds the whole run or nothing
/// of it; the client leaves the whole file or nothing, and no temporary file beside it.
@Suite("Shutdown during import and export", .serialized)
struct TransferShutdownTests {
    /// A completed smoke run's bundle with a large extra blob, so that moving it takes a while: unpacked, the blob
    /// added under its hash and named in the run's last event (an import refuses a blob its record does not name),
    /// the chain recomputed and the receipt, which signed the old head, left out; packed again with the system's tar
    /// (which import reads like its own).
    static func largeArchive(_ daemon: DaemonUnderTest, run: String, directory: String) async throws -> String {
        let plain = directory + "/plain.tar"
        #expect(try await daemon.e2h("export", run, "-o", plain).status == 0)
        let tree = directory + "/tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        #expect(try await ChildProcess.run("/usr/bin/tar", ["-xf", plain, "-C", tree]).status == 0)
        var generator = SystemRandomNumberGenerator()
        let ballast = Data((0..<(48 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let hash = try Self.sha256(of: ballast, in: directory)
        try ballast.write(to: URL(fileURLWithPath: tree + "/blobs/\(hash).bin"))
        try Self.name(hash, inLastEventOf: tree + "/" + BundleLayout.events, stream: RunStreams.run(run))
        try FileManager.default.removeItem(atPath: tree + "/" + BundleLayout.receipt)
        let large = directory + "/large.tar"
        #expect(try await ChildProcess.run("/usr/bin/tar", ["-cf", large, "-C", tree, "."]).status == 0)
        try FileManager.default.removeItem(atPath: tree)
        return large
    }

    /// Adds `ballast: hash` to the last event's payload and recomputes the chain's hashes.
    static func name(_ hash: String, inLastEventOf path: String, stream: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = try text.split(separator: "\n").map {
            try BundleLayout.lineDecoder.decode(BundleEventLine.self, from: Data($0.utf8))
        }
        let last = lines.count - 1
        var payload = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[last].payload.utf8)) as? [String: Any])
        payload["ballast"] = hash
        lines[last].payload = String(
            decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self)
        BundleForgery.rechain(&lines, stream: stream)
        let encoded = try lines.map { String(decoding: try BundleLayout.lineEncoder.encode($0), as: UTF8.self) }
        try Data((encoded.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    /// sha256sum, so the test needs no crypto library of its own.
    static func sha256(of data: Data, in directory: String) throws -> String {
        let path = directory + "/ballast"
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    @Test func sigtermDuringAnImportLeavesTheWholeRunOrNothing() async throws {
        let source = try await SmokeRunTests.daemon()
        try await source.start()
        let directory = try Harness.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var archivePath = ""
        var run = ""
        try await withDaemons([source]) {
            run = try await source.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await source.waitFor(run, "completion") { details, _ in details.state.isFinal }
            archivePath = try await Self.largeArchive(source, run: run, directory: directory)
        }
        let target = try await SmokeRunTests.daemon(arguments: ["--workers", "0"])
        try await target.start()
        try await withDaemons([target]) {
            let client = try ChildProcess(
                try Harness.binDirectory + "/e2h", ["import", archivePath, "--state-dir", target.stateDirectory],
                outputPath: directory + "/import.log")
            try await Task.sleep(for: .milliseconds(Int.random(in: 200...1200)))
            let asked = ContinuousClock.now
            target.signal(SIGTERM)
            #expect(await target.waitForExit(timeout: .seconds(35)) == 0, "\(target.log.suffix(2000))")
            #expect(ContinuousClock.now - asked < .seconds(30))
            _ = await client.waitForExit(timeout: .seconds(30))
            let database = try #require(target.databaseURL)
            let rows = try await Harness.sql(database, "SELECT count(*) FROM runs WHERE id = '\(run)'")
            let events = try await Harness.sql(database, "SELECT count(*) FROM events WHERE stream = 'run-\(run)'")
            if rows == "0" {
                #expect(events == "0", "a rejected or interrupted import left events behind")
                #expect(try await Harness.sql(database, "SELECT count(*) FROM blobs") == "0")
            } else {
                try await target.start()
                let verified = try await target.e2h("verify", run)
                #expect(verified.status == 0, "\(verified.output)")
            }
        }
    }

    @Test func sigtermDuringAnExportLeavesTheWholeFileOrNothing() async throws {
        let source = try await SmokeRunTests.daemon()
        try await source.start()
        let directory = try Harness.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var archive = ""
        var run = ""
        try await withDaemons([source]) {
            run = try await source.e2hJSON(SubmitResponse.self, "submit", SmokeRunTests.smokeSpec).run.id
            try await source.waitFor(run, "completion") { details, _ in details.state.isFinal }
            archive = try await Self.largeArchive(source, run: run, directory: directory)
        }
        // The run with its ballast, in a daemon of its own: a large export.
        let daemon = try await SmokeRunTests.daemon(arguments: ["--workers", "0"])
        try await daemon.start()
        try await withDaemons([daemon]) {
            #expect(try await daemon.e2h("import", archive).status == 0)
            for delay in [50, 400, 1500] {
                let output = directory + "/out-\(delay).tar"
                let client = try ChildProcess(
                    try Harness.binDirectory + "/e2h",
                    ["export", run, "-o", output, "--state-dir", daemon.stateDirectory],
                    outputPath: directory + "/export-\(delay).log")
                try await Task.sleep(for: .milliseconds(delay))
                client.signal(SIGTERM)
                _ = await client.waitForExit(timeout: .seconds(60))
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
                    $0.hasPrefix(".out-")
                }
                #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
                if FileManager.default.fileExists(atPath: output) {
                    #expect(try await ChildProcess.run("/usr/bin/tar", ["-tf", output]).status == 0)
                }
            }
        }
    }
}
