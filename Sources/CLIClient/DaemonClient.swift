import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OutboundHTTP
import WireTypes

/// Options every command that talks to e2hd shares.
struct ConnectionOptions: Sendable {
    var url: String?
    var token: String?
    var stateDir: String?

    /// `--state-dir`, else `E2H_STATE_DIR`, else the default path.
    func stateDirectory(_ environment: ClientEnvironment = .current) -> String {
        stateDir ?? environment.text(ClientEnvironment.stateDir) ?? StateDirectory.defaultPath()
    }
}

/// HTTP calls to e2hd with the bearer token; failures become `ClientError`s with the right exit code.
struct DaemonClient: Sendable {
    let baseURL: URL
    let token: String
    /// The proxy its requests go through (`http_proxy` and the rest); nil when they go directly.
    let proxy: ProxyEnvironment.Proxy?
    /// How long a request may take (`E2H_TIMEOUT`, 60 s); also how long `follow` waits for a lost daemon to return.
    let requestTimeout: Duration
    private let http: HTTPClient
    /// How this client was found, when it was found through the state directory's endpoint file: a daemon
    /// restarted on another port (`--port 0`) is found there again (`rediscovered`).
    private let discovery: (options: ConnectionOptions, environment: ClientEnvironment)?

    /// Finds the daemon: `--url`/`--token` first, then `E2H_URL`/`E2H_TOKEN`, then the state directory's
    /// endpoint and token files.
    init(options: ConnectionOptions, environment: ClientEnvironment = .current) throws {
        let stateDirectory = options.stateDirectory(environment)
        var urlText = options.url ?? environment.text(ClientEnvironment.url)
        if let given = urlText {
            // A URL the user gave that is not one is their mistake to fix, not a daemon that cannot be reached.
            guard let url = URL(string: given), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host?.isEmpty == false
            else {
                throw ClientError(
                    .usage,
                    "'\(given.prefix(200))' (--url or E2H_URL) is not an http(s) URL with a host — give one such as "
                        + "http://127.0.0.1:8080")
            }
        } else {
            urlText = try Self.endpointURL(in: stateDirectory)
        }
        discovery = options.url == nil && environment.text(ClientEnvironment.url) == nil ? (options, environment) : nil
        guard let urlText, let url = URL(string: urlText) else {
            throw ClientError(
                .unreachable,
                "no running e2hd found (no \(StateDirectory.endpointFile) in \(stateDirectory)) — start it with `e2hd`, or pass --url"
            )
        }
        var tokenText = options.token ?? environment.text(ClientEnvironment.token)
        if tokenText == nil {
            let file = (stateDirectory as NSString).appendingPathComponent(StateDirectory.tokenFile)
            tokenText = (try? String(contentsOfFile: file, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let tokenText else {
            throw ClientError(
                .usage, "no token: cannot read \(stateDirectory)/\(StateDirectory.tokenFile) — pass --token")
        }
        baseURL = url
        token = tokenText
        requestTimeout = .seconds(environment.requestTimeout)
        proxy = try environment.proxy(for: url)
        // Every request is answered in seconds: the longest is a long-poll of events, held at most 30 s by the daemon,
        // and a stream sends a keep-alive every 5 s, so a minute of silence is a lost daemon. A request's own time
        // (`E2H_TIMEOUT`) runs until its answer's head; a transfer (export, import, a stream) may take as long as its
        // bytes keep coming.
        http = OutboundClient.client(
            .init(
                connectSeconds: 10, readSeconds: max(60, Int64(environment.requestTimeout.rounded(.up))),
                proxy: proxy))
    }

    /// The daemon as the endpoint file names it now, when this client was found through it and the file names
    /// another address; nil otherwise. Only the file is read until it names another address: `follow` asks on every
    /// retry of an outage.
    func rediscovered() -> DaemonClient? {
        guard let discovery,
            let named = try? Self.endpointURL(in: discovery.options.stateDirectory(discovery.environment)),
            URL(string: named) != baseURL
        else { return nil }
        return try? DaemonClient(options: discovery.options, environment: discovery.environment)
    }

    /// The URL the state directory's endpoint file names; nil without one.
    private static func endpointURL(in stateDirectory: String) throws -> String? {
        let file = (stateDirectory as NSString).appendingPathComponent(StateDirectory.endpointFile)
        guard let data = FileManager.default.contents(atPath: file),
            let endpoint = try? StateDirectory.jsonDecoder.decode(DaemonEndpoint.self, from: data)
        else { return nil }
        // A daemon that crashed (kill -9) leaves its endpoint behind, and whatever listens on that port now would be
        // sent the token. On this machine (a loopback URL) the pid tells whether it still runs.
        if isLoopback(endpoint.url), kill(endpoint.pid, 0) != 0, errno == ESRCH {
            throw ClientError(
                .unreachable,
                "no running e2hd: \(file) names pid \(endpoint.pid), which has exited (a crash left the file behind) "
                    + "— start it with `e2hd`")
        }
        return endpoint.url
    }

    func get<T: Decodable>(_ path: String, query: [String: String] = [:], as type: T.Type) async throws -> T {
        try decode(T.self, from: await send(.GET, path, query: query, body: nil))
    }

    func post<T: Decodable>(_ path: String, body: some Encodable, as type: T.Type) async throws -> T {
        let data = try StateDirectory.jsonEncoder.encode(body)
        return try decode(T.self, from: await send(.POST, path, query: [:], body: data))
    }

    func delete(_ path: String) async throws {
        _ = try await send(.DELETE, path, query: [:], body: nil)
    }

    func getRaw(_ path: String) async throws -> Data {
        try await send(.GET, path, query: [:], body: nil)
    }

    /// Whether e2hd answers `path` (`healthz`, `readyz`) with 200 within 5 s.
    func answersOK(at path: String) async -> Bool {
        guard let request = try? request(.GET, path, query: [:]),
            let response = try? await execute(request, deadline: .seconds(5))
        else { return false }
        return response.status == .ok
    }

    /// GET into a temporary file as the bytes arrive (an export of any size, in constant memory); the caller moves
    /// or removes the file.
    func download(_ path: String, query: [String: String] = [:]) async throws -> URL {
        let response = try await execute(try request(.GET, path, query: query), deadline: nil)
        try await check(response)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("e2h-download-\(UUID().uuidString)")
        do {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw ClientError(.failure, "cannot write \(file.path): \(String(cString: strerror(errno)))")
            }
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            var pieces = response.body.makeAsyncIterator()
            while true {
                // A failure to read is the daemon's side; a failure to write (a full disk) is this machine's.
                let piece: ByteBuffer?
                do { piece = try await pieces.next() } catch { throw unreachable(error) }
                guard let piece else { break }
                try handle.write(contentsOf: Data(buffer: piece))
            }
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        return file
    }

    /// POST a file as the body, streamed from disk (an import of any size, in constant memory).
    func upload<T: Decodable>(_ path: String, file: String, as type: T.Type) async throws -> T {
        try requireReadableFile(file)
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0
        var request = try request(.POST, path, query: [:])
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(FileChunks(path: file), length: .known(Int64(size)))
        let response = try await execute(request, deadline: nil)
        try await check(response)
        return try decode(T.self, from: try await collected(response))
    }

    private func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try StateDirectory.jsonDecoder.decode(T.self, from: data)
        } catch {
            throw ClientError(
                .failure, "e2hd answered something e2h cannot read — are both the same version?", cause: error)
        }
    }

    func request(_ method: HTTPMethod, _ path: String, query: [String: String]) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: try url(path, query: query).absoluteString)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        return request
    }

    /// Sends a request and waits for its answer's head: until `deadline` after now when one is given, else for as
    /// long as the daemon is not silent for longer than the client allows.
    func execute(_ request: HTTPClientRequest, deadline: Duration?) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, deadline: deadline.map { .now() + TimeAmount($0) } ?? .distantFuture)
        } catch {
            throw unreachable(error)
        }
    }

    static func isLoopback(_ url: String) -> Bool {
        let host = URL(string: url)?.host?.lowercased() ?? ""
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    func unreachable(_ error: any Error) -> ClientError {
        if let error = error as? ClientError { return error }
        // A request that timed out reached the daemon, which may have carried it out: "is it running?" led to a
        // submit retried by hand and queued twice.
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return ClientError(
                .unreachable,
                "e2hd at \(baseURL.absoluteString) did not answer within \(requestTimeout.components.seconds) s (E2H_TIMEOUT); it may "
                    + "still have done what was asked — look (`e2h runs`) before asking again, or give a submit --key "
                    + "so that asking again is safe", cause: error)
        }
        if let error = error as? HTTPClientError, error == .remoteConnectionClosed {
            return ClientError(
                .unreachable,
                "e2hd at \(baseURL.absoluteString) closed the connection before its answer ended — is it still running?",
                cause: error)
        }
        return ClientError(
            .unreachable, "cannot reach e2hd at \(baseURL.absoluteString) — is it running? (start it with `e2hd`)",
            cause: error)
    }

    /// A non-2xx answer becomes the daemon's error message, read from its body.
    func check(_ response: HTTPClientResponse) async throws {
        let status = Int(response.status.code)
        if (300..<400).contains(status), let location = response.headers.first(name: "Location") {
            throw ClientError(
                .usage,
                "\(baseURL.absoluteString) redirects to \(location.prefix(200)), and e2h follows no redirect (it would "
                    + "take the token along) — give e2hd's own address with --url or E2H_URL")
        }
        guard (200..<300).contains(status) else {
            throw Self.refusal(
                status: status,
                body: (try? await response.body.collect(upTo: Self.maximumAnswerBytes)).map { Data(buffer: $0) }
                    ?? Data())
        }
    }

    /// The whole body of an answer; e2hd's answers other than a bundle are JSON of a few MiB at most.
    private func collected(_ response: HTTPClientResponse) async throws -> Data {
        do {
            return Data(buffer: try await response.body.collect(upTo: Self.maximumAnswerBytes))
        } catch {
            throw unreachable(error)
        }
    }

    /// The most an answer other than a bundle may hold: far over the largest (a compare of hundreds of runs).
    private static let maximumAnswerBytes = 512 << 20

    private func send(_ method: HTTPMethod, _ path: String, query: [String: String], body: Data?) async throws -> Data {
        var request = try request(method, path, query: query)
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await execute(request, deadline: requestTimeout)
        try await check(response)
        return try await collected(response)
    }

    /// The most bytes a request's URL may have. e2hd's HTTP parser refuses a request head over 80 KiB with a bare
    /// 400 before any of e2hd's code sees it, so a longer URL is refused here, with its reason.
    static let maximumURLBytes = 64 * 1024

    func url(_ path: String, query: [String: String]) throws(ClientError) -> URL {
        // A run's or group's id comes from the command line, into the path: one that is empty or more than hex digits
        // and '-' addressed another route (`e2h show ../../healthz`) or none, and the answer made no sense.
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 3, parts[0] == "v1", parts[1] == "runs" || parts[1] == "groups" {
            let id = parts[2]
            guard !id.isEmpty, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw ClientError(
                    .usage,
                    "'\(id.prefix(80))' is not a \(parts[1] == "runs" ? "run" : "group") id: give its id or a prefix of "
                        + "it (`e2h \(parts[1])` lists them)")
            }
        }
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty {
            components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            // URLComponents leaves '+' as it is, and e2hd reads a query as a form does, '+' as a space.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        let url = components.url!
        let bytes = url.absoluteString.utf8.count
        if bytes > Self.maximumURLBytes, let longest = query.max(by: { $0.value.utf8.count < $1.value.utf8.count }) {
            throw ClientError(
                .usage,
                "the request is too long for e2hd: its URL would be \(bytes / 1024) KiB, over the \(Self.maximumURLBytes / 1024) "
                    + "KiB e2hd reads, most of it the \(longest.key) argument (\(longest.value.utf8.count) characters); "
                    + "shorten it")
        }
        return url
    }

    /// The error for a refused request: the daemon's own message (from its error envelope) when it sent one.
    static func refusal(status: Int, body: Data) -> ClientError {
        let envelope = try? StateDirectory.jsonDecoder.decode(ErrorEnvelope.self, from: body)
        var message = envelope?.error.message ?? "e2hd answered HTTP \(status)"
        if let diagnostics = envelope?.error.diagnostics, !diagnostics.isEmpty {
            message += "\n" + diagnostics.joined(separator: "\n")
        }
        let code: ClientError.Code = (status == 400 || status == 413 || status == 404) ? .usage : .failure
        return ClientError(code, message)
    }
}

/// A file's bytes in 1 MiB pieces, read as the upload sends them.
private struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?

        mutating func next() async throws -> ByteBuffer? {
            guard let handle else { throw ClientError(.usage, "cannot read the file to upload") }
            guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else {
                try? handle.close()
                return nil
            }
            return ByteBuffer(data: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: FileHandle(forReadingAtPath: path)) }
}
