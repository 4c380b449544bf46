import Canonical
import Foundation

/// Who may see the dashboard: mints sign-in links from the API token, exchanges them for sessions, and looks
/// sessions up by cookie. The rules are `SignInLink`'s and `SessionBook`'s; the sessions live in `SessionStore`.
struct DashboardAccess: Sendable {
    static let cookieName = "e2h_session"

    let token: AccessToken
    let sessions: SessionStore

    func mintLink(now: Date = Date()) -> SignInLink {
        SignInLink.mint(token: token.value, now: now)
    }

    func signIn(with link: SignInLink, now: Date = Date()) async throws -> SessionBook.SignIn {
        if let reason = SessionBook.refusal(of: link, signed: link.isSigned(token: token.value), now: now) {
            return .refused(reason: reason)
        }
        try await sessions.prune(now: now)
        guard try await sessions.claim(link) else { return .refused(reason: SessionBook.usedAlready) }
        let session = SessionBook.open(id: Self.randomHex(), csrfToken: Self.randomHex(), now: now)
        try await sessions.insert(session, key: SessionBook.storageKey(session.id, token: token.value))
        return .signedIn(session)
    }

    /// The live session a cookie names; nil without a cookie, for an unknown one, an expired one, and one signed in
    /// under another API token.
    func session(cookie: String?, now: Date = Date()) async throws -> SessionBook.Session? {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 128 else { return nil }
        let stored = try await sessions.session(cookie, key: SessionBook.storageKey(cookie, token: token.value))
        return SessionBook.live(stored, now: now)
    }

    /// Ends `session` for every daemon on the database: its cookie names no session from now on.
    func signOut(_ session: SessionBook.Session) async throws {
        try await sessions.delete(key: SessionBook.storageKey(session.id, token: token.value))
    }

    /// 32 random bytes as hex: a session id or a CSRF token.
    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
