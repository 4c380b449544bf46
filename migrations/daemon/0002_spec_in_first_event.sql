-- The spec is recorded once: in the run's first event, RunSubmitted, which carries its canonical JSON and the YAML
-- as written. The queue row keeps only the spec's hash, for listings.
ALTER TABLE runs DROP COLUMN spec_yaml, DROP COLUMN spec_canonical;

-- Where the running attempt is: the pipeline's typed report (WireTypes.RunProgress) as JSON, stored by the
-- attempt's heartbeats and fenced writes. A text progress of an older e2h is dropped: the next report replaces it.
ALTER TABLE runs ALTER COLUMN progress TYPE jsonb USING NULL;
