-- Migration 1: the initial schema, generated from lastmile/store/schema.py on 2026-11-27.
-- Frozen: later changes to the model come as new migrations, never edits here.

CREATE TABLE agencies (
    agency_id TEXT,
    name TEXT,
    kind TEXT,
    poc_name TEXT,
    poc_phone TEXT,
    poc_phone_normalized TEXT,
    poc_phone_valid BOOLEAN,
    poc_email TEXT,
    poc_email_normalized TEXT,
    poc_email_valid BOOLEAN,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE investigations (
    investigation_id TEXT,
    agency_id TEXT,
    case_number TEXT,
    division TEXT,
    city TEXT,
    state TEXT,
    opened DATE,
    closed DATE,
    status TEXT,
    cartel TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE subjects (
    subject_id TEXT,
    investigation_id TEXT,
    full_name TEXT,
    given_name TEXT,
    middle_name TEXT,
    family_name TEXT,
    aliases TEXT,
    monikers TEXT,
    dob DATE,
    sex TEXT,
    addresses TEXT,
    role TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE organizations (
    organization_id TEXT,
    investigation_id TEXT,
    name TEXT,
    kind TEXT,
    aliases TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE selectors (
    selector_id TEXT,
    investigation_id TEXT,
    subject_id TEXT,
    kind TEXT,
    value TEXT,
    value_normalized TEXT,
    value_valid BOOLEAN,
    platform TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE communications (
    event_key UUID,
    time TIMESTAMP,
    from_selector TEXT,
    from_selector_valid BOOLEAN,
    to_selector TEXT,
    to_selector_valid BOOLEAN,
    kind TEXT,
    platform TEXT,
    duration_s BIGINT
);

CREATE TABLE communications_sources (
    source_key UUID,
    event_key UUID,
    communication_id TEXT,
    investigation_id TEXT,
    time_original TEXT,
    from_selector_raw TEXT,
    to_selector_raw TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE relationships (
    relationship_id TEXT,
    investigation_id TEXT,
    kind TEXT,
    from_id TEXT,
    to_id TEXT,
    since DATE,
    until DATE,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE arrests (
    arrest_id TEXT,
    investigation_id TEXT,
    subject_id TEXT,
    date DATE,
    city TEXT,
    state TEXT,
    charges TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE drug_seizures (
    seizure_id TEXT,
    investigation_id TEXT,
    date DATE,
    city TEXT,
    state TEXT,
    drug TEXT,
    form TEXT,
    quantity DOUBLE PRECISION,
    unit TEXT,
    purity DOUBLE PRECISION,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE firearm_seizures (
    seizure_id TEXT,
    investigation_id TEXT,
    date DATE,
    city TEXT,
    state TEXT,
    count BIGINT,
    type TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE currency_seizures (
    seizure_id TEXT,
    investigation_id TEXT,
    date DATE,
    city TEXT,
    state TEXT,
    amount DOUBLE PRECISION,
    currency TEXT,
    amount_usd DOUBLE PRECISION,
    source_reliability TEXT,
    info_credibility TEXT,
    source_agency TEXT,
    source_file TEXT,
    source_row BIGINT,
    content_hash UUID,
    batch_id TEXT
);

CREATE TABLE batches (
    batch_id TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    paths TEXT,
    loaded BIGINT,
    duplicate BIGINT,
    rejected BIGINT,
    counts_json TEXT,
    rejects_file TEXT,
    lastmile_version TEXT
);
