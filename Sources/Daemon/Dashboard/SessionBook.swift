import Canonical
import Crypto
import Foundation

/// The rules of dashboard sign-in, decided without I/O: a link signs in once, before it expires; a session lasts
/// `sessionLifetime`; a form's CSRF token must be its session's. `SessionStore` keeps what they decide in the
/// database (so sessions outlive a daemon and are shared by every daemon on it), and `DashboardAccess` joins the two.
enum SessionBook {
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

    static let usedAlready = "this sign-in link was used already; each works once"

    /// Why a link may not sign in whatever the store holds (its signature, its expiry), or nil when it may, once:
    /// the store then claims its nonce (`usedAlready` when another request claimed it first).
    static func refusal(of link: SignInLink, signed: Bool, now: Date) -> String? {
        guard signed else { return "this sign-in link was not made with this daemon's API token" }
        guard !link.isExpired(now: now) else { return "this sign-in link has expired" }
        return nil
    }

    /// The session a link opens once its nonce is claimed. It expires on a whole second, which the database's
    /// timestamps hold exactly (they keep microseconds; a `Date` has finer fractions that would not read back).
    static func open(id: String, csrfToken: String, now: Date) -> Session {
        Session(
            id: id, csrfToken: csrfToken,
            expires: Date(timeIntervalSince1970: (now.timeIntervalSince1970 + sessionLifetime).rounded(.down)))
    }

    /// A stored session, while it lasts.
    static func live(_ session: Session?, now: Date) -> Session? {
        guard let session, session.expires > now else { return nil }
        return session
    }

    /// What a session is stored under: the HMAC-SHA256 of its cookie under the API token. The table alone signs
    /// nobody in, and a new token ends every session it signed in (the sessions of a leaked token or link outlived
    /// its replacement, forms included).
    static func storageKey(_ id: String, token: String) -> String {
        Hex.encode(
            HMAC<SHA256>.authenticationCode(for: Data(id.utf8), using: SymmetricKey(data: Data(token.utf8))))
    }

    /// Whether a form's token is its session's, compared in constant time.
    static func csrfMatches(_ session: Session, _ given: String?) -> Bool {
        guard let given else { return false }
        return ContentHash.secretsMatch(session.csrfToken, given)
    }
}
