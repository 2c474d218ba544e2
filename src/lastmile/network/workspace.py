"""The typed graph of resolved entities, read from a workspace (either store).

Every tie joins two entities of ``entities`` (the resolver's output: every subject,
organization and selector record is a member of one entity through ``entity_members``) and
keeps the records behind it and their Admiralty grades (source reliability A-F and information
credibility 1-6, written ``B2``; ``?`` where a record gives none). Kinds:

- ``communication``: calls, texts and app messages between two selectors, tied to the persons
  who own them: a selector record's ``subject_id``, or a stated ``uses_selector`` / ``owns``
  relationship from a subject to a selector. Events between two selectors of one person are
  left out; so are events of selectors nobody is known to own (counted in the notes).
  ``records`` counts the events; ``first`` and ``last`` bound them;
- ``supply`` (from the supplier to the supplied, as stated), ``membership`` (person to
  organization), ``association`` and ``family``: stated relationships;
- ``co_arrest``: two persons arrested in one investigation on the same day;
- ``shared_selector``: two persons whose records use one selector entity.

This is the graph only. Distribution networks, their communities and key players, and cartel
attribution are built on it (docs/networks.md says which parts exist).
"""

from __future__ import annotations

import pyarrow as pa

from lastmile.store import Workspace

TIE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("kind", pa.string()),
        ("records", pa.int64()),
        ("record_ids", pa.string()),
        ("grades", pa.string()),
        ("first", pa.string()),
        ("last", pa.string()),
    ]
)

KINDS = (
    "communication",
    "supply",
    "membership",
    "association",
    "family",
    "co_arrest",
    "shared_selector",
)

_GRADE = "coalesce({t}.source_reliability, '?') || coalesce({t}.info_credibility, '?')"

_OWNERS = """
    SELECT DISTINCT s.value_normalized AS value, p.entity_id AS owner, sm.entity_id AS selector
    FROM selectors s
    JOIN entity_members sm ON sm.record_type = 'selectors' AND sm.record_id = s.selector_id
    JOIN entity_members p ON p.record_type = 'subjects' AND p.record_id = s.subject_id
    UNION
    SELECT DISTINCT s.value_normalized AS value, p.entity_id AS owner, sm.entity_id AS selector
    FROM relationships r
    JOIN selectors s ON s.selector_id = r.to_id
    JOIN entity_members sm ON sm.record_type = 'selectors' AND sm.record_id = s.selector_id
    JOIN entity_members p ON p.record_type = 'subjects' AND p.record_id = r.from_id
    WHERE r.kind IN ('uses_selector', 'owns')
"""

_COMMUNICATION = f"""
    WITH owners AS ({_OWNERS}),
    calls AS (
        SELECT c.event_key, c.time,
               least(f.owner, t.owner) AS a, greatest(f.owner, t.owner) AS b
        FROM communications c
        JOIN owners f ON f.value = c.from_selector
        JOIN owners t ON t.value = c.to_selector
        WHERE f.owner <> t.owner
    ),
    grades AS (
        SELECT DISTINCT k.a, k.b, {_GRADE.format(t="src")} AS grade
        FROM calls k JOIN communications_sources src ON src.event_key = k.event_key
    ),
    graded AS (
        SELECT a, b, string_agg(grade, '|' ORDER BY grade) AS grades FROM grades GROUP BY a, b
    ),
    counted AS (
        SELECT a, b, count(DISTINCT event_key) AS records,
               CAST(min(time) AS TEXT) AS first, CAST(max(time) AS TEXT) AS last
        FROM calls GROUP BY a, b
    )
    SELECT c.a AS source, c.b AS target, 'communication' AS kind, c.records,
           '' AS record_ids, g.grades, c.first, c.last
    FROM counted c LEFT JOIN graded g ON g.a = c.a AND g.b = c.b
"""

_STATED = f"""
    WITH ends AS (
        SELECT r.relationship_id, r.kind, r.since, r.until, {_GRADE.format(t="r")} AS grade,
               f.entity_id AS a, t.entity_id AS b
        FROM relationships r
        JOIN entity_members f ON f.record_id = r.from_id
             AND f.record_type IN ('subjects', 'organizations', 'selectors')
        JOIN entity_members t ON t.record_id = r.to_id
             AND t.record_type IN ('subjects', 'organizations', 'selectors')
        WHERE r.kind IN ('supplies', 'member_of', 'associate', 'family')
          AND f.entity_id <> t.entity_id
    ),
    typed AS (
        SELECT relationship_id, grade, since, until,
               CASE kind WHEN 'supplies' THEN 'supply' WHEN 'member_of' THEN 'membership'
                         WHEN 'associate' THEN 'association' ELSE 'family' END AS kind,
               CASE WHEN kind = 'supplies' THEN a ELSE least(a, b) END AS a,
               CASE WHEN kind = 'supplies' THEN b ELSE greatest(a, b) END AS b
        FROM ends
    )
    SELECT a AS source, b AS target, kind, count(DISTINCT relationship_id) AS records,
           string_agg(DISTINCT relationship_id, '|' ORDER BY relationship_id) AS record_ids,
           string_agg(DISTINCT grade, '|' ORDER BY grade) AS grades,
           CAST(min(since) AS TEXT) AS first, CAST(max(until) AS TEXT) AS last
    FROM typed GROUP BY a, b, kind
"""

_CO_ARREST = f"""
    WITH arrested AS (
        SELECT a.arrest_id, a.investigation_id, a.date, p.entity_id, {_GRADE.format(t="a")} AS grade
        FROM arrests a
        JOIN entity_members p ON p.record_type = 'subjects' AND p.record_id = a.subject_id
    ),
    pairs AS (
        SELECT least(x.entity_id, y.entity_id) AS a, greatest(x.entity_id, y.entity_id) AS b,
               x.arrest_id AS r1, y.arrest_id AS r2, x.grade AS g1, y.grade AS g2, x.date
        FROM arrested x JOIN arrested y
          ON x.investigation_id = y.investigation_id AND x.date = y.date
         AND x.entity_id < y.entity_id
    ),
    records AS (
        SELECT a, b, r1 AS rid, g1 AS grade, date FROM pairs
        UNION SELECT a, b, r2 AS rid, g2 AS grade, date FROM pairs
    )
    SELECT a AS source, b AS target, 'co_arrest' AS kind, count(DISTINCT date) AS records,
           string_agg(DISTINCT rid, '|' ORDER BY rid) AS record_ids,
           string_agg(DISTINCT grade, '|' ORDER BY grade) AS grades,
           CAST(min(date) AS TEXT) AS first, CAST(max(date) AS TEXT) AS last
    FROM records GROUP BY a, b
"""

_SHARED = f"""
    WITH used AS (
        SELECT s.selector_id, sm.entity_id AS selector, p.entity_id AS person,
               {_GRADE.format(t="s")} AS grade
        FROM selectors s
        JOIN entity_members sm ON sm.record_type = 'selectors' AND sm.record_id = s.selector_id
        JOIN entity_members p ON p.record_type = 'subjects' AND p.record_id = s.subject_id
    ),
    records AS (
        SELECT least(x.person, y.person) AS a, greatest(x.person, y.person) AS b,
               x.selector, x.selector_id AS rid, x.grade
        FROM used x JOIN used y ON x.selector = y.selector AND x.person <> y.person
    )
    SELECT a AS source, b AS target, 'shared_selector' AS kind,
           count(DISTINCT selector) AS records,
           string_agg(DISTINCT rid, '|' ORDER BY rid) AS record_ids,
           string_agg(DISTINCT grade, '|' ORDER BY grade) AS grades,
           CAST(NULL AS TEXT) AS first, CAST(NULL AS TEXT) AS last
    FROM records GROUP BY a, b
"""


def entity_ties(ws: Workspace) -> pa.Table:
    """Every typed tie between resolved entities (``TIE_SCHEMA``), sorted by kind and ends."""
    parts = []
    for sql in (_COMMUNICATION, _STATED, _CO_ARREST, _SHARED):
        table = ws.store.query(sql)
        if table.num_rows:
            parts.append(table.select(TIE_SCHEMA.names).cast(TIE_SCHEMA))
    if not parts:
        return TIE_SCHEMA.empty_table()
    ties = pa.concat_tables(parts)
    return ties.sort_by([("kind", "ascending"), ("source", "ascending"), ("target", "ascending")])
