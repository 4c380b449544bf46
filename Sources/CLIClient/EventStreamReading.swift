import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WireTypes

extension DaemonClient {
    /// Reads a server-sent event stream of e2hd to its end, handing each message to `receive` as it arrives.
    /// Returns false, having read nothing, when the stream cannot be read here: the daemon has no such endpoint
    /// (404: an e2hd older than the stream) or its URL is not plain HTTP (what e2hd serves); a caller then falls
    /// back to polling.
    ///
    /// Over SwiftNIO rather than URLSession: FoundationNetworking's URLSession on Linux kept a core busy for as long
    /// as a streamed response stayed open (its socket's dispatch sources re-armed without pause), so `e2h follow`
    /// took a core from the run it followed.
    func readEventStream(
        _ path: String, query: [String: String], receive: (ServerSentEvent) throws -> Void
    ) async throws -> Bool {
        let target = try url(path, query: query)
        guard target.scheme == "http", let host = target.host,
            let components = URLComponents(url: target, resolvingAgainstBaseURL: false)
        else { return false }
        let port = target.port ?? 80
        var head = HTTPRequestHead(
            version: .http1_1, method: .GET,
            uri: components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? ""))
        head.headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        head.headers.add(name: "Accept", value: "text/event-stream")

        var status: Int?
        var refusal = Data()
        var reader = ServerSentEventReader()
        var ended = false
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // The daemon sends a keep-alive every 5 s, so a minute of silence is a dead connection.
                        try channel.pipeline.syncOperations.addHandlers(
                            IdleStateHandler(readTimeout: .seconds(60)), SilenceCloser())
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
                for try await part in inbound {
                    switch part {
                    case .head(let response):
                        status = Int(response.status.code)
                        if status == 404 { return }
                    case .body(let buffer) where (200..<300).contains(status ?? 0):
                        for message in reader.read(Data(buffer.readableBytesView)) { try receive(message) }
                    case .body(let buffer):
                        refusal.append(contentsOf: buffer.readableBytesView)
                    case .end:
                        ended = true
                        return
                    }
                }
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                .unreachable, "lost the connection to e2hd at \(baseURL.absoluteString) — is it running?",
                cause: error)
        }
        if status == 404 { return false }
        if let status, !(200..<300).contains(status) { throw Self.refusal(status: status, body: refusal) }
        if !ended {
            throw ClientError(
                .unreachable, "lost the connection to e2hd at \(baseURL.absoluteString) — is it running?")
        }
        return true
    }
}

/// Closes the connection when `IdleStateHandler` reports a read timeout: the stream then ends without its end.
private final class SilenceCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
