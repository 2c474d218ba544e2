"""The wrong merges one resolved workspace makes that another does not, against a synthetic
world's truth: for two copies of one ingested operation resolved two ways (say
``lastmile resolve --prior stated`` and ``--prior estimated``), every pair of true persons
that some entity of NEW joins and no entity of OLD joined, with each person's true network
(``truth/entities.csv``), their records, and NEW's edges between the two (``match_edges``).
Prints a summary (how many such pairs, how many join two true networks) then the pairs.

    python bench/resolve_diff.py OP OLD.duckdb NEW.duckdb

Read-only on both workspaces (docs/resolution-rounds.md, "The prior, estimated").
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic world (with truth/)")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    truth = args.world / "truth"
    con = duckdb.connect()
    con.execute(f"ATTACH '{args.old}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{args.new}' AS b (READ_ONLY)")
    con.execute(
        f"""
        CREATE TABLE t AS SELECT r.record_id, r.entity_id AS g, e.network_id AS net
        FROM read_csv('{truth / "records.csv"}', all_varchar = true) r
        LEFT JOIN read_csv('{truth / "entities.csv"}', all_varchar = true) e USING (entity_id)
        WHERE r.record_type = 'subjects'
        """
    )
    con.execute(
        """
        CREATE TABLE m AS SELECT x.record_id, x.entity_id AS pa, y.entity_id AS pb, t.g, t.net
        FROM a.entity_members x JOIN b.entity_members y USING (record_type, record_id)
        JOIN t USING (record_id) WHERE x.record_type = 'subjects'
        """
    )
    new = con.execute(
        """
        WITH joined AS (
            SELECT DISTINCT m1.pb, m1.g AS g1, m2.g AS g2 FROM m m1
            JOIN m m2 ON m1.pb = m2.pb AND m1.g < m2.g
        ), before AS (
            SELECT DISTINCT m1.g AS g1, m2.g AS g2 FROM m m1
            JOIN m m2 ON m1.pa = m2.pa AND m1.g < m2.g
        )
        SELECT j.pb, j.g1, j.g2 FROM joined j LEFT JOIN before USING (g1, g2)
        WHERE before.g1 IS NULL ORDER BY 1, 2, 3
        """
    ).fetchall()
    net = dict(con.execute("SELECT DISTINCT g, net FROM t").fetchall())
    across = sum(1 for _, g1, g2 in new if net.get(g1) and net.get(g2) and net[g1] != net[g2])
    print(f"{len(new)} pairs of true persons joined by NEW only; {across} of two true networks")
    for entity, g1, g2 in new:
        print(f"\n{entity}: {g1} ({net.get(g1)}) + {g2} ({net.get(g2)})")
        records = con.execute(
            "SELECT m.record_id, m.g, s.full_name, s.dob, s.monikers FROM m "
            "JOIN b.subjects s ON s.subject_id = m.record_id "
            "WHERE m.pb = ? AND m.g IN (?, ?) ORDER BY m.g, m.record_id",
            [entity, g1, g2],
        ).fetchall()
        for r in records:
            print("   ", " | ".join("" if v is None else str(v) for v in r))
        one = [r[0] for r in records if r[1] == g1]
        two = [r[0] for r in records if r[1] == g2]
        for a, b, p, evidence in con.execute(
            "SELECT record_a, record_b, probability, evidence FROM b.match_edges "
            "WHERE (list_contains(?, record_a) AND list_contains(?, record_b)) "
            "OR (list_contains(?, record_a) AND list_contains(?, record_b))",
            [one, two, two, one],
        ).fetchall():
            print(f"    edge {a} - {b} {p:.3f}: {evidence}")


if __name__ == "__main__":
    main()
