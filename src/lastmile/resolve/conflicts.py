"""Target deconfliction: who else works my target (docs/resolution.md, "Deconfliction").

A *target* is a resolved person. The investigations that work it are those of its subject
records, of the selector records of every selector that resolves to it alone (a phone used
by one person's records only, and not a shared line), and of the toll records and platform
returns in which such a selector is a line the investigation obtained records of (see
:data:`RETURNED_LINES`), and of every investigation holding (listing, or having obtained the
records of) a line of the same burner chain, where that investigation's communications show
the target's line: the lines one person used in turn, joined by handovers
(``lastmile.comms.handovers``) and never through a selector several entities use or a shared
line (a credited line must show in the case's communications). A line *passed on*
(``handovers.passings_sql``: the last line of a chain that keeps running with other
contacts when its user starts a new line) had two users in turn; a tie that needs it (it is
the returned line, the credited line, or a link of the chain) is only a possible one, and
says so (basis ``passed line``); it goes to the user of the line at the time of the case's
events on it, read against the passing's day D (all before D: its earlier user; all from D
on: its later user; on both sides: as the records say). Every line keys as a selector
record of it does (``features.comm_key_sql``: an account on its platform, a phone on any).
An organization is never a target (the Sinaloa Cartel is named in hundreds of cases), nor a
selector used by several people (a family phone). A target worked by two agencies, or by
two divisions of one agency, is a *conflict*; each side is told only the other side's
agency and point of contact, and the conflict's *basis* (:data:`BASES`): how the weaker of
its two sides was tied to the target.

Conflicts are kept in the ``conflicts`` table with the time first seen, the time last made
confirmed, the time since which every run has found them and whether the latest run found
them, so a rerun can tell new ones from known ones, upgraded ones, ones no longer found and
ones found again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from lastmile.resolve import cluster
from lastmile.resolve.features import comm_key_sql, settle
from lastmile.store import Workspace
from lastmile.store.backends import Step, register_table
from lastmile.times import naive_utc

# The lines of an investigation's communications that it obtained records of (a *returned
# line*). A toll record or a platform return lists the events of one line (the subpoenaed
# number or account), so every event of a case's returns has a returned line at one end: the
# returned lines cover the case's communication graph. A counterpart seen with one line only
# (a *leaf*) can have come only from that line's return, unless the leaf is itself a return
# that shows one event; so the line it talks to, when that line has several counterparts
# itself, is a returned line (the degree-one rule of vertex cover: some minimum cover holds a
# leaf's neighbour; Chen, Kanj and Jia 2001, "Vertex cover: further observations and further
# improvements"). A number that merely called the case's targets (a contact) talks to
# those targets, whose other counterparts do not talk to it alone, and is not credited. The
# rule needs returns that list each line's traffic: it is applied only in cases where at least
# half of their own listed lines (the selectors of their selector records that their
# communications show) have MIN_RETURN_COUNTERPARTS counterparts or more (the upper median of
# their counterparts is at least MIN_RETURN_COUNTERPARTS). A line is returned only when it
# has several counterparts itself: an isolated event between two numbers seen once each has
# a leaf at both ends, and tells neither's return. Where each return shows an event or two,
# a leaf is as likely a sparse return as a contact, and nothing is credited.
# Portable SQL, run in the store (DuckDB or PostgreSQL): one row per case and returned line.
MIN_RETURN_COUNTERPARTS = 3
RETURNED_LINES = f"""
    WITH ev AS (
        SELECT DISTINCT s.investigation_id, coalesce(c.platform, '') AS platform,
            c.from_selector AS a, c.to_selector AS b
        FROM communications c JOIN communications_sources s ON s.event_key = c.event_key
        WHERE c.from_selector_valid AND c.to_selector_valid AND c.from_selector <> c.to_selector
    ), ends AS (
        SELECT investigation_id, platform, a AS x, b AS y FROM ev
        UNION SELECT investigation_id, platform, b, a FROM ev
    ), degree AS (
        -- each end's counterparts, and for a leaf (one counterpart) that counterpart
        SELECT investigation_id, platform, x, count(*) AS n, min(y) AS neighbour FROM ends
        GROUP BY investigation_id, platform, x
    ), listed AS (
        SELECT d.investigation_id, d.n FROM degree d
        WHERE EXISTS (SELECT 1 FROM selectors s WHERE s.investigation_id = d.investigation_id
            AND s.value_normalized = d.x AND s.value_valid)
    ), dense AS (
        SELECT l.investigation_id FROM listed l GROUP BY l.investigation_id
        HAVING 2 * sum(CASE WHEN l.n >= {MIN_RETURN_COUNTERPARTS} THEN 1 ELSE 0 END) >= count(*)
    )
    -- A leaf's counterpart, joined on the whole key: joined through the events instead,
    -- PostgreSQL paired every event of a case with every leaf of the case (minutes on the
    -- demo's 5 million events).
    SELECT DISTINCT leaf.investigation_id, leaf.platform, leaf.neighbour AS value
    FROM degree leaf
    JOIN dense USING (investigation_id)
    JOIN degree line ON line.investigation_id = leaf.investigation_id
        AND line.platform = leaf.platform AND line.x = leaf.neighbour AND line.n > 1
    WHERE leaf.n = 1
"""

# How a target is tied to a case, strongest first (docs/resolution.md, "Deconfliction"): the
# case names it in a subject record (resolution's own decision); the case lists a line only
# it uses (a selector record: stated by the case); the case obtained the records of such a
# line (a returned line: inferred from the shape of the returns); a line of the same burner
# chain (a handover: inferred from timing and shared contacts); any of the last two through
# a line passed on to another user (a passed line: the records do not say which of its two
# users the case worked, so the conflict is a possible one).
BASES = ("subject record", "selector record", "returned line", "burner chain", "passed line")
# The bases that state a possible conflict only (docs/resolution.md, "Deconfliction": of the
# conflicts through a line passed on, about one in five is in the synthetic truth).
POSSIBLE_BASES: tuple[str, ...] = ("passed line",)
assert set(POSSIBLE_BASES) <= set(BASES)


# The cases whose communications show a line of a handover (``found_pairs``, of
# ``handovers.line_steps``), with the platform it is seen on there and the first and last
# day of their events on it: :func:`load_lines`'s steps after the handovers'.
SEEN_STEPS = [
    Step(
        "v",
        "SELECT old_selector AS value FROM found_pairs UNION SELECT new_selector FROM found_pairs",
    ),
    Step(
        "seen_ev",
        """
        SELECT s.investigation_id, c.from_selector AS value,
            coalesce(c.platform, '') AS platform, CAST(c.time AS DATE) AS day
        FROM communications c JOIN communications_sources s ON s.event_key = c.event_key
        WHERE c.from_selector IN (SELECT value FROM v)
        UNION ALL
        SELECT s.investigation_id, c.to_selector, coalesce(c.platform, ''),
            CAST(c.time AS DATE)
        FROM communications c JOIN communications_sources s ON s.event_key = c.event_key
        WHERE c.to_selector IN (SELECT value FROM v)
        """,
    ),
    Step(
        "seen",
        """
        SELECT investigation_id, value, platform, min(day) AS first_day,
            max(day) AS last_day
        FROM seen_ev GROUP BY investigation_id, value, platform
        """,
    ),
]
# The rows :func:`load_lines` reads: the handovers, the cases that show their lines and the
# lines passed on.
LINES_SELECT = """
SELECT 'handover' AS what, old_selector AS a, '' AS a_platform, new_selector AS b,
    '' AS b_platform, CAST(NULL AS DATE) AS first_day, CAST(NULL AS DATE) AS last_day
FROM found_pairs
UNION ALL
SELECT 'seen', investigation_id, '', value, platform, first_day, last_day FROM seen
UNION ALL
SELECT 'passed', selector, '', successor, '', date, date FROM passings
"""


def load_lines(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    """On ``con``, from the workspace's communications: ``returned_lines(investigation_id,
    key)``, the selector keys each case's toll records and platform returns were obtained for
    (RETURNED_LINES); ``handover_pairs(old_key, new_key)``, the likely burner replacements
    (``lastmile.comms.handovers``: one line goes silent and a new one starts within days,
    talking to the same people); and ``handover_seen(investigation_id, key)``, the cases
    whose communications show a line of a handover, with the first and last day of their
    events on it (``first_day``, ``last_day``); and ``passed_lines(key, passed_on)``, the
    lines passed on to another user and the day D of the passing (``handovers.passings_sql``,
    read off the same handovers).
    Every line keys as a communication's end on its platform (``features.comm_key_sql``),
    as a selector record of it does."""
    from lastmile.comms.handovers import HandoverParams, line_steps

    settle(con)
    # One snapshot for both reads: an ingest that commits between them would otherwise be
    # seen by the second only (a case's returned lines without its handovers, or the reverse).
    with ws.store.snapshot():
        returned = ws.store.query(RETURNED_LINES)
        # The handovers, the cases whose communications show a line of one (with the platform
        # it is seen on there, and the first and last day of their events on it) and the lines
        # passed on (with the day D): the three kinds of row in one query, so
        # that the events are read and the handovers found once. Each line's platforms are
        # joined on here, in DuckDB (a handover pairs selector values over every platform: a
        # phone keys the same on all, a handle on its own): PostgreSQL, which cannot estimate
        # how many rows a CTE holds, ran those joins as nested loops. The query's steps are run
        # one by one on PostgreSQL, each a temporary table analysed before the next is planned
        # (``Store.query_steps``: a third faster on five million events, docs/resolution.md "On
        # PostgreSQL at scale"); DuckDB runs the one query.
        rows = ws.store.query_steps([*line_steps(HandoverParams()), *SEEN_STEPS], LINES_SELECT)
    register_table(con, returned, "returned_values")
    key = comm_key_sql("value", "platform")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE returned_lines AS
        WITH r AS (
            SELECT CAST(investigation_id AS VARCHAR) AS investigation_id,
                CAST(platform AS VARCHAR) AS platform, CAST(value AS VARCHAR) AS value
            FROM returned_values
        )
        SELECT DISTINCT investigation_id, {key} AS key FROM r
        """
    )
    register_table(con, rows, "handover_values")
    # each handover's and passing's line joined to the platforms it is seen on (above)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE handover_rows AS
        WITH h AS (
            SELECT CAST(what AS VARCHAR) AS what, CAST(a AS VARCHAR) AS a,
                CAST(a_platform AS VARCHAR) AS a_platform, CAST(b AS VARCHAR) AS b,
                CAST(b_platform AS VARCHAR) AS b_platform, CAST(first_day AS DATE) AS first_day,
                CAST(last_day AS DATE) AS last_day
            FROM handover_values
        ), on_platform AS (
            SELECT DISTINCT b AS value, b_platform AS platform FROM h WHERE what = 'seen'
        )
        SELECT p.what, p.a, po.platform AS a_platform, p.b, pn.platform AS b_platform,
            p.first_day, p.last_day
        FROM h p JOIN on_platform po ON po.value = p.a JOIN on_platform pn ON pn.value = p.b
        WHERE p.what = 'handover'
        UNION ALL
        SELECT * FROM h WHERE what = 'seen'
        UNION ALL
        SELECT DISTINCT x.what, x.a, po.platform, x.b, x.b_platform, x.first_day, x.last_day
        FROM h x JOIN on_platform po ON po.value = x.a
        WHERE x.what = 'passed'
        """
    )
    key_handover_rows(con)


def key_handover_rows(con: duckdb.DuckDBPyConnection) -> None:
    """``handover_pairs``, ``handover_seen`` and ``passed_lines`` (:func:`load_lines`) on
    ``con``, keyed from ``handover_rows(what, a, a_platform, b, b_platform, first_day,
    last_day)``: a handover (a, b), a case a's events on b with their first and last day, a
    line a passed on to b on first_day."""
    ka = comm_key_sql("a", "a_platform")
    kb = comm_key_sql("b", "b_platform")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE handover_pairs AS
        SELECT DISTINCT {ka} AS old_key, {kb} AS new_key FROM handover_rows
        WHERE what = 'handover';
        -- a case's events on a line, over every platform it keys the same on
        CREATE OR REPLACE TEMP TABLE handover_seen AS
        SELECT a AS investigation_id, {kb} AS key, min(first_day) AS first_day,
            max(last_day) AS last_day
        FROM handover_rows WHERE what = 'seen' GROUP BY a, {kb}
        """
    )
    # A line passed on, and the day D its later user took it over (the earliest, for a line
    # with several successors).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE passed_lines AS
        SELECT {ka} AS key, min(first_day) AS passed_on FROM handover_rows
        WHERE what = 'passed' GROUP BY {ka}
        """
    )


def compute(con: duckdb.DuckDBPyConnection) -> None:
    """``new_conflicts(target_id, agency_id, division, other_agency_id, other_division)`` on
    ``con``, from the tables ``resolve`` builds (``new_members``, ``sel_recs``,
    ``subject_selectors``, ``selector_use``, ``src_investigations``) and those of
    :func:`load_lines` (``returned_lines``, ``handover_pairs``, ``handover_seen``,
    ``passed_lines``)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE selector_owner AS
        -- each selector key its records' subjects use, and the one entity using it (it owns
        -- the key), or none when several do or the key is a shared line: a family phone, a
        -- business line
        SELECT ss.key, CASE WHEN count(DISTINCT m.entity_id) = 1 AND NOT bool_or(u.common)
            THEN min(m.entity_id) END AS entity_id
        FROM subject_selectors ss
        JOIN new_members m ON m.record_type = 'subjects' AND m.record_id = ss.subject_id
        JOIN selector_use u ON u.key = ss.key
        GROUP BY ss.key
        """
    )
    # Burner chains: the lines one person used in turn, joined by handovers, over lines that
    # no two entities share (a chain never runs through a family phone or a shared line).
    # A line passed on (``passed_lines``) had two users in turn: the chains are built twice,
    # without its handovers (``burner_chains``: one user's lines, never a line passed on)
    # and with them (``passed_chains``), and a tie that needs it (a chain credit only
    # ``passed_chains`` makes, a returned line passed on) is a possible one ('passed line').
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE passed_edges AS
        SELECT pair.old_key AS a, pair.new_key AS b FROM handover_pairs pair
        WHERE pair.old_key <> pair.new_key
          AND NOT EXISTS (SELECT 1 FROM selector_owner o WHERE o.entity_id IS NULL
                          AND o.key IN (pair.old_key, pair.new_key));
        CREATE OR REPLACE TEMP TABLE chain_edges AS
        SELECT a, b FROM passed_edges e
        WHERE NOT EXISTS (SELECT 1 FROM passed_lines p WHERE p.key IN (e.a, e.b))
        """
    )
    for edges, chains in (("chain_edges", "burner_chains"), ("passed_edges", "passed_chains")):
        cluster.components(
            con, f"(SELECT a AS node FROM {edges} UNION SELECT b FROM {edges})", edges, chains
        )
    # Each case a target is credited with, by the strongest basis that ties them (the rank
    # of BASES: 1 is the strongest).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE target_cases AS
        WITH owned AS (
            SELECT key, entity_id, key IN (SELECT key FROM passed_lines) AS passed
            FROM selector_owner WHERE entity_id IS NOT NULL
        ), case_lines AS (
            -- the lines a case listed (its selector records) or obtained records of
            SELECT investigation_id, key FROM sel_recs WHERE valid
            UNION SELECT investigation_id, key FROM returned_lines
        ), passed_users AS (
            -- each line passed on, with its earlier user: the one owner of the other lines
            -- of its chain (its owner, whose records use it, is mostly its later user)
            SELECT p.key, p.passed_on, eu.earlier
            FROM passed_lines p
            LEFT JOIN (
                SELECT pc.node AS key, CASE WHEN count(DISTINCT o.entity_id) = 1
                    THEN min(o.entity_id) END AS earlier
                FROM passed_chains pc
                JOIN passed_chains other ON other.component = pc.component
                    AND other.node <> pc.node
                JOIN selector_owner o ON o.key = other.node AND o.entity_id IS NOT NULL
                WHERE other.node NOT IN (SELECT key FROM passed_lines)
                GROUP BY pc.node
            ) eu ON eu.key = p.key
        ), case_side AS (
            -- when a case's events on a line passed on fall: all before its day D (its
            -- earlier user's time), all from D on (its later user's), or both
            SELECT v.investigation_id, u.key, u.earlier,
                CASE WHEN v.last_day < u.passed_on THEN 'before'
                     WHEN v.first_day >= u.passed_on THEN 'after' ELSE 'both' END AS side
            FROM passed_users u JOIN handover_seen v ON v.key = u.key
        ), chain_cases AS (
            -- every line of a burner chain that holds one of a case's lines, where the
            -- case's communications show it (burner_chains leave out the handovers of a
            -- line passed on: one user's lines; passed_chains, below, keep them and rank
            -- 'passed line', a possible tie only)
            SELECT DISTINCT credited.node AS key, c.investigation_id, 4 AS rank
            FROM burner_chains held
            JOIN case_lines c ON c.key = held.node
            JOIN burner_chains credited ON credited.component = held.component
            JOIN handover_seen v ON v.investigation_id = c.investigation_id
                AND v.key = credited.node
        ), passed_chain_cases AS (
            SELECT DISTINCT credited.node AS key, held.node AS held, c.investigation_id
            FROM passed_chains held
            JOIN case_lines c ON c.key = held.node
            JOIN passed_chains credited ON credited.component = held.component
            JOIN handover_seen v ON v.investigation_id = c.investigation_id
                AND v.key = credited.node
        ), passed_chain_ranked AS (
            -- a tie through a line passed on is a possible one, unless the case's events on
            -- the line fall wholly in the time of a user other than the one it credits: the
            -- case held the line only after D (its later user's), yet the tie credits the
            -- chain of its earlier user; or it reached the line through another line of the
            -- chain and shows it only after D (its later user's time), yet the tie runs
            -- through the chain; or it shows the line only before D (its earlier user's),
            -- yet the tie credits the line's owner, who is another entity
            SELECT pc.key, pc.investigation_id, CASE
                WHEN held_side.side = 'after' AND pc.key <> pc.held THEN NULL
                WHEN credited_side.side = 'after' AND pc.key <> pc.held THEN NULL
                WHEN credited_side.side = 'before' AND credited_side.earlier IS NOT NULL
                    AND credited_side.earlier <> credited_owner.entity_id THEN NULL
                ELSE 5 END AS rank
            FROM passed_chain_cases pc
            LEFT JOIN case_side held_side ON held_side.investigation_id = pc.investigation_id
                AND held_side.key = pc.held
            LEFT JOIN case_side credited_side
                ON credited_side.investigation_id = pc.investigation_id
                AND credited_side.key = pc.key
            LEFT JOIN selector_owner credited_owner ON credited_owner.key = pc.key
        ), returned_ranked AS (
            -- a returned line; one passed on is a possible tie, of the user of the time of
            -- the case's events on it: before D its earlier user (the second part; when
            -- he is its owner too, that part ties him), from D on or on both sides its owner
            SELECT o.entity_id, r.investigation_id, CASE
                WHEN NOT o.passed THEN 3
                WHEN cs.side = 'before' AND cs.earlier IS NOT NULL THEN NULL
                ELSE 5 END AS rank
            FROM owned o JOIN returned_lines r ON r.key = o.key
            LEFT JOIN case_side cs ON cs.investigation_id = r.investigation_id
                AND cs.key = o.key
            UNION ALL
            SELECT cs.earlier, r.investigation_id, 5
            FROM returned_lines r JOIN case_side cs ON cs.investigation_id = r.investigation_id
                AND cs.key = r.key
            WHERE cs.side = 'before' AND cs.earlier IS NOT NULL
        ), ties AS (
            SELECT m.entity_id AS target_id, s.investigation_id, 1 AS basis_rank
            FROM new_members m JOIN src_subjects s ON s.record_id = m.record_id
            WHERE m.record_type = 'subjects'
            UNION ALL
            SELECT o.entity_id, r.investigation_id, 2 FROM owned o
            JOIN sel_recs r ON r.key = o.key
            UNION ALL
            SELECT entity_id, investigation_id, rank FROM returned_ranked
            WHERE rank IS NOT NULL
            UNION ALL
            SELECT o.entity_id, c.investigation_id, c.rank
            FROM owned o JOIN chain_cases c ON c.key = o.key
            UNION ALL
            SELECT o.entity_id, c.investigation_id, c.rank
            FROM owned o JOIN passed_chain_ranked c ON c.key = o.key
            WHERE c.rank IS NOT NULL
        )
        SELECT target_id, investigation_id, min(basis_rank) AS basis_rank FROM ties
        GROUP BY target_id, investigation_id
        """
    )
    # A conflict holds only while both sides' ties do: its basis is the weaker of the two
    # sides' strongest, the same word for both agencies.
    words = " ".join(f"WHEN {rank} THEN '{word}'" for rank, word in enumerate(BASES, 1))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE new_conflicts AS
        WITH sides AS (
            SELECT t.target_id, i.agency_id, i.division, min(t.basis_rank) AS basis_rank
            FROM target_cases t JOIN src_investigations i USING (investigation_id)
            WHERE i.agency_id IS NOT NULL
            GROUP BY t.target_id, i.agency_id, i.division
        )
        SELECT a.target_id, a.agency_id, a.division, b.agency_id AS other_agency_id,
            b.division AS other_division,
            CASE greatest(a.basis_rank, b.basis_rank) {words} END AS basis
        FROM sides a JOIN sides b ON a.target_id = b.target_id
            AND (a.agency_id <> b.agency_id OR a.division IS DISTINCT FROM b.division)
        """
    )


@dataclass(frozen=True)
class ConflictCounts:
    """What :func:`write` stored: how many conflicts are new (first seen in this run), how
    many were upgraded (stored before as possible only, or never seen confirmed, and
    confirmed by this run: announced again to the readers of the confirmed ones), how many
    were found again (stored, not found by the run before, found by this one: announced
    again to every reader), and the time this run's rows were stamped with (read from the
    store's clock)."""

    new: int
    upgraded: int
    found_again: int = 0
    at: datetime | None = field(default=None, compare=False)


def confirmed_sql(basis: str) -> str:
    """SQL: ``basis`` states more than a possible conflict (none, for a conflict stored
    before bases were kept, is not possible: ``conflicts_of``). The one test of it, for
    :func:`write`, :func:`conflicts_of` and the run's count of the possible ones."""
    possible = ", ".join(f"'{b}'" for b in POSSIBLE_BASES)
    return f"({basis} IS NULL OR {basis} NOT IN ({possible}))"


def write(ws: Workspace, con: duckdb.DuckDBPyConnection) -> ConflictCounts:
    """Store the conflicts (a conflict is its target and its two sides; its basis is the
    latest run's), keeping the time each was first seen: ``confirmed_since`` is the time of
    the run that last made it confirmed, set when a conflict is first stored with a confirmed
    basis and set anew whenever a run confirms one stored as possible (POSSIBLE_BASES), so a
    reader of the confirmed ones who polled while it was possible is told of it again; it is
    kept while the conflict stays confirmed, falls back to possible, or is no longer found.
    ``is_current`` says whether this run found it: a conflict no longer found keeps its row.
    ``current_since`` is the time since which every run has found it: its first_seen, or the
    time of the run that found it again after one that did not (not current, or of unknown
    currency), so that ``--since`` tells of it again; kept while it is found and when it
    goes. Every row this run writes is stamped with one time, read from the store's clock.
    Returns how many are new, upgraded from possible to confirmed, and found again."""
    settle(con)
    columns = ("target_id", "agency_id", "division", "other_agency_id", "other_division")
    stamp = ws.store.rows("SELECT CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)")
    at = naive_utc(stamp[0][0])
    known = ws.store.query(
        f"SELECT {', '.join(columns)}, first_seen, last_seen, basis, confirmed_since, "
        "is_current, current_since FROM conflicts"
    )
    if known.num_rows == 0:
        known = pa.table(
            {
                **{c: pa.array([], pa.string()) for c in columns},
                "first_seen": pa.array([], pa.timestamp("us")),
                "last_seen": pa.array([], pa.timestamp("us")),
                "basis": pa.array([], pa.string()),
                "confirmed_since": pa.array([], pa.timestamp("us")),
                "is_current": pa.array([], pa.bool_()),
                "current_since": pa.array([], pa.timestamp("us")),
            }
        )
    register_table(con, known, "known_conflicts")
    # a known conflict (k) and one this run found (n) are one when target and sides agree
    same_conflict = " AND ".join(
        f"k.{c} IS NOT DISTINCT FROM n.{c}" if c.endswith("division") else f"k.{c} = n.{c}"
        for c in columns
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stored_conflicts AS
        WITH seen AS (
            SELECT n.target_id, n.agency_id, n.division, n.other_agency_id, n.other_division,
                coalesce(k.first_seen, $at) AS first_seen, n.basis,
                CAST(k.confirmed_since AS TIMESTAMP) AS known_confirmed_since,
                {confirmed_sql("n.basis")} AS confirmed,
                -- stored before, and told as confirmed then (and not possible since)
                k.first_seen IS NOT NULL AND k.confirmed_since IS NOT NULL
                    AND {confirmed_sql("CAST(k.basis AS VARCHAR)")} AS was_confirmed,
                k.first_seen IS NULL AS is_new,
                -- stored, and not found by the run before (or not known to be)
                k.first_seen IS NOT NULL AND k.is_current IS NOT TRUE AS is_back,
                CAST(coalesce(k.current_since, k.first_seen) AS TIMESTAMP)
                    AS known_current_since
            FROM new_conflicts n LEFT JOIN known_conflicts k ON {same_conflict}
        )
        SELECT target_id, agency_id, division, other_agency_id, other_division, first_seen,
            $at AS last_seen, basis,
            -- the run that last made it confirmed
            CASE WHEN confirmed AND NOT was_confirmed THEN $at
                ELSE known_confirmed_since END AS confirmed_since,
            true AS is_current,
            -- the run since which every run has found it
            CASE WHEN is_new OR is_back THEN $at ELSE known_current_since END
                AS current_since,
            is_new, NOT is_new AND confirmed AND NOT was_confirmed AS is_upgraded, is_back
        FROM seen
        UNION ALL
        -- Conflicts no longer found keep their row, last_seen, basis, confirmed_since and
        -- current_since (what was announced stays on record), no longer current.
        SELECT k.target_id, k.agency_id, k.division, k.other_agency_id, k.other_division,
            k.first_seen, k.last_seen, CAST(k.basis AS VARCHAR),
            CAST(k.confirmed_since AS TIMESTAMP), false,
            CAST(coalesce(k.current_since, k.first_seen) AS TIMESTAMP), false, false, false
        FROM known_conflicts k
        WHERE NOT EXISTS (SELECT 1 FROM new_conflicts n WHERE {same_conflict})
        """,
        {"at": at},
    )
    row = con.execute(
        "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE is_upgraded), "
        "count(*) FILTER (WHERE is_back) FROM stored_conflicts"
    ).fetchone()
    settle(con)
    with ws.store.transaction():
        ws.store.execute("DELETE FROM conflicts")
        ws.store.append(
            con,
            "conflicts",
            [
                *columns[:1],
                "target_kind",
                *columns[1:],
                "first_seen",
                "last_seen",
                "basis",
                "confirmed_since",
                "is_current",
                "current_since",
            ],
            f"SELECT target_id, 'person', {', '.join(columns[1:])}, first_seen, last_seen, "
            "basis, confirmed_since, is_current, current_since FROM stored_conflicts",
        )
    new, upgraded, back = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
    return ConflictCounts(new, upgraded, back, at)


def parse_since(text: str) -> datetime:
    """An ISO date or date and time (``2026-12-01``, ``2026-12-01T06:00``,
    ``2026-12-01T06:00:00+01:00``) as the naive UTC time the conflicts are stored in; a time
    without an offset is UTC, a date is its midnight."""
    from lastmile.resolve.errors import ResolveError

    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ResolveError(
            f"--since {text!r} is not an ISO date or date and time (2026-12-01, "
            "2026-12-01T06:00, 2026-12-01T06:00:00Z)"
        ) from None
    return naive_utc(when)


OWN_NAMES = """
    SELECT m.entity_id, i.agency_id, i.division, min(coalesce(nullif(trim(s.full_name), ''),
        nullif(trim(concat_ws(' ', s.given_name, s.family_name)), ''))) AS name
    FROM entity_members m
    JOIN subjects s ON m.record_type = 'subjects' AND s.subject_id = m.record_id
    JOIN investigations i ON i.investigation_id = s.investigation_id
    WHERE m.entity_id IN (SELECT target_id FROM conflicts)
    GROUP BY m.entity_id, i.agency_id, i.division"""
"""The name each side's own records (an agency's, and its division's: two divisions of one
agency are two sides) give each target: a conflict names its target by it, not by the
entity's best name, which the other side's record may have given (the other side's case
details are not the reader's). NULL where the side's records name him not at all (a phone
only)."""


def conflicts_of(
    ws: Workspace,
    agency: str | None = None,
    confirmed: bool = False,
    since: datetime | None = None,
    include_gone: bool = False,
) -> pa.Table:
    """An agency's conflicts (all agencies' when ``agency`` is None): its target, only the
    other side's agency, division and point of contact, how the conflict was found (its
    basis: BASES), when it was first seen, when it was last confirmed, when last seen and
    whether the latest resolution found it (``is_current``). Only the current ones, unless
    ``include_gone`` (those no longer found too). ``confirmed`` leaves out the possible ones
    (POSSIBLE_BASES: a tie through a line passed from one person to another), for an agency
    that calls only on the confirmed; a conflict stored before bases were kept (no basis) is
    not possible. ``since`` (naive UTC, or aware) keeps what is new to the reader since then:
    the conflicts found at or after it by a run when the run before had not found them
    (``current_since``: first seen, or found again after a run that did not find them), or,
    with ``confirmed``, those that became current and confirmed at or after it (the later of
    ``confirmed_since`` and ``current_since``: a possible conflict confirmed since, also
    again after falling back, or a confirmed one found again, is new to a reader of the
    confirmed ones); sorted by that time, newest first."""
    from lastmile.resolve.errors import ResolveError

    conditions: list[str] = []
    params: list[object] = []
    if agency and not ws.store.rows(
        "SELECT 1 FROM agencies WHERE agency_id = ? OR lower(name) = lower(?)", (agency, agency)
    ):
        raise ResolveError(f"no agency {agency!r} in the workspace (give its id or name)")
    if agency:
        conditions.append("(c.agency_id = ? OR lower(a.name) = lower(?))")
        params += [agency, agency]
    if confirmed:
        conditions.append(confirmed_sql("c.basis"))
    if not include_gone:
        conditions.append("c.is_current")
    # --since reads the time that says what is new to the reader, and the list is sorted
    # by it, newest first: since when the conflict has been current (and confirmed).
    when = "c.first_seen"
    if since is not None:
        when = "greatest(c.confirmed_since, c.current_since)" if confirmed else "c.current_since"
        conditions.append(f"{when} >= ?")
        params.append(naive_utc(since))
    where = "WHERE " + " AND ".join(conditions) if conditions else ""
    return ws.store.query(
        f"""
        SELECT c.agency_id, c.division, c.target_id, n.name AS target_name,
            c.other_agency_id, o.name AS other_agency, c.other_division,
            o.poc_name, o.poc_phone_normalized AS poc_phone, o.poc_email_normalized AS poc_email,
            c.basis, c.first_seen, c.confirmed_since, c.current_since, c.last_seen,
            c.is_current
        FROM conflicts c
        LEFT JOIN agencies a ON a.agency_id = c.agency_id
        LEFT JOIN agencies o ON o.agency_id = c.other_agency_id
        LEFT JOIN ({OWN_NAMES}) n ON n.entity_id = c.target_id AND n.agency_id = c.agency_id
            AND n.division IS NOT DISTINCT FROM c.division
        {where}
        ORDER BY c.agency_id, {when} DESC, c.target_id, c.other_agency_id, c.other_division
        """,
        params,
    )
