"""What a candidate blocking rule would bring, against the synthetic ground truth.

    python bench/blocking_candidates.py --folder nat --workspace nat.duckdb [RULES.json]

``--workspace`` is a workspace where ``--folder`` (with ``truth/records.csv``) is ingested
and resolved; it is read from a copy, never changed. ``RULES.json`` maps a name to a Splink
blocking rule (``{"blocking_rule": SQL, "sql_dialect": "duckdb", "arrays_to_explode":
[...]}``) over the person features (``persons.FEATURE_COLUMNS`` and the blk_* keys); without
it, the rules of docs/resolution-rounds.md ("Issue 10, seventh round") are tried. For each rule:
the pairs it blocks, the pairs no current rule blocks (``new``), how many of those are one
person (``new_true``) and, of them, in two resolved entities (``new_missed_true``), and how
many new pairs the run's model scores at 0.5 or more, one person or two. Prints one JSON
line a rule.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import duckdb

import blocking_truth  # bench/, beside this script
import resolve_stages as stages
from lastmile.resolve import persons


def _rule(sql: str, *explode: str) -> dict[str, Any]:
    out: dict[str, Any] = {"blocking_rule": sql, "sql_dialect": "duckdb"}
    if explode:
        out["arrays_to_explode"] = list(explode)
    return out


YEAR = "substr(l.dob, 1, 4) = substr(r.dob, 1, 4)"
RULES = {
    "principal moniker alone": _rule("l.moniker = r.moniker"),
    "principal moniker and a city": _rule(
        "l.moniker = r.moniker AND l.addr_places = r.addr_places", "addr_places"
    ),
    "principal moniker and birth year": _rule(f"l.moniker = r.moniker AND {YEAR}"),
    "first surname and a city": _rule(
        "l.sur1 = r.sur1 AND l.addr_places = r.addr_places", "addr_places"
    ),
    "given name, a city and birth year": _rule(
        f"l.first = r.first AND l.addr_places = r.addr_places AND {YEAR}", "addr_places"
    ),
    "a street address": _rule("l.addr_streets = r.addr_streets", "addr_streets"),
    "a stated tie alone": _rule("l.tie_keys = r.tie_keys", "tie_keys"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("rules", type=Path, nargs="?")
    args = parser.parse_args()
    rules = json.loads(args.rules.read_text()) if args.rules else RULES
    with stages.resolved_copy(parser, args.workspace) as r:
        model = r.model
        features = persons.blocking_keys(r.features)
        members = r.con.sql("SELECT * FROM members").to_arrow_table()
    con = duckdb.connect()
    con.register("features", features)
    con.register("members", members)
    truth = args.folder / "truth" / "records.csv"
    con.execute(
        "CREATE TABLE f AS SELECT x.*, t.entity_id AS g, m.entity_id AS p FROM features x "
        f"JOIN read_csv('{truth}', all_varchar = true) t USING (record_id) "
        "JOIN members m USING (record_id)"
    )
    con.execute("CREATE TABLE pairs (a VARCHAR, b VARCHAR, rule INTEGER)")
    for i, rule in enumerate(persons.blocking_rules()):
        blocking_truth.rule_pairs(con, i, rule)
    con.execute("CREATE TABLE old AS SELECT DISTINCT a, b FROM pairs")
    for name, rule in rules.items():
        con.execute("DELETE FROM pairs")
        blocking_truth.rule_pairs(con, -1, rule)
        n, new, new_true, missed = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE o.a IS NULL),
                count(*) FILTER (WHERE o.a IS NULL AND l.g = r.g),
                count(*) FILTER (WHERE o.a IS NULL AND l.g = r.g AND l.p <> r.p)
            FROM (SELECT DISTINCT a, b FROM pairs) q LEFT JOIN old o USING (a, b)
            JOIN f l ON l.record_id = q.a JOIN f r ON r.record_id = q.b
            """
        ).fetchall()[0]
        pred = stages.predict_all(
            features, {**model, "blocking_rules_to_generate_predictions": [rule]}
        )
        con.register("pred", pred)
        hi_true, hi_false, hi_missed = con.execute(
            """
            SELECT count(*) FILTER (WHERE l.g = r.g), count(*) FILTER (WHERE l.g <> r.g),
                count(*) FILTER (WHERE l.g = r.g AND l.p <> r.p)
            FROM pred q JOIN f l ON l.record_id = q.record_id_l
            JOIN f r ON r.record_id = q.record_id_r
            LEFT JOIN old o ON o.a = least(q.record_id_l, q.record_id_r)
                AND o.b = greatest(q.record_id_l, q.record_id_r)
            WHERE o.a IS NULL AND q.match_probability >= 0.5
            """
        ).fetchall()[0]
        con.unregister("pred")
        print(
            json.dumps(
                {
                    "rule": name,
                    "pairs": int(n),
                    "new": int(new),
                    "new_true": int(new_true),
                    "new_missed_true": int(missed),
                    "new_scored_0.5_true": int(hi_true),
                    "new_scored_0.5_false": int(hi_false),
                    "new_scored_0.5_missed_true": int(hi_missed),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
