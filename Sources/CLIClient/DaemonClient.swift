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
}

/// HTTP calls to e2hd with the bearer token; failures become `ClientError`s with the right exit code.
struct DaemonClient: Sendable {
    let baseURL: URL
    let token: String
    let session: URLSession

    /// Finds the daemon: `--url`/`--token` first, then `E2H_URL`/`E2H_TOKEN`, then the state directory's
    /// endpoint and token files.
    init(options: ConnectionOptions) throws {
        let environment = ProcessInfo.processInfo.environment
        let stateDirectory = options.stateDir ?? environment["E2H_STATE_DIR"] ?? StateDirectory.defaultPath()
        var urlText = options.url ?? environment["E2H_URL"]
        if urlText == nil {
            let file = (stateDirectory as NSString).appendingPathComponent(StateDirectory.endpointFile)
            if let data = FileManager.default.contents(atPath: file),
                let endpoint = try? StateDirectory.jsonDecoder.decode(DaemonEndpoint.self, from: data)
            {
                urlText = endpoint.url
            }
        }
        guard let urlText, let url = URL(string: urlText) else {
            throw ClientError(
                .unreachable,
                "no running e2hd found (no \(StateDirectory.endpointFile) in \(stateDirectory)) — start it with `e2hd`, or pass --url"
            )
        }
        var tokenText = options.token ?? environment["E2H_TOKEN"]
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
        // daemon. Only an export or import of a large run moves much data.
        configuration.timeoutIntervalForRequest = 60
        configuration.timeoutIntervalForResource = 15 * 60
        session = URLSession(configuration: configuration)
    }

    func get<T: Decodable>(_ path: String, query: [String: String] = [:], as type: T.Type) async throws -> T {
        try decode(T.self, from: await send("GET", path, query: query, body: nil))
    }

    func post<T: Decodable>(_ path: String, body: some Encodable, as type: T.Type) async throws -> T {
        let data = try StateDirectory.jsonEncoder.encode(body)
        return try decode(T.self, from: await send("POST", path, query: [:], body: data))
    }

    func postRaw<T: Decodable>(_ path: String, data: Data, as type: T.Type) async throws -> T {
        try decode(T.self, from: await send("POST", path, query: [:], body: data))
    }

    func getRaw(_ path: String) async throws -> Data {
        try await send("GET", path, query: [:], body: nil)
    }

    private func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try StateDirectory.jsonDecoder.decode(T.self, from: data)
        } catch {
            throw ClientError(
                .failure, "e2hd answered something e2h cannot read — are both the same version?", cause: error)
        }
    }

    private func send(_ method: String, _ path: String, query: [String: String], body: Data?) async throws -> Data {
        var request = URLRequest(url: url(path, query: query))
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw ClientError(
                .unreachable, "cannot reach e2hd at \(baseURL.absoluteString) — is it running? (start it with `e2hd`)",
                cause: error)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw Self.refusal(status: status, body: data) }
        return data
    }

    func url(_ path: String, query: [String: String]) -> URL {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty {
            components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        return components.url!
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
