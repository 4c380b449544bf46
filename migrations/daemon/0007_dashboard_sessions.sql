-- The dashboard's signed-in browsers and the sign-in links already used, in the database rather than in one daemon's
-- memory: a daemon restart signs nobody out, and every daemon on this database (behind one URL, sharing the API token)
-- knows every session and refuses a link any of them has taken.
--
-- A session is stored by the SHA-256 of its cookie, so reading this table does not let anyone sign in as the browser.
CREATE TABLE dashboard_sessions (
    id_sha256   text        PRIMARY KEY,
    csrf_token  text        NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- A link's nonce, kept until the link expires (after which it is refused as expired anyway). The primary key makes a
-- link sign in once, however many daemons race for it.
CREATE TABLE dashboard_sign_in_links (
    nonce       text        PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
