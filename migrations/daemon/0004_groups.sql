-- A group of runs: one spec's sweep (seeds × settings), submitted as one unit. Its members are ordinary rows of runs,
-- claimed like any run; these tables only say which runs belong to which group and in what order, for listings. The
-- group's record is its stream's GroupSubmitted event (group-<id>), written in the same transaction as the rows.
CREATE TABLE run_groups (
    id                text        PRIMARY KEY,
    name              text        NOT NULL,
    -- A retry with the same key returns the group submitted first.
    idempotency_key   text        UNIQUE,
    submission_order  bigint      NOT NULL DEFAULT nextval('run_submission_order'),
    submitted_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE run_group_members (
    -- A run belongs to at most one group.
    run_id    text    PRIMARY KEY REFERENCES runs (id),
    group_id  text    NOT NULL REFERENCES run_groups (id),
    -- The member's place in the sweep's order (the order GroupSubmitted lists them in).
    position  integer NOT NULL,
    UNIQUE (group_id, position)
);

CREATE INDEX run_groups_listing ON run_groups (submission_order DESC);
