import AsyncHTTPClient
import Foundation
import Synchronization

/// The HTTP clients e2h sends requests out with (`e2h` to e2hd, e2hd's webhook tries), over SwiftNIO:
/// FoundationNetworking's URLSession on Linux kept a core busy for as long as a request waited for its answer.
/// Every client here is configured the same way:
/// - Redirects are not followed: e2hd never sends one, and following one would carry the token (or a hook's
///   signature) wherever it pointed.
/// - A refused connection fails the request at once. AsyncHTTPClient would try to connect again and again until the
///   connect timeout (10 s for every `e2h` with no daemon running); `follow` and the webhooks' outbox retry on
///   schedules of their own.
/// - The proxy is the one `ProxyEnvironment` names for the request's URL.
///
/// Clients live as long as the process (an AsyncHTTPClient must be shut down before it is released; these never
/// are), one per distinct setting, which in practice is one or two.
public enum OutboundClient {
    public struct Settings: Hashable, Sendable {
        public var connectSeconds: Int64
        /// The longest silence while an answer comes; nil: none (a try's deadline bounds it instead).
        public var readSeconds: Int64?
        public var proxy: ProxyEnvironment.Proxy?

        public init(connectSeconds: Int64, readSeconds: Int64? = nil, proxy: ProxyEnvironment.Proxy?) {
            self.connectSeconds = connectSeconds
            self.readSeconds = readSeconds
            self.proxy = proxy
        }
    }

    public static func client(_ settings: Settings) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[settings] { return client }
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(
                    connect: .seconds(settings.connectSeconds), read: settings.readSeconds.map { .seconds($0) }))
            configuration.connectionPool.retryConnectionEstablishment = false
            if let proxy = settings.proxy {
                configuration.proxy = .server(
                    host: proxy.host, port: proxy.port,
                    authorization: proxy.user.map { .basic(username: $0, password: proxy.password ?? "") })
            }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[settings] = client
            return client
        }
    }

    private static let clients = Mutex<[Settings: HTTPClient]>([:])

    /// A request to `url`, whose credentials (`https://user:password@host/…`) become its Basic authorization, as
    /// libcurl (and so URLSession, which e2h used before) made them; AsyncHTTPClient would drop them unsent.
    public static func request(to url: URL) -> HTTPClientRequest {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let user = components.percentEncodedUser
        else { return HTTPClientRequest(url: url.absoluteString) }
        let password = components.percentEncodedPassword ?? ""
        (components.percentEncodedUser, components.percentEncodedPassword) = (nil, nil)
        var request = HTTPClientRequest(url: components.string ?? url.absoluteString)
        request.setBasicAuth(
            username: user.removingPercentEncoding ?? user, password: password.removingPercentEncoding ?? password)
        return request
    }
}
