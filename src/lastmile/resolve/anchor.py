"""Nameless records joined to the one person their selector points to.

A subject record with no name (only a moniker, a phone, an account) carries too little for
the Fellegi–Sunter model: with the name and date of birth missing, a shared phone alone never
reaches the threshold, and must not (a family phone, a crew phone, a burner handed down).
Investigators attribute such a record by exclusion: the phone is used by exactly one known
person, so the nameless user is that person (docs/resolution.md, "Nameless records").

After the model's edges, :func:`anchor_nameless` adds an edge from a nameless record to a
resolved person when every clue it has points to that one person and nothing contradicts it:

- a selector it uses (not a shared line) is used by the named records of exactly one
  resolved person, and every such selector points to that same person (two candidates: no
  edge);
- nothing contradicts it: its date of birth and sex (when given) are among that person's,
  its monikers (when both have some) share one, and no analyst judged the pair different.

A moniker alone is not a clue here: street monikers are common ("Flaco", "Gordo", "Zay"); on
the synthetic division operation a moniker borne by one person within the nameless record's
investigation pointed to the wrong person in 3 cases of 3 (docs/resolution.md).
"""

from __future__ import annotations

import duckdb

from lastmile.resolve import cluster

EVIDENCE = "a nameless record: its {} points to this one person only"


def anchor_nameless(con: duckdb.DuckDBPyConnection) -> int:
    """Append the nameless records' edges to ``person_edges``; returns how many."""
    cluster.components(
        con,
        "(SELECT record_id AS node FROM person_features)",
        "(SELECT a, b FROM person_edges)",
        "pre_cc",
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE anchor_edges AS
        WITH rec AS (
            SELECT f.*, c.component, f.fullname IS NULL AND f.name_keys IS NULL AS nameless
            FROM person_features f JOIN pre_cc c ON c.node = f.record_id
        ),
        -- Components that hold a named record: the resolved persons a clue can point to.
        named AS (SELECT DISTINCT component FROM rec WHERE NOT nameless),
        -- Nameless records whose component holds no named record yet.
        lone AS (
            SELECT r.* FROM rec r WHERE r.nameless
            AND r.component NOT IN (SELECT component FROM named)
        ),
        sel_owner AS (
            SELECT ss.key, min(r.component) AS component
            FROM subject_selectors ss JOIN rec r ON r.record_id = ss.subject_id
            JOIN selector_use u ON u.key = ss.key AND NOT u.common
            WHERE NOT r.nameless
            GROUP BY ss.key HAVING count(DISTINCT r.component) = 1
        ),
        clue AS (
            SELECT l.record_id, o.component, 'selector' AS kind
            FROM lone l JOIN subject_selectors ss ON ss.subject_id = l.record_id
            JOIN sel_owner o ON o.key = ss.key
        ),
        one AS (
            SELECT record_id, min(component) AS component,
                string_agg(DISTINCT kind, ' and ' ORDER BY kind) AS kinds
            FROM clue GROUP BY record_id HAVING count(DISTINCT component) = 1
        ),
        target AS (
            SELECT component, min(record_id) AS rep,
                list(DISTINCT investigation_id) AS cases,
                list(DISTINCT dob) FILTER (WHERE dob IS NOT NULL) AS dobs,
                list(DISTINCT sex) FILTER (WHERE sex IS NOT NULL) AS sexes,
                flatten(list(monikers) FILTER (WHERE monikers IS NOT NULL)) AS monikers
            FROM rec WHERE NOT nameless GROUP BY component
        )
        SELECT least(o.record_id, t.rep) AS a, greatest(o.record_id, t.rep) AS b, o.kinds
        FROM one o JOIN target t USING (component) JOIN rec l ON l.record_id = o.record_id
        WHERE NOT list_contains(t.cases, l.investigation_id)
          AND (l.dob IS NULL OR coalesce(len(t.dobs), 0) = 0 OR list_contains(t.dobs, l.dob))
          AND (l.sex IS NULL OR coalesce(len(t.sexes), 0) = 0 OR list_contains(t.sexes, l.sex))
          AND (l.monikers IS NULL OR coalesce(len(t.monikers), 0) = 0
               OR list_has_any(l.monikers, t.monikers))
          AND NOT EXISTS (
            SELECT 1 FROM judged j WHERE j.verdict = 'different'
            AND j.a = least(o.record_id, t.rep) AND j.b = greatest(o.record_id, t.rep))
        """
    )
    template = EVIDENCE.replace("'", "''").replace("{}", "' || kinds || '")
    con.execute(
        f"""
        INSERT INTO person_edges
        SELECT a, b, NULL, {cluster.THRESHOLD}, '{template}' FROM anchor_edges
        """
    )
    row = con.execute("SELECT count(*) FROM anchor_edges").fetchone()
    return int(row[0]) if row else 0
