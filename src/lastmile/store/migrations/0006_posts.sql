-- Social-media posts as records of an investigation (issue 12): what `lastmile screen
-- --investigation ID` attaches, with what screening found in each post. The author's account
-- and the contact selectors found in the text are ordinary selectors records, so resolution
-- ties them to known subjects; author_selector_id names the author's one.
-- label: sale, possible or none; score 0 to 1; indicators, drugs and selectors are
-- '|'-separated (selectors as selector keys, e.g. phone:+13035550187).

CREATE TABLE posts (
    post_id TEXT,
    investigation_id TEXT,
    platform TEXT,
    author TEXT,
    author_selector_id TEXT,
    posted_at TIMESTAMP,
    posted_at_original TEXT,
    text TEXT,
    label TEXT,
    score DOUBLE PRECISION,
    indicators TEXT,
    drugs TEXT,
    selectors TEXT,
    source_reliability TEXT,
    info_credibility TEXT,
    source_row BIGINT,
    content_hash UUID,
    source_file_id UUID
);
