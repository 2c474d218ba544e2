"""Link prediction: likely missing ties for analysts to check, and how well that works.

Scores for a pair ``(x, y)`` not yet tied (Liben-Nowell & Kleinberg 2007; Lü & Zhou 2011), on
the presence of ties (not their counts), ``Γ(z)`` the neighbours of ``z``:

- common neighbours: ``|Γ(x) ∩ Γ(y)|``;
- Adamic-Adar (Adamic & Adar 2003): ``Σ_{z ∈ Γ(x) ∩ Γ(y)} 1 / log |Γ(z)|``;
- resource allocation (Zhou, Lü & Zhang 2009): ``Σ_{z ∈ Γ(x) ∩ Γ(y)} 1 / |Γ(z)|``;
- Katz (Katz 1953), truncated at paths of length 3: ``β² paths₂ + β³ paths₃``, β = 0.05 (the
  value of Liben-Nowell & Kleinberg). Longer paths add little at this β and cost much.

Candidates are the pairs two or three steps apart (nearer pairs are tied; farther pairs have
every score 0). Evaluation (``evaluate_links``) hides a random 15% of the ties, scores on the
rest, and measures the area under the ROC curve of the hidden ties against as many pairs two
or three steps apart in the full network that are not tied: a harder and more honest test than
negatives drawn from all non-edges, almost all of which are far apart and trivially ranked
last (Yang, Lichtenwalter & Chawla 2015).

The fifth method, ``learned`` (the default when the records are at hand), is a classifier
over these scores and more (distance, degrees, communities; with a workspace, the kinds of ties
at each end, ties outside the graph and what the entities' own records share), trained on the
network at hand by hiding a further share of its visible ties: see
:mod:`lastmile.network.linklearn`. Each suggestion says why in words.
"""

from __future__ import annotations

import random

import igraph as ig
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.stats import rankdata

from lastmile.network.graph import Network, NetworkError
from lastmile.network.linklearn import (
    LinkContext,
    LinkModel,
    explain,
    fit_link_model,
    neighbourhood,
    sample_negatives,
)

KATZ_BETA = 0.05
METHODS = ("common_neighbours", "adamic_adar", "resource_allocation", "katz")
LEARNED = "learned"
ALL_METHODS = (*METHODS, LEARNED)
A3_BUDGET = 30_000_000


def _adjacency(n: int, edges: np.ndarray) -> sp.csr_matrix:
    if len(edges) == 0:
        return sp.csr_matrix((n, n))
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def edge_index(g: ig.Graph) -> np.ndarray:
    """The graph's ties as an ``(m, 2)`` array of vertex numbers, in the graph's order."""
    return np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)


def score_pairs(a: sp.csr_matrix, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The four scores for the pairs ``(x[i], y[i])`` on adjacency matrix ``a``."""
    _, cn, aa, ra, paths3 = neighbourhood(a, x, y)
    katz = KATZ_BETA**2 * cn + KATZ_BETA**3 * paths3
    return {
        "common_neighbours": cn,
        "adamic_adar": aa,
        "resource_allocation": ra,
        "katz": katz,
    }


def _candidates(a: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, bool]:
    a2 = (a @ a).tocsr()
    reach = a2
    with_three = a2.nnz * max(1.0, a.nnz / max(a.shape[0], 1)) <= A3_BUDGET
    if with_three:
        reach = (a2 + a2 @ a).tocsr()
    reach = sp.triu(reach, k=1).tocsr()
    reach = reach - reach.multiply(a)
    reach.eliminate_zeros()
    coo = reach.tocoo()
    keep = coo.data > 0
    return coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64), with_three


def predict_links(
    network: Network,
    *,
    top: int = 20,
    method: str | None = None,
    context: LinkContext | None = None,
    seed: int = 0,
    among: list[str] | None = None,
    model: LinkModel | None = None,
) -> pa.Table:
    """The ``top`` untied pairs by ``method``, with the four classic scores (source, target,
    ...). With ``learned``, also the model's probability (``learned``) and ``why``, the facts
    that raised it, in words. Candidates are the untied pairs two or three steps apart, for
    every method: the model was trained against such pairs only, so it can not rank pairs
    farther apart (it would take 'far apart' for a sign of a tie; see ``evaluate_links``).

    The default ``method`` is ``learned`` with a context (a workspace's records), else
    ``adamic_adar``: on bare edge lists of a few dozen ties the model has too little to learn
    from and ranks the candidates no better (docs/networks.md, "Learned link prediction").
    ``among``: suggest only pairs of these nodes (the model still learns from the whole
    graph: one network of a workspace, learned from all of them). ``model``: a model already
    fitted on this network and context with this seed (a kept one,
    ``lastmile.network.linkstore``), used instead of training one."""
    if method is None:
        method = LEARNED if context is not None else "adamic_adar"
    if method not in ALL_METHODS:
        raise NetworkError(f"unknown method {method!r} (one of {', '.join(ALL_METHODS)})")
    if top < 1:
        raise NetworkError("top must be at least 1")
    g = network.graph
    n = g.vcount()
    edges = edge_index(g)
    a = _adjacency(n, edges)
    x, y, _ = _candidates(a)
    names = np.asarray(g.vs["name"] if n else [], dtype=object)
    if among is not None:
        inside = np.isin(names, np.asarray(among, dtype=object))
        keep = inside[x] & inside[y]
        x, y = x[keep], y[keep]
    if model is not None and method != LEARNED:
        raise NetworkError(f"a fitted model ranks by {LEARNED}, not {method!r}")
    if method == LEARNED and model is None:
        model = fit_link_model(list(names), edges, context, seed=seed)
    scores = score_pairs(a, x, y) if len(x) else {m: np.zeros(0) for m in METHODS}
    if model is not None:
        features = model.features(edges, x, y)
        learned = model.score_features(features)
        order = np.lexsort((-scores["adamic_adar"], -learned))[:top]
    else:
        order = np.lexsort(
            (*tuple(-scores[m] for m in reversed(METHODS) if m != method), -scores[method])
        )[:top]
    cols: dict[str, pa.Array] = {
        "source": pa.array(names[x[order]].tolist(), pa.string()),
        "target": pa.array(names[y[order]].tolist(), pa.string()),
    }
    if model is not None:
        cols[LEARNED] = pa.array(np.round(learned[order], 4), pa.float64())
    for m in METHODS:
        cols[m] = pa.array(np.round(scores[m][order], 6), pa.float64())
    if model is not None:
        cols["why"] = pa.array(
            explain(model, edges, x[order], y[order], features[order], learned[order]),
            pa.string(),
        )
    return pa.table(cols)


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney), ties counted one half."""
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([positive, negative]))
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def evaluate_links(
    network: Network,
    *,
    hide: float = 0.15,
    seed: int = 0,
    context: LinkContext | None = None,
    learned: bool = True,
) -> pa.Table:
    """AUC of every method with ``hide`` of the ties hidden (see the module doc). The learned
    method is trained on the visible ties only (a further hold-out of them), never on the
    hidden ones nor on the negatives; its context loses the records of the hidden ties."""
    g = network.graph
    edges = edge_index(g)
    if len(edges) < 10:
        raise NetworkError(f"{len(edges)} ties: too few to hide {hide:.0%} and evaluate")
    if not 0 < hide < 1:
        raise NetworkError("the hidden share must be between 0 and 1")
    rng = random.Random(seed)
    hidden_idx = sorted(rng.sample(range(len(edges)), max(1, round(hide * len(edges)))))
    mask = np.ones(len(edges), dtype=bool)
    mask[hidden_idx] = False
    positives = edges[~mask]
    negatives = sample_negatives(g, len(positives), rng)
    if len(negatives) == 0:
        raise NetworkError("no untied pairs two or three steps apart: nothing to compare with")
    train = _adjacency(g.vcount(), edges[mask])
    pos = score_pairs(train, positives[:, 0], positives[:, 1])
    neg = score_pairs(train, negatives[:, 0], negatives[:, 1])
    methods = list(METHODS)
    if learned:
        model = fit_link_model(list(g.vs["name"]), edges[mask], context, seed=seed)
        pos[LEARNED] = model.score(edges[mask], positives[:, 0], positives[:, 1])
        neg[LEARNED] = model.score(edges[mask], negatives[:, 0], negatives[:, 1])
        methods.append(LEARNED)
    # The same, within the band the suggestions come from: the hidden ties whose ends are
    # still two or three steps apart once hidden, against the negatives still that near.
    # Negatives are chosen by their distance and positives are not, so a model may learn that
    # 'far apart now' means 'hidden tie'; here distance can not help.
    near_pos, near_neg = pos["katz"] > 0, neg["katz"] > 0
    return pa.table(
        {
            "method": methods,
            "auc": [round(auc(pos[m], neg[m]), 4) for m in methods],
            "auc_near": [round(auc(pos[m][near_pos], neg[m][near_neg]), 4) for m in methods],
            "positives_near": [int(near_pos.sum())] * len(methods),
            "positives": [len(positives)] * len(methods),
            "negatives": [len(negatives)] * len(methods),
            "hidden_fraction": [hide] * len(methods),
        }
    )
