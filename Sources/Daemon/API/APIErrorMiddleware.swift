import Dashboard
import EventStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import RunBundle
import WireTypes

/// Gives every request an id (the `x-request-id` response header) and turns every failure into
/// `{"error": {"code", "message", "requestId"}}` with the status its code says. What a client reads is ours
/// and says what to do; database and file-system text goes only to the log, under the same id.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let id = String(UUID().uuidString.lowercased().prefix(8))
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let failure = APIFailure.of(error, requestID: id)
            // The database's text is only logged, a refused value's too (`APIFailure`).
            if failure.status >= 500 || error is EventStoreError {
                logger.error(
                    "request failed",
                    metadata: ["request": "\(id)", "path": "\(request.uri.path)", "error": "\(error)"])
            }
            response = Self.failureResponse(
                path: request.uri.path, status: failure.status, code: failure.code, message: failure.message,
                diagnostics: failure.diagnostics, requestID: id)
        }
        response.headers[.init("x-request-id")!] = id
        return response
    }

    /// A failure's answer: a browser that asked for a page gets one, with the same message and id; any other client
    /// the JSON error.
    static func failureResponse(
        path: String, status: Int, code: String, message: String, diagnostics: [String]? = nil, requestID: String
    ) -> Response {
        DashboardRoutes.isPage(path)
            ? DashboardRoutes.page(
                NoticePage.error(status: status, message: message, requestID: requestID), status: .init(code: status))
            : response(status: status, code: code, message: message, diagnostics: diagnostics, requestID: requestID)
    }

    static func response(
        status: Int, code: String, message: String, diagnostics: [String]? = nil, requestID: String? = nil
    ) -> Response {
        let envelope = ErrorEnvelope(code: code, message: message, diagnostics: diagnostics, requestId: requestID)
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

/// How much of an oversized body is read and thrown away before the 413, so that the client, still sending,
/// reads the answer instead of a reset connection. Past it the connection is closed.
let oversizedBodyDrainLimit = 64 << 20

/// Reads and decodes a JSON body of at most `limit` bytes (larger → 413, after draining the rest).
func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
    let tooLarge = DaemonError(
        .bodyTooLarge, "the request body is larger than the limit of \(limit) bytes (a spec may be at most 1 MiB)")
    if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit + oversizedBodyDrainLimit {
        throw tooLarge
    }
    var collected = ByteBuffer()
    var drained = 0
    for try await var chunk in request.body {
        if drained > 0 || collected.readableBytes + chunk.readableBytes > limit {
            drained += chunk.readableBytes
            if drained > oversizedBodyDrainLimit { break }
            continue
        }
        collected.writeBuffer(&chunk)
    }
    if drained > 0 { throw tooLarge }
    do {
        return try StateDirectory.jsonDecoder.decode(T.self, from: Data(collected.readableBytesView))
    } catch {
        throw DaemonError(.badRequest, "the request body is not the expected JSON: \(error)")
    }
}

/// What a client is told about a failure: the status and code its kind says, and a message that says what to do.
enum APIFailure {
    /// What a client is told about `error`.
    static func of(
        _ error: any Error, requestID: String
    ) -> (
        status: Int, code: String, message: String, diagnostics: [String]?
    ) {
        switch error {
        case let error as DaemonError:
            return (
                error.code.httpStatus, error.code.rawValue, error.message,
                error.diagnostics.isEmpty ? nil : error.diagnostics
            )
        case let error as BundleError:
            return of(DaemonError(error), requestID: requestID)
        case let error as EventStoreError:
            // What the request itself got wrong is not the database's failure: retrying it cannot succeed.
            if error.code == .invalidArgument || error.sqlState?.hasPrefix("22") == true {
                return of(
                    DaemonError(
                        .badRequest,
                        "the database cannot store a value of this request (request \(requestID) in the daemon's log "
                            + "says which): remove NUL bytes and other control characters from its text and keep its "
                            + "numbers in range"),
                    requestID: requestID)
            }
            if error.code == .duplicateEventID {
                return of(
                    DaemonError(
                        .conflict,
                        "events of this request are already stored under their ids; an import of a run this "
                            + "database holds (under this id or another) changes nothing"),
                    requestID: requestID)
            }
            let code = DaemonError.Code.database
            let message =
                switch error.code {
                case .diskFull:
                    "the database's disk is full: free space where its data lives, then retry"
                case .connection, .closed, .timeout:
                    "the database did not answer; retry shortly (the daemon reconnects by itself)"
                default:
                    "the database refused the operation; retry, and if it persists look up request \(requestID) "
                        + "in the daemon's log"
                }
            return (code.httpStatus, code.rawValue, message, nil)
        case is NIOTooManyBytesError:
            return (
                DaemonError.Code.bodyTooLarge.httpStatus, DaemonError.Code.bodyTooLarge.rawValue,
                "the request body is larger than this route takes (a spec may be at most 1 MiB, a dashboard form "
                    + "16 KiB)", nil
            )
        case let error as HTTPError:
            let code = error.status.code == 404 ? "not_found" : "http_\(error.status.code)"
            return (error.status.code, code, error.body ?? error.status.reasonPhrase, nil)
        default:
            return (
                500, DaemonError.Code.internalError.rawValue,
                "the daemon failed unexpectedly; look up request \(requestID) in its log", nil
            )
        }
    }
}
