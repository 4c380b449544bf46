import EventStore
import Foundation

/// The dashboard's sessions and used sign-in links in the database (migration 0007): what `SessionBook` decides,
/// kept where every daemon on the database sees it and a restart does not lose it.
struct SessionStore: Sendable {
    let store: EventStore

    /// Takes a link's nonce for good; false when a request (on any daemon) took it before.
    func claim(_ link: SignInLink) async throws -> Bool {
        let rows = try await store.execute(
            """
            INSERT INTO dashboard_sign_in_links (nonce, expires_at) VALUES ($1, to_timestamp($2))
            ON CONFLICT (nonce) DO NOTHING RETURNING nonce
            """, [.text(link.nonce), .int(link.expires)])
        return rows.count == 1
    }

    /// `key`: `SessionBook.storageKey` of the session's cookie (the column keeps its first name, `id_sha256`).
    func insert(_ session: SessionBook.Session, key: String) async throws {
        try await store.execute(
            "INSERT INTO dashboard_sessions (id_sha256, csrf_token, expires_at) VALUES ($1, $2, to_timestamp($3))",
            [.text(key), .text(session.csrfToken), .double(session.expires.timeIntervalSince1970)])
    }

    /// The session stored under `key` for the cookie `id`, expired or not (`SessionBook.live` decides).
    func session(_ id: String, key: String) async throws -> SessionBook.Session? {
        let rows = try await store.execute(
            "SELECT csrf_token, expires_at FROM dashboard_sessions WHERE id_sha256 = $1", [.text(key)])
        guard rows.count == 1, let csrfToken = try rows.string(0, "csrf_token"),
            let expires = try rows.date(0, "expires_at")
        else { return nil }
        return SessionBook.Session(id: id, csrfToken: csrfToken, expires: expires)
    }

    /// Ends the session stored under `key` (a sign-out); a key with no session is no error.
    func delete(key: String) async throws {
        try await store.execute("DELETE FROM dashboard_sessions WHERE id_sha256 = $1", [.text(key)])
    }

    /// Forgets sessions and links that have expired.
    func prune(now: Date) async throws {
        let now = PostgresValue.double(now.timeIntervalSince1970)
        try await store.execute("DELETE FROM dashboard_sessions WHERE expires_at <= to_timestamp($1)", [now])
        try await store.execute("DELETE FROM dashboard_sign_in_links WHERE expires_at <= to_timestamp($1)", [now])
    }
}
