import Foundation
import Hummingbird
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An e2hd as it was before the event stream, made from a real one: a proxy that forwards every request to the
/// daemon, except `GET /v1/runs/:id/stream`, which it answers 404 as a daemon without that route does. Records
/// the paths it was asked for, so a test sees which way a client went.
final class OlderDaemonProxy: Sendable {
    let upstream: String
    private let requested = Mutex<[String]>([])
    private let server = Mutex<Task<Void, any Error>?>(nil)

    init(upstream: String) {
        self.upstream = upstream
    }

    var paths: [String] { requested.withLock { $0 } }

    /// Starts serving on a free port of 127.0.0.1 and returns its URL.
    func start() async throws -> String {
        let router = Router()
        router.get("**") { request, _ in try await self.forward(request) }
        router.post("**") { request, _ in try await self.forward(request) }
        let (ports, port) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0) })
        server.withLock { $0 = Task { try await app.runService() } }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw E2EError("the proxy did not start") }
        return "http://127.0.0.1:\(bound)"
    }

    func stop() { server.withLock { $0?.cancel() } }

    private func forward(_ request: Request) async throws -> Response {
        let path = request.uri.path
        requested.withLock { $0.append(path) }
        if path.hasPrefix("/v1/runs/") && path.hasSuffix("/stream") {
            return Response(status: .notFound)
        }
        var forwarded = URLRequest(url: URL(string: upstream + request.uri.description)!)
        forwarded.httpMethod = request.method.rawValue
        forwarded.setValue(request.headers[.authorization], forHTTPHeaderField: "Authorization")
        if request.method == .post {
            forwarded.httpBody = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            forwarded.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: forwarded)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 502
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
