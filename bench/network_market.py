"""What rule 2's market by home (``networks.MARKET_BY_HOME``) moves, on one resolved workspace.

Builds the criminal graph as ``distribution_networks`` does and computes, with the switch off
(each customer counts in every city of his records) and on (in his home and where he sells
on, ``networks.markets``), then prints JSON:

- ``regional``: suppliers whose customers are in two or more cities, ``cut``: the ties rule 2
  cuts tie by tie (``regional_supply_ties`` on the whole graph), ``hubs``: rule 2's hubs;
- ``no_longer_regional`` / ``newly_regional``: each such supplier with the true network most
  of his subject records belong to, his case files per city, and his customers (the same);
- ``uncut`` / ``newly_cut``: the ties whose cut changes, both ends described the same way;
- ``networks``: the ARI of the networks (``workspace_networks``) off and on, and the true
  networks whose subject records are grouped differently (our networks and record counts).

    .venv/bin/python bench/network_market.py /work/data/nat -w W/nat.duckdb
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sklearn.metrics import adjusted_rand_score

from lastmile.network import networks as nw
from lastmile.network.workspace import entity_ties
from lastmile.store import open_workspace
from network_truth import read_truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic world (with truth/)")
    parser.add_argument("-w", "--workspace", required=True, help="a resolved workspace")
    args = parser.parse_args()
    world = read_truth(args.world)
    network_of_person = {p: r["network_id"] for p, r in world.persons.items()}
    members: dict[bool, dict[str, str]] = {}
    with open_workspace(args.workspace, create=False) as ws:
        ties = entity_ties(ws)
        inputs = nw.network_inputs(ws, ties)
        records = [
            (str(r), str(e))
            for r, e in ws.store.rows(
                "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
            )
        ]
        default = nw.MARKET_BY_HOME
        try:
            for flag in (False, True):
                nw.MARKET_BY_HOME = flag
                table, _ = nw.workspace_networks(ws, ties)
                members[flag] = {
                    str(r["entity_id"]): str(r["network_id"]) for r in table.to_pylist()
                }
        finally:
            nw.MARKET_BY_HOME = default
    votes: dict[str, Counter[str]] = {}
    for record, entity in records:
        true_net = network_of_person.get(world.person_of.get(record, ""), "")
        if true_net:
            votes.setdefault(entity, Counter())[true_net] += 1
    true_of = {e: c.most_common(1)[0][0] for e, c in votes.items()}

    def who(e: str) -> dict[str, Any]:
        return {"entity": e, "true": true_of.get(e), "cities": inputs.city_records.get(e, {})}

    found_graph = nw.criminal_graph(ties, inputs.org_kind, inputs.cities_of, inputs.case_files)
    assert found_graph is not None, "no criminal tie"
    g, org_kind, _ = found_graph
    names = g.vs["name"]
    local = {e for e, k in org_kind.items() if k not in nw.NON_MEMBER_ORGS}
    customers: dict[str, list[str]] = {}
    for e in g.es.select(kind="supply"):
        s = e["source_name"]
        customers.setdefault(s, []).append(
            names[e.target] if names[e.source] == s else names[e.source]
        )
    side: dict[bool, dict[str, Any]] = {}
    default = nw.MARKET_BY_HOME
    try:
        for flag in (False, True):
            nw.MARKET_BY_HOME = flag
            sold = nw.markets(g, inputs.cities_of, inputs.city_records)
            side[flag] = {
                "regional": {s for s, m in sold.items() if len(m) >= nw.REGIONAL_CITIES},
                "cut": set(nw.regional_supply_ties(g, inputs.cities_of, sold=sold)),
                "hubs": nw.hubs(g, local_orgs=local, places=inputs.cities_of, sold=sold),
            }
    finally:
        nw.MARKET_BY_HOME = default

    def supplier(s: str) -> dict[str, Any]:
        return {**who(s), "customers": [who(c) for c in customers.get(s, [])]}

    def tie(i: int) -> dict[str, Any]:
        e = g.es[i]
        return {"kind": e["kind"], "ends": [who(names[e.source]), who(names[e.target])]}

    off, on = side[False], side[True]
    subjects = [
        (network_of_person[world.person_of[r]], e)
        for r, e in records
        if network_of_person.get(world.person_of.get(r, ""), "")
    ]
    theirs = [t for t, _ in subjects]
    ours = {f: [members[f].get(e, f"solo:{e}") for _, e in subjects] for f in (False, True)}
    # A record moves when the records grouped with it differ (whichever true network).
    groups: dict[bool, dict[str, set[int]]] = {False: {}, True: {}}
    for f in (False, True):
        for i, label in enumerate(ours[f]):
            groups[f].setdefault(label, set()).add(i)
    changed = {
        theirs[i]
        for i in range(len(theirs))
        if groups[False][ours[False][i]] != groups[True][ours[True][i]]
    }
    moved = []
    for t in sorted(changed):
        mine = [i for i in range(len(theirs)) if theirs[i] == t]
        before = Counter(ours[False][i] for i in mine)
        after = Counter(ours[True][i] for i in mine)
        moved.append({"true": t, "off": dict(before), "on": dict(after)})
    print(
        json.dumps(
            {
                "off": {k: len(v) for k, v in off.items()},
                "on": {k: len(v) for k, v in on.items()},
                "no_longer_regional": [
                    supplier(s) for s in sorted(off["regional"] - on["regional"])
                ],
                "newly_regional": [supplier(s) for s in sorted(on["regional"] - off["regional"])],
                "hubs_changed": sorted(off["hubs"] ^ on["hubs"]),
                "uncut": [tie(i) for i in sorted(off["cut"] - on["cut"])],
                "newly_cut": [tie(i) for i in sorted(on["cut"] - off["cut"])],
                "networks": {
                    "ari_off": round(float(adjusted_rand_score(theirs, ours[False])), 4),
                    "ari_on": round(float(adjusted_rand_score(theirs, ours[True])), 4),
                    "true_networks_regrouped": moved,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
