import Foundation

/// The dashboard's signed-in browsers, and the sign-in links already used. A value: the rules (a link signs in
/// once, before it expires; a session lasts `sessionLifetime`; a form's CSRF token must be its session's) are
/// decided here without I/O, and `DashboardAccess` keeps the one instance behind a lock.
struct SessionBook: Sendable {
    static let sessionLifetime: TimeInterval = 12 * 3600

    struct Session: Sendable, Equatable {
        /// The cookie's value: 64 hex digits.
        let id: String
        /// Sent with every state-changing form; 64 hex digits.
        let csrfToken: String
        let expires: Date
    }

    enum SignIn: Sendable, Equatable {
        case signedIn(Session)
        case refused(reason: String)
    }

    private var sessions: [String: Session] = [:]
    /// Nonce → the link's expiry: kept until then, after which the link is refused as expired anyway.
    private var usedLinks: [String: Int64] = [:]

    /// Signs a browser in with a link whose signature the caller checked: once per link, before it expires.
    mutating func signIn(
        with link: SignInLink, signed: Bool, now: Date, sessionID: String, csrfToken: String
    ) -> SignIn {
        prune(now: now)
        guard signed else {
            return .refused(reason: "this sign-in link was not made by this daemon (or it restarted since)")
        }
        guard !link.isExpired(now: now) else {
            return .refused(reason: "this sign-in link has expired")
        }
        guard usedLinks[link.nonce] == nil else {
            return .refused(reason: "this sign-in link was used already; each works once")
        }
        usedLinks[link.nonce] = link.expires
        let session = Session(id: sessionID, csrfToken: csrfToken, expires: now + Self.sessionLifetime)
        sessions[sessionID] = session
        return .signedIn(session)
    }

    /// The session a cookie names, while it lasts.
    func session(_ id: String?, now: Date) -> Session? {
        guard let id, let session = sessions[id], session.expires > now else { return nil }
        return session
    }

    /// Whether a form's token is its session's, compared in constant time.
    static func csrfMatches(_ session: Session, _ given: String?) -> Bool {
        let expected = Array(session.csrfToken.utf8)
        let candidate = Array((given ?? "").utf8)
        guard expected.count == candidate.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(expected, candidate) { difference |= left ^ right }
        return difference == 0
    }

    private mutating func prune(now: Date) {
        let seconds = Int64(now.timeIntervalSince1970)
        sessions = sessions.filter { $0.value.expires > now }
        usedLinks = usedLinks.filter { $0.value > seconds }
    }
}
