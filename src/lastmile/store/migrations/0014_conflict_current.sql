-- Whether the latest resolution found each stored conflict (docs/resolution.md,
-- "Deconfliction", *Conflicts no longer found*). A conflict the latest run no longer finds
-- keeps its row (first_seen, last_seen, basis, confirmed_since: what was announced stays on
-- record), but is no longer listed as current: telling an agency that another works its
-- target when resolution no longer says so is wrong too. 'lastmile resolve' sets it on every
-- row it writes. Rows stored before this migration: those of the latest run that stored
-- conflicts (the greatest last_seen) are current.

ALTER TABLE conflicts ADD COLUMN is_current BOOLEAN;
UPDATE conflicts SET is_current = (last_seen = (SELECT max(last_seen) FROM conflicts));
