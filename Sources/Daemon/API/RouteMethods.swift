import Hummingbird

/// Which methods the router takes at a path: what turns the router's "no route" into 405 Method Not Allowed with an
/// `Allow` header when the path is one of the API's under another method (a `DELETE /v1/runs/ID` was a 404, as if
/// the run did not exist). A value built from the router's own routes, so it cannot drift from them.
struct RouteMethods: Sendable {
    private let routes: [(path: RouterPath, method: String)]

    init(_ routes: [(path: RouterPath, method: String)]) {
        self.routes = routes
    }

    init(_ router: Router<some RequestContext>) {
        self.init(router.routes.map { ($0.path, $0.method.rawValue) })
    }

    /// The methods routed at `path`, sorted; empty when no route's template matches it.
    func allowed(at path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.filter { route in
            route.path.components.count == segments.count
                && zip(route.path.components, segments).allSatisfy { template, segment in template ~= segment }
        }.map(\.method)
        return Set(methods).sorted()
    }
}

/// The router, with its 404 for a routed path under another method turned into a 405 that says which methods the
/// path takes (a page for the dashboard's paths, the API's JSON error otherwise, under the same request id).
struct MethodCheckedResponder<Inner: HTTPResponder>: HTTPResponder {
    let inner: Inner
    let methods: RouteMethods

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        let response = try await inner.respond(to: request, context: context)
        guard response.status == .notFound else { return response }
        let allowed = methods.allowed(at: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { return response }
        let requestID = response.headers[.init("x-request-id")!]
        var refusal = APIErrorMiddleware<BasicRequestContext>.failureResponse(
            path: request.uri.path, status: 405, code: "method_not_allowed",
            message: "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method.rawValue)",
            requestID: requestID ?? "")
        refusal.headers[.allow] = allowed.joined(separator: ", ")
        if let requestID { refusal.headers[.init("x-request-id")!] = requestID }
        return refusal
    }
}
