-- A run imported from a `--scores-only` bundle lacks the checkpoints a resume starts from. The import sets this in its
-- own transaction (beside the tombstone that lists what the bundle left out), so the lifecycle refuses a resume from
-- the row it locks, without reading the record.
ALTER TABLE runs ADD COLUMN blobs_left_out boolean NOT NULL DEFAULT false;

-- Runs imported before this migration carry the tombstone alone. It is their latest: retention releases nothing more of
-- a scores-only run (it holds only outcome blobs, which every mode keeps). The daemon's migrations run before the
-- store's, so on a new database the store's reading functions do not exist yet (and there is no run to flag).
DO $migration$
BEGIN
    IF to_regprocedure('e2h_latest_payload(text, text)') IS NOT NULL THEN
        EXECUTE $update$
            UPDATE runs SET blobs_left_out = true
            WHERE e2h_latest_payload('run-' || id, 'BlobsPruned') ->> 'cause' = 'scores-only-import'
        $update$;
    END IF;
END
$migration$;
