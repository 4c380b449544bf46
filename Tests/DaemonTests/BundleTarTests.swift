import Canonical
import EventStore
import Foundation
import Testing

@testable import Daemon
@testable import RunBundle

/// The tar a bundle is: what e2h writes opens with the system's tar, and what tar writes (ustar, GNU, pax; with
/// `./` names and directory entries) reads back, so a bundle unpacked and packed again by hand still imports.
@Suite("Bundle tar format")
struct BundleTarTests {
    static let entries: [(name: String, data: Data)] = [
        ("manifest.json", Data(#"{"format":"x"}"#.utf8)),
        ("events.jsonl", Data(repeating: UInt8(ascii: "e"), count: 512)),
        ("blobs/" + String(repeating: "ab", count: 32) + ".safetensors", Data((0..<1500).map { UInt8($0 % 251) })),
        ("empty", Data()),
    ]

    static func tar(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func whatE2HWritesTarListsAndExtracts() async throws {
        let directory = try ReceiptTests.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/b.tar"
        try await BundleEntries(entries: Self.entries).write(path)
        let listed = try Self.tar(["-tf", path], in: directory)
        #expect(listed.status == 0, "\(listed.output)")
        #expect(listed.output.split(separator: "\n").map(String.init) == Self.entries.map(\.name))
        let extracted = directory + "/x"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        #expect(try Self.tar(["-xf", path], in: extracted).status == 0)
        for (name, data) in Self.entries {
            #expect(FileManager.default.contents(atPath: extracted + "/" + name) == data, "\(name)")
        }
        let file = try BundleFile(path: path)
        #expect(try file.data("events.jsonl", limit: 1 << 20) == Self.entries[1].data)
        #expect(try file.sha256("empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // An entry's address, read from disk in pieces, is the one its bytes get as a blob.
        for (name, data) in Self.entries {
            #expect(try file.sha256(name) == ContentHash.sha256Hex(data), "\(name)")
        }
        let blob = Self.entries[2].data
        var pieces = ContentHash.Incremental()
        for start in stride(from: 0, to: blob.count, by: 7) { pieces.update(blob[start..<min(start + 7, blob.count)]) }
        #expect(pieces.hex() == ContentHash.sha256Hex(blob))
    }

    @Test(arguments: ["ustar", "gnu", "pax"])
    func whatTarWritesReadsBack(_ format: String) async throws {
        let directory = try ReceiptTests.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tree = directory + "/tree"
        for (name, data) in Self.entries {
            let path = tree + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path))
        }
        let made = try Self.tar(["--format=\(format)", "-cf", directory + "/b.tar", "."], in: tree)
        try #require(made.status == 0, "\(made.output)")
        let file = try BundleFile(path: directory + "/b.tar")
        #expect(Set(file.names) == Set(Self.entries.map(\.name)))
        for (name, data) in Self.entries {
            #expect(try file.data(name, limit: 1 << 20) == data, "\(name)")
        }
    }

    @Test func aHeaderIsChecked() throws {
        let header = try Tar.header(name: "events.jsonl", size: 1234, modified: 1_700_000_000)
        #expect(header.count == Tar.blockSize)
        #expect(try Tar.parse(header) == Tar.Header(name: "events.jsonl", size: 1234, kind: .file))
        #expect(try Tar.parse(Data(count: Tar.blockSize)) == nil)
        var damaged = header
        damaged[3] ^= 1
        #expect { try Tar.parse(damaged) } throws: { ($0 as? BundleError)?.code == .malformed }
        #expect { try Tar.parse(header.prefix(100)) } throws: { ($0 as? BundleError)?.code == .malformed }
        #expect {
            try Tar.header(name: String(repeating: "n", count: 101), size: 1, modified: 0)
        } throws: { ($0 as? BundleError)?.code == .unwritable }
        #expect(Tar.padding(after: 512).isEmpty && Tar.padding(after: 513).count == 511)
    }

    @Test func blobsAreNamedByHashAndKind() {
        let hash = String(repeating: "0f", count: 32)
        var safetensors = Data([2, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8)
        safetensors += Data(count: 8)
        #expect(BundleLayout.blobEntry(hash, safetensors) == "blobs/\(hash).safetensors")
        #expect(BundleLayout.blobEntry(hash, Data(#"{"a":1}"#.utf8)) == "blobs/\(hash).bin")
        // The export names a blob from the head the store's summary carries, not from its whole content.
        #expect(BlobSummary.headLength >= BundleLayout.safetensorsPrefix)
        #expect(
            BundleLayout.blobEntry(
                hash, prefix: safetensors.prefix(BlobSummary.headLength), size: Int64(safetensors.count))
                == "blobs/\(hash).safetensors")
        #expect(BundleLayout.blobHash(inEntry: "blobs/\(hash).bin") == hash)
        #expect(BundleLayout.blobHash(inEntry: "blobs/\(hash).exe") == nil)
        #expect(BundleLayout.blobHash(inEntry: "blobs/../\(hash).bin") == nil)
    }
}
