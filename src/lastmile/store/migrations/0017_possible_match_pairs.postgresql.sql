CREATE INDEX possible_matches_entities ON possible_matches (entity_a, entity_b);
