-- Webhooks and their outbox. A delivery row is written in the same transaction as the run's event it tells of (its
-- end, or a stall), so a committed end always has its deliveries and a rolled-back one never does; a worker of any
-- daemon sends them afterwards, retrying with backoff, and a restart loses none.
CREATE TABLE webhooks (
    id          text        PRIMARY KEY,
    url         text        NOT NULL,
    -- Which of completed, failed, cancelled, stalled it is told of.
    triggers    text[]      NOT NULL,
    format      text        NOT NULL CHECK (format IN ('json', 'slack')),
    -- The HMAC-SHA256 key of every delivery's signature.
    secret      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id               bigserial   PRIMARY KEY,
    webhook_id       text        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    run_id           text        NOT NULL REFERENCES runs (id),
    trigger          text        NOT NULL,
    -- The exact bytes sent on every try, and signed.
    body             bytea       NOT NULL,
    -- Tries so far; a try in flight holds the row until `next_attempt_at` (a daemon that dies mid-try leaves it
    -- to be tried again after that).
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    -- Set once the last retry failed.
    abandoned_at     timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- The sender's scan: deliveries still to make, by when they are due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
