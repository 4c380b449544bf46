import Hummingbird
import WireTypes

/// `/v1/hooks`: register a webhook (its secret is returned this once), list them with how their deliveries went,
/// remove one.
extension APIRouter {
    func addHookRoutes(to api: RouterGroup<BasicRequestContext>) {
        let registry = HookRegistry(queue: queue)
        api.post("/v1/hooks") { request, _ in
            let hook = try await decodeBody(HookRequest.self, from: request, limit: 64 << 10)
            return try jsonResponse(try await registry.add(hook), status: .created)
        }
        api.get("/v1/hooks") { _, _ in
            try jsonResponse(HookList(hooks: try await registry.list()))
        }
        api.delete("/v1/hooks/:id") { _, context in
            try await registry.remove(try context.parameters.decoded("id"))
            return Response(status: .noContent)
        }
    }
}
