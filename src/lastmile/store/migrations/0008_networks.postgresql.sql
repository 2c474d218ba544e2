CREATE INDEX ties_source ON ties (source);
CREATE INDEX ties_target ON ties (target);
CREATE INDEX network_members_entity ON network_members (entity_id);
CREATE INDEX network_members_network ON network_members (network_id);
CREATE INDEX key_players_network ON key_players (network_id);
