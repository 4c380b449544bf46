import Canonical
import Foundation

extension EventStore {
    /// Recomputes every stream's chain and the global chain from the first event, in one read-only snapshot, and
    /// compares them with the stored heads. `checkpoints` are positions whose recomputed log hash the caller wants
    /// (to compare with a signed copy made earlier: that comparison is what reveals a log rewritten by someone who
    /// also recomputed every hash).
    public func verifyLog(checkpoints: [Int64] = []) async throws -> LogVerification {
        try await transaction { tx in
            // One snapshot: appends committed meanwhile would otherwise look like a head ahead of its events.
            try tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let stored = try tx.logHead()
            var check = LogCheck(checkpoints: checkpoints)
            var broken: LogBreak?
            var after: Int64 = 0
            walk: while true {
                let page = try EventStore.events(
                    tx.connection.executePrepared(
                        "SELECT \(EventStore.eventColumns) FROM events WHERE position > $1 ORDER BY position LIMIT 1000",
                        [.int(after)]))
                for event in page {
                    if let found = check.accept(event) {
                        broken = found
                        break walk
                    }
                }
                guard let last = page.last, page.count == 1000 else { break }
                after = last.position
            }
            if broken == nil {
                let heads = try tx.query("SELECT name, version, last_hash FROM streams ORDER BY name")
                for row in 0..<heads.count {
                    let name = try heads.string(row, "name") ?? ""
                    let point = ChainPoint(
                        length: try heads.int64(row, "version") ?? 0,
                        hash: Hex.encode(try heads.bytes(row, "last_hash") ?? Data()))
                    if let found = check.checkStreamHead(name, point) {
                        broken = found
                        break
                    }
                }
                if broken == nil, heads.count != check.streamCount {
                    broken = LogBreak(
                        position: nil, stream: nil,
                        reason: "the log holds events of \(check.streamCount) streams but \(heads.count) stream heads "
                            + "(a stream's head row was removed or added by hand)")
                }
            }
            if broken == nil { broken = check.checkLogHead(stored) }
            return LogVerification(
                recomputed: check.head, stored: stored, streams: check.streamCount, broken: broken,
                checkpoints: check.checkpoints)
        }
    }

    /// The stored head of the log: the last position handed out and the global hash there.
    public func logHead() async throws -> ChainPoint {
        try await idempotent { connection in try Transaction(connection: connection).logHead() }
    }

    /// The stored hashes of the events after `position`, in position order, with the stored log head, in one
    /// snapshot: what a witness folds to advance from a point it signed to the present without re-reading the log.
    public func hashes(
        after position: Int64
    ) async throws -> (hashes: [(position: Int64, hash: String)], head: ChainPoint) {
        try await transaction { tx in
            try tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let head = try tx.logHead()
            let rows = try tx.query(
                "SELECT position, hash FROM events WHERE position > $1 AND position <= $2 ORDER BY position",
                [.int(position), .int(head.length)])
            let hashes = try (0..<rows.count).map { row in
                (
                    position: try rows.int64(row, "position") ?? 0,
                    hash: Hex.encode(try rows.bytes(row, "hash") ?? Data())
                )
            }
            return (hashes, head)
        }
    }

    /// The hash of a stream's event at `version`, or nil when the stream has no such version.
    public func eventHash(stream: String, version: Int64) async throws -> String? {
        try await read(stream: stream, fromVersion: version, limit: 1).first { $0.version == version }?.hash
    }
}

extension Transaction {
    func logHead() throws -> ChainPoint {
        let rows = try query("SELECT position, hash FROM log_head")
        guard !rows.isEmpty, let position = try rows.int64(0, "position"), let hash = try rows.bytes(0, "hash") else {
            throw EventStoreError(code: .query, message: "the log head row is missing: the database was edited by hand")
        }
        return ChainPoint(length: position, hash: Hex.encode(hash))
    }
}

extension ChainPoint {
    /// The point `hashes` lead to from this one, by the global chain's rule; nil when a position is skipped.
    public func extended(by hashes: [(position: Int64, hash: String)]) -> ChainPoint? {
        guard var global = Hex.decode(hash) else { return nil }
        var length = self.length
        for (position, eventHash) in hashes {
            guard position == length + 1, let bytes = Hex.decode(eventHash) else { return nil }
            global = GlobalChain.hash(previous: global, position: position, eventHash: bytes)
            length = position
        }
        return ChainPoint(length: length, hash: Hex.encode(global))
    }
}
