import AsyncHTTPClient
import Foundation
import NIOFoundationCompat
import NIOHTTP1
import WireTypes

extension DaemonClient {
    /// Reads a server-sent event stream of e2hd to its end, handing each message to `receive` as it arrives.
    /// Returns false, having read nothing, when the daemon has no such endpoint (404: an e2hd older than the
    /// stream); a caller then falls back to polling. The daemon sends a keep-alive every 5 s, so the client's
    /// silence limit (a minute at least) ends a stream whose daemon is gone.
    func readEventStream(
        _ path: String, query: [String: String], receive: (ServerSentEvent) throws -> Void
    ) async throws -> Bool {
        var request = try request(.GET, path, query: query)
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await execute(request, deadline: nil)
        if response.status == .notFound { return false }
        try await check(response)
        var reader = ServerSentEventReader()
        do {
            for try await piece in response.body {
                for message in reader.read(Data(buffer: piece)) { try receive(message) }
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                .unreachable, "lost the connection to e2hd at \(baseURL.absoluteString) — is it running?",
                cause: error)
        }
        return true
    }
}
