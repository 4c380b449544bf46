import EventStore
import Foundation
import Logging
import NeuralEngine
import ServiceLifecycle
import Synchronization

/// Whether the database answers, as `/readyz` reports it: the time of the last successful probe.
final class DatabaseReadiness: Sendable {
    /// A probe older than this means the database stopped answering (probes run every `probeInterval`).
    static let staleAfter: Duration = .seconds(5)
    static let probeInterval: Duration = .seconds(1)

    private let lastAnswer = Mutex<ContinuousClock.Instant?>(nil)

    func answered(at instant: ContinuousClock.Instant) { lastAnswer.withLock { $0 = instant } }

    var isReady: Bool {
        guard let last = lastAnswer.withLock({ $0 }) else { return false }
        return ContinuousClock.now - last < Self.staleAfter
    }
}

/// Probes the database every second (one probe at a time, so a hung server never ties up more than one
/// pooled session), and for the embedded cluster restarts a postmaster that died, with `RestartPolicy`'s
/// backoff. Sessions reconnect by themselves (`reconnectTimeout`), so work in flight rides out a restart; a
/// server that keeps dying ends the daemon with an error, and the cluster is then stopped on the way out.
struct DatabaseSupervisor: Service {
    let store: EventStore
    let embedded: EmbeddedPostgres?
    let readiness: DatabaseReadiness
    let logger: Logger

    func run() async throws {
        var policy = RestartPolicy()
        let origin = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let embedded, !embedded.isRunning() {
                switch policy.died(at: ContinuousClock.now - origin) {
                case .giveUp(let deaths):
                    // Work blocked in a reconnect must fail now, or it outlives the group's cancellation budget.
                    store.stopReconnecting()
                    throw DaemonError(
                        .embeddedDatabase,
                        "the embedded PostgreSQL died \(deaths) times in \(policy.window); giving up — see "
                            + "\(embedded.clusterDirectory)/server.log")
                case .restart(let backoff):
                    logger.error("the embedded PostgreSQL died; restarting it", metadata: ["after": "\(backoff)"])
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: backoff) }
                    if Task.isShuttingDownGracefully { return }
                    do {
                        // pg_ctl and pg_isready block for seconds: not on Swift's cooperative pool.
                        _ = try await ComputePool(threads: 1).run { try embedded.start() }
                        logger.notice("embedded PostgreSQL restarted")
                    } catch {
                        logger.error("restarting the embedded PostgreSQL failed", metadata: ["error": "\(error)"])
                        continue
                    }
                }
            }
            do {
                _ = try await store.execute("SELECT 1")
                readiness.answered(at: .now)
            } catch {
                logger.warning("the database did not answer a readiness probe", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: DatabaseReadiness.probeInterval) }
        }
    }

}
