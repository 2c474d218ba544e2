"""Networks, key players, link prediction and cartel attribution of a resolved workspace
against a synthetic world's truth, and the time of the full analysis.

Runs ``lastmile.network.analyze.analyze`` once (ties, networks, key players, attribution; the
seconds of each stage are printed) and prints JSON:

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
  same way;
- ``key_players``: for every true network with at least 10 people, the lastmile network
  holding most of its people (through their records) and lastmile's top 5 there by the
  default ranking (each lastmile entity read as the true person most of its subject records
  belong to); ``share_3_of_5`` is the share of those networks where at least 3 of the top 5
  of ``truth/key_players.csv`` are among them (goal 0.8; where the truth lists fewer than 3,
  all it lists). The truth lists key players only among people who appear in some record, so
  a true network none of whose people appears in any record cannot be scored: ``unscored``
  counts those. The same is given for Borgatti's key-player set (``keyplayer``, the default
  before the supply ranking), betweenness and degree, for comparison;
- ``link_prediction``: AUC of each method (the four classic scores and ``learned``) with 15%
  of the observed criminal ties hidden, negatives drawn from untied pairs two or three steps
  apart (``evaluate_links``), on the whole graph of criminal ties, mean over ``--link-seeds``
  seeds (goal 0.85); the learned model reads the workspace's other ties and the entities' own
  records (``linklearn``), never the records of the hidden ties. ``auc_near``: the same
  within the band suggestions come from (hidden ties still two or three steps apart once
  hidden, against negatives still that near), where distance itself can not tell them apart.
  ``--only links`` skips everything else (no ``analyze``);
- ``seconds``: each stage of the analysis (goal: the whole at most 60 s nationally).

``--leiden-seed S`` and ``--leiden-runs N`` set rule 4's Leiden runs (the seed of their
generator, and how many runs the best is taken of; the library's default unless given).
``--only spread --leiden-seeds K`` computes the networks alone for seeds 0..K-1 and prints each
one's ARI and the spread (highest minus lowest): how much the networks hang on the seed.
``--hubs-by-market`` judges rule 2's local distributor by where he sells
(``networks.HUBS_BY_MARKET``; docs/networks-rounds.md, "Eighth round"); ``--market-by-home``
counts a customer in his home city in rule 2's market (``networks.MARKET_BY_HOME``; "Ninth
round"). Both are on by default; ``--no-...`` measures them off.

    lastmile synth --scale division --seed 7 --out W/world
    lastmile ingest W/world -w W/ws && lastmile resolve -w W/ws
    .venv/bin/python bench/network_truth.py W/world -w W/ws
    .venv/bin/python bench/network_truth.py W/world -w W/ws --only links --link-seeds 3
    .venv/bin/python bench/network_truth.py W/world -w W/ws --only spread --leiden-seeds 5
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.metrics import adjusted_rand_score

from lastmile.network import networks
from lastmile.network.analyze import analyze
from lastmile.network.attribution import UNATTRIBUTED
from lastmile.network.graph import build_network
from lastmile.network.keyplayer import key_players
from lastmile.network.linklearn import entity_attributes, split_ties
from lastmile.network.linkpred import ALL_METHODS, evaluate_links
from lastmile.network.networks import (
    _ORG_KINDS,
    LEIDEN_RUNS,
    criminal_ties,
    network_graphs,
    workspace_networks,
)
from lastmile.network.workspace import entity_ties
from lastmile.store import open_workspace

KEY_MIN_PEOPLE = 10
TOP = 5
NEED = 3


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Truth:
    """What the network benches read of a synthetic world's ``truth/``."""

    persons: dict[str, dict[str, str]]  # true person -> its row of entities.csv
    person_of: dict[str, str]  # subject record -> true person (records.csv)
    key_players: dict[str, list[str]]  # true network -> its key players, best first

    @property
    def network_of(self) -> dict[str, str]:
        """True person -> true network ('' for none)."""
        return {p: r["network_id"] for p, r in self.persons.items()}

    def entity_persons(self, ws: Any) -> dict[str, Counter[str]]:
        """Resolved entity -> how many of its subject records each true person has."""
        votes: dict[str, Counter[str]] = {}
        for record, entity in ws.store.rows(
            "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
        ):
            person = self.person_of.get(str(record))
            if person in self.persons:
                votes.setdefault(str(entity), Counter())[person] += 1
        return votes


def read_truth(world: Path) -> Truth:
    persons = {
        r["entity_id"]: r for r in _csv(world / "truth" / "entities.csv") if r["kind"] == "person"
    }
    person_of = {r["record_id"]: r["entity_id"] for r in _csv(world / "truth" / "records.csv")}
    key_players: dict[str, list[str]] = {}
    for r in sorted(
        _csv(world / "truth" / "key_players.csv"), key=lambda r: (r["network_id"], int(r["rank"]))
    ):
        key_players.setdefault(r["network_id"], []).append(r["entity_id"])
    return Truth(persons, person_of, key_players)


def network_ari(
    truth: dict[str, dict[str, str]],
    person_of: dict[str, str],
    entity_of: dict[str, str],
    members: pa.Table,
) -> tuple[float, int]:
    """Adjusted Rand index of our networks against the true ones over the subject records of
    people in a true network (a record of an entity in no network is a group of its own), and
    how many records were scored."""
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in members.to_pylist()}
    ours, theirs = [], []
    for record, entity in entity_of.items():
        row = truth.get(person_of.get(record) or "")
        if row is not None and row["network_id"]:
            ours.append(network_of.get(entity) or f"solo:{entity}")
            theirs.append(row["network_id"])
    return round(float(adjusted_rand_score(theirs, ours)), 4), len(ours)


def seed_spread(world: Truth, ws: Any, seeds: int, runs: int) -> dict[str, Any]:
    """The networks' ARI for rule 4's Leiden seeded 0..seeds-1 (``runs`` runs each)."""
    ties = entity_ties(ws)
    entity_of = {
        str(r): str(e)
        for r, e in ws.store.rows(
            "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
        )
    }
    aris, seconds = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        members, _ = workspace_networks(ws, ties, seed=seed, runs=runs)
        seconds.append(time.perf_counter() - start)
        aris.append(network_ari(world.persons, world.person_of, entity_of, members)[0])
    return {
        "runs": runs,
        "ari_each_seed": aris,
        "spread": round(max(aris) - min(aris), 4),
        "networks_seconds_mean": round(float(np.mean(seconds)), 2),
    }


def _tied_hits(tied: int, picked: int, places: int, broken: str) -> dict[int, float]:
    """How many of our ``picked`` among ``tied`` people fill the truth's ``places`` among them,
    with its probability, when the tie is broken for us, against us, or at random."""
    if broken == "ours":
        return {min(places, picked): 1.0}
    if broken == "against":
        return {max(0, picked - (tied - places)): 1.0}
    total = math.comb(tied, places)
    return {
        k: math.comb(picked, k) * math.comb(tied - picked, places - k) / total
        for k in range(max(0, places - (tied - picked)), min(places, picked) + 1)
    }


def key_player_overlap(
    truth: dict[str, dict[str, str]],
    true_keys: dict[str, list[str]],
    person_of_entity: dict[str, str],
    entities_of_person: dict[str, set[str]],
    network_of: dict[str, str],
    rankings: dict[str, dict[str, list[str]]],
    ties_at_cut: dict[str, tuple[set[str], set[str], int]] | None = None,
    broken: str = "ours",
) -> dict[str, Any]:
    """Issue 11's key-player figure, for each ranking given (name -> network -> entity ids).

    With ``ties_at_cut`` (true network -> the truth's key players above a tie at its fifth
    place, the people tied there, and the places the tie fills), the truth's own order among
    the tied is set aside: ``broken`` "ours" counts a pick among the tied as a hit up to those
    places (the truth broke its tie in our favour), "against" fills the places with the tied
    we did not pick first, and "random" scores the expectation over a random order of the
    tied (hypergeometric; the share met and the mean hits are then expectations)."""
    sizes = Counter(r["network_id"] for r in truth.values() if r["network_id"])
    people_of: dict[str, list[str]] = {}
    for p, r in truth.items():
        people_of.setdefault(r["network_id"], []).append(p)
    result: dict[str, Any] = {}
    details = []
    for name, ranking in rankings.items():
        hits: list[float] = []
        met: list[float] = []
        for tnet, size in sorted(sizes.items()):
            if size < KEY_MIN_PEOPLE or not true_keys.get(tnet):
                continue
            people = people_of.get(tnet, [])
            held = Counter(
                nid
                for p in people
                for nid in {
                    network_of[e] for e in entities_of_person.get(p, set()) if e in network_of
                }
            )
            truth_top = set(true_keys[tnet][:TOP])
            need = min(NEED, len(truth_top))
            if not held:
                hits.append(0)
                met.append(False)
                if name == "default":
                    details.append({"true": tnet, "people": size, "ours": None, "hits": 0})
                continue
            # most people; on a tie the smallest id (a Counter's order would follow set order)
            ours_net = min(held.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            ours_top = {person_of_entity.get(e) for e in ranking.get(ours_net, [])[:TOP]}
            hit = len(truth_top & ours_top)
            if ties_at_cut and tnet in ties_at_cut:
                sure, tied, places = ties_at_cut[tnet]
                picked = len(tied & ours_top)
                odds = _tied_hits(len(tied), picked, places, broken)
                hits.append(len(sure & ours_top) + sum(k * q for k, q in odds.items()))
                met.append(sum(q for k, q in odds.items() if len(sure & ours_top) + k >= need))
                hit = round(hits[-1])
            else:
                hits.append(hit)
                met.append(hit >= need)
            if name == "default":
                details.append(
                    {
                        "true": tnet,
                        "people": size,
                        "ours": ours_net,
                        "held": held[ours_net],
                        "hits": hit,
                        "truth_listed": len(truth_top),
                    }
                )
        result[name] = {
            "true_networks": len(hits),
            "share_3_of_5": round(sum(met) / len(met), 4) if met else None,
            "mean_hits": round(float(np.mean(hits)), 3) if hits else None,
            "hits": dict(sorted(Counter(round(h) for h in hits).items())),
        }
    result["unscored"] = sum(
        1 for t, size in sizes.items() if size >= KEY_MIN_PEOPLE and not true_keys.get(t)
    )
    result["misses"] = [d for d in details if d["hits"] < min(NEED, d.get("truth_listed", NEED))]
    return result


def link_prediction(ws: Any, ties: pa.Table, seeds: int) -> dict[str, Any]:
    org_kind = {str(e): str(k) for e, k in ws.store.rows(_ORG_KINDS)}
    edges = criminal_ties(ties, org_kind)
    table = pa.table(
        {
            "source": edges.column("source"),
            "target": edges.column("target"),
            "weight": pa.array(
                [float(max(r or 1, 1)) for r in edges.column("records").to_pylist()],
                pa.float64(),
            ),
        }
    )
    net = build_network(table)
    start = time.perf_counter()
    context = dataclasses.replace(split_ties(edges, ties), attributes=entity_attributes(ws))
    aucs: dict[str, list[float]] = {m: [] for m in ALL_METHODS}
    near: dict[str, list[float]] = {m: [] for m in ALL_METHODS}
    positives = positives_near = 0
    for seed in range(seeds):
        result = evaluate_links(net, seed=seed, context=context).to_pylist()
        for r in result:
            aucs[r["method"]].append(float(r["auc"]))
            near[r["method"]].append(float(r["auc_near"]))
        positives = int(result[0]["positives"])
        positives_near = int(result[0]["positives_near"])
    return {
        "graph": {"people": net.graph.vcount(), "ties": net.graph.ecount()},
        "hidden": positives,
        "seeds": seeds,
        "auc": {m: round(float(np.mean(v)), 4) for m, v in aucs.items()},
        "auc_min": {m: round(float(np.min(v)), 4) for m, v in aucs.items()},
        "auc_each": {m: [round(x, 4) for x in v] for m, v in aucs.items()},
        "hidden_near": positives_near,
        "auc_near": {m: round(float(np.mean(v)), 4) for m, v in near.items()},
        "seconds": round(time.perf_counter() - start, 2),
    }


def hubs_by_market_option(parser: argparse.ArgumentParser) -> None:
    """``--hubs-by-market/--no-hubs-by-market``, shared by the network benches."""
    parser.add_argument(
        "--hubs-by-market",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rule 2's local distributor by where he sells (networks.HUBS_BY_MARKET, "
        "on by default; --no-hubs-by-market measures it off)",
    )
    parser.add_argument(
        "--market-by-home",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rule 2's market counts a retail customer in his home city "
        "(networks.MARKET_BY_HOME; --no-market-by-home counts every city of his records)",
    )


def apply_hubs_by_market(args: argparse.Namespace) -> None:
    """Set rule 2's switch as asked (left at main's default when not given)."""
    if args.hubs_by_market is not None:
        networks.HUBS_BY_MARKET = args.hubs_by_market
    if args.market_by_home is not None:
        networks.MARKET_BY_HOME = args.market_by_home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic world (with truth/)")
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--link-seeds", type=int, default=5)
    parser.add_argument("--no-compare", action="store_true", help="skip other rankings")
    parser.add_argument("--only", choices=["links", "spread"], help="only this figure (no analyze)")
    parser.add_argument("--leiden-seed", type=int, default=0, help="rule 4's Leiden seed")
    parser.add_argument(
        "--leiden-runs", type=int, default=LEIDEN_RUNS, help="rule 4's Leiden runs (best kept)"
    )
    parser.add_argument("--leiden-seeds", type=int, default=5, help="seeds for --only spread")
    hubs_by_market_option(parser)
    args = parser.parse_args()
    apply_hubs_by_market(args)
    if args.only == "links":
        with open_workspace(args.workspace, create=False) as ws:
            links = link_prediction(ws, entity_ties(ws), args.link_seeds)
        print(json.dumps({"link_prediction": links}, indent=2))
        return
    world = read_truth(args.world)
    if args.only == "spread":
        with open_workspace(args.workspace, create=False) as ws:
            spread = seed_spread(world, ws, args.leiden_seeds, args.leiden_runs)
        print(json.dumps({"leiden_seeds": spread}, indent=2))
        return
    truth, person_of, true_keys = world.persons, world.person_of, world.key_players
    start = time.perf_counter()
    with open_workspace(args.workspace, create=False) as ws:
        result = analyze(ws, split_seed=args.leiden_seed, split_runs=args.leiden_runs)
        total = time.perf_counter() - start
        entity_of = {
            str(r): str(e)
            for r, e in ws.store.rows(
                "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
            )
        }
        links = link_prediction(ws, result.ties, args.link_seeds)
        rankings: dict[str, dict[str, list[str]]] = {"default": {}}
        for r in result.key_players.to_pylist():
            rankings["default"].setdefault(r["network_id"], []).append(r["entity_id"])
        graphs = None if args.no_compare else network_graphs(ws, result.ties, result.members)
    members = result.members
    attribution = result.attribution
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in members.to_pylist()}
    upstream = {str(r["network_id"]) for r in members.to_pylist() if r["upstream"]}

    ari, scored = network_ari(truth, person_of, entity_of, members)
    people: dict[str, set[str]] = {}
    votes: dict[str, Counter[str]] = {}
    entities_of_person: dict[str, set[str]] = {}
    for record, entity in entity_of.items():
        person = person_of.get(record)
        row = truth.get(person or "")
        if row is None or person is None:
            continue
        votes.setdefault(entity, Counter())[person] += 1
        entities_of_person.setdefault(person, set()).add(entity)
        nid = network_of.get(entity)
        if nid and nid not in upstream and row["cartel"]:
            people.setdefault(nid, set()).add(person)
    person_of_entity = {e: c.most_common(1)[0][0] for e, c in votes.items()}

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

    if graphs is not None:
        for method in ("keyplayer", "betweenness", "degree"):
            rankings[method] = {
                nid: key_players(net, TOP, method=method).table.column("id").to_pylist()
                for nid, net in graphs.items()
            }
    keys = key_player_overlap(
        truth, true_keys, person_of_entity, entities_of_person, network_of, rankings
    )
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
                "ari": ari,
                "records_scored": scored,
                "largest_network": max(Counter(network_of.values()).values(), default=0),
                "key_players": keys,
                "link_prediction": links,
                "seconds": {
                    **{k: round(v, 2) for k, v in result.seconds.items()},
                    "analysis_total": round(total, 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
