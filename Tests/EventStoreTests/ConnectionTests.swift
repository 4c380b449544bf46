import Foundation
import Synchronization
import Testing

@testable import EventStore

@Suite("Connections, parameters and transactions")
struct ConnectionTests {
    @Test func errorsNeverContainThePassword() async throws {
        // The password is also part of the database name, so the server's own message quotes it.
        let password = "pw\(UInt32.random(in: 100_000...999_999))"
        let url = try EventStore.url(TestDatabase.serverURL, database: "db_\(password)") + " password='\(password)'"
        do {
            _ = try await EventStore(url: url, logger: TestDatabase.logger)
            Issue.record("connected to a database that does not exist")
        } catch let error as EventStoreError {
            #expect(error.code == .connection)
            #expect(error.message.contains("does not exist"))
            #expect(!error.description.contains(password))
        }
        #expect(
            await errorCode { _ = try await EventStore(url: "postgresql://[::1", logger: TestDatabase.logger) }
                == .invalidArgument)
    }

    @Test func aURLForAnotherDatabaseKeepsTheOtherParameters() throws {
        let url = try EventStore.url("postgresql://ann:pw@db.example:6543/main?sslmode=disable", database: #"o'd\b"#)
        #expect(url.contains("user='ann'"))
        #expect(url.contains("password='pw'"))
        #expect(url.contains("host='db.example'"))
        #expect(url.contains("port='6543'"))
        #expect(url.contains("sslmode='disable'"))
        #expect(url.contains(#"dbname='o\'d\\b'"#))
        #expect(!url.contains("main"))
    }

    @Test func sessionsCarryTheConfiguredTimeouts() async throws {
        var configuration = EventStoreConfiguration()
        configuration.lockTimeout = .milliseconds(300)
        configuration.lockWaitRetry = .zero
        configuration.statementTimeout = .milliseconds(3000)
        // Long enough that the held transaction below outlives any scheduling delay on a loaded machine.
        configuration.idleInTransactionTimeout = .seconds(90)
        try await withStore(connections: 2, configuration: configuration) { store, database in
            let settings = try await store.transaction { tx in
                try tx.query(
                    """
                    SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement,
                           current_setting('idle_in_transaction_session_timeout') AS idle,
                           current_setting('plan_cache_mode') AS plans
                    """)
            }
            #expect(try settings.string(0, "lock") == "300ms")
            #expect(try settings.string(0, "statement") == "3s")
            #expect(try settings.string(0, "idle") == "90s")
            #expect(try settings.string(0, "plans") == "force_custom_plan")

            do {
                try await store.transaction { tx in _ = try tx.query("SELECT pg_sleep(10)") }
                Issue.record("statement_timeout did not fire")
            } catch let error as EventStoreError {
                #expect(error.code == .timeout)
                #expect(error.sqlState == "57014")
            }

            // A second session waits on a stream row that an open transaction holds. The stream is created
            // through a patient store: an append's COMMIT queues its NOTIFY under a lock that the whole
            // cluster shares, and other tests' commits can hold that lock for longer than 300 ms.
            let patient = try await database.store(connections: 1, migrate: false)
            _ = try await patient.append(stream: "s", expectedVersion: .any, events: [event()])
            await patient.shutdown()
            let release = DispatchSemaphore(value: 0)
            let holder = await holdStreamRow(store, "s", until: release)
            do {
                _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()])
                Issue.record("lock_timeout did not fire")
            } catch let error as EventStoreError {
                #expect(error.code == .timeout)
                #expect(error.sqlState == "55P03")
            }
            release.signal()
            try await holder.value
        }
    }

    @Test func parametersAndResultsRoundTrip() async throws {
        try await withStore(connections: 1) { store, _ in
            let id = UUID()
            let rows = try await store.transaction { tx in
                try tx.query(
                    """
                    SELECT $1::int8 + 1 AS int, $2::text AS text, $3::bytea AS bytes, $4 = '5f4dcc3b-5aa7-4d7b-8a60-0e7a6b1f1b1a'::uuid AS same,
                           $5 * 2 AS double, NOT $6 AS bool, $7::json AS json, $8::uuid AS id,
                           array_length($9::text[], 1) AS texts, (SELECT sum(x) FROM unnest($10::int8[]) x) AS total,
                           cardinality($11::float8[]) AS doubles, cardinality($12::bytea[]) AS blobs,
                           cardinality($13::text[]) AS empty, $14::int4 IS NULL AS null,
                           $15 AS inferred
                    """,
                    [
                        .int(41), .text("héllo"), .bytes(Data([0, 1, 255])),
                        .text("5f4dcc3b-5aa7-4d7b-8a60-0e7a6b1f1b1a"), .double(1.25), .bool(false),
                        .json(Data(#"{"k": [1]}"#.utf8)), .uuid(id), .textArray(["a", "b", "c"]),
                        .int64Array([1, 2, 3]), .doubleArray([0.5]), .bytesArray([Data(), Data([1])]), .textArray([]),
                        .null, .text("untyped"),
                    ])
            }
            #expect(try rows.int64(0, "int") == 42)
            #expect(try rows.string(0, "text") == "héllo")
            #expect(try rows.bytes(0, "bytes") == Data([0, 1, 255]))
            #expect(try rows.bool(0, "same") == true)
            #expect(try rows.double(0, "double") == 2.5)
            #expect(try rows.bool(0, "bool") == true)
            #expect(try rows.string(0, "json") == #"{"k": [1]}"#)
            #expect(try rows.uuid(0, "id") == id)
            #expect(try rows.int(0, "texts") == 3)
            #expect(try rows.int64(0, "total") == 6)
            #expect(try rows.int(0, "doubles") == 1)
            #expect(try rows.int(0, "blobs") == 2)
            #expect(try rows.int(0, "empty") == 0)
            #expect(try rows.bool(0, "null") == true)
            #expect(try rows.string(0, "inferred") == "untyped")
            #expect(throws: EventStoreError.self) { try rows.int64(0, "no_such_column") }
            #expect(throws: EventStoreError.self) { try rows.uuid(0, "text") }
        }
    }

    @Test func binaryResultsDecode() async throws {
        try await withStore(connections: 1) { store, _ in
            let rows = try await store.transaction { tx in
                try tx.query(
                    """
                    SELECT 7::int2 AS i2, -8::int4 AS i4, 9000000000::int8 AS i8, 1.5::float4 AS f4,
                           12345.6789::numeric AS n1, -0.000123::numeric AS n2, 100000000::numeric AS n3,
                           0::numeric AS n4, 'NaN'::numeric AS n5, '2026-01-02 03:04:05.5+00'::timestamptz AS at,
                           '2000-01-02'::date AS day, NULL::int AS nothing, '{"a": 1}'::jsonb AS doc, 'x'::varchar AS v
                    """)
            }
            #expect(try rows.int(0, "i2") == 7)
            #expect(try rows.int(0, "i4") == -8)
            #expect(try rows.int64(0, "i8") == 9_000_000_000)
            #expect(try rows.double(0, "f4") == 1.5)
            #expect(try rows.string(0, "n1") == "12345.6789")
            #expect(try rows.double(0, "n1") == 12345.6789)
            #expect(try rows.string(0, "n2") == "-0.000123")
            #expect(try rows.int64(0, "n3") == 100_000_000)
            #expect(try rows.string(0, "n4") == "0")
            #expect(try rows.string(0, "n5") == "NaN")
            #expect(try rows.date(0, "at") == Date(timeIntervalSince1970: 1_767_323_045.5))
            #expect(try rows.date(0, "day") == Date(timeIntervalSince1970: 946_771_200))
            #expect(try rows.int(0, "nothing") == nil)
            #expect(try rows.string(0, "doc") == #"{"a": 1}"#)
            #expect(try rows.string(0, "v") == "x")
            #expect(try rows.string(0, "i8") == "9000000000")
        }
    }

    @Test func aThrowingBodyRollsBackAndASwallowedFailureIsNotCommitted() async throws {
        try await withStore(connections: 1) { store, _ in
            try await store.transaction { tx in _ = try tx.query("CREATE TABLE t (x int PRIMARY KEY)") }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await store.transaction { tx in
                    _ = try tx.query("INSERT INTO t VALUES ($1)", [.int(1)])
                    throw Abort()
                }
            }
            let code = await errorCode {
                try await store.transaction { tx in
                    _ = try tx.query("INSERT INTO t VALUES ($1)", [.int(2)])
                    _ = try? tx.query("INSERT INTO t VALUES ($1)", [.int(2)])
                }
            }
            #expect(code == .query)
            let count = try await store.transaction { tx in try tx.query("SELECT count(*) AS n FROM t").int(0, "n") }
            #expect(count == 0)
            // The session is usable afterwards.
            #expect(try await store.transaction { tx in try tx.query("SELECT 1 AS one").int(0, "one") } == 1)
        }
    }

    /// A process on its way out stops waiting on its server: a statement the server has not answered for the
    /// gate's grace is cut (here one that sleeps 300 s on the server, as one on a stopped server would wait), so no
    /// pool thread outlives the shutdown's deadline — e2hd ended with SIGILL when one did.
    @Test func aClosedGateCutsAStatementTheServerDoesNotAnswer() async throws {
        let database = try await TestDatabase.create()
        let store = try await database.store(connections: 1)
        let started = ContinuousClock.now
        let waiting = Task { try await store.execute("SELECT pg_sleep(300)") }
        try await Task.sleep(for: .milliseconds(300))
        store.stopReconnecting()
        let error = await #expect(throws: EventStoreError.self) { _ = try await waiting.value }
        #expect(error?.code == .connection || error?.code == .closed, "\(String(describing: error))")
        // Cut after 2 s (twice: the store retries once on a fresh session); loose for a loaded machine, where the
        // watchdog's thread can wake late — far below the statement's 300 s.
        #expect(started.duration(to: .now) < .seconds(120), "the statement was not cut")
        await store.shutdown()
        try await database.drop()
    }

    @Test func shutdownEndsTailsAndRefusesWork() async throws {
        let database = try await TestDatabase.create()
        let store = try await database.store(connections: 1)
        _ = try await store.append(stream: "s", expectedVersion: .any, events: [event()])
        let received = Mutex(0)
        let subscriber = Task {
            for try await _ in try store.tail(after: 0) { received.withLock { $0 += 1 } }
            return received.withLock { $0 }
        }
        // Shut down only once the tail is live, however slow the machine.
        while received.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        await store.shutdown()
        #expect(try await subscriber.value == 1)
        #expect(await errorCode { _ = try await store.headPosition() } == .closed)
        try await database.drop()
    }
}
