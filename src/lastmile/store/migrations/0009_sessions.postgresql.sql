-- PostgreSQL: one row per session, and indexes for the filters need-to-know and the network
-- reads use on every request (visible investigations by agency and by share, a network's
-- attribution, an entity page by its id).
CREATE UNIQUE INDEX sessions_id ON sessions (session_id);
CREATE INDEX investigations_agency_idx ON investigations (agency_id);
CREATE INDEX shares_agency ON shares (agency_id);
CREATE INDEX shares_username ON shares (username);
CREATE INDEX agency_access_agency ON agency_access (agency_id);
CREATE INDEX attributions_network ON attributions (network_id);
CREATE INDEX entities_id ON entities (entity_id);
