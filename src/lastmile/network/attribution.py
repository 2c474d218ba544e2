"""Cartel attribution: which cartel supplies each distribution network, how sure, and why.

Method (docs/networks.md, "Cartel attribution"):

- **Seeds**: organizations whose name or alias names a cartel (``model.CARTELS`` and their
  synonyms), and persons with a stated membership in one.
- **Ties followed**: supply, communication and membership (of any organization that is not a
  business), weighted by evidence and grades: ``w = k * (1 + ln(records)) * g``, ``k = 2`` for
  supply and membership (stated relationships) and 1 for communication, ``g`` the best
  Admiralty grade among the tie's records (reliability A..E = 1.0..0.2, credibility 1..5 =
  1.0..0.2, F, 6 or none = 0.5, multiplied).
- **Propagation**: personalized PageRank from each cartel's seeds (Page et al. 1999;
  Haveliwala 2002; damping 0.85, igraph): the share of a random walk, restarting at the seeds,
  that visits each entity. A network's mass for a cartel is the sum over its members.
- **Decision**: the network goes to the cartel with the largest share of its mass when that
  share is at least ``MIN_SHARE``; otherwise, or when no walk reaches it, it is
  ``Unattributed``. ``score`` is that share.
- **Evidence path**: the strongest path (distances 1 / w) from the network's member with the
  most mass to a seed of that cartel, each step with its tie kind, records and grades.
- **Agencies' labels** (``investigations.cartel``) are evidence, not truth: they are not used
  as seeds; the majority label of the network's investigations is reported next to the
  attribution, with ``agrees`` false when they differ.
"""

from __future__ import annotations

import math

import igraph as ig
import numpy as np
import pyarrow as pa

from lastmile.model import CARTEL_SYNONYMS, CARTELS
from lastmile.store import Workspace

MIN_SHARE = 0.6
DAMPING = 0.85
UNATTRIBUTED = "Unattributed"
_RELIABILITY = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2}
_CREDIBILITY = {"1": 1.0, "2": 0.8, "3": 0.6, "4": 0.4, "5": 0.2}

ATTRIBUTION_SCHEMA = pa.schema(
    [
        ("network_id", pa.string()),
        ("cartel", pa.string()),
        ("score", pa.float64()),
        ("label", pa.string()),
        ("agrees", pa.bool_()),
        ("path", pa.string()),
    ]
)


def cartel_of(name: str) -> str | None:
    """The cartel a name or alias refers to (``Sinaloa Cartel``, ``CJNG``...), if any."""
    text = " ".join(name.lower().replace("-", " ").split())
    if text in CARTEL_SYNONYMS:
        return CARTEL_SYNONYMS[text]
    for cartel in CARTELS:
        if cartel.lower().replace("-", " ") in text:
            return cartel
    for synonym, cartel in CARTEL_SYNONYMS.items():
        if synonym in text.split() or (len(synonym) > 4 and synonym in text):
            return cartel
    return None


def grade_weight(grades: str | None) -> float:
    """The best record's grade as a factor 0-1 (see the module doc); 0.25 when none."""
    best = 0.0
    for grade in (grades or "").split("|"):
        if len(grade) != 2:
            continue
        best = max(best, _RELIABILITY.get(grade[0], 0.5) * _CREDIBILITY.get(grade[1], 0.5))
    return best or 0.25


def _weight(kind: str, records: int, grades: str | None) -> float:
    k = 1.0 if kind == "communication" else 2.0
    return k * (1.0 + math.log(max(records, 1))) * grade_weight(grades)


def attribute(
    ties: pa.Table,
    members: pa.Table,
    seeds: dict[str, str],
    labels: dict[str, str | None] | None = None,
    excluded_orgs: set[str] | frozenset[str] = frozenset(),
) -> pa.Table:
    """Attribution of every non-upstream network (``ATTRIBUTION_SCHEMA``).

    ``ties``: the entity ties (``workspace.TIE_SCHEMA``); ``members``: ``entity_id,
    network_id, upstream``; ``seeds``: entity -> cartel; ``labels``: network -> the majority
    agency label; ``excluded_orgs``: organizations whose membership ties are not followed.
    """
    rows = [
        r
        for r in ties.to_pylist()
        if r["kind"] in ("supply", "communication", "membership")
        and not (r["kind"] == "membership" and ({r["source"], r["target"]} & excluded_orgs))
    ]
    names = sorted({r["source"] for r in rows} | {r["target"] for r in rows} | set(seeds))
    index = {n: i for i, n in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(index[r["source"]], index[r["target"]]) for r in rows])
    g.vs["name"] = names
    weights = [_weight(r["kind"], int(r["records"] or 1), r["grades"]) for r in rows]
    g.es["weight"] = weights
    g.es["distance"] = [1.0 / w for w in weights]
    g.es["label"] = [
        f"{r['kind']} {r['record_ids'] or str(r['records']) + ' events'} {r['grades'] or '??'}"
        for r in rows
    ]
    cartels = sorted(set(seeds.values()))
    mass: dict[str, np.ndarray] = {}
    for cartel in cartels:
        reset = [index[e] for e, c in seeds.items() if c == cartel]
        if g.ecount() == 0:
            mass[cartel] = np.zeros(g.vcount())
            continue
        mass[cartel] = np.asarray(
            g.personalized_pagerank(
                directed=False, damping=DAMPING, reset_vertices=reset, weights="weight"
            )
        )
    networks: dict[str, list[str]] = {}
    for r in members.to_pylist():
        if not r["upstream"]:
            networks.setdefault(str(r["network_id"]), []).append(str(r["entity_id"]))
    out = []
    for nid, ents in sorted(networks.items()):
        idx = [index[e] for e in ents if e in index]
        totals = {c: float(mass[c][idx].sum()) for c in cartels} if idx else {}
        total = sum(totals.values())
        cartel, share, path = UNATTRIBUTED, 0.0, ""
        if total > 0:
            top = max(totals, key=lambda c: totals[c])
            share = totals[top] / total
            if share >= MIN_SHARE:
                cartel = top
                path = _path(g, idx, mass[top], [index[e] for e, c in seeds.items() if c == top])
        label = (labels or {}).get(nid)
        agrees = None if not label or cartel == UNATTRIBUTED else label == cartel
        out.append(
            {
                "network_id": nid,
                "cartel": cartel,
                "score": round(share, 4),
                "label": label,
                "agrees": agrees,
                "path": path,
            }
        )
    return pa.Table.from_pylist(out, schema=ATTRIBUTION_SCHEMA)


def _path(g: ig.Graph, members: list[int], mass: np.ndarray, seeds: list[int]) -> str:
    start = max(members, key=lambda v: mass[v])
    dist = g.distances(source=start, target=seeds, weights="distance")[0]
    goal = seeds[int(np.argmin(dist))]
    if not math.isfinite(min(dist)):
        return ""
    epath = g.get_shortest_paths(start, to=goal, weights="distance", output="epath")[0]
    steps = [g.vs[start]["name"]]
    here = start
    for e in epath:
        edge = g.es[e]
        there = edge.target if edge.source == here else edge.source
        steps.append(f"[{edge['label']}]")
        steps.append(g.vs[there]["name"])
        here = there
    return " ".join(steps)


_ORGS = """
    SELECT DISTINCT m.entity_id, o.name, o.aliases, o.kind FROM organizations o
    JOIN entity_members m ON m.record_type = 'organizations' AND m.record_id = o.organization_id
"""

_LABELS = """
    SELECT DISTINCT m.entity_id, i.investigation_id, i.cartel
    FROM entity_members m
    JOIN subjects s ON m.record_type = 'subjects' AND s.subject_id = m.record_id
    JOIN investigations i ON i.investigation_id = s.investigation_id
    WHERE i.cartel IS NOT NULL
"""


def workspace_attribution(
    ws: Workspace, ties: pa.Table | None = None, members: pa.Table | None = None
) -> pa.Table:
    """Attribution of every distribution network of a workspace (``ATTRIBUTION_SCHEMA``)."""
    from lastmile.network.networks import workspace_networks
    from lastmile.network.workspace import entity_ties

    if ties is None:
        ties = entity_ties(ws)
    seeds: dict[str, str] = {}
    businesses: set[str] = set()
    for entity, name, aliases, kind in ws.store.rows(_ORGS):
        if kind == "business":
            businesses.add(str(entity))
        if kind != "cartel":
            continue
        named = [str(name or "")] + [a for a in str(aliases or "").split("|") if a]
        cartel = next((c for c in map(cartel_of, named) if c), None)
        seeds[str(entity)] = cartel or str(name)
    for r in ties.select(["source", "target", "kind"]).to_pylist():
        if r["kind"] != "membership":
            continue
        for org, person in ((r["source"], r["target"]), (r["target"], r["source"])):
            if org in seeds and person not in seeds:
                seeds[person] = seeds[org]
    if members is None:
        members, _ = workspace_networks(ws, ties)
    network_of = {
        str(r["entity_id"]): str(r["network_id"]) for r in members.to_pylist() if not r["upstream"]
    }
    votes: dict[str, dict[str, set[str]]] = {}
    for entity, investigation, cartel in ws.store.rows(_LABELS):
        nid = network_of.get(str(entity))
        if nid:
            votes.setdefault(nid, {}).setdefault(str(cartel), set()).add(str(investigation))
    labels: dict[str, str | None] = {
        nid: max(sorted(by), key=lambda c: len(by[c])) for nid, by in votes.items()
    }
    return attribute(ties, members, seeds, labels, businesses)
