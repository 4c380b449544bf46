import Canonical
import EventStore
import Foundation
import WireTypes

/// `export` / `import`: a run's stream, its queue row and every blob its events name, in one JSON file.
/// Events are re-appended with their ids and bytes unchanged, so the hash chain an importing database
/// computes equals the exporter's, which the import checks.
struct RunArchiver {
    let queue: Queue

    var store: EventStore { queue.store }

    func export(_ id: String) async throws -> RunArchive {
        let run = try await RunCatalog(queue: queue).details(id)
        let submitted = try await DaemonEvent.submission(of: id, in: store)
        let events = try await store.readWhole(stream: DaemonEvent.stream(id))
        var blobs: [String: Data] = [:]
        var pending = events.flatMap { Self.blobReferences(in: $0.payload) }
        while let sha = pending.popLast() {
            guard blobs[sha] == nil else { continue }
            let bytes: Data
            do {
                bytes = try await store.blob(sha)
            } catch let error as EventStoreError where error.code == .blobNotFound {
                continue  // a content hash that names no stored blob (e.g. a split's digest)
            }
            blobs[sha] = bytes
            // Stage outputs are JSON that name further blobs (checkpoints, sample sets).
            pending += Self.blobReferences(in: bytes)
        }
        return RunArchive(
            run: run, specYAML: submitted.specYaml, canonicalSpec: Data(submitted.specJson.utf8),
            events: events.map(RunArchive.Event.init), blobs: blobs)
    }

    /// All or nothing: the archive is checked whole before anything is written (`ArchiveCheck`), then its
    /// blobs, queue row and events are written in one transaction, which a failure rolls back.
    func `import`(_ archive: RunArchive) async throws -> RunDetails {
        try ArchiveCheck.verify(archive)
        let run = archive.run
        let (state, error) = RunLifecycle.imported(run.state)
        let errors = run.errors + (error.map { [$0] } ?? [])
        let errorsJSON = String(decoding: try CanonicalJSON.encode(errors), as: UTF8.self)
        let ordered = archive.events.sorted { $0.version < $1.version }
        let events = ordered.map(NewEvent.init)
        let expectedHead = ordered.last?.hash
        let stream = DaemonEvent.stream(run.id)
        try await store.transaction { tx in
            // The row first: it is the lock the lock order starts with, and an existing id stops the import
            // before any blob is sent.
            let inserted = try tx.query(
                """
                INSERT INTO runs (id, name, spec_hash, state, priority, attempt, failures, max_attempts, errors,
                    submitted_at, finished_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::timestamptz,
                    CASE WHEN $4 IN ('completed', 'failed', 'cancelled') THEN now() END)
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """,
                [
                    .text(run.id), .text(run.name), .text(run.specHash),
                    .text(state.rawValue), .int(Int64(run.priority)), .int(Int64(run.attempt)),
                    .int(Int64(run.failures)), .int(Int64(run.maxAttempts)), .text(errorsJSON),
                    .text(ISO8601DateFormatter().string(from: run.submittedAt)),
                ])
            guard inserted.count == 1 else {
                throw DaemonError(.conflict, "run \(run.id) already exists in this database; nothing was imported")
            }
            for (_, bytes) in archive.blobs.sorted(by: { $0.key < $1.key }) { try tx.putBlob(bytes) }
            _ = try tx.append(stream: stream, expectedVersion: .noStream, events: events)
            // The server computes the chain itself; ArchiveCheck recomputed the archive's with the same rules.
            guard try tx.streamHead(stream)?.hash == expectedHead else {
                throw DaemonError(
                    .badRequest, "the imported events hash differently from the archive's; nothing was imported")
            }
        }
        queue.logger.info("run imported", metadata: ["run": "\(run.id)", "events": "\(events.count)"])
        return try await RunCatalog(queue: queue).details(run.id)
    }

    /// Strings that look like SHA-256 hex digests, anywhere in a JSON document.
    static func blobReferences(in data: Data) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return []
        }
        var found: [String] = []
        func walk(_ value: Any) {
            switch value {
            case let string as String:
                if ContentHash.isSHA256Hex(string) { found.append(string) }
            case let array as [Any]: array.forEach(walk)
            case let object as [String: Any]: object.values.forEach(walk)
            default: break
            }
        }
        walk(object)
        return found
    }
}
