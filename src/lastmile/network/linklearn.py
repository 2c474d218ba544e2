"""Learned link prediction: a classifier over topological and record features, trained on the
network at hand (Lichtenwalter, Lussier & Chawla 2010; for criminal networks Berlusconi et al.
2016, Lim et al. 2019), explained pair by pair.

Training follows the evaluation: a share of the ties the model may see is hidden again (the
*training* hold-out, never the ties being predicted or evaluated), the hidden ties are the
positives, and as many untied pairs two or three steps apart are the negatives; the features
of both are computed on what remains. Several such rounds are stacked, and three models are
trained so, each on its own rounds, their probabilities averaged (bagging). A pair is scored in
both orders (``x, y`` and ``y, x``) and the two probabilities averaged, so the score is
symmetric while the features may say which end supplies the other.

Features, all computed from what an analyst has without the ties being predicted (each
suggestion's ``why``, from :func:`explain`, says in words which of them raised it):

- topology of the visible ties: the four classic scores, degrees, the distance band (2, 3, 4,
  farther in one component, or apart), the same Leiden community;
- with a :class:`LinkContext` (a workspace): the kinds of the visible ties at each end
  (supplies others, has a supplier, ...), the ties *outside* the graph between the pair and
  at each end (a few calls below the evidence minimum, an association, a co-arrest, a shared
  phone), the neighbours shared through any tie, and what the entities' own records say
  (shared investigations, cities, roles; one-hot values of the attributes with few values).

Leakage rules: a hidden tie hides every record behind it (``edge_ties``: for a communication
tie all its events, for a stated relationship its record); ties of other kinds between the
same pair come from other records and stay (``side_ties``); attributes come only from an
entity's own records (subject, organization, selector records), never from the records of a
tie. docs/networks.md ("Learned link prediction") gives the reasons.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from lastmile.network.communities import leiden

HIDE = 0.15
ROUNDS = 20
BAG = 3
BAG_STRIDE = 1000  # member b's rounds are seeded seed + 1000 b + r: apart while rounds < 1000
MAX_ONE_HOT = 12
FINE_RESOLUTION = 4.0
NEIGHBOURS = "_of_neighbours"
DIRECTED_KINDS = frozenset({"supply"})
# Each member's gradient boosting; min_samples_leaf is set from the training set's size
# (:func:`min_samples_leaf`).
BOOSTING: dict[str, float | int] = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "l2_regularization": 1.0,
}
Progress = Callable[[str, float], None]


def min_samples_leaf(rows: int) -> int:
    """Each member's smallest leaf for a training set of ``rows`` rows."""
    return max(5, min(20, rows // 50))


EDGE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("kind", pa.string()),
        ("records", pa.int64()),
    ]
)
ATTRIBUTE_SCHEMA = pa.schema(
    [("entity_id", pa.string()), ("attribute", pa.string()), ("value", pa.string())]
)


def idle_cores() -> int:
    """The cores no other process is using: the count less the last minute's load, of which
    one is this process itself (at least one). The gradient boosting's OpenMP threads cut
    the training on an idle 2-core machine from 52 s to 33 s nationally (the same model), but
    on a busy one threads that wait for a core cost far more than they give."""
    cores = os.cpu_count() or 1
    try:
        others = max(0, round(os.getloadavg()[0]) - 1)
    except OSError:  # no load average on this platform
        others = cores - 1
    return max(1, cores - others)


class LearnError(ValueError):
    """Too little to learn from (raised as a NetworkError by the callers)."""


@dataclass(frozen=True)
class LinkContext:
    """What the records say besides the graph's own ties.

    ``edge_ties``: the typed ties behind the graph's edges (``source, target, kind, records``;
    ``supply`` runs from supplier to supplied): hidden with their pair. ``side_ties``: typed
    ties that are not edges of the graph (other kinds, or below its evidence minimum): never
    hidden, they come from other records. ``attributes``: ``entity_id, attribute, value`` from
    each entity's own records (investigation, city, role, kind...).
    """

    edge_ties: pa.Table = field(default_factory=EDGE_SCHEMA.empty_table)
    side_ties: pa.Table = field(default_factory=EDGE_SCHEMA.empty_table)
    attributes: pa.Table = field(default_factory=ATTRIBUTE_SCHEMA.empty_table)
    directed: frozenset[str] = DIRECTED_KINDS


@dataclass
class _Indexed:
    """The context on node indices: typed edge ties per pair, side ties, attribute sets."""

    n: int
    edge_kind_cols: list[str]
    pair_kinds: dict[tuple[int, int], list[tuple[int, int, str]]]
    side_kinds: list[str]
    side: dict[str, sp.csr_matrix]
    side_any: sp.csr_matrix
    attributes: dict[str, sp.csr_matrix]
    attribute_values: dict[str, list[str]]
    one_hot: list[tuple[str, int, str]]


def link_index(names: list[str], context: LinkContext | None) -> _Indexed:
    """The context on node indices, as a model reads it."""
    n = len(names)
    index = {name: i for i, name in enumerate(names)}
    ctx = context or LinkContext()
    pair_kinds: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    cols: set[str] = set()
    for s, t, kind in zip(
        ctx.edge_ties.column("source").to_pylist(),
        ctx.edge_ties.column("target").to_pylist(),
        ctx.edge_ties.column("kind").to_pylist(),
        strict=True,
    ):
        a, b = index.get(s), index.get(t)
        if a is None or b is None or a == b:
            continue
        kind = str(kind)
        pair_kinds.setdefault((min(a, b), max(a, b)), []).append((a, b, kind))
        cols.update((f"{kind}_out", f"{kind}_in") if kind in ctx.directed else (kind,))
    side: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for s, t, kind, records in zip(
        ctx.side_ties.column("source").to_pylist(),
        ctx.side_ties.column("target").to_pylist(),
        ctx.side_ties.column("kind").to_pylist(),
        ctx.side_ties.column("records").to_pylist(),
        strict=True,
    ):
        a, b = index.get(s), index.get(t)
        if a is None or b is None or a == b:
            continue
        rows, cs, vals = side.setdefault(str(kind), ([], [], []))
        rows += [a, b]
        cs += [b, a]
        vals += [float(max(records or 1, 1))] * 2
    side_m = {k: sp.csr_matrix((v, (r, c)), shape=(n, n)) for k, (r, c, v) in sorted(side.items())}
    side_any = sp.csr_matrix((n, n))
    for m in side_m.values():
        side_any = side_any + m
    side_any = (side_any > 0).astype(np.float64).tocsr()
    attrs: dict[str, dict[str, list[int]]] = {}
    for e, a_name, value in zip(
        ctx.attributes.column("entity_id").to_pylist(),
        ctx.attributes.column("attribute").to_pylist(),
        ctx.attributes.column("value").to_pylist(),
        strict=True,
    ):
        i = index.get(e)
        if i is None or value is None or value == "":
            continue
        attrs.setdefault(str(a_name), {}).setdefault(str(value), []).append(i)
    attributes: dict[str, sp.csr_matrix] = {}
    values: dict[str, list[str]] = {}
    one_hot: list[tuple[str, int, str]] = []
    for a_name, by_value in sorted(attrs.items()):
        levels = sorted(by_value)
        rows_i = [i for j, v in enumerate(levels) for i in set(by_value[v])]
        cols_j = [j for j, v in enumerate(levels) for _ in set(by_value[v])]
        attributes[a_name] = sp.csr_matrix(
            (np.ones(len(rows_i)), (rows_i, cols_j)), shape=(n, len(levels))
        )
        values[a_name] = levels
        if len(levels) <= MAX_ONE_HOT:
            one_hot += [(a_name, j, v) for j, v in enumerate(levels)]
    return _Indexed(
        n=n,
        edge_kind_cols=sorted(cols),
        pair_kinds=pair_kinds,
        side_kinds=list(side_m),
        side=side_m,
        side_any=side_any,
        attributes=attributes,
        attribute_values=values,
        one_hot=one_hot,
    )


def _adjacency(n: int, edges: np.ndarray) -> sp.csr_matrix:
    if len(edges) == 0:
        return sp.csr_matrix((n, n))
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    a = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    a.data[:] = 1.0
    return a


PAIR_BUDGET = 20_000_000
"""How many stored entries the sparse products for one block of pairs may hold (about 12
bytes each): pairs are scored block by block, so that the candidates of a graph of a million
ties (some ten million pairs two steps apart) do not need tens of gigabytes at once."""


def pair_blocks(cost: np.ndarray, budget: int | None = None) -> list[slice]:
    """Consecutive slices of the pairs whose summed ``cost`` (entries each pair makes) stays
    within ``budget`` (:data:`PAIR_BUDGET`), one pair at least per slice."""
    budget = PAIR_BUDGET if budget is None else budget
    if len(cost) == 0:
        return []
    total = np.cumsum(cost, dtype=np.float64)
    cuts = [0]
    while cuts[-1] < len(cost):
        start = cuts[-1]
        base = total[start - 1] if start else 0.0
        end = int(np.searchsorted(total, base + budget, side="right"))
        cuts.append(max(end, start + 1))
    return [slice(a, b) for a, b in itertools.pairwise(cuts)]


def neighbourhood(
    a: sp.csr_matrix, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Degrees (of every vertex), then for the pairs ``(x[i], y[i])`` on adjacency ``a``:
    common neighbours, Adamic-Adar, resource allocation and paths of length 3 (the classic
    scores of ``linkpred.score_pairs`` and features of the learned model), in blocks of pairs
    (:func:`pair_blocks`; a pair's paths of length 3 need the row of ``a @ a`` of its first end,
    as many entries as its neighbours have ties)."""
    deg = np.asarray(a.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        inv_log = np.where(deg > 1, 1.0 / np.log(np.maximum(deg, 2)), 0.0)
        inv = np.where(deg > 0, 1.0 / np.maximum(deg, 1), 0.0)
    reach = a @ deg
    cost = reach[x] + deg[x] + deg[y] + 1
    parts: list[tuple[np.ndarray, ...]] = []
    for block in pair_blocks(cost):
        ax, ay = a[x[block]], a[y[block]]
        common = ax.multiply(ay)
        parts.append(
            (
                np.asarray(common.sum(axis=1)).ravel(),
                np.asarray(common @ inv_log).ravel(),
                np.asarray(common @ inv).ravel(),
                np.asarray((ax @ a).multiply(ay).sum(axis=1)).ravel(),
            )
        )
    if not parts:
        empty = np.zeros(0)
        return deg, empty, empty, empty, empty
    cn, aa, ra, paths3 = (np.concatenate(column) for column in zip(*parts, strict=True))
    return deg, cn, aa, ra, paths3


def _rowdot(m: sp.csr_matrix, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row ``x[i]`` of ``m`` dotted with row ``y[i]``, in blocks of pairs (:func:`pair_blocks`)."""
    if len(x) == 0:
        return np.zeros(0)
    length = np.diff(m.indptr)
    return np.concatenate(
        [
            np.asarray(m[x[b]].multiply(m[y[b]]).sum(axis=1)).ravel()
            for b in pair_blocks(length[x] + length[y] + 1)
        ]
    )


@dataclass
class _Features:
    names: list[str]
    matrix: np.ndarray


def _features(
    ix: _Indexed, visible: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int
) -> _Features:
    """The feature matrix of the ordered pairs ``(x[i], y[i])`` given the visible edges."""
    n = ix.n
    a = _adjacency(n, visible)
    deg, cn, aa, ra, paths3 = neighbourhood(a, x, y)
    a2 = (a @ a).tocsr()
    d4 = _rowdot(a2, x, y)
    g = ig.Graph(n=n, edges=visible.tolist(), directed=False)
    comp = np.asarray(g.connected_components().membership)
    same_comp = comp[x] == comp[y]
    band = np.where(
        cn > 0, 2, np.where(paths3 > 0, 3, np.where(d4 > 0, 4, np.where(same_comp, 5, 6)))
    )
    g.es["weight"] = 1.0
    community = leiden(g, seed=seed) if g.ecount() else np.arange(n)
    fine = leiden(g, seed=seed, resolution=FINE_RESOLUTION) if g.ecount() else np.arange(n)
    community_size = np.bincount(community)[community] if n else np.zeros(0, np.int64)
    union = deg[x] + deg[y] - cn
    cols: dict[str, np.ndarray] = {
        "common_neighbours": cn,
        "adamic_adar": aa,
        "resource_allocation": ra,
        "paths_3": paths3,
        "jaccard": np.where(union > 0, cn / np.maximum(union, 1), 0.0),
        "distance_band": band.astype(np.float64),
        "same_community": ((community[x] == community[y]) & (deg[x] > 0)).astype(np.float64),
        "same_fine_community": ((fine[x] == fine[y]) & (deg[x] > 0)).astype(np.float64),
        "community_size_x": np.log(community_size[x]),
        "community_size_y": np.log(community_size[y]),
        "degree_x": deg[x],
        "degree_y": deg[y],
    }
    if ix.edge_kind_cols:
        kc = {c: np.zeros(n) for c in ix.edge_kind_cols}
        vis = {(int(min(u, v)), int(max(u, v))) for u, v in visible.tolist()}
        for pair in vis:
            for a_end, b_end, kind in ix.pair_kinds.get(pair, ()):
                if f"{kind}_out" in kc:
                    kc[f"{kind}_out"][a_end] += 1
                    kc[f"{kind}_in"][b_end] += 1
                else:
                    kc[kind][a_end] += 1
                    kc[kind][b_end] += 1
        for c in ix.edge_kind_cols:
            cols[f"ties_{c}_x"] = kc[c][x]
            cols[f"ties_{c}_y"] = kc[c][y]
    for kind, m in ix.side.items():
        cols[f"side_{kind}"] = np.log1p(np.asarray(m[x, y]).ravel())
        sdeg = np.asarray((m > 0).sum(axis=1)).ravel()
        cols[f"side_{kind}_x"] = sdeg[x]
        cols[f"side_{kind}_y"] = sdeg[y]
    if ix.side:
        both = ((a + ix.side_any) > 0).astype(np.float64).tocsr()
        cols["common_neighbours_any_tie"] = _rowdot(both, x, y)
    for a_name, m in ix.attributes.items():
        size = np.asarray(m.sum(axis=0)).ravel()
        weight = 1.0 / np.log(2.0 + size)
        shared = m[x].multiply(m[y])
        cols[f"shared_{a_name}"] = np.asarray(shared.sum(axis=1)).ravel()
        cols[f"shared_{a_name}_weighted"] = np.asarray(shared @ weight).ravel()
        count = np.asarray(m.sum(axis=1)).ravel()
        cols[f"{a_name}_count_x"] = count[x]
        cols[f"{a_name}_count_y"] = count[y]
        # x's neighbours that share a value with y (and the reverse): y is in the case file
        # of x's crew even when x is not
        around = (a @ m).tocsr()
        cols[f"{a_name}{NEIGHBOURS}_x"] = np.asarray(around[x].multiply(m[y]).sum(axis=1)).ravel()
        cols[f"{a_name}{NEIGHBOURS}_y"] = np.asarray(around[y].multiply(m[x]).sum(axis=1)).ravel()
    for a_name, j, value in ix.one_hot:
        col = np.asarray(ix.attributes[a_name][:, j].todense()).ravel()
        cols[f"{a_name}={value}_x"] = col[x]
        cols[f"{a_name}={value}_y"] = col[y]
    names = feature_names(ix)
    assert list(cols) == names, "feature_names(ix) must name _features' columns in order"
    matrix = np.column_stack([cols[c].astype(np.float64) for c in names]) if len(x) else None
    return _Features(names, matrix if matrix is not None else np.zeros((0, len(names))))


def _swap(names: list[str]) -> list[int]:
    """Column order that reads the features of ``(y, x)`` from those of ``(x, y)``."""
    pos = {c: i for i, c in enumerate(names)}
    out = []
    for c in names:
        if c.endswith("_x"):
            out.append(pos[c[:-2] + "_y"])
        elif c.endswith("_y"):
            out.append(pos[c[:-2] + "_x"])
        else:
            out.append(pos[c])
    return out


def sample_negatives(
    g: ig.Graph, count: int, rng: random.Random, exclude: set[tuple[int, int]] | None = None
) -> np.ndarray:
    """Untied pairs two or three steps apart: a random source, then a random such partner."""
    n = g.vcount()
    found: set[tuple[int, int]] = set()
    tries = 0
    while n and len(found) < count and tries < 20 * count + 100:
        tries += 1
        u = rng.randrange(n)
        ring = g.neighborhood(u, order=3, mindist=2)
        if not ring:
            continue
        v = rng.choice(ring)
        pair = (min(u, v), max(u, v))
        if exclude is None or pair not in exclude:
            found.add(pair)
    return np.asarray(sorted(found), dtype=np.int64).reshape(-1, 2)


@dataclass
class LinkModel:
    """A fitted classifier and the context it reads, for one graph's nodes."""

    ix: _Indexed
    ix_names: list[str]
    names: list[str]
    model: Any
    reference: np.ndarray
    seed: int

    def features(self, visible: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _features(self.ix, visible, x, y, self.seed).matrix

    def score(self, visible: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Probability that each pair is tied, symmetric in its two ends."""
        if len(x) == 0:
            return np.zeros(0)
        f = self.features(visible, x, y)
        return self.score_features(f)

    @property
    def members(self) -> list[Any]:
        """The fitted classifiers (none when there was too little to learn from)."""
        if self.model is None:
            return []
        return list(self.model.members) if isinstance(self.model, Bagged) else [self.model]

    def score_features(self, f: np.ndarray) -> np.ndarray:
        if self.model is None:  # too little to learn from: resource allocation
            return np.asarray(f[:, self.names.index("resource_allocation")], dtype=np.float64)
        with threadpool_limits(idle_cores()):
            p1 = self.model.predict_proba(f)[:, 1]
            p2 = self.model.predict_proba(f[:, _swap(self.names)])[:, 1]
        return np.asarray((p1 + p2) / 2)


class Bagged:
    """Members fitted on different training rounds; the probability is their mean (bagging,
    Breiman 1996; the ensembles of Lichtenwalter, Lussier & Chawla 2010)."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members

    def predict_proba(self, f: np.ndarray) -> np.ndarray:
        return np.asarray(np.mean([m.predict_proba(f) for m in self.members], axis=0))


def _training_set(
    ix: _Indexed,
    visible: np.ndarray,
    seed: int,
    rounds: int,
    hide: float,
    done: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The stacked rounds of one member: features (both orders) and labels, or None.
    ``done(r)`` is called after round ``r``."""
    n = ix.n
    rng = random.Random(seed * 7919 + 17)
    g_vis = ig.Graph(n=n, edges=visible.tolist(), directed=False)
    tied = {(int(min(u, v)), int(max(u, v))) for u, v in visible.tolist()}
    blocks: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    m = len(visible)
    k = max(1, round(hide * m)) if m else 0
    for r in range(rounds if m >= 4 else 0):
        hidden = sorted(rng.sample(range(m), k))
        mask = np.ones(m, dtype=bool)
        mask[hidden] = False
        pos = visible[~mask]
        neg = sample_negatives(g_vis, len(pos), rng, exclude=tied)
        if len(neg) == 0:  # nothing to learn from this round, but it is done
            if done is not None:
                done(r)
            continue
        pairs = np.concatenate([pos, neg])
        f = _features(ix, visible[mask], pairs[:, 0], pairs[:, 1], seed + r)
        swapped = f.matrix[:, _swap(f.names)]
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
        blocks += [f.matrix, swapped]
        labels += [y, y]
        if done is not None:
            done(r)
    if not blocks:
        return None
    return np.concatenate(blocks), np.concatenate(labels)


def fit_link_model(
    names: list[str],
    visible: np.ndarray,
    context: LinkContext | None = None,
    *,
    seed: int = 0,
    rounds: int = ROUNDS,
    hide: float = HIDE,
    bag: int = BAG,
    progress: Progress | None = None,
) -> LinkModel:
    """Train on ``visible`` (edge index pairs over ``names``) by hiding ``hide`` of it again,
    ``rounds`` times, against as many untied pairs two or three steps apart; ``bag`` such
    models, each on its own rounds (other hidden ties, other negatives, other Leiden seeds),
    averaged. One model varies much with the ties its rounds happen to hide; the mean of
    several varies less (docs/networks-rounds.md, "Bagging the learned model").

    ``progress(stage, fraction)`` hears of each round and each member's fit."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    ix = link_index(names, context)
    names_of_features = feature_names(ix)
    members: list[Any] = []
    negatives: list[np.ndarray] = []
    if rounds >= BAG_STRIDE:  # member b's rounds are seeded seed + BAG_STRIDE b + r
        raise ValueError(f"at most {BAG_STRIDE - 1} training rounds, not {rounds}")
    bags = max(1, bag)
    steps = bags * (rounds + 1)  # each member: its rounds, then its fit
    for b in range(bags):
        member_seed = seed + BAG_STRIDE * b

        def done(r: int, b: int = b) -> None:
            if progress is not None:
                progress(
                    f"member {b + 1}/{bags}: round {r + 1}/{rounds}",
                    (b * (rounds + 1) + r + 1) / steps,
                )

        # Every round kept holds a hidden tie and a negative, so both classes are present.
        data = _training_set(ix, visible, member_seed, rounds, hide, done)
        if data is None:  # no round found a negative: this member learns nothing
            continue
        xs, ys = data
        model = HistGradientBoostingClassifier(
            **BOOSTING,
            min_samples_leaf=min_samples_leaf(len(ys)),
            random_state=member_seed,
        )
        if progress is not None:
            progress(f"member {b + 1}/{bags}: fitting", (b * (rounds + 1) + rounds) / steps)
        with threadpool_limits(idle_cores()):
            model.fit(xs, ys)
        members.append(model)
        negatives.append(xs[ys == 0])
    if progress is not None:
        progress("trained", 1.0)
    if not members:  # too little to learn from: the callers fall back on resource allocation
        return LinkModel(ix, names, names_of_features, None, np.asarray([0.5]), seed)
    reference = np.median(np.concatenate(negatives), axis=0)
    return link_model(ix, names, names_of_features, members, reference, seed)


# The columns every context has, in order; then those of its tie kinds, side ties and
# attributes (:func:`feature_names`).
GRAPH_FEATURES = (
    "common_neighbours",
    "adamic_adar",
    "resource_allocation",
    "paths_3",
    "jaccard",
    "distance_band",
    "same_community",
    "same_fine_community",
    "community_size_x",
    "community_size_y",
    "degree_x",
    "degree_y",
)


def feature_names(ix: _Indexed) -> list[str]:
    """The names of :func:`_features`' columns, in order, for the context indexed as ``ix``
    (read from the index alone: no feature is computed)."""
    names = list(GRAPH_FEATURES)
    for c in ix.edge_kind_cols:
        names += [f"ties_{c}_x", f"ties_{c}_y"]
    for kind in ix.side:
        names += [f"side_{kind}", f"side_{kind}_x", f"side_{kind}_y"]
    if ix.side:
        names.append("common_neighbours_any_tie")
    for a_name in ix.attributes:
        names += [
            f"shared_{a_name}",
            f"shared_{a_name}_weighted",
            f"{a_name}_count_x",
            f"{a_name}_count_y",
            f"{a_name}{NEIGHBOURS}_x",
            f"{a_name}{NEIGHBOURS}_y",
        ]
    for a_name, _, value in ix.one_hot:
        names += [f"{a_name}={value}_x", f"{a_name}={value}_y"]
    return names


def link_model(
    ix: _Indexed,
    names: list[str],
    feature_names: list[str],
    members: list[Any],
    reference: np.ndarray,
    seed: int,
) -> LinkModel:
    """A model from fitted members (none: resource allocation), as :func:`fit_link_model`
    makes it and as a kept one is read back (``lastmile.network.linkstore``)."""
    if not members:
        return LinkModel(ix, names, feature_names, None, np.asarray([0.5]), seed)
    fitted = members[0] if len(members) == 1 else Bagged(members)
    return LinkModel(ix, names, feature_names, fitted, reference, seed)


def training_digest(names: list[str], visible: np.ndarray, context: LinkContext | None) -> str:
    """SHA-256 of what a model is trained on: the node names and visible ties *in order*
    (vertex numbers and which ties a round hides depend on it), and the context's tables as
    sorted rows (their order never reaches the model: the index sorts kinds, attributes and
    values, and sums integer record counts; the store returns a UNION in any order)."""
    ctx = context or LinkContext()
    h = hashlib.sha256()
    h.update(json.dumps([str(v) for v in names]).encode())
    h.update(np.ascontiguousarray(np.asarray(visible, dtype=np.int64).reshape(-1, 2)).tobytes())
    for table in (ctx.edge_ties, ctx.side_ties, ctx.attributes):
        rows = sorted(json.dumps(r, sort_keys=True, default=str) for r in table.to_pylist())
        h.update(b"\x00" + json.dumps(rows).encode())
    h.update(json.dumps(sorted(ctx.directed)).encode())
    return h.hexdigest()


def code_digest() -> str:
    """SHA-256 of what turns the data into a model and its scores: the files of this module
    and of the Leiden communities it reads (their bytes as installed: the source, or the
    compiled file of an install that ships no source), and the versions of the libraries
    that compute features and trees. Any change to them makes a kept model stale."""
    import importlib.metadata as md
    import sys

    from lastmile import __version__
    from lastmile.network import communities

    h = hashlib.sha256()
    for module in (sys.modules[__name__], communities):
        spec = module.__spec__
        try:
            h.update(spec.loader.get_data(spec.origin))  # type: ignore[union-attr]
        except (AttributeError, OSError, TypeError):  # no file to read: the release names it
            h.update(f"{module.__name__} of lastmile {__version__}".encode())
    for dist in ("scikit-learn", "numpy", "scipy", "igraph"):
        try:
            version = md.version(dist)
        except md.PackageNotFoundError:
            version = "-"
        h.update(f"{dist}={version};".encode())
    return h.hexdigest()


_ATTRIBUTES = """
    SELECT m.entity_id, 'investigation' AS attribute, r.investigation_id AS value
    FROM entity_members m JOIN subjects r
      ON m.record_type = 'subjects' AND r.subject_id = m.record_id
    UNION
    SELECT m.entity_id, 'investigation', r.investigation_id
    FROM entity_members m JOIN organizations r
      ON m.record_type = 'organizations' AND r.organization_id = m.record_id
    UNION
    SELECT m.entity_id, 'investigation', r.investigation_id
    FROM entity_members m JOIN selectors r
      ON m.record_type = 'selectors' AND r.selector_id = m.record_id
    UNION
    SELECT m.entity_id, 'city', i.city
    FROM entity_members m JOIN subjects r
      ON m.record_type = 'subjects' AND r.subject_id = m.record_id
    JOIN investigations i ON i.investigation_id = r.investigation_id
    UNION
    SELECT m.entity_id, 'city', i.city
    FROM entity_members m JOIN organizations r
      ON m.record_type = 'organizations' AND r.organization_id = m.record_id
    JOIN investigations i ON i.investigation_id = r.investigation_id
    UNION
    SELECT m.entity_id, 'role', r.role
    FROM entity_members m JOIN subjects r
      ON m.record_type = 'subjects' AND r.subject_id = m.record_id
    UNION
    SELECT m.entity_id, 'kind', 'organization ' || coalesce(r.kind, '')
    FROM entity_members m JOIN organizations r
      ON m.record_type = 'organizations' AND r.organization_id = m.record_id
"""


def entity_attributes(ws: Any) -> pa.Table:
    """``entity_id, attribute, value`` from each resolved entity's own records: the
    investigations (case files) its subject, organization and selector records belong to,
    their cities, the roles its subject records state, and an organization's kind. Never from
    the records of a tie (relationships, communication events, arrests)."""
    table = ws.store.query(_ATTRIBUTES)
    if table.num_rows == 0:
        return ATTRIBUTE_SCHEMA.empty_table()
    table = table.rename_columns(ATTRIBUTE_SCHEMA.names).cast(ATTRIBUTE_SCHEMA)
    return table.filter(pa.compute.is_valid(table.column("value")))


def split_ties(edge_ties: pa.Table, ties: pa.Table) -> LinkContext:
    """A context from the ties behind a graph's edges and all typed ties: the side ties are
    the typed ties that are not among ``edge_ties`` (same ends and kind)."""
    keys = {
        (s, t, k)
        for s, t, k in zip(
            edge_ties.column("source").to_pylist(),
            edge_ties.column("target").to_pylist(),
            edge_ties.column("kind").to_pylist(),
            strict=True,
        )
    }
    rows = ties.select(EDGE_SCHEMA.names).to_pylist()
    side = [r for r in rows if (r["source"], r["target"], r["kind"]) not in keys]
    return LinkContext(
        edge_ties=edge_ties.select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA),
        side_ties=pa.Table.from_pylist(side, schema=EDGE_SCHEMA),
    )


def _group(name: str) -> str:
    """The fact a feature belongs to, for explanations."""
    if name.startswith("degree_"):
        return "degree"
    if name.startswith("ties_"):
        return "tie kinds"
    if name.startswith("side_"):
        return "side " + name[5:].removesuffix("_x").removesuffix("_y")
    for end in ("_x", "_y"):
        if name.endswith(NEIGHBOURS + end):
            return "around " + name[: -len(NEIGHBOURS + end)]
    if name.startswith("shared_"):
        return "attr " + name[7:].removesuffix("_weighted")
    for suffix in ("_count_x", "_count_y"):
        if name.endswith(suffix):
            return "attr " + name[: -len(suffix)]
    if "=" in name:
        return "attr " + name.split("=", 1)[0]
    return "neighbourhood"


def _words(
    model: LinkModel, group: str, f: dict[str, float], xi: int, yi: int, names: list[str]
) -> str:
    ix = model.ix
    xn, yn = names[xi], names[yi]
    if group == "neighbourhood":
        cn = int(f["common_neighbours"])
        band = int(f["distance_band"])
        where = {2: "two steps apart", 3: "three steps apart", 4: "four steps apart"}.get(
            band, "farther apart" if band == 5 else "not connected by the visible ties"
        )
        text = f"{cn} common neighbour{'s' if cn != 1 else ''}" if cn else where
        if f.get("same_community"):
            text += ", same community"
        if f.get("common_neighbours_any_tie", 0) > cn:
            text += f", {int(f['common_neighbours_any_tie'])} through any tie"
        return text
    if group == "degree":
        return f"{xn} has {int(f['degree_x'])} ties, {yn} {int(f['degree_y'])}"
    if group == "tie kinds":
        parts = []
        for end, who in (("x", xn), ("y", yn)):
            kinds = [
                f"{c.replace('_out', ' to others').replace('_in', ' from others')} "
                f"{int(f[f'ties_{c}_{end}'])}"
                for c in ix.edge_kind_cols
                if f[f"ties_{c}_{end}"] > 0
            ]
            parts.append(f"{who}: {', '.join(kinds) or 'no visible tie'}")
        return "ties " + "; ".join(parts)
    if group.startswith("side "):
        kind = group[5:]
        between = f.get(f"side_{kind}", 0.0)
        if between > 0:
            count = round(math.expm1(between))
            return (
                f"{count} {kind} record{'s' if count != 1 else ''} between them (outside the graph)"
            )
        counts = f"{xn} {int(f[f'side_{kind}_x'])}, {yn} {int(f[f'side_{kind}_y'])}"
        return f"{kind} ties outside the graph: {counts}"
    if group.startswith("around "):
        attr = group[7:]
        nx, ny = int(f[f"{attr}{NEIGHBOURS}_x"]), int(f[f"{attr}{NEIGHBOURS}_y"])
        return (
            f"{attr} shared with the other's neighbours: {nx} through {xn}'s, {ny} through {yn}'s"
        )
    attr = group[5:]
    m = ix.attributes[attr]
    values = ix.attribute_values[attr]
    shared = [values[j] for j in np.flatnonzero(m[xi].multiply(m[yi]).toarray().ravel())]
    if shared:
        more = f" (+{len(shared) - 3})" if len(shared) > 3 else ""
        return f"same {attr} {', '.join(shared[:3])}{more}"
    vx = [values[j] for j in m[xi].indices[:2]]
    vy = [values[j] for j in m[yi].indices[:2]]
    return f"{attr}: {xn} {', '.join(vx) or 'none'}, {yn} {', '.join(vy) or 'none'}"


def explain(
    model: LinkModel,
    edges: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    features: np.ndarray,
    probability: np.ndarray,
    *,
    facts: int = 3,
) -> list[str]:
    """For each pair, its probability and the facts that raised it most, in words. A fact's
    weight is how much the probability falls when its features are set to those of a typical
    negative pair (the median of the training negatives)."""
    names = [str(v) for v in model.ix_names]
    if model.model is None:
        return ["too few ties to learn from: ranked by resource allocation"] * len(x)
    groups: dict[str, list[int]] = {}
    for j, c in enumerate(model.names):
        groups.setdefault(_group(c), []).append(j)
    drops = np.zeros((len(x), len(groups)))
    for k, cols in enumerate(groups.values()):
        occluded = features.copy()
        occluded[:, cols] = model.reference[cols]
        drops[:, k] = probability - model.score_features(occluded)
    keys = list(groups)
    out = []
    for i in range(len(x)):
        row = dict(zip(model.names, features[i].tolist(), strict=True))
        order = [k for k in np.argsort(-drops[i]) if drops[i, k] > 0.005][:facts]
        reasons = [
            f"{_words(model, keys[k], row, int(x[i]), int(y[i]), names)} (+{drops[i, k]:.2f})"
            for k in order
        ]
        out.append(
            f"p={probability[i]:.2f}: " + ("; ".join(reasons) if reasons else "no single fact")
        )
    return out


SIDE_ONLY_KINDS = frozenset({"family", "membership"})


def network_context(ws: Any, network: Any, ties: pa.Table | None = None) -> LinkContext:
    """The context of one workspace network's graph of people (``network_graphs``: ties of
    every kind but family and membership). A typed tie between two of its people is behind an
    edge when the graph ties the pair and its kind is one the graph uses; every other typed tie
    between them is a side tie. Attributes are those of its people."""
    from lastmile.network.workspace import entity_ties

    if ties is None:
        ties = entity_ties(ws)
    nodes = set(network.ids)
    g = network.graph
    names = network.ids
    pairs = {tuple(sorted((names[e.source], names[e.target]))) for e in g.es}
    edge_rows: list[dict[str, Any]] = []
    side_rows: list[dict[str, Any]] = []
    for r in ties.select(EDGE_SCHEMA.names).to_pylist():
        if r["source"] not in nodes or r["target"] not in nodes:
            continue
        key = tuple(sorted((r["source"], r["target"])))
        (edge_rows if key in pairs and r["kind"] not in SIDE_ONLY_KINDS else side_rows).append(r)
    attributes = entity_attributes(ws)
    keep = pa.compute.is_in(attributes.column("entity_id"), pa.array(sorted(nodes), pa.string()))
    return LinkContext(
        edge_ties=pa.Table.from_pylist(edge_rows, schema=EDGE_SCHEMA),
        side_ties=pa.Table.from_pylist(side_rows, schema=EDGE_SCHEMA),
        attributes=attributes.filter(keep),
    )


def workspace_graph(ws: Any, members: pa.Table | None = None) -> tuple[Any, LinkContext]:
    """All distribution networks of a workspace as one graph of people (``network_graphs``:
    networks share no one, so each stays its own component) and its context: what the learned
    method trains on when asked about one network, since one network of a few dozen people
    has too few ties to learn from.

    ``members`` (``entity_id, network_id``): the networks' members as the stored analysis
    holds them (``read_members``), instead of cutting the networks again; they are put in the
    order the cut gives them (by network, then entity, bytewise: a PostgreSQL collation may
    order ids otherwise), so the graph is the same either way."""
    from lastmile.network.graph import build_network
    from lastmile.network.networks import network_graphs
    from lastmile.network.workspace import entity_ties

    ties = entity_ties(ws)
    if members is not None:
        members = members.sort_by([("network_id", "ascending"), ("entity_id", "ascending")])
    rows: list[dict[str, Any]] = []
    for net in network_graphs(ws, ties, members).values():
        g = net.graph
        names = net.ids
        rows += [
            {"source": names[e.source], "target": names[e.target], "weight": e["weight"]}
            for e in g.es
        ]
        tied = {v for e in g.es for v in e.tuple}
        rows += [
            {"source": names[v], "target": None, "weight": 1.0}
            for v in range(g.vcount())
            if v not in tied
        ]
    schema = pa.schema([("source", pa.string()), ("target", pa.string()), ("weight", pa.float64())])
    union = build_network(pa.Table.from_pylist(rows, schema=schema))
    return union, network_context(ws, union, ties)
