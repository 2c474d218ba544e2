"""Where the person matcher's blocked pairs come from, against the synthetic ground truth.

    python bench/blocking_truth.py WORKSPACE TRUTH.csv

For each blocking rule of ``lastmile.resolve.persons.blocking_rules`` (its large blocks
split as in prediction, ``persons.blocking_keys``): the pairs it blocks, how many of them
are one person by ``TRUTH.csv`` (``record_id,entity_id``, an operation's
``truth/records.csv``), and the pairs no other rule blocks, with how many of those are one
person: what dropping or bounding the rule would cost in compared pairs and in reachable
recall. Features are built on a copy of WORKSPACE (an ingested workspace; it is not
changed). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import duckdb

from lastmile.resolve import persons
from lastmile.resolve.run import build_features
from lastmile.store import open_workspace


def rule_pairs(con: duckdb.DuckDBPyConnection, i: int, rule: dict[str, object]) -> None:
    """Insert rule ``i``'s blocked pairs (a < b) into ``pairs``: exploded columns are
    unnested on each side first, so the rule's SQL compares one value of each."""
    cond = str(rule["blocking_rule"])
    exploded = list(rule.get("arrays_to_explode") or [])  # type: ignore[call-overload]
    side = "f"
    if exploded:
        unnest = ", ".join(f"unnest({c}) AS {c}" for c in exploded)
        side = f"(SELECT * REPLACE ({unnest}) FROM f)"
    con.execute(
        f"INSERT INTO pairs SELECT DISTINCT l.record_id, r.record_id, {i} FROM {side} l "
        f"JOIN {side} r ON ({cond}) AND l.record_id < r.record_id"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("truth", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.duckdb"
        shutil.copyfile(args.workspace, path)
        with open_workspace(path) as ws:
            features = persons.blocking_keys(build_features(ws, ws.store.staging()))
    con = duckdb.connect()
    con.register("features", features)
    con.execute(
        f"CREATE TABLE f AS SELECT x.*, t.entity_id AS g FROM features x JOIN "
        f"read_csv('{args.truth}', all_varchar = true) t USING (record_id)"
    )
    con.execute("CREATE TABLE pairs (a VARCHAR, b VARCHAR, rule INTEGER)")
    rules = persons.blocking_rules()
    for i, rule in enumerate(rules):
        rule_pairs(con, i, rule)
    con.execute(
        "CREATE TABLE judged AS SELECT p.a, p.b, p.rule, l.g = r.g AS same, "
        "count(*) OVER (PARTITION BY p.a, p.b) AS rules FROM pairs p "
        "JOIN f l ON l.record_id = p.a JOIN f r ON r.record_id = p.b"
    )
    true_pairs, blocked, blocked_true = con.execute(
        "SELECT (SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) n FROM f GROUP BY g)), "
        "(SELECT count(DISTINCT (a, b)) FROM judged), "
        "(SELECT count(DISTINCT (a, b)) FILTER (WHERE same) FROM judged)"
    ).fetchall()[0]
    out: dict[str, object] = {
        "records": features.num_rows,
        "true_pairs": int(true_pairs or 0),
        "blocked_pairs": int(blocked),
        "blocked_true_pairs": int(blocked_true),
        "rules": [],
    }
    for i, rule in enumerate(rules):
        n, same, only, only_same = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE same), count(*) FILTER (WHERE rules = 1), "
            f"count(*) FILTER (WHERE rules = 1 AND same) FROM judged WHERE rule = {i}"
        ).fetchall()[0]
        out["rules"].append(  # type: ignore[attr-defined]
            {
                "rule": rule["blocking_rule"],
                "pairs": int(n),
                "true": int(same),
                "only_this_rule": int(only),
                "only_this_rule_true": int(only_same),
            }
        )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
