import Foundation
import RunBundle
import WireTypes

/// Export and import through the daemon's own code, to and from files, for `e2h-bench bundle`: the figures are
/// those of the paths e2hd serves, without HTTP in between.
public struct BundleTransfer: Sendable {
    let queue: Queue
    let witness: LogWitness

    /// Signs receipts with (and checks them against) the key in `stateDirectory`, made there if absent.
    public init(queue: Queue, stateDirectory: String) throws {
        self.queue = queue
        witness = LogWitness(
            stateDirectory: stateDirectory, key: try ReceiptKey.loadOrCreate(stateDirectory: stateDirectory))
    }

    public func export(_ run: String, to path: String, scoresOnly: Bool = false) async throws {
        let prepared = try await RunBundleExport(queue: queue, witness: witness).prepare(run, scoresOnly: scoresOnly)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw DaemonError(.internalError, "cannot create \(path)")
        }
        defer { try? handle.close() }
        var sink = FileSink(handle: handle)
        try await prepared.write(to: &sink)
    }

    public func importBundle(at path: String) async throws -> ImportReport {
        try await RunBundleImport(queue: queue, key: witness.key).importBundle(at: path)
    }
}
