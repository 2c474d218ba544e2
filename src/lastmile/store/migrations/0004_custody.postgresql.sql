-- PostgreSQL only: verify and --supersedes look source files up by name and by batch.

CREATE INDEX source_files_name_idx ON source_files (name);
CREATE INDEX source_files_batch_idx ON source_files (batch_id);
