import AsyncHTTPClient
import Foundation
import OutboundHTTP
import Testing

/// A refused connection fails the request at once. AsyncHTTPClient by default tries to connect again and again
/// until the connect timeout: every `e2h` with no daemon running hung 10 s, and every webhook try at a receiver that
/// was down took 10 s. Here the connect timeout is 120 s and the bound half of it: in the full suite a finished
/// request can wait many seconds for a thread to resume the test (16 s was seen), never a minute.
@Test func aRefusedConnectionFailsBeforeTheConnectTimeout() async throws {
    let client = OutboundClient.client(.init(connectSeconds: 120, proxy: nil))
    // Port 1: nothing listens, the connection is refused.
    let request = OutboundClient.request(to: try #require(URL(string: "http://127.0.0.1:1/")))
    let started = ContinuousClock.now
    await #expect(throws: (any Error).self) { _ = try await client.execute(request, timeout: .seconds(300)) }
    let took = ContinuousClock.now - started
    #expect(took < .seconds(60), "\(took)")
}

/// A URL's credentials are the request's Basic authorization, and are not left in its URL.
@Test func aURLsCredentialsBecomeBasicAuthorization() throws {
    let request = OutboundClient.request(to: try #require(URL(string: "https://ann:p%40ss@hooks.example/e2h?x=1")))
    #expect(request.url == "https://hooks.example/e2h?x=1")
    #expect(request.headers["Authorization"] == ["Basic " + Data("ann:p@ss".utf8).base64EncodedString()])
    let plain = OutboundClient.request(to: try #require(URL(string: "https://hooks.example/e2h")))
    #expect(plain.url == "https://hooks.example/e2h" && plain.headers["Authorization"].isEmpty)
}
