"""Networks and cartel attribution of a resolved workspace against a synthetic world's truth.

Prints JSON:

- ``networks``, ``attributed``, ``share_attributed``: lastmile's (non-upstream) networks and
  how many carry a cartel;
- ``accuracy_attributed``: the share of attributed networks whose cartel is the majority
  ``cartel`` of their members in ``truth/entities.csv`` (members matched through their records
  in ``truth/records.csv``);
- ``accuracy_attributed_people``: the same, each network weighted by its matched people;
- ``ari``: adjusted Rand index of lastmile's networks against ``truth/entities.csv``'s
  ``network_id``, over the subject records whose true person belongs to a network (a record
  whose entity is in no lastmile network, or in an upstream one, counts as its own group;
  upstream networks count as groups of their own);
- ``label_accuracy``: for comparison, the agencies' majority label per network scored the
  same way.

    lastmile synth --scale division --seed 7 --out W/world
    lastmile ingest W/world -w W/ws && lastmile resolve -w W/ws
    .venv/bin/python bench/network_truth.py W/world -w W/ws
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from lastmile.network.attribution import UNATTRIBUTED, workspace_attribution
from lastmile.network.networks import workspace_networks
from lastmile.network.workspace import entity_ties
from lastmile.store import open_workspace


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic world (with truth/)")
    parser.add_argument("-w", "--workspace", required=True)
    args = parser.parse_args()
    truth = {r["entity_id"]: r for r in _csv(args.world / "truth" / "entities.csv")}
    person_of = {r["record_id"]: r["entity_id"] for r in _csv(args.world / "truth" / "records.csv")}
    start = time.perf_counter()
    with open_workspace(args.workspace, create=False) as ws:
        ties = entity_ties(ws)
        members, _ = workspace_networks(ws, ties)
        attribution = workspace_attribution(ws, ties, members)
        entity_of = {
            str(r): str(e)
            for r, e in ws.store.rows(
                "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
            )
        }
    seconds = time.perf_counter() - start
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in members.to_pylist()}
    upstream = {str(r["network_id"]) for r in members.to_pylist() if r["upstream"]}

    ours, theirs = [], []
    people: dict[str, set[str]] = {}
    for record, entity in entity_of.items():
        person = person_of.get(record)
        row = truth.get(person or "")
        if row is None:
            continue
        nid = network_of.get(entity)
        if row["network_id"]:
            ours.append(nid or f"solo:{entity}")
            theirs.append(row["network_id"])
        if nid and nid not in upstream and row["cartel"]:
            people.setdefault(nid, set()).add(str(person))

    def majority(nid: str) -> tuple[str | None, int]:
        cartels = Counter(truth[p]["cartel"] for p in people.get(nid, ()))
        if not cartels:
            return None, 0
        return cartels.most_common(1)[0][0], sum(cartels.values())

    rows = attribution.to_pylist()
    attributed = [r for r in rows if r["cartel"] != UNATTRIBUTED]
    right = right_people = all_people = 0
    for r in attributed:
        cartel, n = majority(r["network_id"])
        right += cartel == r["cartel"]
        right_people += n if cartel == r["cartel"] else 0
        all_people += n
    labelled = [r for r in rows if r["label"]]
    label_right = sum(majority(r["network_id"])[0] == r["label"] for r in labelled)
    print(
        json.dumps(
            {
                "networks": len(rows),
                "attributed": len(attributed),
                "share_attributed": round(len(attributed) / len(rows), 4) if rows else None,
                "accuracy_attributed": round(right / len(attributed), 4) if attributed else None,
                "accuracy_attributed_people": (
                    round(right_people / all_people, 4) if all_people else None
                ),
                "labelled": len(labelled),
                "label_accuracy": round(label_right / len(labelled), 4) if labelled else None,
                "ari": round(float(adjusted_rand_score(theirs, ours)), 4),
                "records_scored": len(ours),
                "largest_network": max(Counter(network_of.values()).values(), default=0),
                "seconds": round(seconds, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
