"""The edge-list commands on the public criminal networks, checked against NetworkX.

    .venv/bin/python bench/network_reference.py [--data /work/shared/data/public_networks]

Each adjacency matrix (CAVIAR's 11 phases and their union, the four cocaine-smuggling
operations, DRUGNET) is written as a ``source,target,weight`` edge list in a temporary folder
(one row per non-zero cell, row person to column person; a person without ties as ``id,``),
and the commands are run on it as a user would:

- ``lastmile keyplayers --edges F -k N --method betweenness --format json`` gives every
  person's degree, weighted degree, betweenness and eigenvector, compared with NetworkX on the
  same graph (ties merged both ways, weights summed; betweenness on lengths 1 / weight,
  scaled to integers by the weights' least common multiple so that NetworkX compares path
  lengths exactly; eigenvector within each component, largest 1);
- ``lastmile keyplayers --edges F -k 5`` (Borgatti's set): each row's fragmentation, largest
  component and components after removing ranks 1..r;
- ``lastmile disrupt --edges F --strategy S --sequential|--all-at-once --steps 10 --format
  json`` for betweenness and degree: each pick is the highest on what remains (sequential) or
  on the intact network (all at once), and each step's largest component, its fraction,
  components and global efficiency (``nx.global_efficiency``) are recomputed;
- ``lastmile links --edges F --top 100000 --format json``: the candidates are exactly the
  untied pairs two or three steps apart, with NetworkX's common neighbours, Adamic-Adar and
  resource allocation, and Katz from matrix powers.

Prints JSON: per network its people, ties, components and efficiency, and the largest
difference of every figure (the commands round to 6 decimals). Exits 1 on a disagreement.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

DATA = Path("/work/shared/data/public_networks")
LASTMILE = str(Path(sys.executable).with_name("lastmile"))
TOLERANCE = 2e-6


def matrices(data: Path) -> dict[str, Path]:
    found = {f"caviar_phase{i}": data / "caviar" / f"phase{i}.csv" for i in range(1, 12)}
    for name in ("acero", "jake", "juanes", "mambo"):
        found[f"cocaine_{name}"] = (
            data / f"cocaine_smuggling_{name}" / f"COCAINE_{name.upper()}.csv"
        )
    found["drugnet"] = data / "drugnet" / "DRUGNET.csv"
    return found


def cells(path: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    labels = [c.strip() for c in rows[0][1:]]
    ties = [
        (row[0].strip(), label, cell.strip())
        for row in rows[1:]
        for label, cell in zip(labels, row[1:], strict=True)
        if cell.strip() and float(cell) != 0
    ]
    return labels, ties


def write_edges(path: Path, labels: list[str], ties: list[tuple[str, str, str]]) -> None:
    tied = {s for s, _, _ in ties} | {t for _, t, _ in ties}
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["source", "target", "weight"])
        out.writerows(ties)
        out.writerows([label, "", ""] for label in labels if label not in tied)


def reference(labels: list[str], ties: list[tuple[str, str, str]]) -> nx.Graph:
    weight: dict[frozenset[str], float] = defaultdict(float)
    for s, t, w in ties:
        if s != t:
            weight[frozenset((s, t))] += float(w)
    whole = all(w == int(w) for w in weight.values())
    lcm = math.lcm(*(int(w) for w in weight.values())) if whole and weight else 0
    g = nx.Graph()
    g.add_nodes_from(labels)
    for pair, w in weight.items():
        a, b = tuple(pair)
        g.add_edge(a, b, weight=w, distance=lcm // int(w) if lcm else 1.0 / w)
    return g


def run(*args: str) -> Any:
    done = subprocess.run([LASTMILE, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"lastmile {' '.join(args)}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def eigenvector(g: nx.Graph) -> dict[str, float]:
    out = dict.fromkeys(g, 0.0)
    for members in nx.connected_components(g):
        if len(members) == 2:
            out.update(dict.fromkeys(members, 1.0))
        elif len(members) > 2:
            values = nx.eigenvector_centrality_numpy(g.subgraph(members), weight="weight")
            top = max(abs(v) for v in values.values())
            out.update({v: abs(x) / top for v, x in values.items()})
    return out


def fragmentation(g: nx.Graph, removed: list[str]) -> tuple[float, int, int]:
    h = g.copy()
    h.remove_nodes_from(removed)
    sizes = [len(c) for c in nx.connected_components(h)]
    n = h.number_of_nodes()
    f = 1.0 if n < 2 else 1 - sum(s * (s - 1) for s in sizes) / (n * (n - 1))
    return f, max(sizes, default=0), len(sizes)


def check(edges: Path, g: nx.Graph, worst: dict[str, float]) -> None:
    def agree(figure: str, ours: float, theirs: float) -> None:
        worst[figure] = max(worst[figure], abs(ours - theirs))
        if abs(ours - theirs) > TOLERANCE:
            raise SystemExit(f"{edges.name}: {figure}: lastmile {ours}, NetworkX {theirs}")

    n = g.number_of_nodes()
    btw = nx.betweenness_centrality(g, weight="distance")
    eig = eigenvector(g)
    rows = run(
        "keyplayers",
        "--edges",
        str(edges),
        "-k",
        str(n),
        "--method",
        "betweenness",
        "--format",
        "json",
    )
    assert sorted(r["id"] for r in rows) == sorted(g), edges
    for r in rows:
        agree("degree", r["degree"], g.degree(r["id"]))
        agree("weighted_degree", r["weighted_degree"], g.degree(r["id"], weight="weight"))
        agree("betweenness", r["betweenness"], btw[r["id"]])
        agree("eigenvector", r["eigenvector"], eig[r["id"]])
    kp = run("keyplayers", "--edges", str(edges), "-k", "5", "--format", "json")
    ids = [r["id"] for r in kp]
    for rank, r in enumerate(kp, start=1):
        f, largest, comps = fragmentation(g, ids[:rank])
        agree("keyplayer_fragmentation", r["score"], f)
        agree("keyplayer_largest_component", r["largest_component"], largest)
        agree("keyplayer_components", r["components"], comps)
    first = max(len(c) for c in nx.connected_components(g))
    for strategy in ("betweenness", "degree"):
        for mode in ("--sequential", "--all-at-once"):
            steps = run(
                "disrupt",
                "--edges",
                str(edges),
                "--strategy",
                strategy,
                mode,
                "--steps",
                str(min(10, n)),
                "--format",
                "json",
            )
            h = g.copy()
            for step in steps:
                if step["removed"] is not None:
                    on = h if mode == "--sequential" else g
                    b = nx.betweenness_centrality(on, weight="distance") if on is h else btw
                    rank = {
                        v: (b[v], 0) if strategy == "betweenness" else (on.degree(v), b[v])
                        for v in h
                    }
                    best = max(rank.values())
                    pick = rank[step["removed"]]
                    if not (pick >= best or np.allclose(pick, best)):
                        raise SystemExit(
                            f"{edges.name}: disrupt {strategy} {mode} step {step['step']} removed "
                            f"{step['removed']}, not the highest on what remains"
                        )
                    h.remove_node(step["removed"])
                sizes = [len(c) for c in nx.connected_components(h)]
                agree("disrupt_largest_component", step["largest_component"], max(sizes, default=0))
                agree(
                    "disrupt_fraction",
                    step["largest_component_fraction"],
                    max(sizes, default=0) / first,
                )
                agree("disrupt_components", step["components"], len(sizes))
                agree(
                    "disrupt_efficiency",
                    step["efficiency"],
                    nx.global_efficiency(h) if len(h) > 1 else 0.0,
                )
    nodes = list(g)
    index = {v: i for i, v in enumerate(nodes)}
    a = nx.to_numpy_array(g, nodelist=nodes, weight=None)
    a2 = a @ a
    a3 = a2 @ a
    near = {
        frozenset((u, v))
        for u, far in nx.all_pairs_shortest_path_length(g, cutoff=3)
        for v, d in far.items()
        if d in (2, 3)
    }
    links = run("links", "--edges", str(edges), "--top", "100000", "--format", "json")
    assert {frozenset((r["source"], r["target"])) for r in links} == near, edges
    for r in links:
        u, v = r["source"], r["target"]
        agree(
            "links_common_neighbours",
            r["common_neighbours"],
            len(list(nx.common_neighbors(g, u, v))),
        )
        agree("links_adamic_adar", r["adamic_adar"], next(nx.adamic_adar_index(g, [(u, v)]))[2])
        agree(
            "links_resource_allocation",
            r["resource_allocation"],
            next(nx.resource_allocation_index(g, [(u, v)]))[2],
        )
        agree(
            "links_katz",
            r["katz"],
            0.05**2 * a2[index[u], index[v]] + 0.05**3 * a3[index[u], index[v]],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    worst: dict[str, float] = defaultdict(float)
    networks: dict[str, Any] = {}
    union: list[tuple[str, str, str]] = []
    union_labels: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        found = list(matrices(args.data).items())
        for name, matrix in [*found, ("caviar_all", None)]:
            if matrix is None:
                labels, ties = list(dict.fromkeys(union_labels)), union
            else:
                labels, ties = cells(matrix)
                if name.startswith("caviar"):
                    union, union_labels = union + ties, union_labels + labels
            edges = Path(tmp) / f"{name}.csv"
            write_edges(edges, labels, ties)
            g = reference(labels, ties)
            check(edges, g, worst)
            networks[name] = {
                "people": g.number_of_nodes(),
                "ties": g.number_of_edges(),
                "components": nx.number_connected_components(g),
                "efficiency": round(nx.global_efficiency(g), 3),
            }
    print(json.dumps({"networks": networks, "largest_difference": worst}, indent=2))


if __name__ == "__main__":
    main()
