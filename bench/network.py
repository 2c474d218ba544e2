"""Benchmark: lastmile's betweenness and communities against NetworkX and bare igraph.

On one graph, in one run:

- **betweenness**, sampled from the same sources on every side (``lastmile.network.betweenness``
  with ``sources=``, bare ``igraph.Graph.betweenness(sources=...)``, NetworkX
  ``betweenness_centrality_subset`` from the same sources to every target), distances = 1 /
  weight everywhere; the JSON gives the largest difference between the three results (they
  compute the same thing, so it must be ~0);
- **communities**: ``lastmile.network.leiden`` against bare ``community_leiden`` calls with the
  same arguments and the same pass loop (one pass at a time until stable, at most
  ``MAX_PASSES``), and against NetworkX's ``louvain_communities`` (NetworkX's own
  ``leiden_communities`` only dispatches to other backends, so Louvain is NetworkX's nearest
  pure-Python equivalent); modularity of each partition is given.

Each timing is the best of ``--repeat`` runs, lastmile and bare igraph alternating so that the
changing load of a shared machine falls on both alike (NetworkX: one run). Goals (issue 11):
lastmile at least 20 times faster than NetworkX, and within 1.5 times of bare igraph.

    .venv/bin/python bench/network.py                    # a planted-partition graph
    .venv/bin/python bench/network.py --edges FILE.csv   # any edge list
    .venv/bin/python bench/network.py --workspace nat.duckdb   # a workspace's largest network
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np

from lastmile.network import betweenness, leiden, load_network, network_from_graph
from lastmile.network.centrality import sample_sources
from lastmile.network.communities import MAX_PASSES


def planted(n: int, blocks: int, degree: float, seed: int) -> ig.Graph:
    """A stochastic block model: ``blocks`` groups, 90% of ties inside, call counts as weights."""
    rng = np.random.default_rng(seed)
    size = n // blocks
    m = int(n * degree / 2)
    inside = int(m * 0.9)
    block = rng.integers(0, blocks, inside)
    a = block * size + rng.integers(0, size, inside)
    b = block * size + rng.integers(0, size, inside)
    c = rng.integers(0, blocks * size, m - inside)
    d = rng.integers(0, blocks * size, m - inside)
    edges = np.column_stack([np.concatenate([a, c]), np.concatenate([b, d])])
    edges = edges[edges[:, 0] != edges[:, 1]]
    g = ig.Graph(n=blocks * size, edges=edges.tolist())
    g.es["weight"] = rng.integers(1, 30, g.ecount()).astype(float).tolist()
    g.simplify(combine_edges={"weight": "sum"})
    return g


def paired(
    ours: Callable[[], Any], bare: Callable[[], Any], repeat: int
) -> tuple[float, Any, float, Any]:
    """Best of ``repeat`` runs of each, alternating, so that a shared machine's changing load
    falls on both sides alike."""
    t_ours, t_bare, r_ours, r_bare = [], [], None, None
    for _ in range(repeat):
        start = time.perf_counter()
        r_ours = ours()
        t_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        r_bare = bare()
        t_bare.append(time.perf_counter() - start)
    return min(t_ours), r_ours, min(t_bare), r_bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=Path, help="an edge list CSV instead of the planted graph")
    parser.add_argument(
        "--workspace", help="a resolved workspace: use its largest distribution network"
    )
    parser.add_argument("--nodes", type=int, default=20_000)
    parser.add_argument("--blocks", type=int, default=400)
    parser.add_argument("--degree", type=float, default=8.0)
    parser.add_argument("--sources", type=int, default=100, help="sampled betweenness sources")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.workspace:
        from lastmile.network.networks import network_graphs
        from lastmile.store import open_workspace

        with open_workspace(args.workspace, create=False) as ws:
            graphs = network_graphs(ws)
        nid, net = max(graphs.items(), key=lambda kv: (kv[1].graph.vcount(), kv[0]))
        origin = f"{args.workspace}: largest network {nid} (its people and criminal ties)"
    elif args.edges:
        net = load_network(args.edges)
        origin = str(args.edges)
    else:
        net = network_from_graph(planted(args.nodes, args.blocks, args.degree, args.seed))
        origin = f"planted partition: {args.nodes} nodes, {args.blocks} blocks, "
        origin += f"degree {args.degree}"
    g = net.graph
    n, m = g.vcount(), g.ecount()
    sources = sample_sources(n, m, seed=args.seed, budget=args.sources * m)[: args.sources]
    ng = nx.Graph()
    ng.add_nodes_from(range(n))
    ng.add_edges_from(
        (e.source, e.target, {"weight": e["weight"], "distance": 1.0 / e["weight"]}) for e in g.es
    )
    norm = (n - 1) * (n - 2) / 2.0

    t_ours, ours, t_bare, bare = paired(
        lambda: betweenness(g, sources=sources).values,
        lambda: np.asarray(g.betweenness(directed=False, weights="distance", sources=sources)),
        args.repeat,
    )
    start = time.perf_counter()
    theirs = nx.betweenness_centrality_subset(
        ng, sources=[int(s) for s in sources], targets=list(range(n)), weight="distance"
    )
    t_nx = time.perf_counter() - start
    scale = n / len(sources) / norm
    bare_scaled = bare * scale
    nx_scaled = np.array([theirs[v] for v in range(n)]) * scale

    def bare_leiden() -> list[int]:
        # The same pass loop as lastmile's ``leiden`` (one pass at a time from the previous
        # partition until a pass changes nothing, at most MAX_PASSES): igraph's own
        # ``n_iterations=-1`` loop can run without end, and a peer doing different work
        # would not be a fair comparison. What lastmile adds is only the renumbering.
        ig.set_random_number_generator(random.Random(args.seed))
        current: list[int] | None = None
        for _ in range(MAX_PASSES):
            membership = g.community_leiden(
                objective_function="modularity",
                weights="weight",
                resolution=1.0,
                n_iterations=1,
                initial_membership=current,
            ).membership
            if membership == current:
                break
            current = membership
        return list(current or [])

    t_ours_c, ours_c, t_bare_c, bare_c = paired(
        lambda: leiden(g, seed=args.seed), bare_leiden, args.repeat
    )
    ig.set_random_number_generator(random)
    start = time.perf_counter()
    louvain = nx.community.louvain_communities(ng, weight="weight", seed=args.seed)
    t_nx_c = time.perf_counter() - start
    nx_membership = np.zeros(n, dtype=int)
    for i, members in enumerate(louvain):
        nx_membership[list(members)] = i
    weights = g.es["weight"]

    result = {
        "graph": {"origin": origin, "nodes": n, "ties": m},
        "betweenness": {
            "sources": len(sources),
            "seconds": {
                "lastmile": round(t_ours, 4),
                "igraph": round(t_bare, 4),
                "networkx": round(t_nx, 4),
            },
            "networkx_over_lastmile": round(t_nx / t_ours, 1),
            "lastmile_over_igraph": round(t_ours / t_bare, 2),
            "max_abs_difference": {
                "igraph": float(np.max(np.abs(ours - bare_scaled))),
                "networkx": float(np.max(np.abs(ours - nx_scaled))),
            },
        },
        "communities": {
            "seconds": {
                "lastmile_leiden": round(t_ours_c, 4),
                "igraph_leiden": round(t_bare_c, 4),
                "networkx_louvain": round(t_nx_c, 4),
            },
            "networkx_over_lastmile": round(t_nx_c / t_ours_c, 1),
            "lastmile_over_igraph": round(t_ours_c / t_bare_c, 2),
            "communities": {
                "lastmile_leiden": int(ours_c.max()) + 1,
                "igraph_leiden": len(set(bare_c)),
                "networkx_louvain": len(louvain),
            },
            "modularity": {
                "lastmile_leiden": round(g.modularity(list(ours_c), weights=weights), 4),
                "igraph_leiden": round(g.modularity(bare_c, weights=weights), 4),
                "networkx_louvain": round(g.modularity(list(nx_membership), weights=weights), 4),
            },
        },
        "note": "timings on a shared machine are noisy; best of --repeat runs (NetworkX: one)",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
