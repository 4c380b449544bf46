import Foundation
import Hummingbird
import Logging
import WireTypes

/// The HTTP JSON API. `/healthz` is open; everything else needs the bearer token.
struct APIRouter {
    /// A spec is at most 1 MiB; the JSON envelope around it adds a little.
    static let specBodyLimit = 1 << 20 + 64 << 10

    let token: AccessToken
    let metrics: DaemonMetrics
    let logger: Logger

    func build() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(logger: logger))
        router.get("/healthz") { _, _ in
            try jsonResponse(["status": "ok"])
        }
        let api = router.group().add(middleware: BearerAuthMiddleware(token: token))
        api.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition(runsByState: [], queueDepth: 0))))
        }
        return router
    }
}
