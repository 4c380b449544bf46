import Foundation
import Hummingbird

/// An import's request body, written to a file in `<stateDirectory>/imports` as it arrives, so the daemon holds one
/// network buffer of it at a time however large the run; the file is removed when the import ends either way.
struct ImportSpool {
    /// A bundle larger than this is refused (the largest runs are a few GiB with every checkpoint).
    static let maximumSize: Int64 = 64 << 30

    let path: String

    /// Receives `body` into a new spool file under `directory`; refused past `limit` bytes or when the disk fills.
    static func receive(
        _ body: RequestBody, into directory: String, limit: Int64 = ImportSpool.maximumSize
    ) async throws -> ImportSpool {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DaemonError(.internalError, "cannot create the import spool directory \(directory)", cause: error)
        }
        let spool = ImportSpool(path: (directory as NSString).appendingPathComponent("import-\(UUID().uuidString)"))
        guard FileManager.default.createFile(atPath: spool.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: spool.path)
        else {
            throw DaemonError(.internalError, "cannot create the import spool file \(spool.path)")
        }
        do {
            defer { try? handle.close() }
            var received: Int64 = 0
            for try await chunk in body {
                received += Int64(chunk.readableBytes)
                guard received <= limit else {
                    throw DaemonError(.bodyTooLarge, "the bundle is larger than the import limit of \(limit) bytes")
                }
                do {
                    try handle.write(contentsOf: Data(chunk.readableBytesView))
                } catch {
                    throw DaemonError(
                        .internalError, "cannot spool the import to \(directory) (is its disk full?)", cause: error)
                }
            }
        } catch {
            spool.remove()
            throw error
        }
        return spool
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
