-- Since when each stored conflict has been found by every resolution (docs/resolution.md,
-- "Deconfliction", *Found again*): the time of the run that first found it, or of the run
-- that found it again after one that did not (is_current false, migration 0014); kept while
-- it is found, and kept when it is no longer found. 'lastmile conflicts --since' reads it,
-- so a conflict that comes back is told again to a reader who polls with --since. A
-- conflict stored before this migration takes its first_seen: whether it came back before
-- is not kept anywhere, and nothing already announced is announced again.

ALTER TABLE conflicts ADD COLUMN current_since TIMESTAMP;
UPDATE conflicts SET current_since = first_seen;
