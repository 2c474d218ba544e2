-- Issue 10 (docs/resolution.md): personal identifiers on subject records, and what the
-- resolver keeps beside entities and entity_members.
--
-- subjects.identifiers: the '|'-separated kind:value list as written (a LIST column).
-- subject_identifiers: each identifier parsed and normalized by resolve, valid or not, with the
-- reason a malformed one is not used (it is kept and flagged, never dropped).
-- match_edges: the scored pairs that made the entities (record ids, Splink's match weight and
-- probability, and the evidence in words as JSON), for explanations.
-- resolution_runs: one row per 'lastmile resolve': engine, whether the model was trained on the
-- data or given, the threshold, the model (Splink's JSON) and the counts.
-- judgements: an analyst's verdict (same, different, split) with who and when; kept across
-- reruns, never rewritten by resolve.
-- conflicts: a target worked by two agencies (or two divisions of one), one row per side, with
-- the time first seen, so new ones can be announced.

ALTER TABLE subjects ADD COLUMN identifiers TEXT;

CREATE TABLE subject_identifiers (
    subject_id TEXT,
    kind TEXT,
    raw TEXT,
    value TEXT,
    valid BOOLEAN,
    reason TEXT
);

CREATE TABLE match_edges (
    record_a TEXT,
    record_b TEXT,
    match_weight DOUBLE PRECISION,
    probability DOUBLE PRECISION,
    evidence TEXT
);

CREATE TABLE resolution_runs (
    run_id TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    engine TEXT,
    trained BOOLEAN,
    threshold DOUBLE PRECISION,
    model_json TEXT,
    counts_json TEXT,
    lastmile_version TEXT
);

CREATE TABLE judgements (
    judgement_id TEXT,
    verdict TEXT,
    record_a TEXT,
    record_b TEXT,
    entity_id TEXT,
    analyst TEXT,
    note TEXT,
    made_at TIMESTAMP
);

CREATE TABLE conflicts (
    target_id TEXT,
    target_kind TEXT,
    agency_id TEXT,
    division TEXT,
    other_agency_id TEXT,
    other_division TEXT,
    first_seen TIMESTAMP,
    last_seen TIMESTAMP
);
