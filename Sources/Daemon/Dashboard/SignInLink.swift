import Canonical
import Crypto
import Foundation

/// A one-time sign-in link for the dashboard, derived from the API token so the token stays the only secret:
/// a random nonce and an expiry, signed with HMAC-SHA256 keyed by the token. Only someone who can read the token
/// can make one; each nonce signs in once, on whichever daemon of the database sees it first (`SessionStore`
/// keeps the used ones until they expire, across restarts).
struct SignInLink: Sendable, Equatable {
    /// Long enough to copy a link from a terminal into a browser; short enough that an old log line is useless.
    static let lifetime: TimeInterval = 3600
    static let path = "/sign-in"

    /// 32 hex digits.
    let nonce: String
    /// Seconds since 1970.
    let expires: Int64
    /// HMAC-SHA256 over the other fields, hex.
    let signature: String

    static func mint(token: String, now: Date, nonce: [UInt8]) -> SignInLink {
        let nonceText = Hex.encode(nonce)
        let expires = Int64(now.timeIntervalSince1970 + lifetime)
        return SignInLink(
            nonce: nonceText, expires: expires,
            signature: signature(token: token, nonce: nonceText, expires: expires))
    }

    /// A new link with a nonce from the system's random generator.
    static func mint(token: String, now: Date) -> SignInLink {
        var generator = SystemRandomNumberGenerator()
        return mint(token: token, now: now, nonce: (0..<16).map { _ in generator.next() })
    }

    /// The link's fields from its query (`n`, `e`, `s`); nil when one is missing or malformed.
    init?(query: [String: String]) {
        guard let nonce = query["n"], nonce.utf8.count == 32, nonce.allSatisfy(\.isHexDigit),
            let expires = query["e"].flatMap({ Int64($0) }), let signature = query["s"], signature.utf8.count == 64,
            signature.allSatisfy(\.isHexDigit)
        else { return nil }
        self.init(nonce: nonce.lowercased(), expires: expires, signature: signature.lowercased())
    }

    private init(nonce: String, expires: Int64, signature: String) {
        self.nonce = nonce
        self.expires = expires
        self.signature = signature
    }

    /// "/sign-in?n=…&e=…&s=…": every part is hex or digits, so nothing needs encoding.
    var pathAndQuery: String { "\(Self.path)?n=\(nonce)&e=\(expires)&s=\(signature)" }

    /// Whether the token signed the link, compared in constant time.
    func isSigned(token: String) -> Bool {
        ContentHash.secretsMatch(Self.signature(token: token, nonce: nonce, expires: expires), signature)
    }

    func isExpired(now: Date) -> Bool { now.timeIntervalSince1970 >= Double(expires) }

    private static func signature(token: String, nonce: String, expires: Int64) -> String {
        let message = "e2h dashboard sign-in\n\(nonce)\n\(expires)"
        let code = HMAC<SHA256>.authenticationCode(
            for: Data(message.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Hex.encode(Array(code))
    }
}
