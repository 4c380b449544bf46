import Canonical
import Foundation
import Synchronization

/// Who may see the dashboard: mints sign-in links from the API token, exchanges them for sessions, and looks
/// sessions up by cookie. The rules are `SignInLink`'s and `SessionBook`'s; this holds the one book.
final class DashboardAccess: Sendable {
    static let cookieName = "e2h_session"

    private let token: AccessToken
    private let daemon: Int32
    private let book = Mutex(SessionBook())

    init(token: AccessToken, daemon: Int32 = getpid()) {
        self.token = token
        self.daemon = daemon
    }

    func mintLink(now: Date = Date()) -> SignInLink {
        SignInLink.mint(token: token.value, daemon: daemon, now: now)
    }

    func signIn(with link: SignInLink, now: Date = Date()) -> SessionBook.SignIn {
        let signed = link.isSigned(token: token.value, daemon: daemon)
        let (sessionID, csrfToken) = (Self.randomHex(), Self.randomHex())
        return book.withLock {
            $0.signIn(with: link, signed: signed, now: now, sessionID: sessionID, csrfToken: csrfToken)
        }
    }

    func session(cookie: String?, now: Date = Date()) -> SessionBook.Session? {
        book.withLock { $0.session(cookie, now: now) }
    }

    /// 32 random bytes as hex: a session id or a CSRF token.
    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
