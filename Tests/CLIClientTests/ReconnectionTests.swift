import Testing

@testable import CLIClient

@Suite("Reconnection")
struct ReconnectionTests {
    let start = ContinuousClock.now

    @Test func pausesGrowToFourSecondsAndStopAtThePatience() {
        var reconnection = Reconnection(patience: .seconds(10))
        // Tries at 0, 0.5, 1.5, 3.5, 7.5: each pause doubles to 4 s, and the last is cut to what is left.
        #expect(reconnection.failed(at: start) == .milliseconds(500))
        #expect(reconnection.failed(at: start + .milliseconds(500)) == .seconds(1))
        #expect(reconnection.failed(at: start + .milliseconds(1500)) == .seconds(2))
        #expect(reconnection.failed(at: start + .milliseconds(3500)) == .seconds(4))
        #expect(reconnection.failed(at: start + .milliseconds(7500)) == .milliseconds(2500))
        #expect(reconnection.failed(at: start + .seconds(10)) == nil)
        #expect(reconnection.lostSince == start)
    }

    @Test func aSuccessEndsTheOutageAndItsPatienceStartsAgain() {
        var reconnection = Reconnection(patience: .seconds(10))
        _ = reconnection.failed(at: start)
        _ = reconnection.failed(at: start + .seconds(9))
        reconnection.succeeded()
        #expect(reconnection.lostSince == nil)
        // An hour later the connection drops again: a new outage, with the whole patience and the first pause.
        let later = start + .seconds(3600)
        #expect(reconnection.failed(at: later) == .milliseconds(500))
        #expect(reconnection.lostSince == later)
        #expect(reconnection.failed(at: later + .seconds(9)) == .seconds(1))
        #expect(reconnection.failed(at: later + .seconds(11)) == nil)
    }
}
