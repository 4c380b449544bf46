import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import WireTypes

/// One e2hd process: state directory, database, HTTP API and workers, under one ServiceGroup that drains on
/// SIGTERM/SIGINT.
struct Daemon {
    let settings: DaemonSettings
    let logger: Logger

    func run() async throws {
        let lock = try StateDirectoryLock(stateDirectory: settings.stateDirectory)
        let token = try AccessToken.loadOrCreate(stateDirectory: settings.stateDirectory)
        var embedded: EmbeddedPostgres?
        if settings.databaseURL == nil {
            let cluster = try EmbeddedPostgres(stateDirectory: settings.stateDirectory, logger: logger)
            _ = try cluster.start()
            embedded = cluster
        }
        defer { embedded?.stop() }

        let metrics = DaemonMetrics()
        let router = APIRouter(token: token, metrics: metrics, logger: logger).build()
        let stateDirectory = settings.stateDirectory
        let host = settings.host
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "e2hd"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let endpoint = DaemonEndpoint(url: "http://\(host):\(port)", pid: getpid())
                do {
                    try lock.publish(endpoint: endpoint, stateDirectory: stateDirectory)
                    logger.info("e2hd listening", metadata: ["url": "\(endpoint.url)"])
                } catch {
                    logger.error("cannot write the endpoint file: \(error)")
                }
            },
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        lock.withdraw(stateDirectory: stateDirectory)
        logger.info("e2hd stopped")
    }
}
