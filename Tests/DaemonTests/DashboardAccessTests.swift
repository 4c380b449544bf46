import EventStore
import Foundation
import Testing
import WireTypes

@testable import Daemon

@Suite("Dashboard sign-in links, sessions and CSRF, curve series")
struct DashboardAccessTests {
    static let token = String(repeating: "5a", count: 32)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func link(token: String = token, daemon: Int32 = 42, nonce: UInt8 = 1, now: Date = now) -> SignInLink {
        SignInLink.mint(token: token, daemon: daemon, now: now, nonce: [UInt8](repeating: nonce, count: 16))
    }

    static func query(_ link: SignInLink) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in link.pathAndQuery.split(separator: "?")[1].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            fields[String(parts[0])] = String(parts[1])
        }
        return fields
    }

    @Test func aLinkIsSignedByTheTokenAndTheDaemonProcess() throws {
        let link = Self.link()
        let parsed = try #require(SignInLink(query: Self.query(link)))
        #expect(parsed == link)
        #expect(parsed.isSigned(token: Self.token, daemon: 42))
        #expect(!parsed.isSigned(token: String(repeating: "5b", count: 32), daemon: 42))
        #expect(!parsed.isSigned(token: Self.token, daemon: 43))
        var forged = Self.query(link)
        forged["e"] = String(link.expires + 3600)
        #expect(try #require(SignInLink(query: forged)).isSigned(token: Self.token, daemon: 42) == false)
        #expect(SignInLink(query: ["n": "zz", "e": "1", "s": link.signature]) == nil)
    }

    @Test func aLinkSignsInOnceBeforeItExpires() {
        var book = SessionBook()
        let link = Self.link()
        guard
            case .signedIn(let session) = book.signIn(
                with: link, signed: true, now: Self.now, sessionID: "s1", csrfToken: "c1")
        else {
            Issue.record("a fresh signed link was refused")
            return
        }
        #expect(book.session("s1", now: Self.now + 60) == session)
        #expect(book.session("s2", now: Self.now) == nil)
        #expect(book.session("s1", now: Self.now + SessionBook.sessionLifetime + 1) == nil)
        #expect(
            book.signIn(with: link, signed: true, now: Self.now + 1, sessionID: "s2", csrfToken: "c2")
                == .refused(reason: "this sign-in link was used already; each works once"))
        let late = Self.link(nonce: 2)
        #expect(
            book.signIn(with: late, signed: true, now: Self.now + SignInLink.lifetime, sessionID: "s3", csrfToken: "c3")
                == .refused(reason: "this sign-in link has expired"))
        let unsigned = Self.link(nonce: 3)
        guard case .refused = book.signIn(with: unsigned, signed: false, now: Self.now, sessionID: "s4", csrfToken: "c")
        else {
            Issue.record("an unsigned link signed in")
            return
        }
        #expect(book.session("s4", now: Self.now) == nil)
    }

    @Test func aFormMustCarryItsSessionsToken() {
        let session = SessionBook.Session(id: "s", csrfToken: "abcdef", expires: Self.now)
        #expect(SessionBook.csrfMatches(session, "abcdef"))
        #expect(!SessionBook.csrfMatches(session, "abcdeF"))
        #expect(!SessionBook.csrfMatches(session, "abcde"))
        #expect(!SessionBook.csrfMatches(session, nil))
        #expect(!SessionBook.csrfMatches(session, ""))
    }

    @Test func storedCurveNamesBecomeTypedSeriesInStageOrderWithTheLatestAttemptsValues() {
        let points = [
            MetricPoint(run: "r", attempt: 1, name: "rl.ppo.kl", step: 4, value: 0.1),
            MetricPoint(run: "r", attempt: 1, name: "sft.policy.loss", step: 1, value: 2.0),
            MetricPoint(run: "r", attempt: 1, name: "sft.policy.loss", step: 2, value: 1.9),
            MetricPoint(run: "r", attempt: 2, name: "sft.policy.loss", step: 2, value: 1.8),
            MetricPoint(run: "r", attempt: 2, name: "sft.policy.loss", step: 3, value: 1.7),
            MetricPoint(run: "r", attempt: 1, name: "evaluators.my.orm.loss", step: 1, value: 0.5),
            MetricPoint(run: "r", attempt: 1, name: "malformed", step: 1, value: 0.5),
        ]
        let metrics = RunMetricsReading.metrics(run: "r", points: points)
        #expect(
            metrics.series.map { "\($0.stage)/\($0.model)/\($0.metric)" } == [
                "sft/policy/loss", "evaluators/my.orm/loss", "rl/ppo/kl",
            ])
        #expect(metrics.series[0].steps == [1, 2, 3])
        #expect(metrics.series[0].values == [2.0, 1.8, 1.7])
    }
}
