-- PostgreSQL only: the look-ups ingest makes (as 0001 for the other record types).

CREATE INDEX posts_id_idx ON posts (post_id);
CREATE INDEX posts_investigation_idx ON posts (investigation_id);
