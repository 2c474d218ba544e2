-- What the resolver concludes (lastmile resolve): entities, and which records make each up.
-- These tables are derived: a rerun of resolve rewrites them, and nothing upstream reads them.
--
-- An entity is one person, organization or selector (a phone, account, email... as one
-- normalized value). Its id is stable across reruns (docs/resolution.md). Every subject,
-- organization and selector record is a member of exactly one entity, with the probability
-- the resolver gave the match that put it there (1.0 for an exact selector or a lone record).
--
-- entities.kind: person, organization or selector. best_name: a person's or organization's
-- best name, a selector's normalized value. names: every name and alias of its records, and
-- selectors: the normalized selectors its records use as kind:value, each '|'-separated.
-- entity_members.record_type: subjects, organizations or selectors; record_id: as in its file.

CREATE TABLE entities (
    entity_id TEXT,
    kind TEXT,
    best_name TEXT,
    names TEXT,
    selectors TEXT,
    first_seen TIMESTAMP,
    updated_at TIMESTAMP
);

CREATE TABLE entity_members (
    record_type TEXT,
    record_id TEXT,
    entity_id TEXT,
    probability DOUBLE PRECISION
);
