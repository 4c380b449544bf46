-- A replay is a job of the queue like a run: a worker claims it (so --workers bounds replays too), a cancel stops
-- it, and one whose daemon died is requeued and executed again. Its row names the run it re-executes; its own
-- stream starts with RunSubmitted (the replayed run's spec, and replay_of) and ends with the verdict, RunReplayed.
ALTER TABLE runs ADD COLUMN replay_of text REFERENCES runs (id);
