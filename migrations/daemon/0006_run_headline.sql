-- The headline of a completed run (`RunHeadline`: the baseline row's hard accuracy with its interval, and the tally
-- of its claims), copied from its RunCompleted event when the run completes, so listing runs reads no event. Null
-- for runs not completed, replay jobs, and runs completed by an e2h that did not compute it.
ALTER TABLE runs ADD COLUMN headline jsonb;
