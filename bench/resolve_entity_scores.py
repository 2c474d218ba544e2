"""How the entity pass scores the fragments of one person that resolution left apart.

    python bench/resolve_entity_scores.py --folder nat --workspace nat.duckdb

``--workspace`` is a workspace where ``--folder`` (a synthesized operation, with
``truth/records.csv``) is ingested and resolved; it is read from a copy, never changed.
Prints JSON.

The resolved entities are pooled as the entity pass pools them
(``collective.entity_features``, with their resolved associates as ties), and the run's
model is applied, with no score floor, to

- every pair of entities that hold records of one true person (the missed fragment pairs,
  compared whether or not a blocking rule pairs them: an oracle), and
- every pair of entities the model's blocking rules pair (what the entity pass compares,
  here over all entities, changed or not),

and the comparison vectors (the ten levels) of the oracle pairs are listed, the commonest
first, beside how many blocked entity pairs of that vector are one person by the truth:
what weighing that vector higher would take, at what precision. Each vector's mean
weight of each comparison (``mw_*``, bits) says which evidence keeps it under 0.5.

``ceiling``: the blocked entity pairs (the model's rules and, with ``--tie-rule``, a
stated tie alone, exploded) grouped by comparison vector; every pair of each vector of at
least five pairs whose share of one-person pairs is at least a bound (read from the truth:
a bound, not a method) is linked, and the record pairs it adds are counted, right and
wrong: pairwise recall and precision if they were all merged (no transitive closure, so
a bound within the pairs counted). It says whether any weighing of the entity pass's
evidence reaches a recall, at what precision.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

import resolve_stages as stages  # bench/, beside this script
from lastmile.resolve import collective, persons
from lastmile.store.backends import register_table

GAMMAS = stages.GAMMAS


def entity_rows(con: Any, truth: Path) -> pa.Table:
    """The entity rows of the resolution (``members``), each with ``truth_g``: the true
    persons its records belong to."""
    stages.load_truth(con, truth)
    # Components are named by their smallest record id, as the run names them.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ent_cc AS
        SELECT record_id AS node, min(record_id) OVER (PARTITION BY entity_id) AS component
        FROM members
        """
    )
    rows = collective.entity_features(con, "ent_cc")
    register_table(con, rows, "ent_rows")
    out: pa.Table = con.sql(
        """
        SELECT e.*, g.truth_g FROM ent_rows e JOIN (
            SELECT c.component, list_sort(list(DISTINCT t.g)) AS truth_g FROM ent_cc c
            JOIN truth t ON t.record_id = c.node GROUP BY 1) g ON g.component = e.record_id
        """
    ).to_arrow_table()
    return out


def oracle(rows: pa.Table, model: dict[str, Any]) -> pa.Table:
    """Every pair of entities sharing a true person, scored with no floor."""
    linker = persons._linker(
        rows, model, "duckdb", rules=[persons._rule("l.truth_g = r.truth_g", ["truth_g"])]
    )
    try:
        df = linker.inference.predict(threshold_match_probability=0.0)
        out: pa.Table = df.as_pyarrow_table()
    finally:
        persons.release(linker)
    return out


def analyse(con: Any, top: int) -> dict[str, Any]:
    gam = ", ".join(f"gamma_{g}" for g in GAMMAS)
    mws = ", ".join(f"round(avg(mw_{g}), 2) AS mw_{g}" for g in GAMMAS)
    bands = con.execute(
        """
        SELECT CASE WHEN match_probability >= 0.8 THEN '>=0.8'
            WHEN match_probability >= 0.5 THEN '0.5-0.8'
            WHEN match_probability >= 0.1 THEN '0.1-0.5'
            WHEN match_probability >= 0.01 THEN '0.01-0.1' ELSE '<0.01' END AS band,
            count(*) FROM oracle_pred GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    rows = con.execute(
        f"""
        WITH o AS (SELECT {gam}, count(*) AS oracle_pairs, round(avg(match_weight), 2) AS w,
                   {mws} FROM oracle_pred GROUP BY ALL),
        b AS (SELECT {gam}, count(*) AS blocked,
              sum(list_has_any(truth_g_l, truth_g_r)::INT) AS one_person
              FROM blocked_pred GROUP BY ALL)
        SELECT o.*, coalesce(b.blocked, 0), coalesce(b.one_person, 0) FROM o
        LEFT JOIN b USING ({gam}) ORDER BY o.oracle_pairs DESC LIMIT {top}
        """
    ).fetchall()
    n = len(GAMMAS)
    vectors = [
        {
            "gammas": dict(zip(GAMMAS, row[:n], strict=True)),
            "oracle_pairs": int(row[n]),
            "mean_weight": float(row[n + 1]),
            "mean_weights": dict(zip(GAMMAS, row[n + 2 : 2 * n + 2], strict=True)),
            "blocked_entity_pairs": int(row[2 * n + 2]),
            "of_them_one_person": int(row[2 * n + 3]),
        }
        for row in rows
    ]
    return {
        "oracle_pairs": int(con.execute("SELECT count(*) FROM oracle_pred").fetchall()[0][0]),
        "oracle_scores": {str(b): int(c) for b, c in bands},
        "vectors": vectors,
    }


def ceiling(con: Any, bounds: tuple[float, ...] = (0.99, 0.95, 0.9, 0.8)) -> dict[str, Any]:
    """Recall and precision if every blocked entity pair of a vector one person in at least
    ``bound`` of its pairs (five pairs or more) were merged (see the module's doc)."""
    gam = ", ".join(f"gamma_{g}" for g in GAMMAS)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ent_g AS
        SELECT c.component, t.g, count(*) AS n FROM ent_cc c JOIN truth t ON t.record_id = c.node
        GROUP BY ALL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ceil_pairs AS
        WITH p AS (SELECT DISTINCT record_id_l AS a, record_id_r AS b, match_probability,
                   {gam}, list_has_any(truth_g_l, truth_g_r) AS same FROM blocked_pred),
        gain AS (SELECT p.a, p.b, sum(CASE WHEN x.g = y.g THEN x.n * y.n ELSE 0 END) AS good,
                 sum(CASE WHEN x.g <> y.g THEN x.n * y.n ELSE 0 END) AS bad
                 FROM p JOIN ent_g x ON x.component = p.a JOIN ent_g y ON y.component = p.b
                 GROUP BY ALL)
        SELECT p.*, g.good, g.bad, count(*) OVER (PARTITION BY {gam}) AS vec_n,
            avg(same::INT) OVER (PARTITION BY {gam}) AS vec_share
        FROM p JOIN gain g USING (a, b)
        """
    )
    true_pairs, found, pred = con.execute(
        """
        WITH j AS (SELECT t.record_id, t.g, c.component AS p FROM truth t
                   JOIN ent_cc c ON c.node = t.record_id)
        SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM j GROUP BY g)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM j GROUP BY g, p)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM j GROUP BY p))
        """
    ).fetchall()[0]
    out: dict[str, Any] = {
        "now": {
            "recall": round(found / true_pairs, 4),
            "precision": round(found / pred, 4),
        }
    }
    for bound in bounds:
        good, bad = con.execute(
            f"""
            SELECT coalesce(sum(good), 0), coalesce(sum(bad), 0) FROM ceil_pairs
            WHERE match_probability < 0.5 AND vec_n >= 5 AND vec_share >= {bound}
            """
        ).fetchall()[0]
        out[f"vectors one person in {bound:.0%} or more"] = {
            "recall": round((found + good) / true_pairs, 4),
            "precision": round((found + good) / (pred + good + bad), 4),
            "record_pairs_right": int(good),
            "record_pairs_wrong": int(bad),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--top", type=int, default=20, help="comparison vectors to list")
    parser.add_argument(
        "--tie-rule", action="store_true", help="also block entity pairs on a stated tie alone"
    )
    args = parser.parse_args()
    with stages.resolved_copy(parser, args.workspace) as r:
        rows = entity_rows(r.con, args.folder / "truth" / "records.csv")
        register_table(r.con, oracle(rows, r.model), "oracle_pred")
        keep = [c for c in rows.column_names if c != "truth_g"]
        model = dict(r.model)
        rules = list(model.get("blocking_rules_to_generate_predictions", []))
        if args.tie_rule:
            rules.append(persons._rule("l.tie_keys = r.tie_keys", ["tie_keys"]))
        model["blocking_rules_to_generate_predictions"] = rules
        blocked = stages.predict_all(rows.select(keep), model)
        truth = rows.select(["record_id", "truth_g"])
        register_table(r.con, truth, "ent_truth")
        register_table(r.con, blocked, "blocked_raw")
        r.con.execute(
            """
            CREATE OR REPLACE TEMP TABLE blocked_pred AS
            SELECT b.*, x.truth_g AS truth_g_l, y.truth_g AS truth_g_r FROM blocked_raw b
            JOIN ent_truth x ON x.record_id = b.record_id_l
            JOIN ent_truth y ON y.record_id = b.record_id_r
            """
        )
        out = analyse(r.con, args.top) | {"ceiling": ceiling(r.con)}
    print(json.dumps({"folder": str(args.folder)} | out, indent=2))


if __name__ == "__main__":
    main()
