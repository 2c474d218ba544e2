-- Migration 8: the multi-agency server (issue 13): accounts, agencies' access, shares, the
-- audit trail and planned operations. Nothing here is case data; the policy module
-- (lastmile/server/policy.py) reads shares and agency_access to decide what each user sees.
--
-- users.role: analyst, supervisor, auditor or admin. password_hash: argon2id (PHC string).
-- totp_secret: base32 (RFC 6238), empty when not enrolled. locked_at: set after 5 failed
-- sign-ins in a row, cleared by 'lastmile user reset'.

CREATE TABLE users (
    username TEXT,
    agency_id TEXT,
    role TEXT,
    password_hash TEXT,
    totp_secret TEXT,
    disabled BOOLEAN,
    failed_attempts INTEGER,
    locked_at TIMESTAMP,
    created_at TIMESTAMP,
    updated_at TIMESTAMP
);

-- An agency disabled here cannot sign in, and the shares to it or of its investigations stop.
CREATE TABLE agency_access (
    agency_id TEXT,
    disabled BOOLEAN,
    changed_by TEXT,
    changed_at TIMESTAMP
);

-- Long-lived tokens for scripts: only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    token_id TEXT,
    username TEXT,
    name TEXT,
    token_hash TEXT,
    created_at TIMESTAMP,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP
);

-- A supervisor shares one investigation of their agency with another agency (agency_id) or
-- with one user (username); revoked_at ends the share.
CREATE TABLE shares (
    share_id TEXT,
    investigation_id TEXT,
    agency_id TEXT,
    username TEXT,
    granted_by TEXT,
    granted_at TIMESTAMP,
    revoked_by TEXT,
    revoked_at TIMESTAMP
);

-- Append-only and hash-chained: entry_hash is the SHA-256 of the entry's fields and
-- prev_hash, the entry_hash of the entry before it ('lastmile audit verify').
CREATE TABLE audit_log (
    seq BIGINT,
    logged_at TIMESTAMP,
    username TEXT,
    agency_id TEXT,
    client TEXT,
    method TEXT,
    path TEXT,
    action TEXT,
    outcome TEXT,
    status INTEGER,
    records BIGINT,
    detail TEXT,
    prev_hash TEXT,
    entry_hash TEXT
);

-- Planned operations for event deconfliction; kind: search_warrant, buy_bust, surveillance
-- or arrest. Times are UTC.
CREATE TABLE planned_operations (
    operation_id TEXT,
    agency_id TEXT,
    division TEXT,
    submitted_by TEXT,
    kind TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    address TEXT,
    starts_at TIMESTAMP,
    ends_at TIMESTAMP,
    submitted_at TIMESTAMP
);

-- One row per conflicting pair: operation_id is the later submission.
CREATE TABLE operation_conflicts (
    conflict_id TEXT,
    operation_id TEXT,
    other_operation_id TEXT,
    distance_m DOUBLE PRECISION,
    detected_at TIMESTAMP
);

-- The server's own settings (the token-signing secret when $LASTMILE_SERVER_SECRET is unset).
CREATE TABLE server_settings (
    name TEXT,
    value TEXT
);
