import Foundation

/// The proxies the environment names, read as curl reads them: FoundationNetworking's URLSession, which e2h used
/// before AsyncHTTPClient, goes through libcurl, so these are the variables under which webhooks (and `e2h` to a
/// daemon elsewhere) went through a proxy. AsyncHTTPClient reads none of them.
///
/// - `http_proxy` for http URLs (lower case only, as curl: `HTTP_PROXY` can be set by a request header in CGI);
///   `https_proxy` or `HTTPS_PROXY` for https URLs; `all_proxy` or `ALL_PROXY` for either when its own is unset.
/// - `no_proxy` or `NO_PROXY`: hosts reached directly, comma-separated; an entry matches its host and every host
///   under it (`example.com` and `.example.com` both match `hooks.example.com`), `*` matches every host, and an
///   IPv4 entry with a prefix length (`10.0.0.0/8`) matches the addresses in it.
/// - Loopback (`localhost`, `127.0.0.0/8`, `::1`) is always reached directly: a daemon on this machine is never
///   behind the proxy of the network outside it.
///
/// A value is `host:port` or `http://[user:password@]host[:port]` (port 1080 when left out, as curl). Pure: the
/// environment is given, so tests need no process of their own.
public struct ProxyEnvironment: Sendable, Equatable {
    public struct Proxy: Hashable, Sendable {
        public var host: String
        public var port: Int
        /// For the proxy's Basic authorization, when its URL carries them.
        public var user: String?
        public var password: String?

        public init(host: String, port: Int, user: String? = nil, password: String? = nil) {
            (self.host, self.port, self.user, self.password) = (host, port, user, password)
        }
    }

    let http: Proxy?
    let https: Proxy?
    let exclusions: [String]

    /// This process's variables, read once.
    public static let process = Result { () throws(OutboundError) in
        try ProxyEnvironment(ProcessInfo.processInfo.environment)
    }

    public init(_ environment: [String: String]) throws(OutboundError) {
        func value(_ names: String...) -> (name: String, value: String)? {
            for name in names {
                if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
                    return (name, value)
                }
            }
            return nil
        }
        let all = try value("all_proxy", "ALL_PROXY").map(Self.proxy)
        http = try value("http_proxy").map(Self.proxy) ?? all
        https = try value("https_proxy", "HTTPS_PROXY").map(Self.proxy) ?? all
        exclusions = (value("no_proxy", "NO_PROXY")?.value ?? "").split(separator: ",").compactMap { entry in
            let trimmed = entry.trimmingCharacters(in: .whitespaces).lowercased()
            let name = trimmed.hasPrefix(".") ? String(trimmed.dropFirst()) : trimmed
            return name.isEmpty ? nil : name
        }
    }

    /// The proxy a request to `url` goes through; nil when it goes directly.
    public func proxy(for url: URL) -> Proxy? {
        guard let host = url.host?.lowercased(), !host.isEmpty else { return nil }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if Self.isLoopback(bare) || exclusions.contains(where: { Self.matches(bare, $0) }) { return nil }
        switch url.scheme?.lowercased() {
        case "https": return https
        case "http": return http
        default: return nil
        }
    }

    private static func proxy(_ variable: (name: String, value: String)) throws(OutboundError) -> Proxy {
        let text = variable.value.contains("://") ? variable.value : "http://" + variable.value
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty,
            components.scheme?.lowercased() == "http", components.path.isEmpty || components.path == "/"
        else {
            throw OutboundError(
                .badProxy,
                "\(variable.name)=\(variable.value) is not a proxy e2h can use: give host:port or "
                    + "http://[user:password@]host[:port] (an HTTP proxy; https:// and SOCKS proxies are not supported)"
            )
        }
        return Proxy(
            host: host, port: components.port ?? 1080, user: components.percentEncodedUser?.removingPercentEncoding,
            password: components.percentEncodedPassword?.removingPercentEncoding)
    }

    /// `*`, the host itself, a host under it, or an IPv4 address in its prefix.
    private static func matches(_ host: String, _ entry: String) -> Bool {
        if entry == "*" || host == entry || host.hasSuffix("." + entry) { return true }
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length),
            let network = ipv4(String(parts[0])), let address = ipv4(host)
        else { return false }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        return address & mask == network & mask
    }

    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host == "::1"
            || ipv4(host).map { $0 >> 24 == 127 } == true
    }

    private static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
