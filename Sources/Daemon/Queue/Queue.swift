import EventStore
import Logging

/// What every part of the queue works with: the store whose `runs` table is the queue's state and whose run
/// streams are its audit trail, the lifecycle's policy, and this daemon's counters and log.
public struct Queue: Sendable {
    public let store: EventStore
    let settings: DaemonSettings
    let metrics: DaemonMetrics
    let logger: Logger
    /// Shared by this daemon's workers and reaper.
    let unrecordedEnds = UnrecordedEnds()

    public init(store: EventStore, settings: DaemonSettings, metrics: DaemonMetrics, logger: Logger) {
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    var policy: RunLifecycle.Policy {
        RunLifecycle.Policy(leaseSeconds: settings.lease.seconds, backoffSeconds: settings.backoff)
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}

/// What the queue announces through NOTIFY, so that nobody waits for a poll: a run became claimable (idle workers
/// of every daemon claim at once), a cancel was requested (the holder's daemon stops the run at once, not at its next
/// heartbeat), a run's progress moved (live streams push it at once). Polling stays the fallback: a notification can
/// be lost.
enum QueueChannel: String, CaseIterable {
    /// Payload: the run's id.
    case runnable = "e2h_run_runnable"
    /// Payload: the run's id.
    case cancelRequested = "e2h_run_cancel_requested"
    /// A heartbeat stored a running run's progress (a commit to the event log announces itself on the store's
    /// own channel). Payload: the run's id.
    case progressed = "e2h_run_progressed"

    func notify(_ tx: Transaction, run: String) throws { try tx.notify(rawValue, payload: run) }
}

extension MigrationSet {
    /// The daemon's tables (the queue), recorded apart from the store's.
    static let daemon = MigrationSet(ledger: "daemon_migrations", migrations: DaemonMigrations.bundled)
}

extension Queue {
    /// Brings a database up to this daemon's schema: the queue's migrations first, because the first of them
    /// adopts a queue that an older e2h created as the store's migration 0002 (see migrations/daemon/0001), then
    /// the store's. Returns the versions applied, by ledger.
    public static func migrate(_ store: EventStore) async throws -> [String: [Int]] {
        let daemon = try await store.migrate(.daemon)
        let eventStore = try await store.migrate()
        return [MigrationSet.daemon.ledger: daemon, MigrationSet.eventStore.ledger: eventStore]
    }
}
