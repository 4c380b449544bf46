import Foundation
import Testing

/// scripts/build-stamp, which the BuildStampPlugin runs at build time: the commit from a clone (marked "-dirty"
/// with uncommitted changes), from a `git archive` tarball's BUILD-COMMIT, from $E2H_COMMIT, else "unknown".
@Suite("Build stamp")
struct BuildStampTests {
    /// The commit the script stamps for the package at `directory`.
    func stamp(_ directory: String, environment: [String: String] = [:]) async throws -> String {
        let output = directory + ".stamp.swift"
        let result = try await ChildProcess.run(
            "/bin/sh", [Harness.repositoryRoot + "/scripts/build-stamp", directory, output],
            environment: environment)
        #expect(result.status == 0, "\(result.output)")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.contains("static let commit") })
        return String(line.split(separator: "\"")[1])
    }

    func git(_ directory: String, _ arguments: String...) async throws -> String {
        let result = try await ChildProcess.run(
            "/usr/bin/git",
            ["-C", directory, "-c", "user.name=t", "-c", "user.email=t@example.org"] + arguments)
        guard result.status == 0 else { throw E2EError("git \(arguments) failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aCloneATarballAndAPackagerEachGiveTheirCommit() async throws {
        let scratch = try Harness.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let clone = scratch + "/clone"
        try FileManager.default.createDirectory(atPath: clone, withIntermediateDirectories: true)
        try "0.1.0\n".write(toFile: clone + "/VERSION", atomically: true, encoding: .utf8)
        try "$Format:%H$\n".write(toFile: clone + "/BUILD-COMMIT", atomically: true, encoding: .utf8)
        try "BUILD-COMMIT export-subst\n".write(toFile: clone + "/.gitattributes", atomically: true, encoding: .utf8)
        _ = try await git(clone, "init", "-q")
        _ = try await git(clone, "add", "-A")
        _ = try await git(clone, "commit", "-qm", "first")
        let head = try await git(clone, "rev-parse", "HEAD")
        #expect(try await stamp(clone) == head)
        try "0.1.1\n".write(toFile: clone + "/VERSION", atomically: true, encoding: .utf8)
        #expect(try await stamp(clone) == head + "-dirty")
        #expect(try await stamp(clone, environment: ["E2H_COMMIT": "v0.1.1-release"]) == "v0.1.1-release")

        // A release tarball: no .git, BUILD-COMMIT filled in by `git archive`.
        let tarball = scratch + "/e2h.tar"
        let unpacked = scratch + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        _ = try await git(clone, "archive", "-o", tarball, "HEAD")
        let untar = try await ChildProcess.run("/usr/bin/tar", ["-xf", tarball, "-C", unpacked])
        #expect(untar.status == 0, "\(untar.output)")
        #expect(try await stamp(unpacked) == head)

        // A copy made some other way keeps the placeholder: the commit is not known.
        let copy = scratch + "/copy"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for file in ["VERSION", "BUILD-COMMIT"] {
            try FileManager.default.copyItem(atPath: clone + "/" + file, toPath: copy + "/" + file)
        }
        #expect(try await stamp(copy) == "unknown")
    }

    /// The built binaries carry the stamp of the checkout they were built from.
    @Test func e2hAndE2hdSayWhichCommitTheyWereBuiltFrom() async throws {
        let root = Harness.repositoryRoot
        let head = try await ChildProcess.run("/usr/bin/git", ["-C", root, "rev-parse", "HEAD"])
        let version = try String(contentsOfFile: root + "/VERSION", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for binary in ["e2h", "e2hd"] {
            let printed = try await ChildProcess.run(try Harness.binDirectory + "/" + binary, ["--version"])
            #expect(printed.status == 0 && printed.output.hasPrefix(version + " ("), "\(printed.output)")
            // From a tarball there is no git to ask.
            if head.status == 0 {
                let commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(printed.output.contains("(\(commit)"), "\(binary): \(printed.output) is not \(commit)")
            }
        }
    }
}
