import EventStore
import Foundation
import Hummingbird
import Logging
import RunBundle
import ServiceLifecycle
import WireTypes

/// One e2hd process: state directory, database, HTTP API and workers, under one ServiceGroup that drains on
/// SIGTERM/SIGINT.
public struct Daemon: Sendable {
    let settings: DaemonSettings
    let logger: Logger

    public init(settings: DaemonSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        let lock = try StateDirectoryLock(stateDirectory: settings.stateDirectory)
        let token = try AccessToken.loadOrCreate(stateDirectory: settings.stateDirectory)
        if case .replaced(let reason) = token.origin {
            logger.warning("\(reason); a new token was written (clients read it from the state directory)")
        }
        let receiptKey = try ReceiptKey.loadOrCreate(stateDirectory: settings.stateDirectory)
        var embedded: EmbeddedPostgres?
        let url: String
        if let databaseURL = settings.databaseURL {
            url = databaseURL
        } else {
            let cluster = try EmbeddedPostgres(stateDirectory: settings.stateDirectory, logger: logger)
            url = try cluster.start()
            embedded = cluster
        }
        defer { embedded?.stop() }

        let store: EventStore
        do {
            var configuration = EventStoreConfiguration()
            // Every daemon transaction is a few statements sent back to back. One left open is a stalled
            // process (SIGSTOP, swapped out) holding its run's row lock, which would keep the reaper from
            // requeuing the run: end such sessions within a lease.
            configuration.idleInTransactionTimeout = min(settings.lease, .seconds(60))
            store = try await EventStore(
                url: url, connections: Self.connections(workers: settings.workers), configuration: configuration,
                logger: logger)
        } catch {
            throw DaemonError(.database, "cannot connect to the database — check --database-url", cause: error)
        }
        do {
            let applied = try await Queue.migrate(store)
            if applied.values.contains(where: { !$0.isEmpty }) {
                logger.info("migrations applied", metadata: ["versions": "\(applied.sorted { $0.key < $1.key })"])
            }
        } catch {
            await store.shutdown()
            throw DaemonError(.database, "migrating the database failed", cause: error)
        }
        try await Self.checkConnections(store, workers: settings.workers)
        if embedded != nil { try await Self.endLeasesOfTheDead(store) }

        // Read the machine's description (/proc/cpuinfo, uname) now, not inside the first claim's transaction.
        _ = HostProvenance.machine
        let metrics = DaemonMetrics()
        let queue = Queue(store: store, settings: settings, metrics: metrics, logger: logger)
        let workers = WorkerPool(queue: queue)
        let reaper = LeaseReaper(queue: queue)
        let readiness = DatabaseReadiness()
        let appended = WakeSignal()
        let outbox = WakeSignal()
        let supervisor = DatabaseSupervisor(store: store, embedded: embedded, readiness: readiness, logger: logger)
        do {
            // A lost notification (nil: the listening session reconnected) wakes the workers too: they re-check.
            try store.onNotification(QueueChannel.runnable.rawValue) { _ in workers.runnable.wake() }
            try store.onNotification(QueueChannel.cancelRequested.rawValue) { run in
                if let run { workers.cancelLocally(run: run) }
            }
            // The event log's own channel (its migration NOTIFYs on every commit); a lost notification (nil)
            // wakes the live pages too, which re-read.
            try store.onNotification(EventStore.appendedChannel) { _ in appended.wake() }
            try store.onNotification(HookOutbox.channel) { _ in outbox.wake() }
            // A heartbeat's progress report moves the live streams' progress line as a commit does.
            try store.onNotification(QueueChannel.progressed.rawValue) { _ in appended.wake() }
        } catch {
            await store.shutdown()
            throw DaemonError(.database, "cannot listen for the queue's notifications", cause: error)
        }
        let witness = LogWitness(stateDirectory: settings.stateDirectory, key: receiptKey)
        let access = DashboardAccess(token: token, sessions: SessionStore(store: store))
        let router = APIRouter(
            token: token, metrics: metrics, queue: queue, readiness: readiness, witness: witness, access: access,
            appended: appended, logger: logger
        ).build()
        let stateDirectory = settings.stateDirectory
        let host = settings.host
        let logger = self.logger
        let app = Application(
            responder: MethodCheckedResponder(inner: router.buildResponder(), methods: RouteMethods(router)),
            // A connection that sends nothing for a minute is closed, a stalled upload too (a response being written,
            // such as a stream, is not idle): without it an idle socket was held for ever, and enough of them would
            // take the daemon's file descriptors.
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "e2hd"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let endpoint = DaemonEndpoint(url: "http://\(host):\(port)", pid: getpid())
                do {
                    try lock.publish(endpoint: endpoint, stateDirectory: stateDirectory)
                    logger.info("e2hd listening", metadata: ["url": "\(endpoint.url)"])
                    // The one place a sign-in link is printed unasked; `e2h open` makes new ones.
                    logger.notice("dashboard sign-in (one-time, 1 h): \(endpoint.url)\(access.mintLink().pathAndQuery)")
                } catch {
                    logger.error("cannot write the endpoint file: \(error)")
                }
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(
            // Shut down in reverse: workers first (checkpoint, RunInterrupted, release), the API last.
            services: [
                .init(service: app), .init(service: supervisor), .init(service: reaper),
                .init(service: LogWitnessService(witness: witness, store: store, logger: logger)),
                .init(service: HookSender(queue: queue, outbox: outbox)),
            ]
                + (settings.workers > 0 ? [.init(service: workers)] : [])
                + [
                    .init(
                        service: ReconnectDeadline(store: store, after: .seconds(20)),
                        successTerminationBehavior: .ignore)
                ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // The promise is an exit within 30 s: past 25 s of draining, cancel; the embedded server stops after.
        configuration.maximumGracefulShutdownDuration = .seconds(25)
        configuration.maximumCancellationDuration = .seconds(2)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            lock.withdraw(stateDirectory: stateDirectory)
            await store.shutdown()
            throw error
        }
        lock.withdraw(stateDirectory: stateDirectory)
        await store.shutdown()
        logger.info("e2hd stopped")
    }

    /// The sessions this daemon opens (two a worker, four for the API and the reaper, one listening) must fit in
    /// what the database allows: `--workers 60` on the embedded server (100 connections) failed claims, attempts
    /// and API requests with "too many clients" instead of refusing to start.
    static func checkConnections(_ store: EventStore, workers: Int) async throws {
        let rows = try await store.execute(
            """
            SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                AS allowed
            """)
        let needed = Self.connections(workers: workers) + 1
        guard let allowed = try rows.int(0, "allowed"), needed > allowed else { return }
        await store.shutdown()
        throw DaemonError(
            .badRequest,
            "--workers \(workers) needs \(needed) database sessions, and the database allows \(allowed) "
                + "(max_connections less the reserved ones): lower --workers to at most \(max(0, (allowed - 5) / 2)), "
                + "or raise max_connections")
    }

    /// With the embedded server no other daemon can hold a lease on this database (its socket lies in this state
    /// directory, which this process has locked): a run still running was left by a daemon that died, and its lease
    /// ends now, so the reaper's first sweep takes it back rather than one a lease later (`e2h show` showed it
    /// running, with its last progress, for 90 s).
    static func endLeasesOfTheDead(_ store: EventStore) async throws {
        try await store.execute(
            "UPDATE runs SET lease_expires_at = now() WHERE state = 'running' AND lease_expires_at > now()")
    }

    /// The pool's sessions for `workers` workers: each appends while its heartbeat renews; the API and the reaper
    /// need their own.
    static func connections(workers: Int) -> Int { 2 * workers + 4 }
}
