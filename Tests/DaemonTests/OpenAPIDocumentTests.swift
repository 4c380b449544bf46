import EventStore
import Foundation
import Logging
import RunBundle
import Testing

@testable import Daemon
@testable import Pipeline

/// The document e2hd serves at `/openapi.yaml` and the router it serves with name the same operations: a route
/// added without its description, or a description left behind by a removed route, fails here. (That every answer
/// conforms to the document is checked against a running daemon: `OpenAPIConformanceTests`.)
@Suite("OpenAPI document against the router")
struct OpenAPIDocumentTests {
    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// "GET /v1/runs/{id}" for every operation of the embedded document.
    static func documentedOperations() throws -> [String] {
        let text = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        let root = try #require(try YAMLReader(limits: YAMLLimits(maximumBytes: 4 << 20)).read(text))
        let paths = try #require(entries(of: root).first { $0.key == "paths" }?.value)
        var operations: [String] = []
        for (path, item) in entries(of: paths) {
            for (method, _) in entries(of: item) where methods.contains(method) {
                operations.append("\(method.uppercased()) \(path)")
            }
        }
        return operations.sorted()
    }

    /// A mapping's keys (scalars) and values, in document order; nothing for any other node.
    static func entries(of node: YAMLNode) -> [(key: String, value: YAMLNode)] {
        guard case .mapping(let pairs) = node.value else { return [] }
        return pairs.compactMap { pair in
            guard case .scalar(let key, _) = pair.key.value else { return nil }
            return (key, pair.value)
        }
    }

    /// The routes of the router e2hd builds, as "METHOD /path/{parameter}".
    static func registeredOperations() async throws -> [String] {
        let queue = try await TestDatabase.queue()
        let token = AccessToken(value: String(repeating: "ab", count: 32), origin: .existing)
        let router = APIRouter(
            token: token, metrics: DaemonMetrics(), queue: queue, readiness: DatabaseReadiness(),
            witness: LogWitness(stateDirectory: "/nonexistent", key: ReceiptKey(.init())),
            access: DashboardAccess(token: token, sessions: SessionStore(store: queue.store)), appended: WakeSignal(),
            logger: Logger(label: "test")
        ).build()
        let routes = router.routes.map { "\($0.method.rawValue) \($0.path)" }.sorted()
        await queue.store.shutdown()
        return routes
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() async throws {
        let documented = try Self.documentedOperations()
        let registered = try await Self.registeredOperations()
        #expect(Set(documented).count == documented.count, "an operation is described twice")
        let undocumented = registered.filter { !documented.contains($0) }
        let unrouted = documented.filter { !registered.contains($0) }
        #expect(undocumented.isEmpty, "routes missing from Sources/Daemon/API/openapi.yaml: \(undocumented)")
        #expect(unrouted.isEmpty, "operations openapi.yaml describes that e2hd does not route: \(unrouted)")
        // Not vacuous: both sides are read, and they hold the routes every client uses.
        for operation in ["GET /openapi.yaml", "POST /v1/runs", "GET /v1/runs/{id}/events", "GET /runs/{id}/live"] {
            #expect(documented.contains(operation) && registered.contains(operation), "\(operation)")
        }
    }

    @Test func theDocumentIsOpenAPI31WithBearerAuth() throws {
        let text = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
        let root = try #require(try YAMLReader(limits: YAMLLimits(maximumBytes: 4 << 20)).read(text))
        let top = Self.entries(of: root)
        guard case .scalar(let version, _)? = top.first(where: { $0.key == "openapi" })?.value.value else {
            Issue.record("no openapi version")
            return
        }
        #expect(version.hasPrefix("3.1."))
        let components = try #require(top.first { $0.key == "components" }?.value)
        let schemes = try #require(Self.entries(of: components).first { $0.key == "securitySchemes" }?.value)
        #expect(Self.entries(of: schemes).map(\.key).contains("bearerAuth"))
    }
}
