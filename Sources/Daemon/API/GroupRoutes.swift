import Hummingbird
import WireTypes

/// `/v1/groups`: submit a sweep as one group, list groups, show one, cancel or resume every member, and annotate.
extension APIRouter {
    func addGroupRoutes(to api: RouterGroup<BasicRequestContext>) {
        api.post("/v1/groups") { request, _ in
            let submit = try await decodeBody(GroupSubmitRequest.self, from: request, limit: Self.specBodyLimit)
            guard submit.yaml.utf8.count <= 1 << 20 else {
                throw DaemonError(.bodyTooLarge, "the spec is larger than 1 MiB")
            }
            let response = try await GroupSubmission(queue: queue).submit(submit)
            return try jsonResponse(response, status: response.created ? .created : .ok)
        }
        api.get("/v1/groups") { request, _ in
            let limit = try QueryParameters(request).integer("limit", default: 50, in: 1...1000)
            return try jsonResponse(GroupList(groups: try await GroupCatalog(queue: queue).list(limit: limit)))
        }
        api.get("/v1/groups/:id") { _, context in
            try jsonResponse(try await GroupCatalog(queue: queue).details(try await groupID(context)))
        }
        api.post("/v1/groups/:id/cancel") { _, context in
            try jsonResponse(try await GroupControl(queue: queue).cancel(try await groupID(context)))
        }
        api.post("/v1/groups/:id/resume") { _, context in
            try jsonResponse(try await GroupControl(queue: queue).resume(try await groupID(context)))
        }
        api.get("/v1/groups/:id/select") { request, context in
            guard let row = QueryParameters(request).string("max") else {
                throw DaemonError(.badRequest, "name the row to maximize: ?max=validation:sft/pass@1")
            }
            return try jsonResponse(
                try await GroupSelection(queue: queue).select(try await groupID(context), maximizing: row))
        }
        addAnnotationRoutes(to: api, under: "/v1/groups/:id") { .group(try await groupID($0)) }
    }

    private func groupID(_ context: BasicRequestContext) async throws -> String {
        try await GroupCatalog(queue: queue).resolve(try context.parameters.decoded("id"))
    }
}
