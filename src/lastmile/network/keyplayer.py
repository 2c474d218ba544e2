"""Key players: Borgatti's key-player set (fragmentation) and centrality rankings, explained.

Borgatti (2006, "Identifying sets of key players in a social network", *Computational and
Mathematical Organization Theory* 12:21-34) asks which ``k`` people, once removed, leave the
network most broken up (KPP-Neg). The criterion is fragmentation,

    F = 1 - sum_c s_c (s_c - 1) / (N (N - 1)),

the share of pairs of remaining people who can no longer reach each other (``s_c`` the sizes of
the components left, ``N`` the people left; ``F = 1`` once fewer than two remain). The search
is Borgatti's greedy optimisation: start from the greedy set (add, one at a time, the person
whose removal raises ``F`` most), then try every swap of a member for a non-member and keep
the best improving swap, until no swap improves ``F``; then do the same from ``STARTS - 1``
random sets of candidates (drawn with the seed given, 0 by default) and keep the best set found, as
Borgatti's KeyPlayer program restarts its greedy optimisation: single swaps from the greedy
set cannot reach two people who only split the network together (the two ends of a bypass),
and on drugnet (293 people) the greedy start alone left a set of two at F 0.65 where 0.78 is
possible. Ties in ``F`` (a network no single removal splits) are broken by betweenness, so the
search is deterministic and starts from the brokers. Candidates are every person in networks
up to ``POOL_ALL`` people; above that, the ``pool`` people with the highest betweenness. Each
evaluation costs a pass over the ties, so on very large graphs the search is bounded to
``EVALUATION_BUDGET / m`` evaluations: the pool shrinks so that the greedy start and the
ranking fit in them (:func:`search_pool`), and the swaps and the further starts stop at the
bound; when ``k`` is too large for even that, the set is the ``k`` highest in betweenness.
The notes of ``key_players`` say when the bound cut the search.

The set is then ranked: first the member whose removal alone fragments most, then the one
that adds most given the first, and so on; a member's score is ``F`` after removing ranks
1..r, so the last score is the set's fragmentation.

On a workspace network the default ranking is ``supply`` (:func:`supply_order`): people
supplied in the network, then how many people the largest component loses when each alone is
removed (:func:`removal_falls`, Borgatti's single-removal view on the observed graph), then
whether a record states the person's role as distributor (:data:`DISTRIBUTES`), then ties,
then betweenness; the second of two people who share a selector (:func:`mark_shared_selectors`)
comes after the others. docs/networks.md says why, and what else was measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pyarrow as pa

from lastmile.network.brokerage import ROLES, brokerage
from lastmile.network.centrality import Betweenness, centralities
from lastmile.network.communities import leiden
from lastmile.network.graph import Network, NetworkError

POOL_ALL = 150
DEFAULT_POOL = 60
# Starting sets of the swap search: the greedy set, then random sets of candidates.
STARTS = 10
EVALUATION_BUDGET = 50_000_000
FALL_BUDGET = 10_000_000
METHODS = ("keyplayer", "supply", "betweenness", "degree", "weighted_degree", "eigenvector")
WORKSPACE_METHOD = "supply"
"""The default ranking of a workspace network (docs/networks.md, "Key players")."""
SUPPLIES = "supplies"
"""The vertex attribute a workspace network carries: how many of its people each person is
stated to supply (``network_graphs``). A plain edge list has no direction of supply."""
DISTRIBUTES = "distributes"
"""The vertex attribute a workspace network carries (``network_graphs``): whether a subject
record of the person states his role in the trade as ``distributor``
(:class:`lastmile.model.Role`), the level that supplies the dealers of a network. The supply
ranking reads it after people supplied and the fall, before ties: people below a distributor
depend on him whether or not a record names them (docs/networks-rounds.md, "Key players, fourth
round")."""
SHARES_SELECTOR = "shares_selector"
"""The vertex attribute a workspace network may carry (:func:`mark_shared_selectors`): the
people of the network who share a selector (a phone, an account) with each person. The
supply ranking puts the second of two such people after the others (docs/networks.md)."""


def mark_shared_selectors(graphs: Mapping[str, Network], ties: pa.Table) -> None:
    """Set :data:`SHARES_SELECTOR` on every network's people from the ``shared_selector`` ties
    of the workspace (``entity_ties``): for each person, the names of the people of the same
    network who use one selector entity with them."""
    shared: dict[str, set[str]] = {}
    kinds = ties.column("kind").to_pylist()
    for a, b, kind in zip(
        ties.column("source").to_pylist(), ties.column("target").to_pylist(), kinds, strict=True
    ):
        if kind == "shared_selector" and a != b:
            shared.setdefault(a, set()).add(b)
            shared.setdefault(b, set()).add(a)
    for net in graphs.values():
        inside = set(net.ids)
        net.graph.vs[SHARES_SELECTOR] = [
            sorted(shared.get(name, set()) & inside) for name in net.ids
        ]


@dataclass(frozen=True)
class Falls:
    """How many people the largest component loses on each vertex's removal alone.

    ``measured`` is False for the cut vertices left unmeasured on a very large graph: their
    ``values`` are the lower bound 1."""

    values: np.ndarray
    measured: np.ndarray
    cut_vertices: int

    @property
    def unmeasured(self) -> int:
        return int(np.count_nonzero(~self.measured))


def removal_falls(g: ig.Graph, budget: int = FALL_BUDGET) -> Falls:
    """For each vertex, how many people the largest component loses when that vertex alone is
    removed (itself included): Borgatti's single-removal view of KPP-Neg on the observed graph.

    Only cut vertices (articulation points) of the largest component need a removal: any
    other vertex of it leaves the rest connected (the fall is 1, or less when another
    component is as large), and a vertex outside it changes nothing (0). Each removal costs a
    pass over the graph, so at most ``budget / (n + m)`` of them are made (at least 10), the
    cut vertices with most ties first; the others keep the lower bound 1 and are marked
    unmeasured (only on graphs of hundreds of thousands of ties).
    """
    n = g.vcount()
    falls = np.zeros(n, dtype=np.int64)
    measured = np.ones(n, dtype=bool)
    if n == 0:
        return Falls(falls, measured, 0)
    membership = np.asarray(ig.GraphBase.connected_components(g))
    sizes = np.bincount(membership)
    largest = int(sizes.max())
    second = int(np.sort(sizes)[-2]) if len(sizes) > 1 else 0
    in_largest = sizes[membership] == largest
    if np.count_nonzero(sizes == largest) > 1:
        return Falls(falls, measured, 0)  # two largest components: no removal shrinks it
    falls[in_largest] = largest - max(largest - 1, second)
    cuts = [int(v) for v in ig.GraphBase.articulation_points(g) if in_largest[v]]
    degree = np.asarray(g.degree())
    cuts.sort(key=lambda v: (-degree[v], v))
    allowed = max(10, budget // max(n + g.ecount(), 1))
    for v in cuts[:allowed]:
        falls[v] = largest - fragmentation(g, [v])[1]
    measured[cuts[allowed:]] = False
    return Falls(falls, measured, len(cuts))


def supply_order(
    supplied: np.ndarray,
    falls: np.ndarray,
    degree: np.ndarray,
    btw: np.ndarray,
    names: list[str],
    shares: list[list[str]] | None = None,
    distributes: np.ndarray | None = None,
) -> tuple[list[int], dict[int, int]]:
    """The default ranking of a workspace network (docs/networks.md, "Key players of a
    workspace network"): people supplied, then the fall of the largest component on their
    removal alone, then a stated role of distributor (``distributes``, true or false per
    person; none when not given), then ties, then betweenness; a person who shares a selector
    with someone ranked before is put after everyone who does not (the second of two entities
    that one phone joins is most often the same person, or one unit, and adds little).
    Returns the order and, for each person so deferred, the vertex ranked before that shares
    his selector.
    """
    stated = (
        np.zeros(len(names), dtype=np.int64)
        if distributes is None
        else np.asarray(distributes, dtype=np.int64)
    )
    order = [int(v) for v in np.lexsort((-btw, -degree, -stated, -falls, -supplied))]
    if not shares:
        return order, {}
    index = {name: v for v, name in enumerate(names)}
    chosen: set[int] = set()
    first: list[int] = []
    later: list[int] = []
    deferred: dict[int, int] = {}
    for v in order:
        partner = next((index[p] for p in shares[v] if index.get(p) in chosen), None)
        if partner is None:
            first.append(v)
            chosen.add(v)
        else:
            later.append(v)
            deferred[v] = partner
    return first + later, deferred


def bare(g: ig.Graph) -> ig.Graph:
    """The structure of ``g`` without attributes (cheap to copy many times)."""
    return ig.Graph(n=g.vcount(), edges=g.get_edgelist(), directed=False)


def fragmentation(g: ig.Graph, removed: list[int] | set[int]) -> tuple[float, int, int]:
    """Borgatti's F after removing ``removed``; also the largest component and their count."""
    gone = sorted(set(removed))
    remaining = g.vcount() - len(gone)
    if remaining < 2:
        return 1.0, remaining, remaining
    h = g.copy()
    # GraphBase's calls return the bare membership: no VertexClustering to build, which is
    # most of the cost of an evaluation on the small graphs a search evaluates many times
    ig.GraphBase.delete_vertices(h, gone)
    sizes = np.bincount(ig.GraphBase.connected_components(h)).astype(float)
    f = 1.0 - float(np.sum(sizes * (sizes - 1))) / (remaining * (remaining - 1))
    return max(0.0, f), int(sizes.max()), len(sizes)


@dataclass(frozen=True)
class KeyPlayerSet:
    """A key-player set, ranked within itself, and how the search went.

    ``evaluations`` counts every fragmentation computed (the greedy start, the swaps and the
    ranking). ``bounded`` says the budget cut the search; ``searched`` is False when ``k``
    was too large for even the greedy start to fit the budget, and the set is then the ``k``
    highest in betweenness. ``starts`` counts the starting sets searched from (the greedy
    one, then random ones); ``swaps`` are those of the start the set came from.
    """

    members: list[int]
    fragmentation: float
    evaluations: int
    pool: int
    swaps: int
    bounded: bool
    searched: bool = True
    starts: int = 1


def search_pool(ties: int, k: int) -> int:
    """How many candidates the key-player search of ``k`` people can weigh on ``ties`` ties
    within ``EVALUATION_BUDGET``: every evaluation is a pass over the ties, the greedy start
    over c candidates costs about k * c evaluations and the ranking within the set
    k (k + 1) / 2, so c is what the budget leaves for both (the swaps stop at the budget). At
    most k means no search: the set is then the k highest in betweenness."""
    max_evals = EVALUATION_BUDGET // max(ties, 1)
    return (max_evals - k * (k + 1) // 2) // max(k, 1)


def unsearched(ties: int, k: int) -> bool:
    """Whether a key-player set of ``k`` people on ``ties`` ties goes unsearched: the search
    cannot weigh even k + 1 candidates (:func:`search_pool`), and the set is the k highest in
    betweenness."""
    return k >= 1 and search_pool(ties, k) <= k


def key_player_set(
    g: ig.Graph,
    k: int,
    btw: np.ndarray,
    *,
    pool: int = DEFAULT_POOL,
    starts: int = STARTS,
    seed: int = 0,
) -> KeyPlayerSet:
    """Borgatti's KPP-Neg set of ``k`` vertices by greedy search with swaps from several
    starting sets (see module doc), ranked within itself (:func:`_rank_within`)."""
    n = g.vcount()
    g = bare(g)
    k = max(0, min(k, n))
    order = [int(v) for v in np.argsort(-btw, kind="stable")]
    candidates = order if n <= POOL_ALL else order[: max(pool, 2 * k)]
    max_evals = EVALUATION_BUDGET // max(g.ecount(), 1)
    fit = search_pool(g.ecount(), k)
    if unsearched(g.ecount(), k):
        # Not even a pool of k + 1 fits: no search at all, the k highest in betweenness.
        members = order[:k]
        return KeyPlayerSet(members, fragmentation(g, members)[0], 1, k, 0, True, False)
    bounded = len(candidates) > fit
    candidates = candidates[:fit]
    evaluations = 0

    def score(members: list[int]) -> tuple[float, float]:
        nonlocal evaluations
        evaluations += 1
        return fragmentation(g, members)[0], float(sum(btw[v] for v in members))

    def sweep_fits() -> bool:
        # A sweep of swaps, and the ranking after the last, within the budget.
        return bool(evaluations + k * (len(candidates) - k) + k * (k + 1) // 2 <= max_evals)

    def improve(chosen: list[int]) -> tuple[list[int], tuple[float, float], int, bool]:
        """Best improving swaps from ``chosen`` until none improves F; whether the budget
        stopped them."""
        current, swaps = score(chosen), 0
        while k and len(candidates) > k:
            if not sweep_fits():
                return chosen, current, swaps, True
            best_swap: tuple[tuple[float, float], int, int] | None = None
            for i in range(k):
                for c in candidates:
                    if c in chosen:
                        continue
                    trial = [*chosen[:i], int(c), *chosen[i + 1 :]]
                    s = score(trial)
                    if s[0] > current[0] + 1e-12 and (best_swap is None or s > best_swap[0]):
                        best_swap = (s, i, int(c))
            if best_swap is None:
                break
            current, i, c = best_swap
            chosen = [*chosen[:i], c, *chosen[i + 1 :]]
            swaps += 1
        return chosen, current, swaps, False

    greedy: list[int] = []
    for _ in range(k):
        pick = max((c for c in candidates if c not in greedy), key=lambda c: score([*greedy, c]))
        greedy.append(int(pick))
    chosen, current, swaps, cut = improve(greedy)
    bounded = bounded or cut
    # Random starting sets, drawn with the given seed so that the search stays deterministic:
    # single swaps from the greedy set cannot reach a pair that only works together (two
    # bridges of one bypass), which a start elsewhere can.
    rng = np.random.default_rng(seed)
    tried = 1
    while tried < starts and 0 < k < len(candidates) and not bounded:
        if not sweep_fits():
            bounded = True
            break
        start = [int(c) for c in rng.choice(candidates, size=k, replace=False)]
        found, value, moved, cut = improve(start)
        tried += 1
        bounded = bounded or cut
        if value[0] > current[0] + 1e-12 or (value[0] > current[0] - 1e-12 and value > current):
            chosen, current, swaps = found, value, moved
    ranked = _rank_within(g, chosen, btw)
    evaluations += k * (k + 1) // 2
    return KeyPlayerSet(
        ranked, current[0], evaluations, len(candidates), swaps, bounded, True, tried
    )


def _rank_within(g: ig.Graph, members: list[int], btw: np.ndarray) -> list[int]:
    """The set ordered greedily: first the member whose removal alone fragments most, then
    the one that adds most given the first, and so on."""
    ranked: list[int] = []
    left = list(members)
    while left:
        nxt = max(left, key=lambda c: (fragmentation(g, [*ranked, c])[0], btw[c]))
        ranked.append(nxt)
        left.remove(nxt)
    return ranked


@dataclass(frozen=True)
class KeyPlayers:
    """The ranking (``table``) and how it was computed (``method``, ``betweenness``)."""

    table: pa.Table
    method: str
    betweenness: Betweenness
    notes: list[str]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def key_players(
    network: Network,
    k: int = 5,
    *,
    method: str = "keyplayer",
    groups: np.ndarray | None = None,
    seed: int = 0,
    pool: int = DEFAULT_POOL,
) -> KeyPlayers:
    """The top ``k`` of a network with each pick explained in words and figures.

    Columns: rank, id, score, why, then the figures behind ``why``: fragmentation,
    largest_component, components (after removing ranks 1..r), degree, weighted_degree,
    betweenness, betweenness_rank, eigenvector, community and the five brokerage roles
    (groups are Leiden communities unless ``groups`` is given).
    """
    if method not in METHODS:
        raise NetworkError(f"unknown key-player method {method!r} (one of {', '.join(METHODS)})")
    if k < 1:
        raise NetworkError("k must be at least 1")
    g = network.graph
    n = g.vcount()
    if n == 0:
        raise NetworkError("the network has no nodes")
    cent, btw = centralities(g, seed=seed)
    b = btw.values
    notes = list(network.notes)
    k_eff = min(k, n)
    if k_eff < k:
        notes.append(f"only {n} node{'s' if n != 1 else ''}: ranked all of them")
    structure = bare(g)
    fall = removal_falls(structure)
    falls = fall.values
    if fall.unmeasured:
        done = fall.cut_vertices - fall.unmeasured
        notes.append(
            f"the fall of the largest component was measured for the {done:,} cut vertices "
            f"with most ties of {fall.cut_vertices:,} (a large graph: {FALL_BUDGET:,} tie "
            "visits); the others count at least 1"
        )
    deferred: dict[int, int] = {}
    supplied = np.asarray(
        g.vs[SUPPLIES] if SUPPLIES in g.vs.attributes() else [0] * n, dtype=np.int64
    )
    stated = np.asarray(
        g.vs[DISTRIBUTES] if DISTRIBUTES in g.vs.attributes() else [False] * n, dtype=bool
    )
    if method == "keyplayer":
        kps = key_player_set(structure, k_eff, b, pool=pool, seed=seed)
        ranked = kps.members
        if not kps.searched:
            notes.append(
                f"k = {k_eff:,} is too large for the key-player search on {g.ecount():,} ties "
                f"(a budget of {EVALUATION_BUDGET:,} tie visits): the {k_eff:,} highest in "
                "betweenness, unsearched"
            )
        else:
            notes.append(
                f"key-player set (Borgatti 2006, fragmentation): {kps.evaluations:,} "
                f"evaluations over {kps.pool:,} candidates"
                + ("" if kps.pool == n else " (the highest-betweenness people)")
                + (
                    f"; the best of {kps.starts} starting sets (the greedy one, then random), "
                    f"{kps.swaps} improving swaps from it"
                    if kps.starts > 1
                    else f"; {kps.swaps} improving swaps from the greedy start"
                )
                + (
                    f"; search bounded at {EVALUATION_BUDGET:,} tie visits (a large graph)"
                    if kps.bounded
                    else ""
                )
            )
    elif method == "supply":
        shares = g.vs[SHARES_SELECTOR] if SHARES_SELECTOR in g.vs.attributes() else None
        order, deferred = supply_order(
            supplied,
            falls,
            cent.column("degree").to_numpy(),
            b,
            list(g.vs["name"]),
            shares,
            stated if DISTRIBUTES in g.vs.attributes() else None,
        )
        ranked = order[:k_eff]
        notes.append(
            "ranked by people supplied in the network, then the fall of the largest component "
            "on each one's removal alone, then "
            + ("a stated role of distributor, then " if DISTRIBUTES in g.vs.attributes() else "")
            + "ties, then betweenness"
            + ("" if supplied.any() else " (no supply ties: by what follows)")
            + (
                "; a person sharing a selector with one ranked before comes after the others"
                if shares is not None
                else ""
            )
        )
    else:
        values = cent.column(method).to_numpy()
        ranked = [int(v) for v in np.lexsort((-b, -values))[:k_eff]]
    communities = groups if groups is not None else leiden(g, seed=seed)
    roles = brokerage(g, communities, ranked)
    b_rank = np.empty(n, dtype=np.int64)
    b_rank[np.argsort(-b, kind="stable")] = np.arange(1, n + 1)
    rows: dict[str, list[object]] = {
        c: []
        for c in (
            "rank",
            "id",
            "score",
            "why",
            "fragmentation",
            "largest_component",
            "components",
            "degree",
            "weighted_degree",
            "betweenness",
            "betweenness_rank",
            "eigenvector",
            "community",
            *ROLES,
        )
    }
    deg = cent.column("degree").to_numpy()
    wdeg = cent.column("weighted_degree").to_numpy()
    eig = cent.column("eigenvector").to_numpy()
    intact = fragmentation(structure, [])
    for r, v in enumerate(ranked, start=1):
        f, largest, comps = fragmentation(structure, ranked[:r])
        role = {name: int(roles.column(name)[r - 1].as_py()) for name in ROLES}
        if method == "keyplayer":
            score = f
        elif method == "supply":
            score = float(supplied[v])
        else:
            score = float(cent.column(method)[v].as_py())
        who = f"ranks 1-{r}" if r > 1 else "rank 1"
        parts = [
            f"removing {who} leaves {comps:,} component{'' if comps == 1 else 's'} "
            f"(from {intact[2]:,}), the largest "
            f"{largest:,} of {n - r:,} people ({_pct(largest / max(intact[1], 1))} of the "
            f"intact largest, {intact[1]:,}); fragmentation {f:.3f}",
            *([f"supplies {int(supplied[v]):,} of its people"] if supplied[v] else []),
            "removing them alone cuts the intact largest component by "
            + ("" if fall.measured[v] else "at least ")
            + f"{int(falls[v]):,}",
            *(["a record states his role as distributor"] if stated[v] else []),
            *(
                [
                    f"shares a selector with #{ranked.index(deferred[v]) + 1} "
                    f"({g.vs[deferred[v]]['name']}), so ranked after those who share none"
                ]
                if v in deferred and deferred[v] in ranked
                else []
            ),
            f"{int(deg[v]):,} tie{'s' if deg[v] != 1 else ''} ({wdeg[v]:g} calls or meetings)",
            f"betweenness {b[v]:.3f} (#{int(b_rank[v])} of {n:,})",
            f"eigenvector {eig[v]:.2f}",
        ]
        active = [f"{name} {count:,}" for name, count in role.items() if count]
        if active:
            parts.append(
                f"community {int(communities[v])}; brokerage (Gould-Fernandez, open pairs "
                f"both ways): " + ", ".join(active)
            )
        else:
            parts.append(f"community {int(communities[v])}; no open pairs to broker")
        values = {
            "rank": r,
            "id": g.vs[v]["name"],
            "score": round(score, 6),
            "why": "; ".join(parts),
            "fragmentation": round(f, 6),
            "largest_component": largest,
            "components": comps,
            "degree": int(deg[v]),
            "weighted_degree": float(wdeg[v]),
            "betweenness": round(float(b[v]), 6),
            "betweenness_rank": int(b_rank[v]),
            "eigenvector": round(float(eig[v]), 6),
            "community": int(communities[v]),
            **role,
        }
        for col, value in values.items():
            rows[col].append(value)
    notes.append(btw.describe())
    return KeyPlayers(pa.table(rows), method, btw, notes)
