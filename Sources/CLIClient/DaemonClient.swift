import Foundation
import WireTypes

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
    let session: URLSession
    /// How long a request may take (`E2H_TIMEOUT`, 60 s); also how long `follow` waits for a lost daemon to return.
    let requestTimeout: Duration
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
        let configuration = URLSessionConfiguration.default
        // Every request is answered in seconds: the longest is a long-poll of events, held at most 30 s by the
        // daemon (so the default of 60 s leaves room). Only an export or import of a large run moves much data.
        configuration.timeoutIntervalForRequest = environment.requestTimeout
        requestTimeout = .seconds(environment.requestTimeout)
        configuration.timeoutIntervalForResource = 15 * 60
        session = URLSession(configuration: configuration)
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
        try decode(T.self, from: await send("GET", path, query: query, body: nil))
    }

    func post<T: Decodable>(_ path: String, body: some Encodable, as type: T.Type) async throws -> T {
        let data = try StateDirectory.jsonEncoder.encode(body)
        return try decode(T.self, from: await send("POST", path, query: [:], body: data))
    }

    func delete(_ path: String) async throws {
        _ = try await send("DELETE", path, query: [:], body: nil)
    }

    func getRaw(_ path: String) async throws -> Data {
        try await send("GET", path, query: [:], body: nil)
    }

    /// GET into a temporary file as the bytes arrive (an export of any size, in constant memory); the caller moves
    /// or removes the file.
    func download(_ path: String, query: [String: String] = [:]) async throws -> URL {
        let request = try makeRequest("GET", path, query: query)
        let (file, response): (URL, URLResponse)
        do {
            (file, response) = try await session.download(for: request)
        } catch {
            throw unreachable(error)
        }
        do {
            try check(response, body: { try Data(contentsOf: file) })
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        return file
    }

    /// POST a file as the body, streamed from disk (an import of any size, in constant memory).
    func upload<T: Decodable>(_ path: String, file: String, as type: T.Type) async throws -> T {
        try requireReadableFile(file)
        var request = try makeRequest("POST", path, query: [:])
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await session.upload(for: request, fromFile: URL(fileURLWithPath: file))
        } catch {
            throw unreachable(error)
        }
        try check(response, body: { data })
        return try decode(T.self, from: data)
    }

    private func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try StateDirectory.jsonDecoder.decode(T.self, from: data)
        } catch {
            throw ClientError(
                .failure, "e2hd answered something e2h cannot read — are both the same version?", cause: error)
        }
    }

    private func makeRequest(_ method: String, _ path: String, query: [String: String]) throws -> URLRequest {
        var request = URLRequest(url: try url(path, query: query))
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        return request
    }

    static func isLoopback(_ url: String) -> Bool {
        let host = URL(string: url)?.host?.lowercased() ?? ""
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    func unreachable(_ error: any Error) -> ClientError {
        // A request that timed out reached the daemon, which may have carried it out: "is it running?" led to a
        // submit retried by hand and queued twice.
        if (error as? URLError)?.code == .timedOut {
            return ClientError(
                .unreachable,
                "e2hd at \(baseURL.absoluteString) did not answer within \(requestTimeout.components.seconds) s (E2H_TIMEOUT); it may "
                    + "still have done what was asked — look (`e2h runs`) before asking again, or give a submit --key "
                    + "so that asking again is safe", cause: error)
        }
        return ClientError(
            .unreachable, "cannot reach e2hd at \(baseURL.absoluteString) — is it running? (start it with `e2hd`)",
            cause: error)
    }

    /// A non-2xx answer becomes the daemon's error message; `body` is read only then.
    private func check(_ response: URLResponse, body: () throws -> Data) throws {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw Self.refusal(status: status, body: (try? body()) ?? Data()) }
    }

    private func send(_ method: String, _ path: String, query: [String: String], body: Data?) async throws -> Data {
        var request = try makeRequest(method, path, query: query)
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw unreachable(error)
        }
        try check(response, body: { data })
        return data
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
