-- The server's sessions (issue 13, CJIS session lock): one row per sign-in. A session token
-- names its row (the token's jti); last_seen_at is the time of its latest request (kept to
-- the nearest half minute), and a request after more than the idle time-out without one is
-- refused, as is any request after ended_at (signed out). The token's own expiry is the
-- absolute limit.

CREATE TABLE sessions (
    session_id TEXT,
    username TEXT,
    started_at TIMESTAMP,
    last_seen_at TIMESTAMP,
    ended_at TIMESTAMP
);
