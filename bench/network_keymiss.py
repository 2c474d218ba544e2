"""Why the truth's key players are missed, against a synthetic world's truth.

Runs ``lastmile.network.analyze.analyze`` once, scores key players as
``bench/network_truth.py`` does (issue 11: for each true network with at least 10 people, the
lastmile network holding most of its people, ours, and its top 5 by the default ranking), and
then, for every true network where fewer than 3 of the truth's top 5 are in our top 5, says
of each of the truth's top 5 we did not pick where he is:

- ``ranked``: in ours, below 5th (with his place in the full default ranking, the people he
  supplies there, the fall of the largest component on his removal alone, and his ties);
- ``piece``: in another network of ours that is mostly his own true network (a split: the
  piece and ours are parts of one true network), ``other``: in another network of ours that
  is mostly another true network (glue), ``upstream``: in an upstream network, ``none``: in no
  network, ``unrecorded``: in no entity at all (no subject record of his was resolved). For
  these, the ties of his entities to people of ours, by kind, and whether an investigation
  names people of both networks (``shared_case_file``);

and of each of our top 5 that the truth does not list, whether he is of the same true network
(``same``), another (``other``) or none, or is a second entity of a person already picked
(``duplicate``: resolution split one person and both halves took a place). ``ranked_at`` counts
the key players ranked below 5th by place (6-10, near the cut, or 11 and below), and
``split_by_resolution`` the missed key players whose subject records resolved into two entities
or more, and ``mostly_unrecorded`` the true networks, missed and met, of which fewer than half
the people are named by any record (``recorded`` in each missed network's details). Prints
JSON: the figure, the counts by category and two bounds computed with the truth (not methods):
``flip_if_placed``, the missed networks that would reach 3 of 5 if every key player placed
elsewhere were in ours and in its top 5, and ``flip_if_ranked``, the same for the key players
already in ours. ``--details`` adds each missed network. docs/networks-rounds.md ("Key
players, fourth round" and "fifth round") reads it.

    .venv/bin/python bench/network_keymiss.py /work/data/nat -w W/nat.duckdb
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lastmile.network.analyze import analyze
from lastmile.network.centrality import centralities
from lastmile.network.keyplayer import (
    DISTRIBUTES,
    SHARES_SELECTOR,
    SUPPLIES,
    bare,
    removal_falls,
    supply_order,
)
from lastmile.network.networks import network_graphs
from lastmile.network.stored import INVESTIGATION_MEMBERS
from lastmile.store import open_workspace
from network_truth import read_truth

KEY_MIN_PEOPLE = 10
TOP = 5
NEED = 3


@dataclass(frozen=True)
class Place:
    """A person's place in the full default ranking of his network."""

    rank: int
    supplied: int
    fall: int
    ties: int


_LAST = Place(10**9, 0, 0, 0)


def _band(rank: int) -> str:
    """The place of a key player ranked below 5th: 6-10 (near the cut) or 11 and below."""
    return "6-10" if rank <= 10 else "11+"


def key_misses(
    true_network: Mapping[str, str],
    true_keys: Mapping[str, list[str]],
    person_of_entity: Mapping[str, str],
    network_of: Mapping[str, str],
    upstream: set[str],
    ranking: Mapping[str, list[str]],
    places: Mapping[str, Mapping[str, Place]],
    ties: Mapping[str, list[tuple[str, str]]] | None = None,
    cases: Mapping[str, set[str]] | None = None,
) -> dict[str, Any]:
    """Where the truth's key players of each missed true network are (see the module's doc).

    ``true_network``: person -> his true network ('' for none); ``true_keys``: true network ->
    the truth's key players in rank order; ``person_of_entity``: our entity -> the true person
    most of its subject records belong to; ``network_of``: entity -> our network;
    ``upstream``: our upstream networks; ``ranking``: our network -> the default top (at
    least 5); ``places``: our network -> entity -> :class:`Place`; ``ties``: entity ->
    (other entity, kind) of every tie; ``cases``: entity -> the investigations naming it.
    """
    ties = ties or {}
    cases = cases or {}
    entities_of: dict[str, set[str]] = {}
    for e, p in person_of_entity.items():
        entities_of.setdefault(p, set()).add(e)
    # the true network most of each of our networks' people belong to
    composition: dict[str, Counter[str]] = {}
    for e, nid in network_of.items():
        p = person_of_entity.get(e)
        if p is not None and true_network.get(p):
            composition.setdefault(nid, Counter())[true_network[p]] += 1
    majority = {
        n: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for n, c in composition.items()
    }
    sizes = Counter(t for t in true_network.values() if t)
    missing: Counter[str] = Counter()
    picked: Counter[str] = Counter()
    band: Counter[str] = Counter()
    unrecorded: Counter[bool] = Counter()
    scored = met = flip_placed = flip_ranked = split = 0
    details: list[dict[str, Any]] = []
    for tnet, size in sorted(sizes.items()):
        if size < KEY_MIN_PEOPLE or not true_keys.get(tnet):
            continue
        scored += 1
        truth_top = true_keys[tnet][:TOP]
        need = min(NEED, len(truth_top))
        held = Counter(
            nid
            for p, t in true_network.items()
            if t == tnet
            for nid in {network_of[e] for e in entities_of.get(p, ()) if e in network_of}
        )
        ours = min(held.items(), key=lambda kv: (-kv[1], kv[0]))[0] if held else None
        top = ranking.get(ours, [])[:TOP] if ours else []
        ours_people = {person_of_entity.get(e) for e in top}
        hits = len(set(truth_top) & ours_people)
        recorded = sum(1 for q, t in true_network.items() if t == tnet and entities_of.get(q))
        unrecorded[hits >= need] += 2 * recorded < size
        if hits >= need:
            met += 1
            continue
        missed: list[dict[str, Any]] = []
        for p in truth_top:
            if p in ours_people:
                continue
            mine = entities_of.get(p, set())
            nets = sorted({network_of[e] for e in mine if e in network_of})
            row: dict[str, Any] = {"person": p}
            row["entities"] = len(mine)
            if ours is not None and ours in nets:
                e = min(
                    (x for x in mine if network_of.get(x) == ours),
                    key=lambda x: (places.get(ours, {}).get(x, _LAST).rank, x),
                )
                place = places.get(ours, {}).get(e)
                row.update(where="ranked", **(place.__dict__ if place else {}))
                if place is not None:
                    band[_band(place.rank)] += 1
            else:
                if not mine:
                    where = "unrecorded"
                elif not nets:
                    where = "none"
                else:
                    row["network"] = nets[0]
                    if nets[0] in upstream:
                        where = "upstream"
                    else:
                        where = "piece" if majority.get(nets[0]) == tnet else "other"
                    theirs = {x for x, n in network_of.items() if n == nets[0]}
                    ours_all = {x for x, n in network_of.items() if n == ours}
                    shared = set().union(*(cases.get(x, set()) for x in theirs)) & set().union(
                        *(cases.get(x, set()) for x in ours_all)
                    )
                    row["shared_case_file"] = bool(shared)
                kinds = Counter(
                    kind
                    for e in mine
                    for other, kind in ties.get(e, [])
                    if network_of.get(other) == ours
                )
                row.update(where=where, ties_to_ours=dict(sorted(kinds.items())))
            missing[row["where"]] += 1
            missed.append(row)
        extra = []
        seen: set[str | None] = set()
        for e in top:
            p = person_of_entity.get(e)
            if p is not None and p in seen:
                picked["duplicate"] += 1
                extra.append({"entity": e, "person": p, "is": "duplicate"})
                continue
            seen.add(p)
            if p in truth_top:
                continue
            t = true_network.get(p or "", "")
            kind = "same" if t == tnet else ("other" if t else "none")
            picked[kind] += 1
            extra.append({"entity": e, "person": p, "true_network": t, "is": kind})
        short = need - hits
        split += sum(m["entities"] > 1 for m in missed)
        flip_placed += sum(m["where"] != "ranked" for m in missed) >= short
        flip_ranked += sum(m["where"] == "ranked" for m in missed) >= short
        details.append(
            {
                "true": tnet,
                "people": size,
                "ours": ours,
                "held": held[ours] if ours else 0,
                "recorded": recorded,
                "hits": hits,
                "missed": missed,
                "picked_instead": extra,
            }
        )
    return {
        "true_networks": scored,
        "share_3_of_5": round(met / scored, 4) if scored else None,
        "missed_networks": scored - met,
        "missed_hits": dict(sorted(Counter(d["hits"] for d in details).items())),
        "mostly_unrecorded": {"missed": unrecorded[False], "met": unrecorded[True]},
        "key_players_missed": dict(sorted(missing.items())),
        "ranked_at": dict(sorted(band.items())),
        "split_by_resolution": split,
        "picked_instead": dict(sorted(picked.items())),
        "shared_case_file": sum(
            1 for d in details for m in d["missed"] if m.get("shared_case_file")
        ),
        "no_tie_to_ours": sum(
            1
            for d in details
            for m in d["missed"]
            if m["where"] != "ranked" and not m.get("ties_to_ours")
        ),
        "flip_if_placed": flip_placed,
        "flip_if_ranked": flip_ranked,
        "details": details,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic world (with truth/)")
    parser.add_argument("-w", "--workspace", required=True, help="a resolved workspace")
    parser.add_argument("--details", action="store_true", help="each missed true network")
    args = parser.parse_args()
    world = read_truth(args.world)
    true_network, true_keys = world.network_of, world.key_players
    with open_workspace(args.workspace, create=False) as ws:
        result = analyze(ws)
        graphs = network_graphs(ws, result.ties, result.members)
        votes = world.entity_persons(ws)
        cases: dict[str, set[str]] = {}
        for investigation, entity in ws.store.rows(INVESTIGATION_MEMBERS):
            cases.setdefault(str(entity), set()).add(str(investigation))
    person_of_entity = {e: c.most_common(1)[0][0] for e, c in votes.items()}
    members = result.members.to_pylist()
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in members}
    upstream = {str(r["network_id"]) for r in members if r["upstream"]}
    ranking: dict[str, list[str]] = {}
    for r in result.key_players.to_pylist():
        ranking.setdefault(r["network_id"], []).append(r["entity_id"])
    places: dict[str, dict[str, Place]] = {}
    for nid, net in graphs.items():
        g = net.graph
        cent, btw = centralities(g, seed=0)
        falls = removal_falls(bare(g)).values
        supplied = np.asarray(g.vs[SUPPLIES], dtype=np.int64)
        degree = cent.column("degree").to_numpy()
        order, _ = supply_order(
            supplied,
            falls,
            degree,
            btw.values,
            list(g.vs["name"]),
            g.vs[SHARES_SELECTOR],
            np.asarray(g.vs[DISTRIBUTES], dtype=bool),
        )
        places[nid] = {
            g.vs[v]["name"]: Place(i + 1, int(supplied[v]), int(falls[v]), int(degree[v]))
            for i, v in enumerate(order)
        }
    ties: dict[str, list[tuple[str, str]]] = {}
    for r in result.ties.select(["source", "target", "kind", "records"]).to_pylist():
        kind = r["kind"]
        if kind == "communication" and (r["records"] or 0) < 3:
            kind = "communication<3"
        ties.setdefault(r["source"], []).append((r["target"], kind))
        ties.setdefault(r["target"], []).append((r["source"], kind))
    found = key_misses(
        true_network,
        true_keys,
        person_of_entity,
        network_of,
        upstream,
        ranking,
        places,
        ties,
        cases,
    )
    if not args.details:
        found.pop("details")
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
