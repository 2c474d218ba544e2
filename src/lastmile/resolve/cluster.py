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

import duckdb

# A pair of person records is merged when Splink's match probability is at least this.
# Chosen for precision first: a wrong merge puts one person's arrests and selectors on
# another (docs/resolution.md, "Threshold").
THRESHOLD = float(os.environ.get("LASTMILE_RESOLVE_THRESHOLD", "0.5"))


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
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ids AS
        SELECT o.cluster, o.kind, coalesce(k.entity_id,
            upper(substr(o.kind, 1, 1)) || '-' ||
            substr(md5(o.kind || ':' || o.record_type || ':' || o.record_id), 1, 12))
            AS entity_id
        FROM _oldest o LEFT JOIN _kept k USING (cluster)
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
