-- What network analysis concludes (lastmile analyze, docs/networks.md): the typed graph of
-- resolved entities, the distribution networks cut from it, their members and communities, the
-- key players of each network and each network's cartel attribution. These tables are derived
-- like entities: a rerun of analyze rewrites them all in one transaction, and nothing upstream
-- reads them. Ids are entity ids (entities.entity_id) and network ids as analyze gives them.
--
-- ties: one row per (source, target, kind); supply keeps its direction (supplier to supplied),
-- other kinds are stored with source < target. records counts the records behind the tie,
-- record_ids lists them '|'-separated (empty for communication, whose events are found by
-- their selectors), grades lists their Admiralty grades ('B2', '??' where a record gives none), and
-- first_at / last_at bound them in time as text (ISO dates or timestamps).
-- networks: one row per network; upstream is true for the suppliers above local networks (hubs,
-- cartels), which are evidence for attribution, not networks of their own. agencies, cities,
-- states and divisions are '|'-separated lists.
-- network_members: each entity in a network, with its Leiden community inside it.
-- key_players: the top of the default key-player ranking of each network, with why in words.
-- attributions: the cartel that supplies each network (or 'Unattributed'), its score, the
-- agencies' own label where there is one and whether they agree, and the evidence path.
-- analysis_runs: one row per 'lastmile analyze': when, seconds per stage and counts as JSON.

CREATE TABLE ties (
    source TEXT,
    target TEXT,
    kind TEXT,
    records BIGINT,
    record_ids TEXT,
    grades TEXT,
    first_at TEXT,
    last_at TEXT
);

CREATE TABLE networks (
    network_id TEXT,
    upstream BOOLEAN,
    people BIGINT,
    organizations BIGINT,
    investigations BIGINT,
    agencies TEXT,
    cities TEXT,
    states TEXT,
    divisions TEXT,
    multi_city BOOLEAN,
    arrests BIGINT,
    seizures BIGINT,
    communities BIGINT
);

CREATE TABLE network_members (
    network_id TEXT,
    entity_id TEXT,
    upstream BOOLEAN,
    community TEXT
);

CREATE TABLE key_players (
    network_id TEXT,
    entity_id TEXT,
    rank BIGINT,
    score DOUBLE PRECISION,
    why TEXT
);

CREATE TABLE attributions (
    network_id TEXT,
    cartel TEXT,
    score DOUBLE PRECISION,
    label TEXT,
    agrees BOOLEAN,
    path TEXT
);

CREATE TABLE analysis_runs (
    run_id TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    seconds_json TEXT,
    counts_json TEXT,
    lastmile_version TEXT
);
