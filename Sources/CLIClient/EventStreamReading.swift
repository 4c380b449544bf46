import Foundation
import WireTypes

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension DaemonClient {
    /// Reads a server-sent event stream of e2hd to its end, handing each message to `receive` as it arrives.
    /// Returns false, having read nothing, when the daemon has no such endpoint (404: an e2hd older than the
    /// stream); a caller then falls back to polling.
    func readEventStream(
        _ path: String, query: [String: String], receive: (ServerSentEvent) throws -> Void
    ) async throws -> Bool {
        let (parts, continuation) = AsyncThrowingStream<StreamPart, any Error>.makeStream()
        let configuration = URLSessionConfiguration.default
        // The daemon sends a keep-alive every 5 s, so a minute of silence is a dead connection; the stream itself
        // lasts as long as the run does.
        configuration.timeoutIntervalForRequest = 60
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        let streamSession = URLSession(
            configuration: configuration, delegate: StreamReceiver(continuation), delegateQueue: nil)
        var request = URLRequest(url: url(path, query: query))
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        let task = streamSession.dataTask(with: request)
        continuation.onTermination = { _ in
            task.cancel()
            streamSession.finishTasksAndInvalidate()
        }
        task.resume()
        defer { continuation.finish() }

        var status: Int?
        var refusal = Data()
        var reader = ServerSentEventReader()
        do {
            for try await part in parts {
                switch part {
                case .head(let code):
                    status = code
                    if code == 404 { return false }
                case .bytes(let data) where (200..<300).contains(status ?? 0):
                    for message in reader.read(data) { try receive(message) }
                case .bytes(let data):
                    refusal.append(data)
                }
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(
                .unreachable, "lost the connection to e2hd at \(baseURL.absoluteString) — is it running?",
                cause: error)
        }
        if let status, !(200..<300).contains(status) { throw Self.refusal(status: status, body: refusal) }
        return true
    }
}

/// What a streamed response delivers, in order: its status, then its body's bytes as they come.
enum StreamPart: Sendable {
    case head(Int)
    case bytes(Data)
}

/// URLSession's callbacks for one streamed response, turned into `StreamPart`s (FoundationNetworking has no
/// `bytes(for:)`).
final class StreamReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // Only the continuation, which is Sendable, is shared: hence @unchecked for NSObject's sake.
    private let parts: AsyncThrowingStream<StreamPart, any Error>.Continuation

    init(_ parts: AsyncThrowingStream<StreamPart, any Error>.Continuation) {
        self.parts = parts
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        parts.yield(.head((response as? HTTPURLResponse)?.statusCode ?? 0))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        parts.yield(.bytes(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        parts.finish(throwing: error)
    }
}
