-- Provenance by reference. Each file a batch reads is one row of source_files (its path, its
-- name and the batch); every record names it by source_file_id instead of repeating the path
-- and the batch on each row, and the agency a record comes from is its investigation's.
-- A communication's source is identified by (event_key, investigation_id, file name,
-- source_row), which the columns already hold, so source_key goes.
--
-- A file's id is computed here from its batch and path, so that each table is updated without
-- a join (PostgreSQL cannot hash-join on IS NOT DISTINCT FROM). The name is what follows the
-- last '/', as Python's Path.name ('s': '.' matches a line break too, as in PostgreSQL).

CREATE TABLE source_files (
    file_id UUID,
    batch_id TEXT,
    path TEXT,
    name TEXT
);

INSERT INTO source_files (file_id, batch_id, path, name)
SELECT CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID),
    batch_id, source_file, regexp_replace(source_file, '^.*/', '', 's')
FROM (
    SELECT batch_id, source_file FROM agencies
    UNION SELECT batch_id, source_file FROM investigations
    UNION SELECT batch_id, source_file FROM subjects
    UNION SELECT batch_id, source_file FROM organizations
    UNION SELECT batch_id, source_file FROM selectors
    UNION SELECT batch_id, source_file FROM relationships
    UNION SELECT batch_id, source_file FROM arrests
    UNION SELECT batch_id, source_file FROM drug_seizures
    UNION SELECT batch_id, source_file FROM firearm_seizures
    UNION SELECT batch_id, source_file FROM currency_seizures
    UNION SELECT batch_id, source_file FROM communications_sources
) AS files;

ALTER TABLE agencies ADD COLUMN source_file_id UUID;
UPDATE agencies SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE agencies DROP COLUMN source_agency;
ALTER TABLE agencies DROP COLUMN source_file;
ALTER TABLE agencies DROP COLUMN batch_id;

ALTER TABLE investigations ADD COLUMN source_file_id UUID;
UPDATE investigations SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE investigations DROP COLUMN source_agency;
ALTER TABLE investigations DROP COLUMN source_file;
ALTER TABLE investigations DROP COLUMN batch_id;

ALTER TABLE subjects ADD COLUMN source_file_id UUID;
UPDATE subjects SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE subjects DROP COLUMN source_agency;
ALTER TABLE subjects DROP COLUMN source_file;
ALTER TABLE subjects DROP COLUMN batch_id;

ALTER TABLE organizations ADD COLUMN source_file_id UUID;
UPDATE organizations SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE organizations DROP COLUMN source_agency;
ALTER TABLE organizations DROP COLUMN source_file;
ALTER TABLE organizations DROP COLUMN batch_id;

ALTER TABLE selectors ADD COLUMN source_file_id UUID;
UPDATE selectors SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE selectors DROP COLUMN source_agency;
ALTER TABLE selectors DROP COLUMN source_file;
ALTER TABLE selectors DROP COLUMN batch_id;

ALTER TABLE relationships ADD COLUMN source_file_id UUID;
UPDATE relationships SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE relationships DROP COLUMN source_agency;
ALTER TABLE relationships DROP COLUMN source_file;
ALTER TABLE relationships DROP COLUMN batch_id;

ALTER TABLE arrests ADD COLUMN source_file_id UUID;
UPDATE arrests SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE arrests DROP COLUMN source_agency;
ALTER TABLE arrests DROP COLUMN source_file;
ALTER TABLE arrests DROP COLUMN batch_id;

ALTER TABLE drug_seizures ADD COLUMN source_file_id UUID;
UPDATE drug_seizures SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE drug_seizures DROP COLUMN source_agency;
ALTER TABLE drug_seizures DROP COLUMN source_file;
ALTER TABLE drug_seizures DROP COLUMN batch_id;

ALTER TABLE firearm_seizures ADD COLUMN source_file_id UUID;
UPDATE firearm_seizures SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE firearm_seizures DROP COLUMN source_agency;
ALTER TABLE firearm_seizures DROP COLUMN source_file;
ALTER TABLE firearm_seizures DROP COLUMN batch_id;

ALTER TABLE currency_seizures ADD COLUMN source_file_id UUID;
UPDATE currency_seizures SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE currency_seizures DROP COLUMN source_agency;
ALTER TABLE currency_seizures DROP COLUMN source_file;
ALTER TABLE currency_seizures DROP COLUMN batch_id;

ALTER TABLE communications_sources ADD COLUMN source_file_id UUID;
UPDATE communications_sources SET source_file_id = CAST(md5(coalesce('b' || batch_id, 'n') || chr(31) || coalesce('p' || source_file, 'n')) AS UUID);
ALTER TABLE communications_sources DROP COLUMN source_agency;
ALTER TABLE communications_sources DROP COLUMN source_file;
ALTER TABLE communications_sources DROP COLUMN batch_id;

ALTER TABLE communications_sources DROP COLUMN source_key;
