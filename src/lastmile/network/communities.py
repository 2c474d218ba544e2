"""Communities with igraph's Leiden (Traag, Waltman & van Eck 2019), modularity objective.

Leiden improves on Louvain by guaranteeing connected communities. The objective is weighted
modularity (Newman 2004) at resolution 1 unless told otherwise; it runs pass after pass until a
pass changes nothing, as igraph's ``n_iterations=-1`` does, but at most ``MAX_PASSES`` passes:
on some weighted graphs igraph's own loop never ends (a national test operation ran one call
for over 15 minutes, alternating between partitions), and each pass never lowers the
partition's quality, so the last one is kept. igraph's generator is seeded for the call only,
so the same graph and seed give the same communities, and the caller's ``random`` state is
untouched.

Leiden is a stochastic optimiser: on a graph whose best partitions are near-equal in quality,
runs from different seeds stop at different ones, and a single run decides a boundary by
chance. With ``runs`` greater than one the algorithm is started that many times from one
seeded generator (each run from scratch, the generator not reseeded between them) and the
partition of the highest quality is kept: the practice of the Leiden algorithm's authors
(the ``--random-starts`` of CWTS's ``RunNetworkClustering``, by Traag, Waltman & van Eck)
and of ``leidenAlg``'s ``find_partition_with_rep``. Where the best partition is found by many
runs the answer no longer hangs on the seed; where few runs find it (a national component of
64 people: 2 runs in 300), no affordable number of runs makes it so (docs/networks-rounds.md,
"Seventh round").
"""

from __future__ import annotations

import math
import random

import igraph as ig
import numpy as np

MAX_PASSES = 50
# Two partitions whose modularity differs by less than this are of equal quality (floating
# point sums in another order).
QUALITY_TIE = 1e-9


def leiden(g: ig.Graph, *, seed: int = 0, resolution: float = 1.0, runs: int = 1) -> np.ndarray:
    """Community of every vertex (0..c-1, largest first); isolated nodes get their own.

    ``runs``: how many runs to make; the partition of highest modularity (at ``resolution``)
    is kept. Where several are of equal quality (small symmetric graphs have many: a vertex
    between two triangles is as well in one as in the other, and runs find each about as
    often), the first in the order of the vertices (labels renumbered by first appearance,
    the smallest sequence): not the first run's nor the most frequent, which hang on the seed.
    """
    if runs < 1:
        raise ValueError(f"runs must be 1 or more, not {runs}")
    if g.vcount() == 0:
        return np.zeros(0, dtype=np.int64)
    weights = "weight" if g.ecount() else None
    # Each distinct partition found (keyed by its labels renumbered by first appearance): its
    # quality, and its labels as the first run to find it gave them.
    quality: dict[tuple[int, ...], float] = {}
    labels: dict[tuple[int, ...], list[int]] = {}
    ig.set_random_number_generator(random.Random(seed))
    try:
        for _ in range(runs):
            current = _run(g, weights, resolution)
            key = _canonical(current)
            if key not in quality:
                q = g.modularity(current, weights=weights, resolution=resolution)
                quality[key] = q if math.isfinite(q) else 0.0
                labels[key] = current
    finally:
        ig.set_random_number_generator(random)
    top = max(quality.values())
    best = min(p for p, q in quality.items() if q >= top - QUALITY_TIE)
    membership = np.asarray(labels[best], dtype=np.int64)
    sizes = np.bincount(membership)
    order = np.argsort(-sizes, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    return relabel[membership]


def _run(g: ig.Graph, weights: str | None, resolution: float) -> list[int]:
    """One run of Leiden from singletons, pass after pass until stable (at most MAX_PASSES)."""
    current: list[int] | None = None
    for _ in range(MAX_PASSES):
        clustering = g.community_leiden(
            objective_function="modularity",
            weights=weights,
            resolution=resolution,
            n_iterations=1,
            initial_membership=current,
        )
        if clustering.membership == current:
            break
        current = clustering.membership
    return list(current or [])


def _canonical(membership: list[int]) -> tuple[int, ...]:
    """A partition's labels renumbered by first appearance: one tuple per partition."""
    seen: dict[int, int] = {}
    return tuple(seen.setdefault(c, len(seen)) for c in membership)
