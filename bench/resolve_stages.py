"""Where resolution loses the true pairs it misses: the stage that keeps each one apart.

    python bench/resolve_stages.py --folder nat --workspace nat.duckdb

``--workspace`` is a workspace where ``--folder`` (a synthesized operation, with
``truth/records.csv``) is ingested and resolved; it is read from a copy, never changed.
Prints JSON.

Each missed pair (two subject records of one true person in two resolved entities) is put
under the first stage that kept it apart:

- ``edge_refused``: the pair is an edge (``match_edges``: a model score of 0.5 or more, a
  rule's link, an analyst's ``same``) that the clustering refused (a date of birth or a
  case file in conflict, step 8 of docs/resolution.md);
- ``vetoed``: scored 0.5 or more, but a rule forbade the merge (step 4);
- ``below``: compared by a blocking rule and scored under 0.5;
- ``unblocked``: never compared (no blocking rule pairs them).

The pairs are also grouped by pair of fragments (a person's records in one entity), each
fragment pair under its best stage, with how many fragment pairs hold a record alone (most
missed pairs are a stray record beside its person's entity), and the commonest comparison
vectors of the best-scored pair of each ``below`` fragment pair, beside how many blocked
pairs of that vector are one person by the truth (what a better-calibrated model could
take, at what precision). Scores are the last run's model applied to the workspace's
records (Splink's prediction with no score floor), so a workspace resolved with a saved
model gives that model's scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from lastmile.resolve import persons
from lastmile.resolve.run import build_features, latest_model
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import register_table

GAMMAS = (
    "name",
    "dob",
    "sel_keys",
    "monikers",
    "tie_keys",
    "identifiers",
    "address",
    "sex",
    "middle",
    "suffix",
)


def load_truth(con: Any, truth: Path) -> None:
    """Table ``truth`` (record_id, g): the true person of every subject record of the
    world's ``truth/records.csv``."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE truth AS
        SELECT record_id, entity_id AS g FROM read_csv('{truth}', all_varchar = true)
        WHERE record_type = 'subjects'
        """
    )


def analyse(con: Any, truth: Path, top: int) -> dict[str, Any]:
    load_truth(con, truth)
    gammas = ", ".join(f"gamma_{g}" for g in GAMMAS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE scored AS
        SELECT least(p.record_id_l, p.record_id_r) AS a,
            greatest(p.record_id_l, p.record_id_r) AS b, p.match_probability AS prob,
            {gammas}, tl.g = tr.g AS same
        FROM all_pred p JOIN truth tl ON tl.record_id = p.record_id_l
        JOIN truth tr ON tr.record_id = p.record_id_r
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE missed AS
        WITH recs AS (SELECT t.record_id, t.g, m.entity_id AS p FROM truth t
                      JOIN members m USING (record_id))
        SELECT x.record_id AS a, y.record_id AS b, x.g, least(x.p, y.p) AS pa,
            greatest(x.p, y.p) AS pb
        FROM recs x JOIN recs y ON x.g = y.g AND x.record_id < y.record_id AND x.p <> y.p
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE staged AS
        SELECT m.*, s.prob, CASE
            WHEN e.a IS NOT NULL THEN 'edge_refused'
            WHEN s.prob >= 0.5 THEN 'vetoed'
            WHEN s.a IS NOT NULL THEN 'below'
            ELSE 'unblocked' END AS stage
        FROM missed m
        LEFT JOIN (SELECT DISTINCT least(record_a, record_b) AS a,
                   greatest(record_a, record_b) AS b FROM edges) e ON e.a = m.a AND e.b = m.b
        LEFT JOIN scored s ON s.a = m.a AND s.b = m.b
        """
    )
    stages = {
        str(k): int(n)
        for k, n in con.execute(
            "SELECT stage, count(*) FROM staged GROUP BY stage ORDER BY 2 DESC"
        ).fetchall()
    }
    order = (
        "CASE stage WHEN 'edge_refused' THEN 0 WHEN 'vetoed' THEN 1 WHEN 'below' THEN 2 ELSE 3 END"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE frag_pairs AS
        WITH sizes AS (SELECT entity_id AS p, t.g, count(*) AS n FROM members
                       JOIN truth t USING (record_id) GROUP BY ALL)
        SELECT s.g, s.pa, s.pb, count(*) AS pairs,
            arg_min(s.stage, {order}) AS stage,
            min(x.n) = 1 AS has_single
        FROM staged s JOIN sizes x ON x.p = s.pa AND x.g = s.g
        JOIN sizes y ON y.p = s.pb AND y.g = s.g
        GROUP BY ALL
        """
    )
    fragments = {
        str(k): {"fragment_pairs": int(f), "pairs": int(p), "with_a_record_alone": int(s)}
        for k, f, p, s in con.execute(
            "SELECT stage, count(*), sum(pairs), sum(has_single::INT) FROM frag_pairs "
            "GROUP BY stage ORDER BY 3 DESC"
        ).fetchall()
    }
    cols = ", ".join(f"s.gamma_{g}" for g in GAMMAS)
    vectors = con.execute(
        f"""
        WITH best AS (
            SELECT f.g, f.pa, f.pb, arg_max(s.a || '|' || s.b, s.prob) AS ab
            FROM frag_pairs f JOIN staged t USING (g, pa, pb) JOIN scored s USING (a, b)
            WHERE f.stage = 'below' GROUP BY ALL
        ), vec AS (
            SELECT {cols}, count(*) AS fragment_pairs FROM best b
            JOIN scored s ON s.a || '|' || s.b = b.ab GROUP BY ALL
        ), everywhere AS (
            SELECT {", ".join(f"gamma_{g}" for g in GAMMAS)}, count(*) AS blocked,
                sum(same::INT) AS one_person, avg(prob) AS mean_score
            FROM scored GROUP BY ALL
        )
        SELECT v.*, e.blocked, e.one_person, round(e.mean_score, 3)
        FROM vec v JOIN everywhere e USING ({", ".join(f"gamma_{g}" for g in GAMMAS)})
        ORDER BY v.fragment_pairs DESC LIMIT {top}
        """
    ).fetchall()
    missed = sum(stages.values())
    return {
        "missed_pairs": missed,
        "stages": {k: {"pairs": v, "share": round(v / missed, 4)} for k, v in stages.items()}
        if missed
        else {},
        "fragment_pairs": fragments,
        "below_vectors": [
            {
                "gammas": dict(zip(GAMMAS, row[: len(GAMMAS)], strict=True)),
                "fragment_pairs": int(row[len(GAMMAS)]),
                "blocked_pairs_of_this_vector": int(row[len(GAMMAS) + 1]),
                "of_them_one_person": int(row[len(GAMMAS) + 2]),
                "mean_score": float(row[len(GAMMAS) + 3]),
            }
            for row in vectors
        ],
    }


@dataclass
class Resolved:
    """A copy of a resolved workspace, opened: its last run's model, a staging connection
    with ``members`` (record_id, entity_id of the subject records) and ``edges``
    (record_a, record_b of match_edges) registered, and the records' features."""

    ws: Workspace
    model: dict[str, Any]
    con: Any
    features: pa.Table


@contextmanager
def resolved_copy(parser: argparse.ArgumentParser, workspace: Path) -> Iterator[Resolved]:
    """Open a copy of ``workspace`` (never the original); a parser error when it has not
    been resolved."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.duckdb"
        shutil.copyfile(workspace, path)
        with open_workspace(path) as ws:
            model = latest_model(ws)
            if model is None:
                parser.error(f"{workspace} is not resolved (no model in resolution_runs)")
            con = ws.store.staging()
            features = build_features(ws, con)
            members = (
                "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
            )
            register_table(con, ws.store.query(members), "members")
            edges = "SELECT record_a, record_b FROM match_edges"
            register_table(con, ws.store.query(edges), "edges")
            yield Resolved(ws, model, con, features)


def predict_all(features: pa.Table, model: dict[str, Any], **kwargs: Any) -> pa.Table:
    """Every blocked pair with its score: the prediction's floor lowered to 0."""
    return persons.predict(features, model, floor=0.0, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--top", type=int, default=15, help="comparison vectors to list")
    args = parser.parse_args()
    with resolved_copy(parser, args.workspace) as r:
        register_table(r.con, predict_all(r.features, r.model), "all_pred")
        out = analyse(r.con, args.folder / "truth" / "records.csv", args.top)
    print(json.dumps({"folder": str(args.folder)} | out, indent=2))


if __name__ == "__main__":
    main()
