"""Centrality: degree, weighted degree, betweenness (exact or sampled, with its error), eigenvector.

Weights are strengths (calls, meetings). Degree counts ties; weighted degree (strength) sums
their weights; eigenvector centrality takes the weights as they are. Betweenness needs
distances: a tie's length is the inverse of its weight, so a pair that talks 20 times is
closer than a pair that talked once (Opsahl, Agneessens & Skvoretz 2010 discuss the choice).

Betweenness (Freeman 1977; Brandes 2001) is exact while ``n * m`` stays under
``EXACT_BUDGET``. Above it, it is estimated from a uniform sample of source vertices, scaled
by ``n / k`` (Brandes & Pich 2007): an unbiased estimator. Its standard error per vertex is
measured, not assumed: the sources are split into batches, each batch gives an estimate, and
the spread of those estimates over the square root of the number of batches is the error.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pyarrow as pa

EXACT_BUDGET = 200_000_000
SAMPLE_BUDGET = 30_000_000
MIN_SOURCES = 30
BATCHES = 10


@dataclass(frozen=True)
class Betweenness:
    """Normalized betweenness per vertex, and how it was obtained."""

    values: np.ndarray
    stderr: np.ndarray
    exact: bool
    sources: int

    def describe(self) -> str:
        if self.exact:
            return "exact betweenness (Brandes), distances = 1 / weight"
        worst = float(np.max(self.stderr)) if len(self.stderr) else 0.0
        return (
            f"betweenness estimated from {self.sources:,} sampled sources "
            f"(Brandes & Pich 2007), distances = 1 / weight; largest standard error "
            f"{worst:.4f} (normalized scale 0-1)"
        )


def _pair_norm(n: int) -> float:
    return (n - 1) * (n - 2) / 2.0 if n > 2 else 1.0


def sample_sources(n: int, m: int, seed: int = 0, budget: int = SAMPLE_BUDGET) -> list[int]:
    """The sources a sampled betweenness uses: ``budget / m`` of them, at least 30."""
    k = min(n, max(MIN_SOURCES, budget // max(m, 1)))
    rng = random.Random(seed)
    return sorted(rng.sample(range(n), k))


def betweenness(
    g: ig.Graph,
    *,
    exact: bool | None = None,
    sources: list[int] | None = None,
    seed: int = 0,
) -> Betweenness:
    """Normalized betweenness of every vertex (0-1), distances = 1 / weight.

    ``exact=None`` decides by size (``n * m <= EXACT_BUDGET``). ``sources`` forces a sample.
    """
    n, m = g.vcount(), g.ecount()
    weights = g.es["distance"] if m else None
    norm = _pair_norm(n)
    if sources is None and (exact or (exact is None and n * m <= EXACT_BUDGET)):
        values = np.asarray(g.betweenness(directed=False, weights=weights), dtype=float) / norm
        return Betweenness(values, np.zeros(n), True, n)
    chosen = sources if sources is not None else sample_sources(n, m, seed)
    k = len(chosen)
    batches = [chosen[i::BATCHES] for i in range(min(BATCHES, k))]
    estimates = np.array(
        [
            np.asarray(g.betweenness(directed=False, weights=weights, sources=b), dtype=float)
            * (n / len(b))
            / norm
            for b in batches
        ]
    )
    sizes = np.array([len(b) for b in batches], dtype=float)
    values = (estimates * sizes[:, None]).sum(axis=0) / sizes.sum()
    if len(batches) > 1:
        stderr = estimates.std(axis=0, ddof=1) / np.sqrt(len(batches))
    else:
        stderr = np.full(n, np.nan)
    return Betweenness(values, stderr, False, k)


EIGENVECTOR_DIGITS = 12
"""Eigenvector values are rounded to this many decimals: ARPACK's answer varies in its last
bits, and a ranking must not hang on them (ties go to betweenness)."""


def eigenvector(g: ig.Graph) -> np.ndarray:
    """Weighted eigenvector centrality (Bonacich 1972), within each component, largest = 1.

    It is defined only on a connected graph, so each component gets its own (igraph's
    advice); an isolated person scores 0 and both people of a dyad score 1. igraph's ARPACK
    starts from its random generator (Python's ``random`` unless set), so the generator is
    seeded for the call, and each component is divided by its largest value (exactly 1) and
    rounded to :data:`EIGENVECTOR_DIGITS` decimals: the same graph gives the same values and
    the same ranking in every run.
    """
    n = g.vcount()
    eig = np.zeros(n)
    if not g.ecount():
        return eig
    ig.set_random_number_generator(random.Random(0))
    try:
        for members in g.connected_components():
            if len(members) == 2:
                eig[members] = 1.0
            elif len(members) > 2:
                sub = g.induced_subgraph(members)
                with warnings.catch_warnings():
                    # igraph warns when some values are near zero (the leaves of a star, say);
                    # within one component the values are still the defined ones.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    values = np.abs(sub.eigenvector_centrality(scale=True, weights="weight"))
                eig[members] = np.round(values / values.max(), EIGENVECTOR_DIGITS)
    finally:
        ig.set_random_number_generator(random)
    return eig


def centralities(
    g: ig.Graph, *, exact: bool | None = None, seed: int = 0
) -> tuple[pa.Table, Betweenness]:
    """Per vertex: id, degree, weighted_degree, betweenness (and its standard error), eigenvector.

    Eigenvector centrality: see :func:`eigenvector`.
    """
    n = g.vcount()
    weights = g.es["weight"] if g.ecount() else None
    btw = betweenness(g, exact=exact, seed=seed)
    eig = eigenvector(g)
    table = pa.table(
        {
            "id": pa.array(g.vs["name"] if n else [], pa.string()),
            "degree": pa.array(g.degree(), pa.int64()),
            "weighted_degree": pa.array(g.strength(weights=weights), pa.float64()),
            "betweenness": pa.array(btw.values, pa.float64()),
            "betweenness_stderr": pa.array(btw.stderr, pa.float64()),
            "eigenvector": pa.array(eig, pa.float64()),
        }
    )
    return table, btw
