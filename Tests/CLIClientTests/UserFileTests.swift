import Foundation
import Testing

@testable import CLIClient

/// A file the user names on the command line: when it cannot be read, the message says which file and why.
@Test func anUnreadableFileSaysWhy() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2h-user-file-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let missing = directory.appendingPathComponent("missing.yaml").path
    #expect(throws: ClientError.self) { try readUserFile(missing) }
    #expect(message { try readUserFile(missing) } == "cannot read \(missing): no such file")
    #expect(
        message { try readUserFile(directory.path) } == "cannot read \(directory.path): it is a directory; name a file")
    let file = directory.appendingPathComponent("spec.yaml")
    try Data("name: x\n".utf8).write(to: file)
    #expect(try readUserFile(file.path) == Data("name: x\n".utf8))
}

private func message(_ body: () throws -> Data) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as ClientError {
        return error.message
    } catch {
        return nil
    }
}

/// `-o PATH` writes what is there as what it is: a symbolic link through to its target, a device in place (renaming
/// over `/dev/full` once replaced the device with a file), a new name or a regular file atomically.
@Test func anOutputNameIsWrittenAsWhatItIs() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2h-output-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    func kind(_ path: String) -> mode_t {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : 0
    }
    let file = directory + "/plot.svg"
    try writeUserFileAtomically(Data("one".utf8), to: file)
    try writeUserFileAtomically(Data("two".utf8), to: file)
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "two" && kind(file) == S_IFREG)

    let link = directory + "/link.svg"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
    try writeUserFileAtomically(Data("three".utf8), to: link)
    #expect(kind(link) == S_IFLNK, "the link was replaced by a file")
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "three")

    let dangling = directory + "/dangling.svg"
    try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: directory + "/nowhere.svg")
    #expect(throws: ClientError.self) { try writeUserFileAtomically(Data("x".utf8), to: dangling) }
    #expect(throws: ClientError.self) { try writeUserFileAtomically(Data("x".utf8), to: directory) }

    // Devices of their own (1,3 is null, 1,7 is full), so a fault replaces these and never the system's. Making one
    // needs root, as CI runs; elsewhere the devices are left out.
    let null = directory + "/null"
    let full = directory + "/full"
    guard mknod(null, S_IFCHR | 0o666, 0x103) == 0, mknod(full, S_IFCHR | 0o666, 0x107) == 0 else { return }
    try writeUserFileAtomically(Data("gone".utf8), to: null)
    #expect(kind(null) == S_IFCHR, "the device was replaced by a file")
    do {
        try writeUserFileAtomically(Data("x".utf8), to: full)
        Issue.record("a write to a full device succeeded")
    } catch let error as ClientError {
        #expect(error.message.contains("the disk is full (ENOSPC)"), "\(error.message)")
    }
    #expect(kind(full) == S_IFCHR)
}
