-- The event store: an append-only log of per-stream events with gap-free global positions,
-- content-addressed blobs, and an unordered table for training curves.

-- One row holding the last global position. An append updates it as its last statement, so
-- appends serialize on this row and positions are handed out in commit order.
CREATE TABLE log_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position bigint NOT NULL CHECK (position >= 0)
);
INSERT INTO log_head (singleton, position) VALUES (true, 0);

-- One row per stream: its version and last hash, locked by each append to the stream.
CREATE TABLE streams (
    name text PRIMARY KEY CHECK (name <> ''),
    version bigint NOT NULL CHECK (version >= 0),
    last_hash bytea NOT NULL CHECK (length(last_hash) = 32)
);

CREATE TABLE events (
    position bigint PRIMARY KEY CHECK (position > 0),
    stream text NOT NULL REFERENCES streams (name),
    version bigint NOT NULL CHECK (version > 0),
    id uuid NOT NULL,
    type text NOT NULL CHECK (type <> ''),
    schema_version integer NOT NULL,
    -- json (not jsonb) keeps the client's bytes verbatim, so the hash chain can be recomputed.
    payload json NOT NULL,
    metadata json NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    previous_hash bytea NOT NULL CHECK (length(previous_hash) = 32),
    CONSTRAINT events_id_key UNIQUE (id),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version)
);

CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % on events is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

-- Subscribers LISTEN on e2h_events. The payload is constant so that PostgreSQL folds the
-- notifications of one transaction into one, however many appends it made.
CREATE FUNCTION log_head_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('e2h_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER log_head_advanced
    AFTER UPDATE ON log_head
    FOR EACH ROW EXECUTE FUNCTION log_head_notify();

-- Content-addressed blobs (checkpoints, sample sets): the key is the SHA-256 of the content.
CREATE TABLE blobs (
    sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size bigint NOT NULL,
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Checkpoints are float arrays that barely compress: store them out of line, uncompressed.
ALTER TABLE blobs ALTER COLUMN content SET STORAGE EXTERNAL;

-- High-rate training curves, outside the ordered log; a re-recorded point is a no-op.
CREATE TABLE metrics (
    run text NOT NULL,
    attempt integer NOT NULL,
    name text NOT NULL,
    step bigint NOT NULL,
    value double precision NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run, attempt, name, step)
);
