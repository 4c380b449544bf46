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
