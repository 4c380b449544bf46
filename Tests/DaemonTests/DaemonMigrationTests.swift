import EventStore
import Foundation
import Logging
import Testing
import WireTypes

@testable import Daemon

@Suite("The daemon's migrations")
struct DaemonMigrationTests {
    /// scripts/embed-migrations must be rerun whenever migrations/daemon/ changes.
    @Test func bundledMigrationsMatchTheFolder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations/daemon")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        let onDisk = try files.map { file in
            let name = String(file.dropLast(4))
            return Migration(
                version: Int(name.prefix { $0.isNumber })!, name: name,
                sql: try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8))
        }
        #expect(!onDisk.isEmpty)
        #expect(DaemonMigrations.bundled == onDisk, "rerun scripts/embed-migrations")
    }

    /// A database an older e2h migrated, whose queue was the store's migration 0002_run_queue, upgrades in place:
    /// the daemon adopts the table, the store's ledger forgets 0002, and a run queued back then is still served.
    @Test func aDatabaseWhoseQueueTheStoreCreatedUpgrades() async throws {
        let store = try await EventStore(
            url: try await TestDatabase.create(), connections: 2, logger: Logger(label: "test"))
        let released = MigrationSet(
            ledger: MigrationSet.eventStore.ledger,
            migrations: Migration.bundled.filter { $0.version == 1 } + [
                Migration(version: 2, name: "0002_run_queue", sql: Self.runQueueAsReleased)
            ])
        #expect(try await store.migrate(released) == [1, 2])
        let run = "0123abcd-0000-4000-8000-000000000000"
        try await store.transaction { tx in
            try tx.query(
                """
                INSERT INTO runs (id, name, spec_yaml, spec_canonical, spec_hash, max_attempts, progress)
                VALUES ($1, 'old', 'name: old', '{}', 'abc', 3, 'sft 3/10')
                """, [.text(run)])
        }

        let applied = try await Queue.migrate(store)
        #expect(applied[MigrationSet.daemon.ledger] == DaemonMigrations.bundled.map(\.version))
        #expect(applied[MigrationSet.eventStore.ledger] == Migration.bundled.map(\.version).filter { $0 > 1 })
        let ledger = try await store.transaction { tx in
            try tx.query("SELECT string_agg(name, ',' ORDER BY version) AS names FROM schema_migrations")
        }
        #expect(try ledger.string(0, "names") == Migration.bundled.map(\.name).joined(separator: ","))
        let queue = Queue(
            store: store, settings: TestDatabase.settings(), metrics: DaemonMetrics(), logger: Logger(label: "test"))
        let details = try await queue.details(run)
        #expect(details.name == "old" && details.state == .queued && details.progress == nil)
        // Migrating again applies nothing: both ledgers are complete.
        #expect(try await Queue.migrate(store).values.allSatisfy(\.isEmpty))
        await store.shutdown()
    }

    /// A run imported from a `--scores-only` bundle before the runs row said so is flagged by the migration that adds
    /// the flag, from its tombstone: a resume is refused from the row alone.
    @Test func aScoresOnlyImportBeforeTheFlagIsFlagged() async throws {
        let store = try await EventStore(
            url: try await TestDatabase.create(), connections: 2, logger: Logger(label: "test"))
        let beforeTheFlag = MigrationSet(
            ledger: MigrationSet.daemon.ledger, migrations: DaemonMigrations.bundled.filter { $0.version < 8 })
        _ = try await store.migrate(beforeTheFlag)
        _ = try await store.migrate()
        let hash = String(repeating: "ab", count: 32)
        let runs = [
            ("0123abcd-0000-4000-8000-000000000001", BlobsPruned.Cause?.some(.scoresOnlyImport)),
            ("0123abcd-0000-4000-8000-000000000002", nil),
        ]
        for (run, cause) in runs {
            _ = try await store.execute(
                "INSERT INTO runs (id, name, spec_hash, state, max_attempts) VALUES ($1, 'old', 'abc', 'completed', 3)",
                [.text(run)])
            let tombstone = DaemonEvent.blobsPruned(BlobsPruned(hashes: [hash], freedBytes: 0, cause: cause))
            _ = try await store.append(
                stream: DaemonEvent.stream(run), expectedVersion: .noStream, events: [try tombstone.recorded()])
        }
        #expect(try await Queue.migrate(store)[MigrationSet.daemon.ledger] == [8, 9])
        let queue = Queue(
            store: store, settings: TestDatabase.settings(), metrics: DaemonMetrics(), logger: Logger(label: "test"))
        let flagged = try await store.execute("SELECT id FROM runs WHERE blobs_left_out")
        #expect(flagged.count == 1)
        #expect(try flagged.string(0, "id") == runs[0].0)
        let resume = await #expect(throws: DaemonError.self) {
            _ = try await RunControl(queue: queue).resume(runs[0].0)
        }
        #expect(resume?.message.contains("--scores-only") == true, "\(String(describing: resume))")
        await store.shutdown()
    }

    /// A run imported before the import checked what a record means can hold a spec that is not JSON; casting it
    /// failed every `runs --where spec.…` listing. Migration 9 marks it, and listings leave it out.
    @Test func aLegacySpecThatIsNotJSONNoLongerBreaksListings() async throws {
        let store = try await EventStore(
            url: try await TestDatabase.create(), connections: 2, logger: Logger(label: "test"))
        let beforeTheMark = MigrationSet(
            ledger: MigrationSet.daemon.ledger, migrations: DaemonMigrations.bundled.filter { $0.version < 9 })
        _ = try await store.migrate(beforeTheMark)
        _ = try await store.migrate()
        let runs = [
            ("0123abcd-0000-4000-8000-000000000001", #"{\"seed\":7}"#),
            ("0123abcd-0000-4000-8000-000000000002", #"{not json"#),
        ]
        for (run, spec) in runs {
            _ = try await store.execute(
                "INSERT INTO runs (id, name, spec_hash, state, max_attempts) VALUES ($1, 'old', 'abc', 'completed', 3)",
                [.text(run)])
            _ = try await store.append(
                stream: DaemonEvent.stream(run), expectedVersion: .noStream,
                events: [NewEvent(type: "RunSubmitted", payload: Data(#"{"spec_json":"\#(spec)"}"#.utf8))])
        }
        let queue = Queue(
            store: store, settings: TestDatabase.settings(), metrics: DaemonMetrics(), logger: Logger(label: "test"))
        // What listings did: cast every recorded spec.
        await #expect(throws: EventStoreError.self) {
            try await store.execute(
                "SELECT count(*) FROM runs WHERE (e2h_payload_at('run-' || id, 1) ->> 'spec_json')::jsonb ? 'seed'")
        }
        #expect(try await Queue.migrate(store)[MigrationSet.daemon.ledger] == [9])
        let marked = try await store.execute("SELECT id FROM runs WHERE NOT spec_is_json")
        #expect(try marked.count == 1 && marked.string(0, "id") == runs[1].0)
        let listed = try await RunCatalog(queue: queue).list(
            state: nil, limit: 10, query: try RunQuery(parsing: "spec.seed = 7"))
        #expect(listed.map(\.id) == [runs[0].0])
        await store.shutdown()
    }

    /// migrations/0002_run_queue.sql as e2h released it, before the queue moved to the daemon's migrations.
    static let runQueueAsReleased = """
        -- The run queue: one row per run, the queue's state. Every change of state also appends an event to the run's
        -- stream (run-<id>) in the same transaction, so the log is the audit trail of the queue.

        CREATE SEQUENCE run_lease_tokens;

        -- Submission order, for FIFO within a priority (a timestamp can tie).
        CREATE SEQUENCE run_submission_order;

        CREATE TABLE runs (
            id                text        PRIMARY KEY,
            name              text        NOT NULL,
            spec_yaml         text        NOT NULL,
            -- The canonical JSON of the validated spec (every default filled in), and its SHA-256.
            spec_canonical    text        NOT NULL,
            spec_hash         text        NOT NULL,
            state             text        NOT NULL DEFAULT 'queued'
                                          CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
            -- Higher runs first; FIFO (submission order) within a priority.
            priority          integer     NOT NULL DEFAULT 0,
            submission_order  bigint      NOT NULL DEFAULT nextval('run_submission_order'),
            idempotency_key   text        UNIQUE,
            -- Claims so far (each claim is an attempt), and attempts that ended in a crash or an error.
            attempt           integer     NOT NULL DEFAULT 0,
            failures          integer     NOT NULL DEFAULT 0,
            max_attempts      integer     NOT NULL,
            -- Not claimable before this (backoff after a failure).
            run_after         timestamptz NOT NULL DEFAULT now(),
            -- The lease of the attempt in progress: every write of that attempt is conditional on the token.
            lease_owner       text,
            lease_token       bigint,
            lease_expires_at  timestamptz,
            cancel_requested  boolean     NOT NULL DEFAULT false,
            -- Why attempts failed or were interrupted, oldest first (JSON array of strings).
            errors            jsonb       NOT NULL DEFAULT '[]',
            -- Where the running attempt is ("sft 120/400"), for listings; updated with the heartbeat.
            progress          text,
            submitted_at      timestamptz NOT NULL DEFAULT now(),
            updated_at        timestamptz NOT NULL DEFAULT now(),
            finished_at       timestamptz,
            CHECK ((state = 'running') = (lease_token IS NOT NULL))
        );

        -- The claim's scan: queued rows in claim order.
        CREATE INDEX runs_claim_order ON runs (priority DESC, submission_order) WHERE state = 'queued';
        -- The reaper's scan.
        CREATE INDEX runs_lease_expiry ON runs (lease_expires_at) WHERE state = 'running';
        CREATE INDEX runs_listing ON runs (submitted_at DESC);
        """
}
