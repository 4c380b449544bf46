import Foundation
import OutboundHTTP
import Testing

/// Which proxy a request goes through, read as curl (and so FoundationNetworking's URLSession, which e2h used
/// before) reads the environment: webhooks that went out through `https_proxy` must still do so.
@Suite struct ProxyEnvironmentTests {
    func proxy(_ environment: [String: String], _ url: String) throws -> ProxyEnvironment.Proxy? {
        try ProxyEnvironment(environment).proxy(for: try #require(URL(string: url)))
    }

    @Test func withoutVariablesEveryRequestGoesDirectly() throws {
        #expect(try proxy([:], "https://hooks.example.com/x") == nil)
        #expect(try proxy(["http_proxy": " "], "http://hooks.example.com/x") == nil)
    }

    @Test func eachSchemeHasItsVariableAndAllProxyStandsInForEither() throws {
        let both = ["http_proxy": "plain:3128", "HTTPS_PROXY": "http://secure:8443"]
        #expect(try proxy(both, "http://a.example/")?.host == "plain")
        #expect(try proxy(both, "https://a.example/") == .init(host: "secure", port: 8443))
        // Lower case first, as curl reads them.
        #expect(try proxy(["https_proxy": "low:1", "HTTPS_PROXY": "up:2"], "https://a.example/")?.host == "low")
        // curl reads only the lower-case http_proxy (a CGI request can set HTTP_PROXY through its Proxy header).
        #expect(try proxy(["HTTP_PROXY": "up:2"], "http://a.example/") == nil)
        #expect(try proxy(["all_proxy": "any:3"], "https://a.example/")?.host == "any")
        #expect(try proxy(["ALL_PROXY": "any:3", "http_proxy": "own:4"], "http://a.example/")?.host == "own")
    }

    @Test func aProxyURLMayLeaveOutItsSchemeAndPortAndCarryCredentials() throws {
        #expect(try proxy(["https_proxy": "gate"], "https://a.example/") == .init(host: "gate", port: 1080))
        let credentialed = try #require(
            try proxy(["https_proxy": "http://ann:p%40ss@gate.corp:3128/"], "https://a.example/"))
        #expect(credentialed == .init(host: "gate.corp", port: 3128, user: "ann", password: "p@ss"))
    }

    @Test func noProxyNamesHostsDomainsAndNetworksReachedDirectly() throws {
        let environment = [
            "https_proxy": "gate:3128", "no_proxy": "internal.example, .corp.example,10.0.0.0/8,192.168.1.7",
        ]
        for direct in [
            "https://internal.example/", "https://hooks.internal.example/", "https://corp.example/",
            "https://a.b.corp.example/", "https://10.200.3.4/", "https://192.168.1.7:8443/",
        ] {
            #expect(try proxy(environment, direct) == nil, "\(direct)")
        }
        for proxied in ["https://notinternal.example/", "https://11.0.0.1/", "https://192.168.1.8/"] {
            #expect(try proxy(environment, proxied)?.host == "gate", "\(proxied)")
        }
        #expect(try proxy(["https_proxy": "gate:3128", "NO_PROXY": "*"], "https://anywhere.example/") == nil)
    }

    /// A daemon on this machine is never behind the proxy of the network outside it, whatever no_proxy says.
    @Test func loopbackIsAlwaysReachedDirectly() throws {
        let environment = ["http_proxy": "gate:3128", "https_proxy": "gate:3128"]
        for url in ["http://127.0.0.1:8080/", "http://localhost:8080/", "http://[::1]:8080/", "https://127.3.2.1/"] {
            #expect(try proxy(environment, url) == nil, "\(url)")
        }
        #expect(try proxy(environment, "http://128.0.0.1/")?.host == "gate")
    }

    @Test func aValueThatNamesNoUsableProxyIsRefusedByName() {
        for (name, value) in [
            ("https_proxy", "https://gate:443"), ("all_proxy", "socks5://gate:1080"), ("http_proxy", "http://"),
            ("HTTPS_PROXY", "http://gate:3128/some/path"),
        ] {
            let error = #expect(throws: OutboundError.self) { try ProxyEnvironment([name: value]) }
            #expect(error?.code == .badProxy, "\(name)=\(value)")
            #expect(error?.message.hasPrefix("\(name)=\(value) is not a proxy e2h can use") == true, "\(name)=\(value)")
        }
    }
}
