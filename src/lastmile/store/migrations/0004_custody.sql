-- Chain of custody and corrected returns (issue 8).
--
-- source_files now records every file a batch read, whether or not it stored a row: its
-- SHA-256 as received (hex), its size in bytes, when it was read (UTC), and how many records
-- it stored. Rows written before this version keep NULL there (their files were not hashed).
-- superseded_by names the batch whose corrected return replaced what this file stored
-- (lastmile ingest --supersedes); batches.supersedes names the batch a batch replaced.

ALTER TABLE source_files ADD COLUMN sha256 TEXT;
ALTER TABLE source_files ADD COLUMN size_bytes BIGINT;
ALTER TABLE source_files ADD COLUMN read_at TIMESTAMP;
ALTER TABLE source_files ADD COLUMN records BIGINT;
ALTER TABLE source_files ADD COLUMN superseded_by TEXT;
ALTER TABLE batches ADD COLUMN supersedes TEXT;
