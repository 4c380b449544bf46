import Canonical
import EventStore
import Foundation
import WireTypes

/// Everything an import checks before it writes a byte: the format, a well-formed run id, gap-free unique
/// versions and event ids, the hash chain recomputed link by link, and every blob's bytes against its key.
/// An archive that fails any of these is refused whole, so a rejected import leaves the database as it was.
enum ArchiveCheck {
    static func verify(_ archive: RunArchive) throws {
        guard archive.format == RunArchive.currentFormat else {
            throw DaemonError(
                .badRequest, "unknown archive format \(archive.format); expected \(RunArchive.currentFormat)")
        }
        let id = archive.run.id
        guard RunID.isWellFormed(id) else {
            throw DaemonError(
                .badRequest,
                "the archive's run id \(String(id.prefix(80)).debugDescription) is not a run id (a lowercase UUID); "
                    + "the archive was not made by e2h export or was altered")
        }
        guard !archive.events.isEmpty else {
            throw DaemonError(.badRequest, "the archive holds no events; export the run again")
        }
        var ids = Set<UUID>()
        for event in archive.events where !ids.insert(event.id).inserted {
            throw DaemonError(.badRequest, "the archive holds event \(event.id) twice: the archive was altered")
        }
        var chain = ChainCheck(stream: DaemonEvent.stream(id))
        for event in archive.events.sorted(by: { $0.version < $1.version }) {
            if case .broken(let version, _, let reason) = chain.accept(
                version: event.version, id: event.id, type: event.type, schemaVersion: event.schemaVersion,
                payload: event.payload, metadata: event.metadata, hash: event.hash, previousHash: event.previousHash)
            {
                throw DaemonError(
                    .badRequest,
                    "the archive's events do not verify at version \(version): \(reason); nothing was imported")
            }
        }
        for (key, bytes) in archive.blobs.sorted(by: { $0.key < $1.key }) {
            let digest = ContentHash.sha256Hex(bytes)
            guard digest == key else {
                throw DaemonError(
                    .badRequest,
                    "the archive's blob \(String(key.prefix(80))) does not match its content (its bytes hash to "
                        + "\(digest)); nothing was imported")
            }
        }
    }
}

/// Run ids are lowercase UUIDs, made by the daemon at submission.
enum RunID {
    static func isWellFormed(_ text: String) -> Bool {
        guard text.utf8.count == 36, let uuid = UUID(uuidString: text) else { return false }
        return uuid.uuidString.lowercased() == text
    }
}
