"""Possible matches: pairs of people the resolution left apart, for an analyst to judge
(docs/resolution.md, "Possible matches").

A merge is made only when the records make it likely (the threshold), because a wrong merge
misleads every later answer. What falls just short is not thrown away: the same full name
with no date of birth against it, one shared phone under names that nearly agree, a pair a
rule or the clustering kept apart. ``stage`` keeps every such pair of records;
``lastmile review`` lists each pair of entities once, by its best-scored pair of records,
most likely first, and ``lastmile judge same|different`` settles each one over the model at
the next run. The server lists a pair of entities by the best pair its caller may see.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from lastmile.resolve import persons
from lastmile.resolve.errors import ResolveError
from lastmile.store import Workspace

# The least probability kept: what the records' prediction keeps (persons.PREDICT_FLOOR).
FLOOR = persons.PREDICT_FLOOR

# Why a pair is apart, most telling first (an analyst reads it before the evidence).
_WHY = """
    CASE WHEN v.veto IS NOT NULL THEN 'kept apart by a rule: ' || v.veto
        WHEN e.a IS NOT NULL THEN 'linked, kept apart by the clustering'
        ELSE 'below the threshold (' || CAST(round(s.threshold, 2) AS VARCHAR) || ')' END
"""


def stage(con: duckdb.DuckDBPyConnection) -> None:
    """``new_possible_matches`` (written to ``possible_matches``): of this run's scored
    record pairs (``scored``, their rules' verdicts in ``vetoed``, the links made of them in
    ``person_edges``), those scored at PREDICT_FLOOR or above, or linked, whose records are
    in two person entities of ``new_members``; one row per pair of records, with how many
    pairs its two entities have (``record_pairs``). Every pair is kept, not only the best:
    a reader who may see only some records (the server) shows a pair of entities by the
    best pair it may see. A pair of entities that an analyst's ``different`` spans
    (``judged``, through any two of their records) is settled and left out: the clustering
    never joins them."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE new_possible_matches AS
        WITH settled AS (
            SELECT DISTINCT least(ma.entity_id, mb.entity_id) AS entity_a,
                greatest(ma.entity_id, mb.entity_id) AS entity_b
            FROM judged j
            JOIN new_members ma ON ma.record_type = 'subjects' AND ma.record_id = j.a
            JOIN new_members mb ON mb.record_type = 'subjects' AND mb.record_id = j.b
            WHERE j.verdict = 'different'
        ), apart AS (
            SELECT least(ma.entity_id, mb.entity_id) AS entity_a,
                greatest(ma.entity_id, mb.entity_id) AS entity_b,
                CASE WHEN ma.entity_id < mb.entity_id THEN s.a ELSE s.b END AS record_a,
                CASE WHEN ma.entity_id < mb.entity_id THEN s.b ELSE s.a END AS record_b,
                s.match_weight, s.probability, {_WHY} AS why, s.evidence
            FROM scored s
            JOIN new_members ma ON ma.record_type = 'subjects' AND ma.record_id = s.a
            JOIN new_members mb ON mb.record_type = 'subjects' AND mb.record_id = s.b
            LEFT JOIN vetoed v ON v.a = s.a AND v.b = s.b
            LEFT JOIN (SELECT DISTINCT a, b FROM person_edges) e ON e.a = s.a AND e.b = s.b
            WHERE ma.entity_id <> mb.entity_id
                AND (s.probability >= {persons.PREDICT_FLOOR} OR e.a IS NOT NULL)
        ), counted AS (
            SELECT *, count(*) OVER (PARTITION BY entity_a, entity_b) AS record_pairs
            FROM apart
        )
        SELECT r.entity_a, r.entity_b, r.record_a, r.record_b, r.match_weight, r.probability,
            r.record_pairs, r.why, r.evidence
        FROM counted r
        WHERE NOT EXISTS (
            SELECT 1 FROM settled t WHERE t.entity_a = r.entity_a AND t.entity_b = r.entity_b)
        """
    )


# Each pair of entities once, by its best-scored pair of records (of those ``where`` keeps:
# the server keeps the pairs whose records its caller may see). Both stores run it.
BEST_PAIRS = (
    "SELECT * FROM (SELECT pm.*, row_number() OVER (PARTITION BY pm.entity_a, pm.entity_b "
    "ORDER BY pm.probability DESC, pm.record_a, pm.record_b) AS best_rank "
    "FROM possible_matches pm {where}) ranked WHERE best_rank = 1"
)


def count_entity_pairs(ws: Workspace, entity: str) -> int:
    """How many pairs of entities ``entity`` is in among the stored possible matches."""
    rows = ws.store.rows(
        "SELECT count(*) FROM (SELECT DISTINCT entity_a, entity_b FROM possible_matches "
        "WHERE entity_a = ? OR entity_b = ?) pairs",
        (entity, entity),
    )
    return int(rows[0][0]) if rows else 0


# As ``lastmile review`` shows them: what an analyst judges by first (a terminal too narrow
# for all drops the last columns first).
COLUMNS = (
    "probability",
    "entity_a",
    "name_a",
    "record_a",
    "entity_b",
    "name_b",
    "record_b",
    "why",
    "record_pairs",
    "evidence",
)


def possible_matches(
    ws: Workspace,
    *,
    entity: str | None = None,
    min_probability: float = FLOOR,
    limit: int | None = None,
) -> pa.Table:
    """The stored possible matches, most likely first (``COLUMNS``); ``entity``: only those
    of that entity; ``min_probability``: only those scored at least that (FLOOR or more is
    all that is kept); ``limit``: the first so many."""
    if not 0.0 <= min_probability <= 1.0:
        raise ResolveError(f"--min-probability {min_probability} is not between 0 and 1")
    if limit is not None and limit < 1:
        raise ResolveError(f"--limit {limit} must be at least 1")
    latest = ws.store.rows(
        "SELECT counts_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1"
    )
    if not latest:
        raise ResolveError("nothing resolved yet; run 'lastmile resolve' first")
    if "possible_matches" not in json.loads(latest[0][0] or "{}"):
        # Resolved by a lastmile that kept no possible matches (before migration 0016): an
        # empty list would read as "none".
        raise ResolveError(
            "the latest resolution kept no possible matches (an older lastmile's); "
            "run 'lastmile resolve' again"
        )
    # One entity's pairs are picked before the ranking: a pair of entities is ranked alone.
    of_entity = ""
    params: list[object] = []
    if entity is not None:
        if not ws.store.rows("SELECT 1 FROM entities WHERE entity_id = ?", (entity,)):
            raise ResolveError(f"no entity {entity!r}; 'lastmile review' lists entity ids")
        of_entity = "WHERE pm.entity_a = ? OR pm.entity_b = ?"
        params += [entity, entity]
    params.append(min_probability)
    sql = (
        "SELECT p.probability, p.entity_a, ea.best_name AS name_a, p.record_a, p.entity_b, "
        "eb.best_name AS name_b, p.record_b, p.why, p.record_pairs, p.evidence "
        f"FROM ({BEST_PAIRS.format(where=of_entity)}) p "
        "LEFT JOIN entities ea ON ea.entity_id = p.entity_a "
        "LEFT JOIN entities eb ON eb.entity_id = p.entity_b "
        "WHERE p.probability >= ? "
        "ORDER BY p.probability DESC, p.entity_a, p.entity_b"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return ws.store.query(sql, tuple(params))
