-- Whether the run's recorded spec (the `spec_json` of its first event, RunSubmitted) is JSON. It is for every run
-- submitted to e2hd and every run imported since the import checks what a record means; a database that imported a
-- forged bundle before then holds a spec that is not, and casting it failed every `runs --where spec.…` listing
-- (a 503) from then on. Listings cast only where this is true. PostgreSQL 15 has no `IS JSON`, so the runs already
-- here are checked once, now, each cast in its own exception block.
ALTER TABLE runs ADD COLUMN spec_is_json boolean NOT NULL DEFAULT true;

-- As in 0008: on a new database the store's reading functions do not exist yet (and there is no run to check).
DO $migration$
DECLARE
    v_run text;
BEGIN
    IF to_regprocedure('e2h_payload_at(text, bigint)') IS NULL THEN
        RETURN;
    END IF;
    FOR v_run IN SELECT id FROM runs LOOP
        BEGIN
            EXECUTE $cast$SELECT (e2h_payload_at('run-' || $1, 1) ->> 'spec_json')::jsonb$cast$ USING v_run;
        EXCEPTION WHEN invalid_text_representation THEN
            UPDATE runs SET spec_is_json = false WHERE id = v_run;
        END;
    END LOOP;
END
$migration$;
