-- When each stored conflict was first seen as confirmed (docs/resolution.md, "Deconfliction",
-- *Announcing what is new*): NULL while it has been only a possible one (basis 'passed line',
-- conflicts.POSSIBLE_BASES), set by 'lastmile resolve' when it is first stored with another
-- basis or when a later run confirms it, and kept after that (what was told as confirmed
-- stays told). A conflict stored before this migration with a confirmed basis, or with none
-- (stored before migration 0010; 'lastmile conflicts --confirmed' listed it), was told as
-- confirmed when it was first seen: it takes its first_seen, so nothing already announced
-- is announced again.

ALTER TABLE conflicts ADD COLUMN confirmed_since TIMESTAMP;
UPDATE conflicts SET confirmed_since = first_seen
WHERE basis IS NULL OR basis <> 'passed line';
