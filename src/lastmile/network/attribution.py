"""Cartel attribution: which cartel supplies each distribution network, how sure, and why.

Method (docs/networks.md, "Cartel attribution"):

- **Evidence** (``EVIDENCE_SCHEMA``: entity, cartel, weight, why), each a reason in the records
  to tie one entity to one cartel: an organization record of kind cartel (weight
  ``W_STATED`` = 1; the cartel read from its name or aliases, ``model.CARTELS`` and their
  synonyms); a person with a stated ``member_of`` tie to one (``W_STATED``); every subject of an
  investigation that holds an organization record of kind cartel (``W_NAMED`` = 0.5 per
  investigation, split between the cartels it names: the agency believes its targets work for
  that cartel, which is less than a stated membership of each of them); every subject of an
  investigation the agency labels with a cartel (``W_LABEL`` = 0.25 per investigation: one
  field, no record behind it, known to be wrong at times). Mexican plazas are not used.
- **Ties followed**: supply, communication and membership (of any organization that is not a
  business), weighted by evidence and grades: ``w = k * (1 + ln(records)) * g``, ``k = 2`` for
  supply and membership (stated relationships) and 1 for communication, ``g`` the best
  Admiralty grade among the tie's records (reliability A..E = 1.0..0.2, credibility 1..5 =
  1.0..0.2, F, 6 or none = 0.5, multiplied).
- **Propagation**: personalized PageRank from each cartel's evidence (Page et al. 1999;
  Haveliwala 2002; damping 0.85, igraph): a random walk that restarts at the evidence in
  proportion to its weight. PageRank is linear in its restart vector, so each cartel's
  distribution is scaled by its total evidence weight: the result is the propagation of all
  the evidence at once, and a cartel named seldom is not inflated by normalisation. A
  network's mass for a cartel is the sum over its members.
- **Decision**: the network goes to the cartel with the largest share of its mass when that
  share is at least ``MIN_SHARE``; otherwise, or when no walk reaches it, it is
  ``Unattributed``. ``score`` is that share.
- **Evidence path**: the strongest path (distances 1 / w) from the network's member with the
  most mass to the strongest evidence of that cartel it reaches (stated before named before
  labels), each step with its tie kind, records and grades, ending with the evidence itself.
- **Agencies' labels** (``investigations.cartel``) are weak evidence, not truth: the majority
  label of the network's investigations is reported next to the attribution, with ``agrees``
  false when they differ.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa

from lastmile.model import CARTEL_SYNONYMS, CARTELS
from lastmile.store import Workspace

MIN_SHARE = 0.6
DAMPING = 0.85
W_STATED = 1.0
W_NAMED = 0.5
W_LABEL = 0.25
UNATTRIBUTED = "Unattributed"
_RELIABILITY = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2}
_CREDIBILITY = {"1": 1.0, "2": 0.8, "3": 0.6, "4": 0.4, "5": 0.2}

EVIDENCE_SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("cartel", pa.string()),
        ("weight", pa.float64()),
        ("why", pa.string()),
    ]
)

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
    evidence: pa.Table | None = None,
) -> pa.Table:
    """Attribution of every non-upstream network (``ATTRIBUTION_SCHEMA``).

    ``ties``: the entity ties (``workspace.TIE_SCHEMA``); ``members``: ``entity_id,
    network_id, upstream``; ``seeds``: entity -> cartel, stated evidence of weight
    ``W_STATED``; ``labels``: network -> the majority agency label; ``excluded_orgs``:
    organizations whose membership ties are not followed; ``evidence``: further evidence
    (``EVIDENCE_SCHEMA``), weights added per entity and cartel.
    """
    items: list[dict[str, Any]] = [
        {"entity_id": e, "cartel": c, "weight": W_STATED, "why": "stated"} for e, c in seeds.items()
    ]
    if evidence is not None:
        items += [r for r in evidence.to_pylist() if r["weight"] and r["weight"] > 0]
    weight: dict[tuple[str, str], float] = {}
    why: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for r in items:
        key = (str(r["entity_id"]), str(r["cartel"]))
        weight[key] = weight.get(key, 0.0) + float(r["weight"])
        why.setdefault(key, []).append((float(r["weight"]), str(r["why"])))
    rows = [
        r
        for r in ties.to_pylist()
        if r["kind"] in ("supply", "communication", "membership")
        and not (r["kind"] == "membership" and ({r["source"], r["target"]} & excluded_orgs))
    ]
    names = sorted(
        {r["source"] for r in rows} | {r["target"] for r in rows} | {e for e, _ in weight}
    )
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
    cartels = sorted({c for _, c in weight})
    mass: dict[str, np.ndarray] = {}
    for cartel in cartels:
        reset = np.zeros(g.vcount())
        for (e, c), w in weight.items():
            if c == cartel:
                reset[index[e]] += w
        total = float(reset.sum())
        if g.ecount() == 0:
            mass[cartel] = reset
            continue
        ppr = g.personalized_pagerank(
            directed=False, damping=DAMPING, reset=(reset / total).tolist(), weights="weight"
        )
        mass[cartel] = np.asarray(ppr) * total
    networks: dict[str, list[str]] = {}
    for r in members.to_pylist():
        if not r["upstream"]:
            networks.setdefault(str(r["network_id"]), []).append(str(r["entity_id"]))
    by_cartel: dict[str, dict[int, float]] = {c: {} for c in cartels}
    for (e, c), w in weight.items():
        by_cartel[c][index[e]] = by_cartel[c].get(index[e], 0.0) + w
    out = []
    starts: dict[str, dict[str, int]] = {}
    for nid, ents in sorted(networks.items()):
        idx = [index[e] for e in ents if e in index]
        totals = {c: float(mass[c][idx].sum()) for c in cartels} if idx else {}
        total = sum(totals.values())
        cartel, share = UNATTRIBUTED, 0.0
        if total > 0:
            top = max(totals, key=lambda c: totals[c])
            share = totals[top] / total
            if share >= MIN_SHARE:
                cartel = top
                starts.setdefault(top, {})[nid] = max(idx, key=lambda v: mass[top][v])
        label = (labels or {}).get(nid)
        agrees = None if not label or cartel == UNATTRIBUTED else label == cartel
        out.append(
            {
                "network_id": nid,
                "cartel": cartel,
                "score": round(share, 4),
                "label": label,
                "agrees": agrees,
                "path": "",
            }
        )
    paths: dict[str, str] = {}
    for cartel, begin in starts.items():
        goals = by_cartel[cartel]
        reasons = {v: _because(why[(names[v], cartel)]) for v in goals}
        paths.update(_paths(g, begin, goals, reasons))
    for row in out:
        row["path"] = paths.get(str(row["network_id"]), "")
    return pa.Table.from_pylist(out, schema=ATTRIBUTION_SCHEMA)


def _because(reasons: list[tuple[float, str]]) -> str:
    """The reasons behind one entity's evidence, strongest first, at most three."""
    ranked = sorted(reasons, key=lambda r: (-r[0], r[1]))
    text = "; ".join(r for _, r in ranked[:3] if r != "stated")
    more = len(ranked) - 3
    return text + (f"; and {more} more" if more > 0 else "")


def _paths(
    g: ig.Graph, starts: dict[str, int], goals: dict[int, float], reasons: dict[int, str]
) -> dict[str, str]:
    """For each network (``starts``: its member with most mass), the strongest path to the
    strongest evidence it reaches: within the start's component the goals of the highest
    weight, and of those the nearest (distances 1 / w).

    One Dijkstra for all networks: a virtual source tied at length 0 to the strongest goals
    of every component, so the shortest path from it to a start ends at that start's nearest
    strongest goal (components are disjoint, so each start only reaches its own goals).
    """
    comp = np.asarray(g.connected_components().membership)
    best: dict[int, float] = {}
    for v, w in goals.items():
        best[int(comp[v])] = max(best.get(int(comp[v]), 0.0), w)
    tier = sorted(v for v, w in goals.items() if w >= best[int(comp[v])] * 0.999)
    wanted = {nid: v for nid, v in starts.items() if int(comp[v]) in best}
    if not tier or not wanted:
        return {}
    h = g.copy()
    h.add_vertices(1)
    origin = h.vcount() - 1
    first = h.ecount()
    h.add_edges([(origin, t) for t in tier])
    h.es[first:]["distance"] = [0.0] * len(tier)
    h.es[first:]["label"] = [""] * len(tier)
    targets = sorted(set(wanted.values()))
    epaths = h.get_shortest_paths(origin, to=targets, weights="distance", output="epath")
    by_target = dict(zip(targets, epaths, strict=True))
    names = g.vs["name"]
    result = {}
    for nid, start in wanted.items():
        epath = by_target[start]
        if not epath:
            continue
        goal = h.es[epath[0]].target if h.es[epath[0]].source == origin else h.es[epath[0]].source
        steps = [names[start]]
        here = start
        for e in reversed(epath[1:]):
            edge = h.es[e]
            there = edge.target if edge.source == here else edge.source
            steps.append(f"[{edge['label']}]")
            steps.append(names[there])
            here = there
        reason = reasons.get(goal, "")
        result[nid] = " ".join(steps) + (f" ({reason})" if reason else "")
    return result


_TIE = re.compile(r" \[([^\]]*)\] ")


def path_steps(path: str) -> tuple[list[str], list[str], str]:
    """The entities, the tie labels and the closing reason of an evidence path as
    :func:`attribute` writes it: ``E1 [kind records grades] E2 ... (reason)``."""
    if not path.strip():
        return [], [], ""
    parts = _TIE.split(path.strip())
    entities = parts[0::2]
    labels = parts[1::2]
    last, _, reason = entities[-1].partition(" (")
    entities[-1] = last
    return [e.strip() for e in entities], labels, reason[:-1] if reason.endswith(")") else reason


def named_path(path: str, shown_as: Mapping[str, str]) -> str:
    """An evidence path with each entity's name before its id: ``Name (E1) [...] ...``.

    The stored path keeps ids only: the server shows each step by what the asking agency may
    see (docs/server.md), and a best name may come from a record hidden from it. The command
    line, run on the workspace itself, names them."""
    entities, labels, reason = path_steps(path)
    if not entities:
        return path
    named = [f"{shown_as[e]} ({e})" if shown_as.get(e) else e for e in entities]
    text = named[0] + "".join(f" [{label}] {e}" for label, e in zip(labels, named[1:], strict=True))
    return text + (f" ({reason})" if reason else "")


_ORGS = """
    SELECT DISTINCT m.entity_id, o.name, o.aliases, o.kind, o.organization_id, o.investigation_id
    FROM organizations o
    JOIN entity_members m ON m.record_type = 'organizations' AND m.record_id = o.organization_id
"""

_SUBJECTS = """
    SELECT DISTINCT m.entity_id, s.investigation_id
    FROM entity_members m
    JOIN subjects s ON m.record_type = 'subjects' AND s.subject_id = m.record_id
    WHERE s.investigation_id IS NOT NULL
"""

_LABELS = """
    SELECT DISTINCT m.entity_id, i.investigation_id, i.cartel
    FROM entity_members m
    JOIN subjects s ON m.record_type = 'subjects' AND s.subject_id = m.record_id
    JOIN investigations i ON i.investigation_id = s.investigation_id
    WHERE i.cartel IS NOT NULL
"""


def workspace_evidence(ws: Workspace, ties: pa.Table) -> tuple[pa.Table, set[str]]:
    """Every piece of cartel evidence in a workspace (``EVIDENCE_SCHEMA``), and the business
    organizations (whose membership ties attribution does not follow)."""
    rows: list[dict[str, object]] = []
    seeds: dict[str, str] = {}
    businesses: set[str] = set()
    named: dict[str, dict[str, list[str]]] = {}
    for entity, name, aliases, kind, org_id, investigation in ws.store.rows(_ORGS):
        if kind == "business":
            businesses.add(str(entity))
        if kind != "cartel":
            continue
        names = [str(name or "")] + [a for a in str(aliases or "").split("|") if a]
        cartel = next((c for c in map(cartel_of, names) if c), None) or str(name)
        seeds[str(entity)] = cartel
        rows.append(
            {
                "entity_id": str(entity),
                "cartel": cartel,
                "weight": W_STATED,
                "why": f"organization record {org_id} '{name}' is the cartel",
            }
        )
        if investigation:
            named.setdefault(str(investigation), {}).setdefault(cartel, []).append(str(org_id))
    for r in ties.select(["source", "target", "kind", "record_ids"]).to_pylist():
        if r["kind"] != "membership":
            continue
        for org, person in ((r["source"], r["target"]), (r["target"], r["source"])):
            if org in seeds and person not in seeds:
                rows.append(
                    {
                        "entity_id": str(person),
                        "cartel": seeds[org],
                        "weight": W_STATED,
                        "why": f"stated member_of {r['record_ids']}",
                    }
                )
    # One investigation is one belief of one agency: the cartel organization it names and the
    # label it carries are two expressions of it, so per entity, investigation and cartel the
    # stronger counts, not both.
    belief: dict[tuple[str, str, str], tuple[float, str]] = {}

    def believe(entity: str, investigation: str, cartel: str, weight: float, why: str) -> None:
        key = (entity, investigation, cartel)
        if key not in belief or belief[key][0] < weight:
            belief[key] = (weight, why)

    for entity, investigation in ws.store.rows(_SUBJECTS):
        cartels = named.get(str(investigation), {})
        for cartel, orgs in cartels.items():
            believe(
                str(entity),
                str(investigation),
                cartel,
                W_NAMED / len(cartels),
                f"investigation {investigation} names {'|'.join(sorted(orgs))}",
            )
    for entity, investigation, label in ws.store.rows(_LABELS):
        believe(
            str(entity),
            str(investigation),
            cartel_of(str(label)) or str(label),
            W_LABEL,
            f"investigation {investigation} labelled {label} by its agency",
        )
    rows += [
        {"entity_id": e, "cartel": c, "weight": w, "why": why}
        for (e, _, c), (w, why) in sorted(belief.items())
    ]
    return pa.Table.from_pylist(rows, schema=EVIDENCE_SCHEMA), businesses


def workspace_attribution(
    ws: Workspace, ties: pa.Table | None = None, members: pa.Table | None = None
) -> pa.Table:
    """Attribution of every distribution network of a workspace (``ATTRIBUTION_SCHEMA``)."""
    from lastmile.network.networks import workspace_networks
    from lastmile.network.workspace import entity_ties

    if ties is None:
        ties = entity_ties(ws)
    evidence, businesses = workspace_evidence(ws, ties)
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
    return attribute(ties, members, {}, labels, businesses, evidence)
