"""Clusters from edges, and entity ids that stay put across reruns.

``components`` is connected components by min-label propagation in DuckDB SQL (a few passes,
as many as the longest chain of merges), so it is set-based on any number of records.

``stable_ids`` gives each new cluster an id: a cluster keeps the id of the previous entity
whose oldest (still present) record it holds; when it holds the oldest records of several
previous entities (a merge) the one first seen earliest survives; a cluster with none gets a
new id derived from its oldest record. So ids do not change when the data did not, a split
leaves the id with the part holding the oldest record, and a merge keeps the older id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import duckdb
import pyarrow as pa

from lastmile.store.backends import register_table

# A pair of person records is merged when Splink's match probability is at least this.
# Chosen for precision first: a wrong merge puts one person's arrests and selectors on
# another (docs/resolution.md, "Threshold").
THRESHOLD = float(os.environ.get("LASTMILE_RESOLVE_THRESHOLD", "0.5"))
# With the prior estimated from the data (persons.train, prior "estimated"), a pair where
# either record (in the entity pass, either entity) carries stated ties (organizations,
# suppliers, associates: what the network analysis joins into groups) is merged at this
# probability: a wrong merge there can join two groups, weighed as TIED_COST missed merges
# (a decision threshold of cost / (1 + cost); docs/resolution-rounds.md, "The prior, estimated").
TIED_COST = 4.0
TIED_THRESHOLD = TIED_COST / (1.0 + TIED_COST)


def components(con: duckdb.DuckDBPyConnection, nodes: str, edges: str, into: str) -> None:
    """``into(node, component)``: the connected components of ``nodes(node)`` under
    ``edges(a, b)``; a component is named by its smallest node."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT DISTINCT node, node AS component "
        f"FROM {nodes}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cc_edges AS SELECT a, b FROM {edges} "
        f"UNION SELECT b, a FROM {edges}"
    )
    while True:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _cc_next AS
            SELECT n.node, least(n.component, coalesce(min(m.component), n.component))
                AS component
            FROM {into} n
            LEFT JOIN _cc_edges e ON e.a = n.node
            LEFT JOIN {into} m ON m.node = e.b
            GROUP BY n.node, n.component
            """
        )
        # Pointer jumping: a node takes its component's component, halving chain lengths.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _cc_jump AS
            SELECT n.node, least(n.component, coalesce(p.component, n.component)) AS component
            FROM _cc_next n LEFT JOIN _cc_next p ON p.node = n.component
            """
        )
        changed = con.execute(
            f"SELECT count(*) FROM _cc_jump j JOIN {into} n USING (node) "
            "WHERE j.component <> n.component"
        ).fetchone()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT * FROM _cc_jump")
        if not changed or changed[0] == 0:
            break
    for t in ("_cc_edges", "_cc_next", "_cc_jump"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def stable_ids(con: duckdb.DuckDBPyConnection, clusters: str, into: str) -> None:
    """``into(record_type, record_id, entity_id, kind)`` from ``clusters(record_type,
    record_id, cluster, kind)``, with ``prev_members(record_type, record_id, entity_id)``,
    ``prev_entities(entity_id, first_seen)`` and ``rec_age`` on ``con``."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _aged AS
        SELECT c.*, a.seen_at, a.source_row FROM {clusters} c
        LEFT JOIN rec_age a USING (record_type, record_id)
        """
    )
    # For each previous entity, the new cluster holding its oldest present record: its heir.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _heirs AS
        SELECT entity_id, cluster, first_seen FROM (
            SELECT p.entity_id, g.cluster, e.first_seen,
                row_number() OVER (PARTITION BY p.entity_id
                    ORDER BY g.seen_at NULLS LAST, g.record_type, g.record_id) AS rn
            FROM prev_members p
            JOIN _aged g USING (record_type, record_id)
            LEFT JOIN prev_entities e USING (entity_id)
        ) WHERE rn = 1
        """
    )
    # A cluster heir to several entities keeps the one first seen earliest (a merge).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _kept AS
        SELECT cluster, entity_id FROM (
            SELECT cluster, entity_id, row_number() OVER (PARTITION BY cluster
                ORDER BY first_seen NULLS LAST, entity_id) AS rn
            FROM _heirs
        ) WHERE rn = 1
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _oldest AS
        SELECT cluster, kind, record_type, record_id FROM (
            SELECT *, row_number() OVER (PARTITION BY cluster
                ORDER BY seen_at NULLS LAST, record_type, record_id) AS rn
            FROM _aged
        ) WHERE rn = 1
        """
    )
    # A new id comes from the cluster's oldest record; when a kept id already has that form
    # (the record named an entity before, and that entity's id went with its other part), a
    # second form is taken, so two clusters never share an id.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ids AS
        WITH fresh AS (
            SELECT o.cluster, o.kind, k.entity_id AS kept,
                upper(substr(o.kind, 1, 1)) || '-' ||
                substr(md5(o.kind || ':' || o.record_type || ':' || o.record_id), 1, 12) AS id1,
                upper(substr(o.kind, 1, 1)) || '-' ||
                substr(md5(o.kind || ':' || o.record_type || ':' || o.record_id || ':new'), 1, 12)
                    AS id2
            FROM _oldest o LEFT JOIN _kept k USING (cluster)
        )
        SELECT cluster, kind, coalesce(kept,
            CASE WHEN id1 IN (SELECT entity_id FROM _kept) THEN id2 ELSE id1 END) AS entity_id
        FROM fresh
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT c.record_type, c.record_id, i.entity_id, c.kind
        FROM {clusters} c JOIN _ids i USING (cluster)
        """
    )
    for t in ("_aged", "_heirs", "_kept", "_oldest", "_ids"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def constrained_components(
    con: duckdb.DuckDBPyConnection,
    nodes: str,
    edges: str,
    cannot: str,
    values: str,
    conflict: str,
    into: str,
    groups: str | None = None,
    evidence: str | None = None,
    corroborated: Callable[[Mapping[str, set[str]], Mapping[str, set[str]]], bool] | None = None,
    units: str | None = None,
) -> int:
    """``into(node, component)``: connected components that respect cannot-link constraints.

    ``edges(a, b, probability, forced)`` are the links; ``cannot(a, b)`` pairs that must end
    apart (an analyst's ``different``); ``values(node, value)`` a value each node states (a
    date of birth) and ``conflict`` an SQL condition over ``x.value`` and ``y.value`` that is
    true when two values cannot belong to one entity. Transitive closure would put two
    records judged different, or a father and a son with one name, in one cluster through a
    third record; so a component holding such a pair is rebuilt edge by edge, strongest
    first, refusing any merge that would put a conflicting pair together (greedy clustering
    with cannot-link constraints, as in Wagstaff et al. 2001, "Constrained K-means"). A forced
    edge (an analyst's ``same``) overrides a value conflict, never a cannot-link.

    ``groups(node, grp)``, when given, names groups whose nodes never end in one component
    (the subject records of one case file, which the case lists apart), except through an
    edge with ``group_ok`` true (a column ``edges`` then has; an analyst's ``same``, a
    duplicate): such an edge joins two nodes of one group, and what they joined keeps their
    group's others out no longer. A forced edge overrides a value conflict, not a group.

    ``evidence(node, kind, value)``, when given with ``corroborated``, is what each node
    holds (its selectors, monikers, ties...): a merge that a value conflict would refuse is
    made when ``corroborated`` accepts the two sides' evidence, pooled over each side's
    nodes (``{kind: values}`` of each), for the conflict is then outweighed by what the two
    share (collective evidence; docs/resolution-rounds.md, "Issue 10, fifth round"). It overrides a
    value conflict only, never a cannot-link or a group.

    ``units(node, unit)``, when given, are clusters made before, under the same constraints
    and a part of the same edges (the entities an earlier pass compared): each unit starts
    as one cluster, with all it holds, before any edge is tried. A link made between two
    units (by their first nodes) then joins the two wholes: built from the edges alone, a
    link between a unit's node without a date of birth and the other unit would be tried
    first (when forced) and leave out the unit's dated nodes.

    Components without a conflict (nearly all) stay as plain connected components; only the
    flagged ones go through the Python pass. Returns how many components were rebuilt."""
    components(con, nodes, f"(SELECT a, b FROM {edges})", into)
    group_ok = "false" if groups is None else "coalesce(e.group_ok, false)"
    # The conflicting pairs of values each component holds: they flag it, and they are all
    # the rebuild weighs (clash only ever compares values of one component). Pairs across
    # components would be quadratic in the values of all flagged ones: at a million
    # records 15.7 million pairs, 33 s of the clustering's 64.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _cc_conflicts AS
        WITH v AS (
            SELECT DISTINCT c.component, x.value FROM {values} x
            JOIN {into} c ON c.node = x.node WHERE x.value IS NOT NULL
        )
        SELECT x.component, x.value AS x, y.value AS y FROM v x JOIN v y
            ON x.component = y.component AND x.value < y.value
        WHERE {conflict}
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cc_flagged AS
        SELECT DISTINCT ca.component FROM {cannot} k
        JOIN {into} ca ON ca.node = k.a JOIN {into} cb ON cb.node = k.b
        WHERE ca.component = cb.component
        UNION
        SELECT DISTINCT component FROM _cc_conflicts
        {grouped}
        """.format(
            into=into,
            cannot=cannot,
            grouped=""
            if groups is None
            else f"""UNION SELECT DISTINCT c.component FROM {groups} g
            JOIN {into} c ON c.node = g.node
            GROUP BY c.component, g.grp HAVING count(DISTINCT g.node) > 1""",
        )
    )
    row = con.execute("SELECT count(*) FROM _cc_flagged").fetchone()
    flagged = int(row[0]) if row else 0
    if flagged == 0:
        con.execute("DROP TABLE IF EXISTS _cc_flagged")
        con.execute("DROP TABLE IF EXISTS _cc_conflicts")
        return 0
    edge_rows = con.execute(
        f"""
        SELECT e.a, e.b, coalesce(e.forced, false), {group_ok} FROM {edges} e
        JOIN {into} c ON c.node = e.a JOIN _cc_flagged f ON f.component = c.component
        ORDER BY coalesce(e.forced, false) DESC, e.probability DESC NULLS LAST, e.a, e.b
        """
    ).fetchall()
    value_rows = con.execute(
        f"""
        SELECT x.node, x.value FROM {values} x JOIN {into} c ON c.node = x.node
        JOIN _cc_flagged f ON f.component = c.component WHERE x.value IS NOT NULL
        """
    ).fetchall()
    # A pair that must end apart matters only where both are in one flagged component (in
    # two components no edge can join them).
    cannot_rows = con.execute(
        f"""
        SELECT k.a, k.b FROM {cannot} k JOIN {into} ca ON ca.node = k.a
        JOIN {into} cb ON cb.node = k.b AND cb.component = ca.component
        JOIN _cc_flagged f ON f.component = ca.component
        """
    ).fetchall()
    grp: dict[str, set[str]] = {}
    if groups is not None:
        for node, g in con.execute(
            f"""
            SELECT g.node, g.grp FROM {groups} g JOIN {into} c ON c.node = g.node
            JOIN _cc_flagged f ON f.component = c.component WHERE g.grp IS NOT NULL
            """
        ).fetchall():
            grp.setdefault(str(node), set()).add(str(g))
    bad = {
        (str(x), str(y))
        for x, y in con.execute("SELECT DISTINCT x, y FROM _cc_conflicts").fetchall()
    }
    held: dict[str, dict[str, set[str]]] = {}
    if evidence is not None and corroborated is not None:
        for node, kind, value in con.execute(
            f"""
            SELECT e.node, e.kind, e.value FROM {evidence} e JOIN {into} c ON c.node = e.node
            JOIN _cc_flagged f ON f.component = c.component WHERE e.value IS NOT NULL
            """
        ).fetchall():
            held.setdefault(str(node), {}).setdefault(str(kind), set()).add(str(value))
    parent: dict[str, str] = {}
    vals: dict[str, set[str]] = {}
    apart: dict[str, set[str]] = {}
    for node, value in value_rows:
        vals.setdefault(str(node), set()).add(str(value))
    for a, b in cannot_rows:
        apart.setdefault(str(a), set()).add(str(b))
        apart.setdefault(str(b), set()).add(str(a))

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def clash(va: set[str], vb: set[str]) -> bool:
        # Only a conflict the merge would bring: a value on one side only against a value
        # on the other side only. Two values already together on one side were joined by a
        # forced edge, which accepted that conflict for the entity; refusing every later
        # merge that brings either value again would leave the entity's other records out.
        # Two conflicting dates bridged by a third of the merged entity, compatible with
        # both, are two typos of that one (1997-08-10 and 1992-08-12 of 1992-08-10): no
        # conflict either. Nor is a date that is a typo of one the other side already holds
        # together with its conflicting date (a conflict accepted there, by a forced link).
        union = va | vb

        def conflicts(x: str, y: str) -> bool:
            return (min(x, y), max(x, y)) in bad

        def bridged(x: str, y: str, y_side: set[str]) -> bool:
            return any(
                not conflicts(x, z) and (z in y_side or not conflicts(z, y)) for z in union - {x, y}
            )

        return any(
            conflicts(x, y) and not bridged(x, y, vb) and not bridged(y, x, va)
            for x in va - vb
            for y in vb - va
        )

    def merge(a: str, b: str, forced: bool, group_ok: bool) -> str:
        """Merge a's and b's clusters unless a constraint refuses: "" when merged (or
        already one), "clash" when only a value conflict refused it, "refused" else."""
        ra, rb = find(a), find(b)
        if ra == rb:
            return ""
        if any(find(p) == rb for p in apart.get(ra, ())):
            return "refused"
        if not group_ok and not grp.get(ra, set()).isdisjoint(grp.get(rb, ())):
            return "refused"
        if (
            not forced
            and clash(vals.get(ra, set()), vals.get(rb, set()))
            and not (corroborated is not None and corroborated(held.get(ra, {}), held.get(rb, {})))
        ):
            return "clash"
        union(ra, rb)
        return ""

    def union(ra: str, rb: str) -> None:
        if len(vals.get(ra, ())) + len(apart.get(ra, ())) < len(vals.get(rb, ())) + len(
            apart.get(rb, ())
        ):
            ra, rb = rb, ra
        parent[rb] = ra
        vals.setdefault(ra, set()).update(vals.pop(rb, set()))
        apart.setdefault(ra, set()).update(apart.pop(rb, set()))
        grp.setdefault(ra, set()).update(grp.pop(rb, set()))
        for kind, seen in held.pop(rb, {}).items():
            held.setdefault(ra, {}).setdefault(kind, set()).update(seen)

    if units is not None:
        for node, unit in con.execute(
            f"""
            SELECT u.node, u.unit FROM {units} u JOIN {into} c ON c.node = u.node
            JOIN _cc_flagged f ON f.component = c.component WHERE u.node <> u.unit
            ORDER BY u.unit, u.node
            """
        ).fetchall():
            ra, rb = find(str(node)), find(str(unit))
            if ra != rb:
                union(ra, rb)
        # Units are entities this clustering made, joined without its checks: none may hold
        # two records that must stay apart (the merges below check the roots' sets only).
        assert not any(find(p) == root for root in list(apart) for p in apart[root]), (
            "a unit holds two records that must stay apart"
        )

    retry: list[tuple[str, str, bool, bool]] = []
    for a, b, forced, group_ok in edge_rows:
        edge = (str(a), str(b), bool(forced), bool(group_ok))
        if merge(*edge) == "clash":
            retry.append(edge)
    # A link refused for its dates is tried again once the clusters have grown: what they
    # share, pooled over all their records, may corroborate it now, and a merge may bring
    # more (repeated while one merges).
    while retry and corroborated is not None:
        again = [edge for edge in retry if merge(*edge) == "clash"]
        if len(again) == len(retry):
            break
        retry = again
    nodes_rows = con.execute(
        f"SELECT c.node FROM {into} c JOIN _cc_flagged f USING (component)"
    ).fetchall()
    rebuilt: dict[str, list[str]] = {}
    for (node,) in nodes_rows:
        rebuilt.setdefault(find(str(node)), []).append(str(node))
    label = {n: min(members) for members in rebuilt.values() for n in members}
    register_table(
        con,
        pa.table(
            {
                "node": pa.array(list(label), pa.string()),
                "component": pa.array(list(label.values()), pa.string()),
            }
        ),
        "_cc_rebuilt",
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT c.node, coalesce(r.component, c.component) AS component
        FROM {into} c LEFT JOIN _cc_rebuilt r USING (node)
        """
    )
    con.execute("DROP TABLE IF EXISTS _cc_flagged")
    con.execute("DROP TABLE IF EXISTS _cc_conflicts")
    return flagged
