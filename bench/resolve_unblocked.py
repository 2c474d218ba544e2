"""What the missed pairs that were never compared share: the evidence a blocking rule could use.

    python bench/resolve_unblocked.py --folder nat --workspace nat.duckdb

``--workspace`` is a workspace where ``--folder`` (a synthesized operation, with
``truth/records.csv``) is ingested and resolved; it is read from a copy, never changed.
Prints JSON.

The missed pairs are grouped by pair of fragments (a true person's records in one resolved
entity), as ``bench/resolve_stages.py`` groups them. A fragment pair is *never compared*
when no record pair between its two fragments was compared by a blocking rule (the last
run's model and rules applied to the workspace's records with no score floor). For those,
each kind of observable evidence is counted when any record of one fragment shares it with
any record of the other (a name token, a phonetic key of a surname or given name, initials,
the date of birth or its year, a street, a city, an identifier, a selector, a stated tie,
an associate resolved to one entity, a moniker...), with the record pairs the fragment
pairs hold (what recall they are worth). ``nothing`` is the fragment pairs that share none
of it: no candidate generation over these records reaches them, which bounds recall
(``recall_bound``: the recall if every other missed pair were found).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jellyfish
import pyarrow as pa

import resolve_stages as stages  # bench/, beside this script
from lastmile.store.backends import register_table

# Each kind of evidence: SQL over a record pair (x = one side's features, y = the other's,
# and the pair's own columns), true when the two share it.
EVIDENCE = {
    "full_name": "x.fullname = y.fullname",
    "given_name_form": "list_has_any(x.first_forms, y.first_forms)",
    "a_surname": "(x.sur1 IN (y.sur1, y.sur2) OR x.sur2 IN (y.sur1, y.sur2))",
    "name_key": "list_has_any(x.name_keys, y.name_keys)",
    "name_token": "list_has_any(x.tokens, y.tokens)",
    "surname_phonetic": "list_has_any(x.sur_codes, y.sur_codes)",
    "given_phonetic": "x.first_code = y.first_code",
    "initials": "left(x.first, 1) = left(y.first, 1) AND left(x.sur1, 1) = left(y.sur1, 1)",
    "dob": "x.dob = y.dob",
    "dob_year": "left(x.dob, 4) = left(y.dob, 4)",
    "dob_month_day": "substr(x.dob, 6) = substr(y.dob, 6)",
    "street": "list_has_any(x.addr_streets, y.addr_streets)",
    "city": "list_has_any(x.addr_places, y.addr_places)",
    "identifier": "list_has_any(x.id_keys, y.id_keys)",
    "selector": "list_has_any(x.sel_keys, y.sel_keys)",
    "tie_org": "list_has_any(x.org_ties, y.org_ties)",
    "tie_selector": "list_has_any(x.sel_ties, y.sel_ties)",
    "moniker": "list_has_any(x.monikers, y.monikers)",
    "principal_moniker": "x.moniker = y.moniker",
    "associate_entity": "list_has_any(x.assoc, y.assoc)",
    "co_investigated_entity": "list_has_any(x.case_mates, y.case_mates)",
    "same_case": "x.investigation_id = y.investigation_id",
}
# Evidence that is no evidence by itself for a person (shared by many): not counted in
# "something"; reported apart.
WEAK = ("tie_org", "city", "dob_year", "dob_month_day", "initials", "same_case")


def phonetic(features: pa.Table) -> pa.Table:
    """record_id, tokens (name words), sur_codes (NYSIIS of each surname), first_code."""
    rows = features.select(["record_id", "first", "sur1", "sur2", "fullname"]).to_pylist()
    out: dict[str, list[Any]] = {"record_id": [], "tokens": [], "sur_codes": [], "first_code": []}
    for r in rows:
        out["record_id"].append(r["record_id"])
        out["tokens"].append(sorted(set((r["fullname"] or "").split())) or None)
        surs = [s for s in (r["sur1"], r["sur2"]) if s]
        out["sur_codes"].append(sorted({jellyfish.nysiis(s) for s in surs}) or None)
        out["first_code"].append(jellyfish.nysiis(r["first"]) if r["first"] else None)
    return pa.table(out)


def analyse(con: Any) -> dict[str, Any]:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE ev AS
        WITH assoc AS (
            SELECT r.from_id AS rid, m.entity_id FROM rels r
            JOIN members m ON m.record_id = r.to_id
            UNION SELECT r.to_id, m.entity_id FROM rels r JOIN members m ON m.record_id = r.from_id
        ), assoc_l AS (SELECT rid, list(DISTINCT entity_id) AS assoc FROM assoc GROUP BY rid),
        mates AS (
            SELECT a.record_id AS rid, list(DISTINCT m.entity_id) AS case_mates
            FROM pf a JOIN pf b ON a.investigation_id = b.investigation_id
                AND a.record_id <> b.record_id
            JOIN members m ON m.record_id = b.record_id GROUP BY a.record_id
        )
        SELECT f.*, p.tokens, p.sur_codes, p.first_code,
            list_filter(f.tie_keys, lambda t: t LIKE 'org:%') AS org_ties,
            list_filter(f.tie_keys, lambda t: t LIKE 'sel:%') AS sel_ties,
            a.assoc, c.case_mates
        FROM pf f JOIN phon p USING (record_id) LEFT JOIN assoc_l a ON a.rid = f.record_id
        LEFT JOIN mates c ON c.rid = f.record_id
        """
    )
    flags = ", ".join(f"bool_or(coalesce({sql}, false)) AS {k}" for k, sql in EVIDENCE.items())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE unblocked_frags AS
        WITH frags AS (SELECT g, pa, pb, pairs FROM frag_pairs WHERE stage = 'unblocked'),
        recs AS (SELECT t.record_id, t.g, m.entity_id AS p FROM truth t
                 JOIN members m USING (record_id))
        SELECT f.g, f.pa, f.pb, any_value(f.pairs) AS pairs,
            bool_or(x.fullname IS NULL OR y.fullname IS NULL) AS a_side_nameless, {flags}
        FROM frags f JOIN recs ra ON ra.g = f.g AND ra.p = f.pa
        JOIN recs rb ON rb.g = f.g AND rb.p = f.pb
        JOIN ev x ON x.record_id = ra.record_id JOIN ev y ON y.record_id = rb.record_id
        GROUP BY ALL
        """
    )
    strong = [k for k in EVIDENCE if k not in WEAK]
    anything = " OR ".join(strong)
    n_frag, n_pairs = con.execute(
        "SELECT count(*), coalesce(sum(pairs), 0) FROM unblocked_frags"
    ).fetchone()
    each = {}
    for k in EVIDENCE:
        f, p = con.execute(
            f"SELECT count(*), coalesce(sum(pairs), 0) FROM unblocked_frags WHERE {k}"
        ).fetchone()
        each[k] = {"fragment_pairs": int(f), "pairs": int(p)}
    nothing = con.execute(
        f"SELECT count(*), coalesce(sum(pairs), 0) FROM unblocked_frags WHERE NOT ({anything})"
    ).fetchone()
    # Without the case mates: two records whose case files share some other resolved
    # person are one person's as often as a crew's (a neighbourhood, not evidence).
    no_mates = " OR ".join(k for k in strong if k != "co_investigated_entity")
    only_mates = con.execute(
        f"SELECT count(*), coalesce(sum(pairs), 0) FROM unblocked_frags WHERE NOT ({no_mates})"
    ).fetchone()
    weak_only = con.execute(
        f"SELECT count(*), coalesce(sum(pairs), 0) FROM unblocked_frags WHERE NOT ({anything}) "
        f"AND ({' OR '.join(WEAK)})"
    ).fetchone()
    combos = con.execute(
        f"""
        SELECT list_filter([{", ".join(f"CASE WHEN {k} THEN '{k}' END" for k in strong)}],
            lambda x: x IS NOT NULL) AS shared, count(*), sum(pairs)
        FROM unblocked_frags GROUP BY 1 ORDER BY 3 DESC LIMIT 25
        """
    ).fetchall()
    true_pairs = con.execute(
        "SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM truth GROUP BY g)"
    ).fetchone()[0]
    missed = con.execute("SELECT count(*) FROM missed").fetchone()[0]
    found = int(true_pairs) - int(missed)
    nameless = con.execute(
        "SELECT count(*), coalesce(sum(pairs), 0) FROM unblocked_frags WHERE a_side_nameless"
    ).fetchone()
    return {
        "true_pairs": int(true_pairs),
        "found_pairs": found,
        "recall": round(found / int(true_pairs), 4),
        "missed_pairs": int(missed),
        "never_compared": {"fragment_pairs": int(n_frag), "pairs": int(n_pairs)},
        "of_them_a_side_nameless": {"fragment_pairs": int(nameless[0]), "pairs": int(nameless[1])},
        "shared": each,
        "nothing_observable": {"fragment_pairs": int(nothing[0]), "pairs": int(nothing[1])},
        "of_nothing_weak_only": {"fragment_pairs": int(weak_only[0]), "pairs": int(weak_only[1])},
        "recall_bound": round((int(true_pairs) - int(nothing[1])) / int(true_pairs), 4),
        "nothing_but_case_mates": {
            "fragment_pairs": int(only_mates[0]),
            "pairs": int(only_mates[1]),
        },
        "recall_bound_without_case_mates": round(
            (int(true_pairs) - int(only_mates[1])) / int(true_pairs), 4
        ),
        "combinations": [
            {"shared": list(s), "fragment_pairs": int(f), "pairs": int(p)} for s, f, p in combos
        ],
    }


def oracle(con: Any, features: pa.Table, model: dict[str, Any]) -> dict[str, int]:
    """The run's model on every true pair of records (a blocking rule on the truth: a
    bound, not a method): of the missed pairs never compared, how many it scores at 0.5 or
    more, what any candidate generation could bring to the pairwise model as it stands."""
    con.execute("SELECT 1").fetchall()  # finishes the last result left open on ``con``
    truth = con.sql("SELECT record_id, g FROM truth").to_arrow_table()
    con.register("truth_arrow", truth)
    with_g = con.sql(
        "SELECT f.*, coalesce(t.g, f.record_id) AS lastmile_truth FROM pf f "
        "LEFT JOIN truth_arrow t USING (record_id)"
    ).to_arrow_table()
    rule = {"blocking_rule": "l.lastmile_truth = r.lastmile_truth", "sql_dialect": "duckdb"}
    pred = stages.predict_all(with_g, {**model, "blocking_rules_to_generate_predictions": [rule]})
    register_table(con, pred, "oracle_pred")
    row = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE p.match_probability >= 0.5),
            count(*) FILTER (WHERE p.match_probability >= 0.1)
        FROM staged s JOIN oracle_pred p ON least(p.record_id_l, p.record_id_r) = s.a
            AND greatest(p.record_id_l, p.record_id_r) = s.b
        WHERE s.stage = 'unblocked'
        """
    ).fetchone()
    return {
        "never_compared_pairs": int(row[0]),
        "scored_0.5_or_more": int(row[1]),
        "scored_0.1_or_more": int(row[2]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    args = parser.parse_args()
    with stages.resolved_copy(parser, args.workspace) as r:
        con = r.con
        register_table(con, stages.predict_all(r.features, r.model), "all_pred")
        register_table(con, r.features, "pf")
        register_table(con, phonetic(r.features), "phon")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rels AS SELECT from_id, to_id FROM "
            "src_relationships WHERE kind IN ('supplies', 'associate', 'family')"
        )
        stages.analyse(con, args.folder / "truth" / "records.csv", 1)
        out = analyse(con)
        out["oracle_blocking"] = oracle(con, r.features, r.model)
    print(json.dumps({"folder": str(args.folder)} | out, indent=2))


if __name__ == "__main__":
    main()
