-- PostgreSQL: one account per name, one live secret, fast chain, conflict and target
-- (selector) look-ups, and an audit log the server's role cannot rewrite (updates and
-- deletes are ignored).
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX server_settings_name ON server_settings (name);
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX shares_investigation ON shares (investigation_id);
CREATE INDEX planned_operations_time ON planned_operations (starts_at, ends_at);
CREATE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX selectors_value_normalized_idx ON selectors (value_normalized);
CREATE RULE audit_log_no_update AS ON UPDATE TO audit_log DO INSTEAD NOTHING;
CREATE RULE audit_log_no_delete AS ON DELETE TO audit_log DO INSTEAD NOTHING;
