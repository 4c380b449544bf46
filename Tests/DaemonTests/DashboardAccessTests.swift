import EventStore
import Foundation
import Testing
import WireTypes

@testable import Daemon

@Suite("Dashboard sign-in links, sessions and CSRF, curve series")
struct DashboardAccessTests {
    static let token = String(repeating: "5a", count: 32)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func link(token: String = token, nonce: UInt8 = 1, now: Date = now) -> SignInLink {
        SignInLink.mint(token: token, now: now, nonce: [UInt8](repeating: nonce, count: 16))
    }

    static func query(_ link: SignInLink) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in link.pathAndQuery.split(separator: "?")[1].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            fields[String(parts[0])] = String(parts[1])
        }
        return fields
    }

    @Test func aLinkIsSignedByTheToken() throws {
        let link = Self.link()
        let parsed = try #require(SignInLink(query: Self.query(link)))
        #expect(parsed == link)
        #expect(parsed.isSigned(token: Self.token))
        #expect(!parsed.isSigned(token: String(repeating: "5b", count: 32)))
        var forged = Self.query(link)
        forged["e"] = String(link.expires + 3600)
        #expect(try #require(SignInLink(query: forged)).isSigned(token: Self.token) == false)
        #expect(SignInLink(query: ["n": "zz", "e": "1", "s": link.signature]) == nil)
    }

    @Test func theRulesRefuseAnUnsignedOrExpiredLinkAndEndASessionOnTime() {
        let link = Self.link()
        #expect(SessionBook.refusal(of: link, signed: true, now: Self.now) == nil)
        #expect(SessionBook.refusal(of: link, signed: false, now: Self.now)?.contains("API token") == true)
        #expect(
            SessionBook.refusal(of: link, signed: true, now: Self.now + SignInLink.lifetime)
                == "this sign-in link has expired")
        let session = SessionBook.open(id: "s", csrfToken: "c", now: Self.now + 0.123_456_7)
        // On a whole second, which the database keeps exactly.
        #expect(session.expires == Self.now + SessionBook.sessionLifetime)
        #expect(SessionBook.live(session, now: Self.now + SessionBook.sessionLifetime - 1) == session)
        #expect(SessionBook.live(session, now: Self.now + SessionBook.sessionLifetime) == nil)
        #expect(SessionBook.live(nil, now: Self.now) == nil)
        // Stored by its HMAC under the token: the table alone names no cookie, and another token finds nothing.
        #expect(SessionBook.storageKey("s", token: "t") != "s" && SessionBook.storageKey("s", token: "t").count == 64)
        #expect(SessionBook.storageKey("s", token: "t") != SessionBook.storageKey("s", token: "u"))
    }

    /// Sessions live in the database: a link signs in once across two daemons on it (two `DashboardAccess` values
    /// over their own connections), a session made by one is honoured by the other and by a restarted one, expired
    /// sessions and links are refused and pruned.
    @Test func sessionsAreSharedByEveryDaemonOnTheDatabaseAndOutliveARestart() async throws {
        let url = try await TestDatabase.create()
        let first = try await TestDatabase.queue(url: url)
        let second = try await TestDatabase.queue(url: url)
        let token = AccessToken(value: Self.token, origin: .existing)
        let one = DashboardAccess(token: token, sessions: SessionStore(store: first.store))
        let other = DashboardAccess(token: token, sessions: SessionStore(store: second.store))
        let now = Date()
        let link = one.mintLink(now: now)
        // Both daemons race for the same link: exactly one signs in.
        async let a = one.signIn(with: link, now: now)
        async let b = other.signIn(with: link, now: now)
        let outcomes = try await [a, b]
        let sessions = outcomes.compactMap { if case .signedIn(let session) = $0 { session } else { nil } }
        #expect(sessions.count == 1)
        #expect(outcomes.contains(.refused(reason: SessionBook.usedAlready)))
        let session = try #require(sessions.first)
        #expect(try await other.session(cookie: session.id, now: now) == session)
        #expect(try await one.session(cookie: session.id, now: now) == session)
        #expect(try await one.session(cookie: String(repeating: "0", count: 64), now: now) == nil)
        #expect(try await one.session(cookie: nil, now: now) == nil)
        #expect(try await one.session(cookie: session.id, now: now + SessionBook.sessionLifetime + 1) == nil)
        // A restarted daemon: a new store on the same database.
        await first.store.shutdown()
        let restarted = try await TestDatabase.queue(url: url)
        let again = DashboardAccess(token: token, sessions: SessionStore(store: restarted.store))
        #expect(try await again.session(cookie: session.id, now: now)?.csrfToken == session.csrfToken)
        #expect(try await again.signIn(with: link, now: now) == .refused(reason: SessionBook.usedAlready))
        // A new API token ends the sessions the old one signed in (the remedy for a leaked token or link).
        let rotated = DashboardAccess(
            token: AccessToken(value: String(repeating: "cd", count: 32), origin: .existing),
            sessions: SessionStore(store: restarted.store))
        #expect(try await rotated.session(cookie: session.id, now: now) == nil)
        // Signing out ends the session on every daemon; its CSRF token goes with it.
        let signedOut = try #require(try await again.session(cookie: session.id, now: now))
        try await again.signOut(signedOut)
        #expect(try await again.session(cookie: session.id, now: now) == nil)
        #expect(try await other.session(cookie: session.id, now: now) == nil)
        try await again.signOut(signedOut)
        // A sign-in after both expired prunes them.
        let later = now + SessionBook.sessionLifetime + SignInLink.lifetime + 1
        guard case .signedIn = try await again.signIn(with: again.mintLink(now: later), now: later) else {
            Issue.record("a fresh link was refused")
            return
        }
        let left = try await restarted.store.execute(
            "SELECT (SELECT count(*) FROM dashboard_sessions) AS sessions, "
                + "(SELECT count(*) FROM dashboard_sign_in_links) AS links")
        #expect(try left.int(0, "sessions") == 1 && left.int(0, "links") == 1)
        await second.store.shutdown()
        await restarted.store.shutdown()
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
