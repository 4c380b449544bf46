import Canonical
import Foundation

/// A numbered SQL file from `migrations/`, bundled into the binary by `scripts/embed-migrations`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    /// The file name without `.sql`, e.g. `0001_event_store`.
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the file's bytes, lowercase hex.
    public var checksum: String { ContentHash.sha256Hex(Data(sql.utf8)) }
}

/// Migrations applied together and recorded in their own ledger table: the store's, and those of a client that
/// keeps its own tables in the same database (the daemon's queue). Each set numbers its files on its own.
public struct MigrationSet: Sendable {
    /// The table that records which of the set's migrations were applied, and their checksums.
    public var ledger: String
    public var migrations: [Migration]

    /// `ledger` must be a plain lowercase SQL identifier.
    public init(ledger: String, migrations: [Migration]) {
        self.ledger = ledger
        self.migrations = migrations
    }

    /// The event store's own tables.
    public static let eventStore = MigrationSet(ledger: "schema_migrations", migrations: Migration.bundled)
}

/// Applies migrations in order, each in its own transaction under a transaction-level advisory
/// lock, so that processes migrating at once apply each migration exactly once: the second
/// waits for the lock, then finds the version recorded. A recorded migration whose checksum no
/// longer matches its file stops everything: the schema would no longer be what the code expects.
struct Migrator {
    /// `pg_advisory_xact_lock` key: the first 8 bytes of SHA-256("e2h.migrations").
    static let lockKey: Int64 = 0x3c1e_5a2b_77d4_0e19

    let set: MigrationSet

    /// Returns the versions this call applied.
    func migrate(on connection: PostgresConnection) throws -> [Int] {
        let ledger = set.ledger
        guard !ledger.isEmpty, ledger.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 })
        else {
            throw EventStoreError(code: .invalidArgument, message: "\(ledger) is not a plain name for a ledger table")
        }
        let sorted = set.migrations.sorted { $0.version < $1.version }
        if let duplicate = zip(sorted, sorted.dropFirst()).first(where: { $0.version == $1.version }) {
            throw EventStoreError(
                code: .migration, message: "migrations \(duplicate.0.name) and \(duplicate.1.name) share a number")
        }
        var applied: [Int] = []
        for migration in sorted {
            let didApply = try connection.transaction { tx -> Bool in
                try tx.query("SELECT pg_advisory_xact_lock($1)", [.int(Self.lockKey)])
                try tx.query(
                    """
                    CREATE TABLE IF NOT EXISTS \(ledger) (
                        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())
                    """)
                let recorded = try tx.query(
                    "SELECT name, checksum FROM \(ledger) WHERE version = $1", [.int(Int64(migration.version))])
                if !recorded.isEmpty {
                    guard try recorded.string(0, "checksum") == migration.checksum else {
                        throw EventStoreError(
                            code: .migrationChecksum,
                            message: "migration \(migration.name) was applied with different contents "
                                + "(recorded as \(try recorded.string(0, "name") ?? "?")); applied migrations must "
                                + "never change — restore migrations/\(migration.name).sql and add a new numbered file "
                                + "for the change")
                    }
                    return false
                }
                do {
                    try tx.connection.executeScript(migration.sql)
                } catch var error as EventStoreError {
                    error.code = .migration
                    error.message = "migration \(migration.name) failed: \(error.message)"
                    throw error
                }
                try tx.query(
                    "INSERT INTO \(ledger) (version, name, checksum) VALUES ($1, $2, $3)",
                    [.int(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        try refuseUnknownMigrations(on: connection, known: sorted.last?.version ?? 0)
        return applied
    }

    /// A database migrated by a newer e2h has a schema this binary does not know.
    private func refuseUnknownMigrations(on connection: PostgresConnection, known: Int) throws {
        let newer = try connection.execute(
            "SELECT name FROM \(set.ledger) WHERE version > $1 ORDER BY version", [.int(Int64(known))])
        guard newer.isEmpty else {
            throw EventStoreError(
                code: .migration,
                message:
                    "the database has migration \(try newer.string(0, "name") ?? "?"), which this e2h does not know: "
                    + "run a newer e2h against this database")
        }
    }
}
