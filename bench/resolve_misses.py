"""The ceiling of persons' recall: what evidence the true pairs still apart have at all.

    python bench/resolve_misses.py --folder nat --workspace nat.duckdb

``--workspace`` is a workspace where ``--folder`` (a synthesized operation, with
``truth/records.csv``) is ingested and resolved; it is read from a copy, never changed.
Prints JSON.

Each true person is cut by resolution into *fragments* (its records in one resolved entity).
Every pair of records of one person in two fragments is a missed pair. For each pair of
fragments of one person, the features the matcher compares (``person_features``, built as
``lastmile resolve`` builds them) are pooled per fragment, and the evidence between the two
fragments is listed: a shared identifier, selector (not a shared line), street address, full
name, date of birth, moniker, stated tie (an organization or an associate's selector), a
name or alias key, surname, given name (or its nickname), the same case file, or nothing.

- ``strongest``: each missed pair counted once, under the first kind of evidence it has in
  that order; ``any``: the missed pairs having each kind at all (directly between their
  fragments).
- ``reachable``: the recall if every fragment pair with evidence of the kinds named were
  joined, directly or through a chain of fragments of the same person (connected components
  over the person's fragments), beside the recall resolution has.
- ``false_identity_nothing_shared``: the share of missed pairs whose fragments share no name
  word, no name key, and nothing else at all.

This is an upper bound: evidence that exists is not evidence that tells one person from
two (two people of one crew share ties, a case file, often a city).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import igraph as ig

import resolve_stages as stages  # bench/, beside this script
from lastmile.resolve.run import build_features
from lastmile.store import open_workspace

# The kinds of evidence, strongest first: (name, SQL over fragments x and y).
EVIDENCE = (
    ("identifier", "list_has_any(x.id_keys, y.id_keys)"),
    ("selector", "list_has_any(x.sel_keys, y.sel_keys)"),
    ("address", "list_has_any(x.addr_streets, y.addr_streets)"),
    ("full_name", "list_has_any(x.fullnames, y.fullnames)"),
    ("date_of_birth", "list_has_any(x.dobs, y.dobs)"),
    ("moniker", "list_has_any(x.monikers, y.monikers)"),
    ("tie", "list_has_any(x.tie_keys, y.tie_keys)"),
    ("name_or_alias_key", "list_has_any(x.name_keys, y.name_keys)"),
    ("surname", "list_has_any(x.surnames, y.surnames)"),
    ("given_name", "list_has_any(x.first_forms, y.first_forms)"),
    ("same_case_file", "list_has_any(x.cases, y.cases)"),
)
NAME_KINDS = ("full_name", "name_or_alias_key", "surname", "given_name")
# The sets whose reach is measured: all evidence; evidence about who the person is or what he
# holds (without a lone surname, given name or case file, which two people share often).
REACH_SETS: dict[str, tuple[str, ...]] = {
    "any_evidence": tuple(k for k, _ in EVIDENCE),
    "without_surname_given_name_case_file": tuple(
        k for k, _ in EVIDENCE if k not in ("surname", "given_name", "same_case_file")
    ),
    "selector_identifier_address_tie_moniker": (
        "selector",
        "identifier",
        "address",
        "tie",
        "moniker",
    ),
}
for _kind, _ in EVIDENCE:
    REACH_SETS[f"only_{_kind}"] = (_kind,)


def analyse(con: Any, truth: Path) -> dict[str, Any]:
    stages.load_truth(con, truth)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE recs AS
        SELECT f.*, t.g, m.entity_id AS p FROM person_features f
        JOIN truth t USING (record_id) JOIN members m USING (record_id)
        """
    )

    def pool(col: str, alias: str | None = None) -> str:
        return f"list_distinct(flatten(list(coalesce({col}, [])))) AS {alias or col}"

    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE frag AS
        SELECT g, p, g || '|' || p AS frag, count(*) AS n,
            {pool("id_keys")}, {pool("sel_keys")}, {pool("addr_streets")},
            list_distinct(list(fullname)) AS fullnames, list_distinct(list(dob)) AS dobs,
            {pool("monikers")}, {pool("tie_keys")}, {pool("name_keys")},
            list_distinct(list(sur1) || list(sur2)) AS surnames, {pool("first_forms")},
            list_distinct(list(investigation_id)) AS cases
        FROM recs GROUP BY g, p
        """
    )
    flags = ", ".join(f"coalesce({sql}, false) AS {k}" for k, sql in EVIDENCE)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE frag_pairs AS
        SELECT x.g, x.frag AS a, y.frag AS b, x.n * y.n AS pairs, {flags}
        FROM frag x JOIN frag y ON x.g = y.g AND x.frag < y.frag
        """
    )
    total_true, found = con.execute(
        """
        SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT g, count(*) n FROM recs GROUP BY g)),
               (SELECT sum(n * (n - 1) / 2) FROM frag)
        """
    ).fetchone()
    total_true, found = int(total_true), int(found)
    missed = total_true - found
    # Strongest evidence of each missed pair.
    case = " ".join(f"WHEN {k} THEN '{k}'" for k, _ in EVIDENCE)
    strongest = {
        k: int(n)
        for k, n in con.execute(
            f"SELECT CASE {case} ELSE 'nothing' END AS k, sum(pairs) FROM frag_pairs "
            "GROUP BY k ORDER BY 2 DESC"
        ).fetchall()
    }
    sums = ", ".join(f"coalesce(sum(pairs) FILTER (WHERE {k}), 0)" for k, _ in EVIDENCE)
    any_kind = dict(
        zip(
            [k for k, _ in EVIDENCE],
            map(int, con.execute(f"SELECT {sums} FROM frag_pairs").fetchone()),
            strict=True,
        )
    )
    names_disagree = " AND ".join(f"NOT {k}" for k in NAME_KINDS)
    nothing = " AND ".join(f"NOT {k}" for k, _ in EVIDENCE)
    names_off, names_off_something = con.execute(
        f"SELECT coalesce(sum(pairs) FILTER (WHERE {names_disagree}), 0), "
        f"coalesce(sum(pairs) FILTER (WHERE {names_disagree} AND NOT ({nothing})), 0) "
        "FROM frag_pairs"
    ).fetchone()
    # Reach: connected components over each person's fragments, by the kinds of a set.
    frags = con.execute("SELECT frag, n FROM frag ORDER BY frag").fetchall()
    index = {f: i for i, (f, _) in enumerate(frags)}
    sizes = [int(n) for _, n in frags]
    pair_rows = con.execute(
        f"SELECT a, b, {', '.join(k for k, _ in EVIDENCE)} FROM frag_pairs"
    ).fetchall()
    kinds = [k for k, _ in EVIDENCE]
    reach: dict[str, Any] = {}
    for name, wanted in REACH_SETS.items():
        cols = [kinds.index(k) for k in wanted]
        edges = [(index[r[0]], index[r[1]]) for r in pair_rows if any(r[2 + c] for c in cols)]
        graph = ig.Graph(n=len(frags), edges=edges)
        joined = 0
        for comp in graph.connected_components():
            n = sum(sizes[v] for v in comp)
            joined += n * (n - 1) // 2
        reach[name] = {
            "recall": round(joined / total_true, 4) if total_true else 1.0,
            "missed_pairs_reachable": joined - found,
            "share_of_missed": round((joined - found) / missed, 4) if missed else 0.0,
        }
    by_frag_count = con.execute(
        "SELECT count(*) FROM (SELECT g FROM frag GROUP BY g HAVING count(*) > 1)"
    ).fetchone()
    return {
        "true_pairs": total_true,
        "found_pairs": found,
        "recall": round(found / total_true, 4) if total_true else 1.0,
        "missed_pairs": missed,
        "persons_split": int(by_frag_count[0]),
        "strongest": {k: {"pairs": v, "share": round(v / missed, 4)} for k, v in strongest.items()},
        "any": {k: {"pairs": v, "share": round(v / missed, 4)} for k, v in any_kind.items()},
        "names_disagree_entirely": {
            "pairs": int(names_off),
            "share": round(int(names_off) / missed, 4) if missed else 0.0,
            "with_other_evidence": int(names_off_something),
        },
        "false_identity_nothing_shared": {
            "pairs": strongest.get("nothing", 0),
            "share": round(strongest.get("nothing", 0) / missed, 4) if missed else 0.0,
        },
        "reachable": reach,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.duckdb"
        shutil.copyfile(args.workspace, path)
        with open_workspace(path) as ws:
            con = ws.store.staging()
            build_features(ws, con)
            members = ws.store.query(
                "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
            )
            con.register("members", members)
            out = analyse(con, args.folder / "truth" / "records.csv")
    out = {"folder": str(args.folder)} | out
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
