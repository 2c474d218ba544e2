-- PostgreSQL only: indexes for the look-ups ingest and the report make. DuckDB needs none:
-- it scans and hash-joins, and an index would only slow its bulk inserts.

CREATE INDEX agencies_id_idx ON agencies (agency_id);
CREATE INDEX investigations_id_idx ON investigations (investigation_id);
CREATE INDEX subjects_id_idx ON subjects (subject_id);
CREATE INDEX subjects_investigation_idx ON subjects (investigation_id);
CREATE INDEX organizations_id_idx ON organizations (organization_id);
CREATE INDEX organizations_investigation_idx ON organizations (investigation_id);
CREATE INDEX selectors_id_idx ON selectors (selector_id);
CREATE INDEX selectors_investigation_idx ON selectors (investigation_id);
CREATE INDEX relationships_id_idx ON relationships (relationship_id);
CREATE INDEX relationships_investigation_idx ON relationships (investigation_id);
CREATE INDEX arrests_id_idx ON arrests (arrest_id);
CREATE INDEX arrests_investigation_idx ON arrests (investigation_id);
CREATE INDEX drug_seizures_id_idx ON drug_seizures (seizure_id);
CREATE INDEX drug_seizures_investigation_idx ON drug_seizures (investigation_id);
CREATE INDEX firearm_seizures_id_idx ON firearm_seizures (seizure_id);
CREATE INDEX firearm_seizures_investigation_idx ON firearm_seizures (investigation_id);
CREATE INDEX currency_seizures_id_idx ON currency_seizures (seizure_id);
CREATE INDEX currency_seizures_investigation_idx ON currency_seizures (investigation_id);
CREATE INDEX communications_event_idx ON communications (event_key);
CREATE INDEX communications_from_idx ON communications (from_selector);
CREATE INDEX communications_to_idx ON communications (to_selector);
CREATE INDEX communications_sources_key_idx ON communications_sources (source_key);
CREATE INDEX communications_sources_event_idx ON communications_sources (event_key);
CREATE INDEX communications_sources_investigation_idx ON communications_sources (investigation_id);
