-- How each stored conflict was found (docs/resolution.md, "Deconfliction"): the weaker of the
-- two sides' ties of the target to their cases, each side's strongest of 'subject record',
-- 'selector record', 'returned line' and 'burner chain'. Conflicts stored before this
-- migration have none until the next 'lastmile resolve'.

ALTER TABLE conflicts ADD COLUMN basis TEXT;
