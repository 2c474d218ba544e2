-- PostgreSQL only (see 0001): source_files is looked up by id when ingest names where a
-- stored record came from. (The index on source_key went with the column.)

CREATE INDEX source_files_id_idx ON source_files (file_id);
