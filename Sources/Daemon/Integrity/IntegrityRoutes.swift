import Hummingbird
import WireTypes

/// Receipts and whole-log verification: `GET /v1/runs/:id/receipt`, `POST /v1/runs/:id/verify` (a receipt as the
/// body), `GET /v1/verify`.
extension APIRouter {
    func addIntegrityRoutes(to api: RouterGroup<BasicRequestContext>) {
        let integrity = RunIntegrity(queue: queue, witness: witness)
        api.get("/v1/runs/:id/receipt") { _, context in
            try jsonResponse(try await integrity.receipt(try await runID(context)))
        }
        api.post("/v1/runs/:id/verify") { request, context in
            let receipt = try await decodeBody(SignedReceipt.self, from: request, limit: 64 << 10)
            return try jsonResponse(try await integrity.verify(try await runID(context), against: receipt))
        }
        api.get("/v1/verify") { _, _ in
            try jsonResponse(try await integrity.verifyAll())
        }
    }
}
