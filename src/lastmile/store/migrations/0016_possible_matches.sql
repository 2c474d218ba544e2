-- Possible matches (docs/resolution.md, "Possible matches"): pairs of person records that
-- the latest resolution left in two entities though the model scored them as possibly one
-- person (at least persons.PREDICT_FLOOR), or linked them and the clustering or a rule kept
-- them apart. One row per pair of entities, with the pair of their records that scored
-- highest, for an analyst to check ('lastmile review', then 'lastmile judge
-- same|different'). Derived: each resolution rewrites it with the entities.
--
-- entity_a, entity_b: the two entities (entity_a < entity_b); record_a, record_b: their
-- best-scored records (record_a in entity_a); match_weight, probability: that pair's score;
-- record_pairs: how many record pairs of the two entities are kept so; why: why they are
-- apart; evidence: the fields that agreed and disagreed, as match_edges'.

CREATE TABLE possible_matches (
    entity_a TEXT,
    entity_b TEXT,
    record_a TEXT,
    record_b TEXT,
    match_weight DOUBLE PRECISION,
    probability DOUBLE PRECISION,
    record_pairs BIGINT,
    why TEXT,
    evidence TEXT
);
