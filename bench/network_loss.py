"""Where the networks' adjusted Rand index is lost, against a synthetic world's truth.

Builds the networks of a resolved workspace with this code (``workspace_networks``, no
analysis stored) and scores them as ``bench/network_truth.py`` does (subject records whose
true person belongs to a network; a record in no network of ours is a group of its own).
Then prints JSON:

- ``ari``: the index;
- ``glue``: our networks holding records of two or more true networks, each with the ARI
  gained by splitting it alone by the truth, the largest first, and ``glue_total`` (the sum);
- ``splits``: true networks spread over two or more of ours, each with the ARI gained by
  joining it alone into its largest part, and ``splits_total``;
- ``ties_inside``: the ties, by kind, between people of two true networks inside one of ours
  (what glues); ``ties_across``: the ties between people of one true network placed apart
  (what might join them). ``communication<3`` are calls below the evidence minimum.

    .venv/bin/python bench/network_loss.py /work/data/nat -w W/nat.duckdb --top 25
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sklearn.metrics import adjusted_rand_score

from lastmile.network.networks import MIN_EVENTS, workspace_networks
from lastmile.network.workspace import entity_ties
from lastmile.store import open_workspace
from network_truth import apply_hubs_by_market, hubs_by_market_option, read_truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic operation folder (with truth/)")
    parser.add_argument("-w", "--workspace", required=True, help="a resolved workspace")
    parser.add_argument("--top", type=int, default=25, help="how many of each list to print")
    hubs_by_market_option(parser)
    args = parser.parse_args()
    apply_hubs_by_market(args)
    world = read_truth(args.world)
    truth, person_of = world.network_of, world.person_of
    with open_workspace(args.workspace, create=False) as ws:
        ties = entity_ties(ws)
        members, _ = workspace_networks(ws, ties)
        entity_of = [
            (str(r), str(e))
            for r, e in ws.store.rows(
                "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
            )
        ]
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in members.to_pylist()}
    ours: list[str] = []
    theirs: list[str] = []
    votes: dict[str, Counter[str]] = {}
    for record, entity in entity_of:
        true_net = truth.get(person_of.get(record, ""))
        if not true_net:
            continue
        votes.setdefault(entity, Counter())[true_net] += 1
        ours.append(network_of.get(entity, f"solo:{entity}"))
        theirs.append(true_net)
    base = float(adjusted_rand_score(theirs, ours))
    held: dict[str, Counter[str]] = {}
    spread: dict[str, Counter[str]] = {}
    for o, t in zip(ours, theirs, strict=True):
        held.setdefault(o, Counter())[t] += 1
        spread.setdefault(t, Counter())[o] += 1

    def gain(relabel: list[str]) -> float:
        return round(float(adjusted_rand_score(theirs, relabel)) - base, 5)

    glue: list[dict[str, Any]] = []
    for o, counts in held.items():
        if len(counts) > 1:
            split = [f"{o}|{t}" if x == o else x for x, t in zip(ours, theirs, strict=True)]
            glue.append({"ours": o, "gain": gain(split), "true": dict(counts.most_common(6))})
    splits: list[dict[str, Any]] = []
    for t, counts in spread.items():
        if len(counts) > 1:
            largest = counts.most_common(1)[0][0]
            joined = [largest if y == t else x for x, y in zip(ours, theirs, strict=True)]
            splits.append({"true": t, "gain": gain(joined), "ours": dict(counts.most_common(6))})
    true_of = {e: c.most_common(1)[0][0] for e, c in votes.items()}
    inside: Counter[str] = Counter()
    across: Counter[str] = Counter()
    for r in ties.select(["source", "target", "kind", "records"]).to_pylist():
        a, b = true_of.get(r["source"]), true_of.get(r["target"])
        if a is None or b is None:
            continue
        kind = str(r["kind"])
        if kind == "communication" and (r["records"] or 0) < MIN_EVENTS:
            kind = "communication<3"
        na, nb = network_of.get(r["source"]), network_of.get(r["target"])
        if na is not None and na == nb and a != b:
            inside[kind] += 1
        elif a == b and na != nb:
            across[kind] += 1
    glue.sort(key=lambda g: -float(g["gain"]))
    splits.sort(key=lambda s: -float(s["gain"]))
    print(
        json.dumps(
            {
                "ari": round(base, 4),
                "records_scored": len(ours),
                "glue_total": round(sum(float(g["gain"]) for g in glue), 4),
                "splits_total": round(sum(float(s["gain"]) for s in splits), 4),
                "glue": glue[: args.top],
                "splits": splits[: args.top],
                "ties_inside": dict(inside.most_common()),
                "ties_across": dict(across.most_common()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
