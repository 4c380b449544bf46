-- The run queue: one row per run, the queue's state. Every change of state also appends an event to the run's
-- stream (run-<id>) in the same transaction, so the log is the audit trail of the queue.
--
-- The daemon's own migrations, recorded in daemon_migrations. The queue used to be the event store's migration
-- 0002_run_queue (this very schema): a database migrated by then has the table already, and this migration
-- adopts it and takes 0002_run_queue out of the store's ledger (which no longer knows it) instead of creating it.
-- The daemon applies its migrations before the store's for that reason.
DO $migration$
BEGIN
IF to_regclass('runs') IS NOT NULL THEN
    DELETE FROM schema_migrations WHERE version = 2 AND name = '0002_run_queue';
    RETURN;
END IF;

CREATE SEQUENCE run_lease_tokens;

-- Submission order, for FIFO within a priority (a timestamp can tie).
CREATE SEQUENCE run_submission_order;

CREATE TABLE runs (
    id                text        PRIMARY KEY,
    name              text        NOT NULL,
    spec_yaml         text        NOT NULL,
    -- The canonical JSON of the validated spec (every default filled in), and its SHA-256.
    spec_canonical    text        NOT NULL,
    spec_hash         text        NOT NULL,
    state             text        NOT NULL DEFAULT 'queued'
                                  CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    -- Higher runs first; FIFO (submission order) within a priority.
    priority          integer     NOT NULL DEFAULT 0,
    submission_order  bigint      NOT NULL DEFAULT nextval('run_submission_order'),
    idempotency_key   text        UNIQUE,
    -- Claims so far (each claim is an attempt), and attempts that ended in a crash or an error.
    attempt           integer     NOT NULL DEFAULT 0,
    failures          integer     NOT NULL DEFAULT 0,
    max_attempts      integer     NOT NULL,
    -- Not claimable before this (backoff after a failure).
    run_after         timestamptz NOT NULL DEFAULT now(),
    -- The lease of the attempt in progress: every write of that attempt is conditional on the token.
    lease_owner       text,
    lease_token       bigint,
    lease_expires_at  timestamptz,
    cancel_requested  boolean     NOT NULL DEFAULT false,
    -- Why attempts failed or were interrupted, oldest first (JSON array of strings).
    errors            jsonb       NOT NULL DEFAULT '[]',
    -- Where the running attempt is ("sft 120/400"), for listings; updated with the heartbeat.
    progress          text,
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CHECK ((state = 'running') = (lease_token IS NOT NULL))
);

-- The claim's scan: queued rows in claim order.
CREATE INDEX runs_claim_order ON runs (priority DESC, submission_order) WHERE state = 'queued';
-- The reaper's scan.
CREATE INDEX runs_lease_expiry ON runs (lease_expires_at) WHERE state = 'running';
CREATE INDEX runs_listing ON runs (submitted_at DESC);

END
$migration$;
