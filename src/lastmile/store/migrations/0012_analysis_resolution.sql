-- Which resolution a network analysis was computed on (docs/networks.md, "Stored analysis").
-- An analysis describes the entities of one resolution; it is stale once another resolution
-- run is the latest. Comparing run ids needs no clock: comparing the analysis' start (the
-- client's clock) with the resolution's finish (the store's clock) misjudged whenever the
-- two clocks differ, as a client and a PostgreSQL server's may.
--
-- resolution_run_id: the latest resolution_runs.run_id when the analysis began; '' when no
-- resolution had run; NULL on rows written before this migration (judged by their times).

ALTER TABLE analysis_runs ADD COLUMN resolution_run_id TEXT;
