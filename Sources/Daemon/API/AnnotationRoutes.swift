import Hummingbird
import WireTypes

/// `GET` and `POST <path>/annotations` for runs and for groups: one pair of routes, the target found by `target`.
extension APIRouter {
    func addAnnotationRoutes(
        to api: RouterGroup<BasicRequestContext>, under path: String,
        target: @escaping @Sendable (BasicRequestContext) async throws -> AnnotationTarget
    ) {
        let annotations = RunAnnotations(queue: queue)
        api.get(RouterPath(path + "/annotations")) { _, context in
            try jsonResponse(try await annotations.annotations(of: try await target(context)))
        }
        api.post(RouterPath(path + "/annotations")) { request, context in
            let body = try await decodeBody(AnnotateRequest.self, from: request, limit: Self.specBodyLimit)
            return try jsonResponse(try await annotations.annotate(try await target(context), body))
        }
    }
}
