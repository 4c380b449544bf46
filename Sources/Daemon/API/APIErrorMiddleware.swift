import EventStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import WireTypes

/// Turns every failure into `{"error": {"code", "message"}}` with the status its code says.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as DaemonError {
            if error.code.httpStatus >= 500 {
                logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return Self.response(
                status: error.code.httpStatus, code: error.code.rawValue, message: error.message,
                diagnostics: error.diagnostics.isEmpty ? nil : error.diagnostics)
        } catch let error as EventStoreError {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.response(
                status: DaemonError.Code.database.httpStatus, code: DaemonError.Code.database.rawValue,
                message: "the database failed: \(error.message) — see the daemon's log")
        } catch is NIOTooManyBytesError {
            return Self.response(
                status: 413, code: DaemonError.Code.bodyTooLarge.rawValue,
                message: "the request body is larger than the limit (a spec may be at most 1 MiB)")
        } catch let error as HTTPError {
            let code = error.status.code == 404 ? "not_found" : "http_\(error.status.code)"
            return Self.response(
                status: error.status.code, code: code, message: error.body ?? error.status.reasonPhrase)
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.response(status: 500, code: DaemonError.Code.internalError.rawValue, message: "\(error)")
        }
    }

    static func response(status: Int, code: String, message: String, diagnostics: [String]? = nil) -> Response {
        let envelope = ErrorEnvelope(code: code, message: message, diagnostics: diagnostics)
        let data = (try? StateDirectory.jsonEncoder.encode(envelope)) ?? Data()
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Bearer-token check for every route behind it.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: AccessToken

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), token.matches(String(header.dropFirst(prefix.count))) else {
            throw DaemonError(
                .unauthorized,
                "missing or wrong bearer token — e2h reads it from the daemon's state directory (token file), or pass --token"
            )
        }
        return try await next(request, context)
    }
}

/// A JSON body, encoded with the wire conventions (ISO 8601 dates, sorted keys).
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try StateDirectory.jsonEncoder.encode(value)
    return Response(
        status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Reads and decodes a JSON body of at most `limit` bytes (larger → 413).
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
    let buffer = try await request.body.collect(upTo: limit)
    do {
        return try StateDirectory.jsonDecoder.decode(T.self, from: Data(buffer.readableBytesView))
    } catch {
        throw DaemonError(.badRequest, "the request body is not the expected JSON: \(error)")
    }
}
