"""How hard is a synthetic operation? Baseline resolution scores and network statistics.

.venv/bin/python bench/synth_difficulty.py --operation DIR [--public DIR]

Prints JSON: for four naive resolution baselines on subject records (exact name and date of
birth; name only; a shared phone or account; three rules joined transitively: same address,
same date of birth and a shared name word, a shared phone or account), pairwise precision,
recall and F1 against ``truth/records.csv``; and for each size class of networks (up to 50,
51 to 150, over 150 people, by ``truth/networks.csv``) the median density, average clustering,
largest degree over mean degree and betweenness centralisation of each network's observed
criminal ties (``truth/ties.csv``), next to the same figures on the real networks of
``shared/data/public_networks`` and the figures their README publishes.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

import duckdb
import igraph as ig

CRIMINAL = ("communication", "supply", "association", "co_arrest")
PUBLISHED = {  # density / average clustering / global efficiency, public_networks/README.md
    "MAMBO": (0.125, 0.442, 0.473),
    "ACERO": (0.123, 0.268, 0.481),
    "JAKE": (0.071, 0.110, 0.420),
    "JUANES": (0.073, 0.364, 0.373),
}

# Normalized keys of subject records, in DuckDB SQL. Names: accent-free lower-case words.
SETUP = r"""
CREATE MACRO words(t) AS list_filter(
    regexp_split_to_array(lower(strip_accents(coalesce(t, ''))), '[^a-z]+'),
    lambda x: length(x) > 1);
CREATE TABLE s AS SELECT * FROM read_csv('{op}/subjects.csv', header=true, all_varchar=true);
CREATE TABLE sel AS SELECT * FROM read_csv('{op}/selectors.csv', header=true, all_varchar=true);
CREATE TABLE truth AS SELECT record_id, entity_id
    FROM read_csv('{op}/truth/records.csv', header=true, all_varchar=true);
CREATE TABLE name_words AS
    SELECT subject_id, unnest(list_distinct(words(
        coalesce(nullif(concat_ws(' ', given_name, middle_name, family_name), ''), full_name)
    ))) AS w FROM s;
CREATE TABLE k_name AS
    SELECT subject_id, string_agg(w, ' ' ORDER BY w) AS k FROM name_words GROUP BY 1;
CREATE TABLE k_name_dob AS
    SELECT subject_id, k || '|' || dob AS k FROM k_name JOIN s USING (subject_id)
    WHERE dob IS NOT NULL;
CREATE TABLE k_selector AS
    SELECT DISTINCT subject_id, CASE WHEN kind = 'phone'
        THEN right(regexp_replace(value, '[^0-9]', '', 'g'), 10)
        ELSE lower(regexp_replace(regexp_replace(value, '^https?://[^/]+/(add/)?@?', ''),
                                  '[@/]', '', 'g')) END AS k
    FROM sel WHERE subject_id IS NOT NULL AND kind IN ('phone', 'account');
CREATE TABLE k_address AS
    SELECT DISTINCT subject_id, trim(regexp_replace(
        regexp_replace(lower(a), '[^a-z0-9 ]', '', 'g'), '\s+', ' ', 'g')) AS k
    FROM (SELECT subject_id, unnest(string_split(addresses, '|')) AS a FROM s
          WHERE addresses IS NOT NULL);
CREATE TABLE k_dob_word AS
    SELECT DISTINCT subject_id, dob || '|' || w AS k FROM name_words JOIN s USING (subject_id)
    WHERE dob IS NOT NULL;
"""


def _pairs(con: duckdb.DuckDBPyConnection, tables: list[str]) -> str:
    union = " UNION ALL ".join(f"SELECT subject_id, '{t}' || k AS k FROM {t}" for t in tables)
    return (
        f"SELECT DISTINCT a.subject_id AS a, b.subject_id AS b FROM ({union}) a "
        f"JOIN ({union}) b ON a.k = b.k AND a.subject_id < b.subject_id"
    )


def _scores(tp: int, predicted: int, true: int) -> dict[str, float]:
    p = tp / predicted if predicted else 0.0
    r = tp / true if true else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "pairs": predicted}


def resolution(op: Path) -> dict[str, dict[str, float]]:
    con = duckdb.connect()
    con.execute(SETUP.replace("{op}", str(op).replace("'", "''")))
    true = con.execute(
        "SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM s "
        "JOIN truth ON record_id = subject_id GROUP BY entity_id)"
    ).fetchone()
    n_true = int(true[0] or 0) if true else 0
    out: dict[str, dict[str, float]] = {}
    for name, tables in (
        ("exact_name_and_dob", ["k_name_dob"]),
        ("name_only", ["k_name"]),
        ("shared_phone_or_account", ["k_selector"]),
    ):
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE ta.entity_id = tb.entity_id) "
            f"FROM ({_pairs(con, tables)}) p JOIN truth ta ON ta.record_id = p.a "
            "JOIN truth tb ON tb.record_id = p.b"
        ).fetchone()
        assert row is not None
        out[name] = _scores(int(row[1]), int(row[0]), n_true)
    # Three rules joined transitively: connected components of the union of their pairs.
    ids = [r[0] for r in con.execute("SELECT subject_id FROM s ORDER BY 1").fetchall()]
    index = {x: i for i, x in enumerate(ids)}
    edges = con.execute(_pairs(con, ["k_address", "k_dob_word", "k_selector"])).fetchall()
    g = ig.Graph(n=len(ids), edges=[(index[a], index[b]) for a, b in edges])
    membership = g.connected_components().membership
    entity = dict(con.execute("SELECT record_id, entity_id FROM truth").fetchall())
    clusters: dict[int, dict[str, int]] = {}
    for x, c in zip(ids, membership, strict=True):
        by = clusters.setdefault(c, {})
        by[entity[x]] = by.get(entity[x], 0) + 1
    predicted = sum(sum(v.values()) * (sum(v.values()) - 1) // 2 for v in clusters.values())
    tp = sum(n * (n - 1) // 2 for v in clusters.values() for n in v.values())
    out["three_rules_transitive"] = _scores(tp, predicted, n_true)
    return out


def stats(g: ig.Graph) -> dict[str, float]:
    """Density, average clustering (0 for degree < 2), largest over mean degree, and
    Freeman's betweenness centralisation, on an undirected simple graph."""
    n = g.vcount()
    deg = g.degree()
    mean = sum(deg) / n if n else 0.0
    b = g.betweenness()
    cent = 0.0
    if n > 2:
        norm = (n - 1) * (n - 2) / 2
        cent = sum(max(b) - x for x in b) / norm / (n - 1)
    return {
        "nodes": n,
        "density": g.density(),
        "clustering": g.transitivity_avglocal_undirected(mode="zero"),
        "max_over_mean_degree": max(deg) / mean if mean else 0.0,
        "betweenness_centralisation": cent,
        "efficiency": (sum(g.harmonic_centrality(normalized=True)) / n if n > 1 else 0.0),
    }


def _median(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = ["nodes", "density", "clustering", "max_over_mean_degree", "betweenness_centralisation"]
    return {k: round(statistics.median(r[k] for r in rows), 3) for k in keys} | {
        "networks": len(rows)
    }


def networks(op: Path) -> dict[str, dict[str, float]]:
    con = duckdb.connect()
    q = str(op).replace("'", "''")
    sizes = dict(
        con.execute(
            f"SELECT network_id, size::INT FROM read_csv('{q}/truth/networks.csv', "
            "header=true, all_varchar=true)"
        ).fetchall()
    )
    kinds = ", ".join(f"'{k}'" for k in CRIMINAL)
    edges = con.execute(
        f"""SELECT ea.network_id, t.entity_a, t.entity_b
        FROM read_csv('{q}/truth/ties.csv', header=true, all_varchar=true) t
        JOIN read_csv('{q}/truth/entities.csv', header=true, all_varchar=true) ea
          ON ea.entity_id = t.entity_a
        JOIN read_csv('{q}/truth/entities.csv', header=true, all_varchar=true) eb
          ON eb.entity_id = t.entity_b
        WHERE t.observed = 'true' AND t.kind IN ({kinds}) AND ea.network_id = eb.network_id
        ORDER BY ALL"""
    ).fetchall()
    by_net: dict[str, list[tuple[str, str]]] = {}
    for net, a, b in edges:
        by_net.setdefault(net, []).append((a, b))
    classes: dict[str, list[dict[str, float]]] = {"up_to_50": [], "51_to_150": [], "over_150": []}
    for net, pairs in sorted(by_net.items()):
        g = ig.Graph.TupleList(pairs, directed=False)
        g.simplify()
        if g.vcount() < 3:
            continue
        size = sizes.get(net, g.vcount())
        cls = "up_to_50" if size <= 50 else "51_to_150" if size <= 150 else "over_150"
        classes[cls].append(stats(g))
    out = {k: _median(v) for k, v in classes.items() if v}
    small = classes["up_to_50"] + classes["51_to_150"]
    if small:
        out["up_to_150"] = _median(small)
    return out


def _read_matrix(path: Path) -> ig.Graph:
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    labels = rows[0][1:]
    pairs = set()
    for row in rows[1:]:
        for j, cell in enumerate(row[1:]):
            if cell.strip() not in ("", "0") and row[0] != labels[j]:
                pairs.add(tuple(sorted((row[0], labels[j]))))
    g = ig.Graph.TupleList(sorted(pairs), directed=False)
    g.simplify()
    return g


def public(folder: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for path in sorted(folder.glob("cocaine_smuggling_*/*.csv")):
        name = path.parent.name.removeprefix("cocaine_smuggling_").upper()
        out[name] = {k: round(v, 3) for k, v in stats(_read_matrix(path)).items()}
    phases = [stats(_read_matrix(p)) for p in sorted(folder.glob("caviar/phase*.csv"))]
    if phases:
        out["CAVIAR (median of 11 phases)"] = _median(phases)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--operation", type=Path, required=True)
    here = Path(__file__).resolve().parent.parent
    default = next(
        (
            p
            for p in (
                here.parent / "shared/data/public_networks",
                here / "../../shared/data/public_networks",
            )
            if p.exists()
        ),
        Path("/work/shared/data/public_networks"),
    )
    ap.add_argument("--public", type=Path, default=default)
    args = ap.parse_args()
    report = {
        "operation": str(args.operation),
        "resolution": resolution(args.operation),
        "networks": networks(args.operation),
        "real_networks": public(args.public) if args.public.exists() else {},
        "real_networks_published": {
            k: dict(zip(("density", "clustering", "efficiency"), v, strict=True))
            for k, v in PUBLISHED.items()
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
