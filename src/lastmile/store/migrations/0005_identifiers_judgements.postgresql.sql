CREATE INDEX subject_identifiers_subject ON subject_identifiers (subject_id);
CREATE INDEX match_edges_a ON match_edges (record_a);
CREATE INDEX match_edges_b ON match_edges (record_b);
CREATE INDEX conflicts_agency ON conflicts (agency_id);
