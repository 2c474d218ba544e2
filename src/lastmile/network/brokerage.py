"""Brokerage roles by group (Gould & Fernandez 1989).

A broker ``b`` stands on an open two-path ``a - b - c`` (``a`` and ``c`` not tied). The role
depends on the groups of the three:

- coordinator: all three in one group;
- itinerant (consultant): ``a`` and ``c`` in one group, ``b`` outside it;
- gatekeeper: ``b`` in the group of ``c`` (the receiver), ``a`` outside;
- representative: ``b`` in the group of ``a`` (the sender), ``c`` outside;
- liaison: all three in different groups.

Ties here are undirected (calls either way), so each open pair is read in both directions, as
a symmetric digraph: a pair where ``b`` shares a group with one end counts once as gatekeeper
and once as representative, and the other roles count twice. This is the convention of
``sna::brokerage`` in R on symmetric data. Groups are whatever the caller gives: Leiden
communities by default, or cities, organizations or agencies.
"""

from __future__ import annotations

import igraph as ig
import numpy as np
import pyarrow as pa

ROLES = ("coordinator", "itinerant", "gatekeeper", "representative", "liaison")


def brokerage(g: ig.Graph, groups: np.ndarray, vertices: list[int] | None = None) -> pa.Table:
    """Gould-Fernandez role counts for ``vertices`` (all by default): id, the five roles, total."""
    n = g.vcount()
    chosen = list(range(n)) if vertices is None else list(vertices)
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    keys = np.sort(np.minimum(edges[:, 0], edges[:, 1]) * n + np.maximum(edges[:, 0], edges[:, 1]))
    adj = g.get_adjlist()
    counts = np.zeros((len(chosen), len(ROLES)), dtype=np.int64)
    for row, b in enumerate(chosen):
        nb = np.asarray(adj[b], dtype=np.int64)
        if len(nb) < 2:
            continue
        i, j = np.triu_indices(len(nb), k=1)
        a, c = nb[i], nb[j]
        pair = np.minimum(a, c) * n + np.maximum(a, c)
        pos = np.searchsorted(keys, pair)
        tied = (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == pair)
        a, c = a[~tied], c[~tied]
        ga, gb, gc = groups[a], groups[b], groups[c]
        same_ac = ga == gc
        counts[row, 0] = 2 * int(np.sum(same_ac & (ga == gb)))
        counts[row, 1] = 2 * int(np.sum(same_ac & (ga != gb)))
        one_side = (~same_ac) & ((ga == gb) | (gc == gb))
        counts[row, 2] = int(np.sum(one_side))
        counts[row, 3] = int(np.sum(one_side))
        counts[row, 4] = 2 * int(np.sum((~same_ac) & (ga != gb) & (gc != gb)))
    names = g.vs["name"] if n else []
    cols: dict[str, pa.Array] = {"id": pa.array([names[v] for v in chosen], pa.string())}
    for k, role in enumerate(ROLES):
        cols[role] = pa.array(counts[:, k], pa.int64())
    cols["total"] = pa.array(counts.sum(axis=1), pa.int64())
    return pa.table(cols)
