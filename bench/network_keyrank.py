"""Other key-player rankings against a synthetic world's truth (issue 11's 3-of-5 figure).

Runs ``lastmile.network.analyze.analyze`` once, measures for every person of every
workspace network the evidence a ranking could read, and scores each ranking of
:data:`VARIANTS` with ``bench/network_truth.py``'s ``key_player_overlap`` (for each true
network of at least 10 people, the lastmile network holding most of its people and its top 5).
``default`` is the library's ranking (``lastmile.network.keyplayer.supply_order``); the others
change one key of it. Three bounds use the truth (they are not methods): ``bound_dedup``
drops from the ranking every entity whose true person is already ranked above (a perfect
resolution of the people in the top), and ``bound_best_of_N`` puts first every truth key player
the default ranks in its first N (a perfect choice among the first N). For each variant: the
figure, the mean hits, and against the default the top-5 places it moves, the networks it gains
and loses; and ``truth_tie_broken``, the figure with the truth's tie at each network's fifth
place set aside (:func:`truth_cuts` recomputes the truth's ranking from ``truth/ties.csv``):
``ids_*`` where the fall and the efficiency fall tie and only the entity id decides, ``fall_*``
where the fall ties; broken for us (``ours``, a ceiling), against us (``against``, a floor) or
at random (``random``, the expectation). ``truth_cuts`` counts those ties, ``seconds`` the time
the falls and the efficiency falls of the observed graphs took. docs/networks-rounds.md
("Key players, fifth round", "sixth round") reads it.

The evidence (each per person, inside his network unless said):

- ``supplied``, ``falls``, ``distributes``, ``degree``, ``betweenness``, ``shares``: what the
  default reads (people supplied, the fall of the largest component on his removal alone, a
  stated distributor, ties, betweenness, the people sharing a selector with him);
- ``strength``: calls and records behind his ties; ``supply_records``: the records behind his
  supply ties; ``supplied_reliable``: people supplied by a tie with an Admiralty source grade of
  A or B (Admiralty/NATO grades, the records' ``source_reliability``);
- ``customer_groups``: the Leiden communities his customers belong to (distinct crews
  depending on him); ``neighbour_groups``: other communities among his neighbours (brokerage
  between groups, Gould & Fernandez 1989); ``downstream2``: people supplied by him or his
  customers; ``supplied_out``: people he supplies outside the network; ``suppliers``: people
  of the network who supply him;
- ``arrests``: his arrest records; ``cases``: investigations naming him; ``seizures``: drug
  seizures in those investigations;
- ``tenure``: days from his first to his last dated tie in the network, ``months``: months with
  one (persistence over time: Bright & Delaney 2013, Morselli 2009);
- ``unknown``: numbers no record owns that he calls or is called by, ``private``: those no other
  person of the workspace calls (dependants no record names);
- ``names``: his normalised full names (given and family name tokens, sorted);
- ``efficiency``: the fall in global efficiency on his removal alone (:func:`efficiency_falls`;
  Latora & Marchiori 2001, the truth's first tie-break);
- ``falls_criminal``, ``efficiency_criminal``, ``degree_criminal``: the fall, the efficiency
  fall and ties on the graph of the tie kinds the truth's criminal graph holds
  (:data:`TRUTH_KINDS`: no shared selector); ``falls_strong``, ``efficiency_strong``: on supply
  and calls only (:data:`STRONG_KINDS`).

    .venv/bin/python bench/network_keyrank.py /work/data/nat -w W/nat.duckdb
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa

from lastmile.network.analyze import analyze
from lastmile.network.centrality import centralities
from lastmile.network.communities import leiden
from lastmile.network.keyplayer import (
    DISTRIBUTES,
    SHARES_SELECTOR,
    SUPPLIES,
    bare,
    removal_falls,
    supply_order,
)
from lastmile.network.networks import network_graphs
from lastmile.network.workspace import _OWNERS
from lastmile.store import open_workspace
from lastmile.synth.truth import CRIMINAL_TIES
from network_truth import KEY_MIN_PEOPLE, TOP, key_player_overlap, read_truth

Feats = dict[str, Any]
"""One network's evidence: ``ids`` (entity ids, vertex order) and one array or list per key."""

RELIABLE = ("A", "B")
"""Admiralty source grades read as reliable (A completely, B usually reliable)."""
NOT_WORKING = ("family", "membership", "shared_selector")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


"""Tie kinds that are not working together (no date of activity in the network)."""

_UNKNOWN = f"""
    WITH owners AS ({_OWNERS}),
    ends AS (
        SELECT c.event_key, f.owner AS me, c.to_selector AS other
        FROM communications c JOIN owners f ON f.value = c.from_selector
        UNION ALL
        SELECT c.event_key, t.owner AS me, c.from_selector AS other
        FROM communications c JOIN owners t ON t.value = c.to_selector
    ),
    per AS (
        SELECT me, other FROM ends
        WHERE other NOT IN (SELECT value FROM owners) GROUP BY me, other
    ),
    callers AS (SELECT other, count(DISTINCT me) AS k FROM per GROUP BY other)
    SELECT p.me, count(*) AS numbers, count(*) FILTER (WHERE c.k = 1) AS private
    FROM per p JOIN callers c USING (other) GROUP BY p.me
"""
_PER_SUBJECT = """
    SELECT m.entity_id, s.full_name, s.given_name, s.family_name, s.investigation_id
    FROM subjects s
    JOIN entity_members m ON m.record_type = 'subjects' AND m.record_id = s.subject_id
"""
_ARRESTS = """
    SELECT p.entity_id, count(DISTINCT a.arrest_id) FROM arrests a
    JOIN entity_members p ON p.record_type = 'subjects' AND p.record_id = a.subject_id
    GROUP BY p.entity_id
"""
_SEIZURES = "SELECT investigation_id, count(*) FROM drug_seizures GROUP BY investigation_id"


@dataclass(frozen=True)
class TrueCut:
    """How the truth's top 5 of one true network is decided at its fifth place.

    The truth's keys for its candidates (people with a subject record) are the fall of the
    largest component of true criminal ties on one's removal alone, then the fall in global
    efficiency (computed, as the truth does, only for the busiest 40 of a tie at the cut), then
    the entity id. ``listed`` is its top 5, ``cut_fall`` the fifth's fall; ``sure_fall`` the key
    players whose fall is above it, ``tied_fall`` every candidate whose fall equals it,
    ``places_fall`` the places they fill; ``sure_id``, ``tied_id``, ``places_id`` the same once
    the efficiency fall has been read (the people left tied there are ordered by id alone)."""

    listed: list[str]
    cut_fall: int
    sure_fall: set[str]
    tied_fall: set[str]
    places_fall: int
    sure_id: set[str]
    tied_id: set[str]
    places_id: int

    @property
    def tie_on_fall(self) -> bool:
        return len(self.tied_fall) > self.places_fall > 0

    @property
    def tie_on_id(self) -> bool:
        return len(self.tied_id) > self.places_id > 0


def _efficiency(g: ig.Graph) -> float:
    """Latora and Marchiori's global efficiency (the mean inverse distance over ordered pairs)."""
    if g.vcount() < 2:
        return 0.0
    return float(np.mean(g.harmonic_centrality(normalized=True)))


def truth_cuts(world: Path, persons: Mapping[str, Mapping[str, str]]) -> dict[str, TrueCut]:
    """The truth's key-player ranking recomputed from ``truth/ties.csv`` (its criminal tie
    kinds, both people in one true network; ``lastmile.synth.truth._key_players``), with the
    ties at each network's fifth place."""
    members: dict[str, list[str]] = {}
    for p, row in persons.items():
        if row["network_id"]:
            members.setdefault(row["network_id"], []).append(p)
    recorded = {
        r["entity_id"]
        for r in _read(world / "truth" / "records.csv")
        if r["record_type"] == "subjects"
    }
    edges: dict[str, list[tuple[str, str]]] = {}
    for t in _read(world / "truth" / "ties.csv"):
        a, b = t["entity_a"], t["entity_b"]
        if t["kind"] not in CRIMINAL_TIES or a not in persons or b not in persons:
            continue
        net = persons[a]["network_id"]
        if net and net == persons[b]["network_id"]:
            edges.setdefault(net, []).append((a, b))
    cuts: dict[str, TrueCut] = {}
    for net, people in members.items():
        people.sort()
        index = {m: i for i, m in enumerate(people)}
        pairs = sorted({(index[a], index[b]) for a, b in edges.get(net, [])})
        g = ig.Graph(n=len(people), edges=pairs)
        g.simplify()
        cand = [m for m in people if m in recorded]
        if not cand:
            continue

        def lcc(h: ig.Graph) -> int:
            return max(h.connected_components().sizes()) if h.vcount() else 0

        base = lcc(g)
        fall = {}
        for m in cand:
            h = g.copy()
            h.delete_vertices([index[m]])
            fall[m] = base - lcc(h)
        ranked = sorted(cand, key=lambda m: (-fall[m], m))
        top = min(TOP, len(ranked))
        cut = fall[ranked[top - 1]]
        sure_fall = {m for m in cand if fall[m] > cut}
        tied_fall = {m for m in cand if fall[m] == cut}
        eff: dict[str, float] = {}
        tied = [m for m in ranked if fall[m] >= cut]
        if len(tied) > TOP:
            tied = sorted(tied, key=lambda m: (-g.degree(index[m]), m))[:40]
            eff0 = _efficiency(g)
            for m in tied:
                h = g.copy()
                h.delete_vertices([index[m]])
                eff[m] = round(eff0 - _efficiency(h), 12)
            ranked = sorted(tied, key=lambda m: (-fall[m], -eff[m], m))
        listed = ranked[:top]
        fifth = listed[-1]
        at = [m for m in ranked if fall[m] == cut]
        sure_id = set(sure_fall) | {m for m in at if eff.get(m, 0.0) > eff.get(fifth, 0.0)}
        tied_id = {m for m in at if eff.get(m, 0.0) == eff.get(fifth, 0.0)}
        cuts[net] = TrueCut(
            listed,
            cut,
            sure_fall,
            tied_fall,
            top - len(sure_fall),
            sure_id,
            tied_id,
            top - len(sure_id),
        )
    return cuts


def efficiency_falls(g: ig.Graph, budget: int = 10_000_000_000) -> np.ndarray:
    """For each vertex, the fall in global efficiency (Latora & Marchiori 2001) when it alone
    is removed: the truth's first tie-break, and the distance-weighted reading of Borgatti's
    (2006) KPP-Neg. A leaf's fall has a closed form (no distance between others passes through
    it); every other vertex costs one all-pairs pass (n (n + m)), made for the vertices with
    most ties first while the ``budget`` of tie visits lasts (the others keep their leaf
    form, a lower bound)."""
    n = g.vcount()
    out = np.zeros(n)
    if n < 3:
        return out
    g = g.copy()
    g.simplify()
    harmonic = np.asarray(g.harmonic_centrality(normalized=False))
    total = float(harmonic.sum())
    before = total / (n * (n - 1))
    # without v and no path through it: every other pair keeps its distance
    out[:] = before - (total - 2 * harmonic) / ((n - 1) * (n - 2))
    degree = np.asarray(g.degree())
    cost = n * (n + g.ecount())
    spent = 0
    for v in sorted(range(n), key=lambda v: (-degree[v], v)):
        if degree[v] <= 1 or spent + cost > budget:
            break
        spent += cost
        h = g.copy()
        h.delete_vertices([v])
        out[v] = before - float(np.sum(h.harmonic_centrality(normalized=False))) / (
            (n - 1) * (n - 2)
        )
    return out


def kind_graph(ids: list[str], ties: Iterable[Mapping[str, Any]], kinds: Iterable[str]) -> ig.Graph:
    """The people ``ids`` (in that vertex order) and their ties of ``kinds`` among them."""
    index = {e: v for v, e in enumerate(ids)}
    wanted = set(kinds)
    pairs = {
        tuple(sorted((index[t["source"]], index[t["target"]])))
        for t in ties
        if t["kind"] in wanted
        and t["source"] in index
        and t["target"] in index
        and t["source"] != t["target"]
    }
    return ig.Graph(n=len(ids), edges=sorted(pairs))


def name_key(name: str) -> str:
    """A full name folded to ASCII lower case, its tokens sorted ('BREWER, Jason' and 'Jason
    Brewer' give one key)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(sorted(re.findall(r"[a-z]+", folded)))


def activity(
    ties: Iterable[Mapping[str, Any]], network_of: Mapping[str, str]
) -> dict[str, tuple[int, int]]:
    """For each person, the days from his first to his last dated tie inside his network, and
    the months with one (ties of working together only: not family, membership or a shared
    selector)."""
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    months: dict[str, set[tuple[int, int]]] = {}
    for t in ties:
        a, b = t["source"], t["target"]
        if t["kind"] in NOT_WORKING or network_of.get(a) is None:
            continue
        if network_of.get(a) != network_of.get(b):
            continue
        for text in (t["first"], t["last"]):
            try:
                day = dt.date.fromisoformat(str(text or "")[:10])
            except ValueError:
                continue
            for e in (a, b):
                lo, hi = spans.get(e, (day, day))
                spans[e] = (min(lo, day), max(hi, day))
                months.setdefault(e, set()).add((day.year, day.month))
    return {e: ((hi - lo).days, len(months[e])) for e, (lo, hi) in spans.items()}


def ordered(f: Feats, keys: list[Any], *, by_name: bool = False) -> list[int]:
    """The vertices by ``keys`` (the first most significant, each descending; ties keep vertex
    order), then the default's rule: one who shares a selector with someone ranked before (or,
    with ``by_name``, a normalised name) comes after everyone who does not."""
    columns = tuple(-np.asarray(k, dtype=float) for k in reversed(keys))
    order = [int(v) for v in np.lexsort(columns)]
    index = {name: v for v, name in enumerate(f["ids"])}
    chosen: set[int] = set()
    seen: set[str] = set()
    first: list[int] = []
    later: list[int] = []
    for v in order:
        shared = any(index.get(p) in chosen for p in f["shares"][v])
        if shared or (by_name and f["names"][v] & seen):
            later.append(v)
        else:
            first.append(v)
            chosen.add(v)
            seen |= f["names"][v]
    return first + later


def _base(f: Feats) -> list[Any]:
    return [f["supplied"], f["falls"], f["distributes"]]


def _then(f: Feats, *extra: Any) -> list[int]:
    """The default with ``extra`` keys after a stated distributor (before ties)."""
    return ordered(f, [*_base(f), *extra, f["degree"], f["betweenness"]])


def _last(f: Feats, *extra: Any) -> list[int]:
    """The default with ``extra`` keys after ties (before betweenness)."""
    return ordered(f, [*_base(f), f["degree"], *extra, f["betweenness"]])


def _default(f: Feats) -> list[int]:
    return supply_order(
        f["supplied"],
        f["falls"],
        f["degree"],
        f["betweenness"],
        f["ids"],
        f["shares"],
        f["distributes"],
    )[0]


VARIANTS: dict[str, Callable[[Feats], list[int]]] = {
    "default": _default,
    "supplied_reliable_first": lambda f: ordered(
        f, [f["supplied_reliable"], *_base(f), f["degree"], f["betweenness"]]
    ),
    "supply_records_after_supplied": lambda f: ordered(
        f,
        [f["supplied"], f["supply_records"], *_base(f)[1:], f["degree"], f["betweenness"]],
    ),
    "customer_groups_first": lambda f: ordered(
        f, [f["customer_groups"], *_base(f), f["degree"], f["betweenness"]]
    ),
    "neighbour_groups_after_distributor": lambda f: _then(f, f["neighbour_groups"]),
    "supplied_with_outside": lambda f: ordered(
        f,
        [f["supplied"] + f["supplied_out"], *_base(f)[1:], f["degree"], f["betweenness"]],
    ),
    "downstream2_after_supplied": lambda f: ordered(
        f,
        [f["supplied"], f["downstream2"], *_base(f)[1:], f["degree"], f["betweenness"]],
    ),
    "top_of_chain_after_supplied": lambda f: ordered(
        f,
        [
            f["supplied"],
            (f["suppliers"] == 0) & (f["supplied"] > 0),
            *_base(f)[1:],
            f["degree"],
            f["betweenness"],
        ],
    ),
    "arrests_after_distributor": lambda f: _then(f, f["arrests"]),
    "seizures_after_distributor": lambda f: _then(f, f["seizures"]),
    "cases_after_distributor": lambda f: _then(f, f["cases"]),
    "strength_after_distributor": lambda f: _then(f, f["strength"]),
    "tenure_after_distributor": lambda f: _then(f, f["tenure"]),
    "months_after_distributor": lambda f: _then(f, f["months"]),
    "unknown_after_distributor": lambda f: _then(f, f["unknown"]),
    "private_after_distributor": lambda f: _then(f, f["private"]),
    "arrests_after_ties": lambda f: _last(f, f["arrests"]),
    "seizures_after_ties": lambda f: _last(f, f["seizures"]),
    "tenure_after_ties": lambda f: _last(f, f["tenure"]),
    "unknown_after_ties": lambda f: _last(f, f["unknown"]),
    "private_after_ties": lambda f: _last(f, f["private"]),
    "same_name_after_others": lambda f: ordered(
        f, [*_base(f), f["degree"], f["betweenness"]], by_name=True
    ),
    "efficiency_after_fall": lambda f: ordered(
        f,
        [
            f["supplied"],
            f["falls"],
            f["efficiency"],
            f["distributes"],
            f["degree"],
            f["betweenness"],
        ],
    ),
    "efficiency_after_distributor": lambda f: _then(f, f["efficiency"]),
    "efficiency_after_ties": lambda f: _last(f, f["efficiency"]),
    "efficiency_for_betweenness": lambda f: ordered(f, [*_base(f), f["degree"], f["efficiency"]]),
    "efficiency_for_ties": lambda f: ordered(f, [*_base(f), f["efficiency"], f["betweenness"]]),
    "fall_criminal": lambda f: ordered(
        f, [f["supplied"], f["falls_criminal"], f["distributes"], f["degree"], f["betweenness"]]
    ),
    "fall_criminal_then_fall": lambda f: ordered(
        f,
        [
            f["supplied"],
            f["falls_criminal"],
            f["falls"],
            f["distributes"],
            f["degree"],
            f["betweenness"],
        ],
    ),
    "fall_criminal_efficiency_criminal": lambda f: ordered(
        f,
        [
            f["supplied"],
            f["falls_criminal"],
            f["efficiency_criminal"],
            f["distributes"],
            f["degree"],
            f["betweenness"],
        ],
    ),
    "efficiency_criminal_for_betweenness": lambda f: ordered(
        f, [*_base(f), f["degree"], f["efficiency_criminal"]]
    ),
    "ties_criminal": lambda f: ordered(f, [*_base(f), f["degree_criminal"], f["betweenness"]]),
    "truth_criterion_observed": lambda f: ordered(
        f, [f["falls"], f["efficiency"], f["supplied"], f["distributes"], f["degree"]]
    ),
    "truth_criterion_observed_criminal": lambda f: ordered(
        f,
        [
            f["falls_criminal"],
            f["efficiency_criminal"],
            f["supplied"],
            f["distributes"],
            f["degree"],
        ],
    ),
    "fall_strong": lambda f: ordered(
        f, [f["supplied"], f["falls_strong"], f["distributes"], f["degree"], f["betweenness"]]
    ),
    "fall_strong_efficiency_strong": lambda f: ordered(
        f,
        [
            f["supplied"],
            f["falls_strong"],
            f["efficiency_strong"],
            f["distributes"],
            f["degree"],
            f["betweenness"],
        ],
    ),
}
TRUTH_KINDS = ("supply", "communication", "association", "co_arrest")
"""The observed ties of the kinds the truth's criminal graph holds (no shared selector)."""
STRONG_KINDS = ("supply", "communication")
"""Supply and calls only (no association, arrest together or shared selector)."""


SECONDS: dict[str, float] = {}
"""The seconds the last :func:`features` spent on the falls and on the efficiency falls of the
observed network graphs (the cost either would add to the analysis)."""


def _timed(seconds: dict[str, float], key: str, compute: Callable[..., Any], *args: Any) -> Any:
    start = time.perf_counter()
    value = compute(*args)
    seconds[key] += time.perf_counter() - start
    return value


def features(ws: Any, ties: pa.Table, members: pa.Table) -> dict[str, Feats]:
    """Every network's evidence (see the module's doc)."""
    graphs = network_graphs(ws, ties, members)
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in members.to_pylist()}
    names: dict[str, set[str]] = {}
    cases: dict[str, set[str]] = {}
    for e, full, given, family, case in ws.store.rows(_PER_SUBJECT):
        keys = names.setdefault(str(e), set())
        written = [full, *([f"{given} {family}"] if given and family else [])]
        keys.update(name_key(str(x)) for x in written if x)
        keys.discard("")
        cases.setdefault(str(e), set()).add(str(case))
    arrests = {str(e): int(n) for e, n in ws.store.rows(_ARRESTS)}
    seized = {str(i): int(n) for i, n in ws.store.rows(_SEIZURES)}
    unknown = {str(e): (int(a), int(b)) for e, a, b in ws.store.rows(_UNKNOWN)}
    rows = ties.select(["source", "target", "kind", "records", "grades", "first", "last"])
    listed = rows.to_pylist()
    active = activity(listed, network_of)
    out_of: dict[str, list[dict[str, Any]]] = {}
    into: dict[str, list[str]] = {}
    for t in listed:
        if t["kind"] == "supply":
            out_of.setdefault(t["source"], []).append(t)
            into.setdefault(t["target"], []).append(t["source"])
    within: dict[str, list[dict[str, Any]]] = {}
    for t in listed:
        nid = network_of.get(t["source"])
        if nid is not None and network_of.get(t["target"]) == nid:
            within.setdefault(nid, []).append(t)
    found: dict[str, Feats] = {}
    seconds = {"falls": 0.0, "efficiency_falls": 0.0}
    for nid, net in graphs.items():
        g = net.graph
        ids = list(g.vs["name"])
        criminal = kind_graph(ids, within.get(nid, []), TRUTH_KINDS)
        strong = kind_graph(ids, within.get(nid, []), STRONG_KINDS)
        inside = set(ids)
        cent, btw = centralities(g, seed=0)
        group = leiden(g, seed=0)
        index = {name: v for v, name in enumerate(ids)}
        customers = {e: [t for t in out_of.get(e, []) if t["target"] in inside] for e in ids}
        direct = {e: {t["target"] for t in customers[e]} for e in ids}

        def reliable(t: Mapping[str, Any]) -> bool:
            return any(x[:1] in RELIABLE for x in str(t["grades"] or "").split("|"))

        found[nid] = {
            "ids": ids,
            "supplied": np.asarray(g.vs[SUPPLIES], dtype=np.int64),
            "falls": _timed(seconds, "falls", removal_falls, bare(g)).values,
            "distributes": np.asarray(g.vs[DISTRIBUTES], dtype=np.int64),
            "degree": cent.column("degree").to_numpy(),
            "betweenness": btw.values,
            "shares": g.vs[SHARES_SELECTOR],
            "strength": cent.column("weighted_degree").to_numpy(),
            "supply_records": np.asarray(
                [sum(t["records"] or 1 for t in customers[e]) for e in ids]
            ),
            "supplied_reliable": np.asarray([sum(map(reliable, customers[e])) for e in ids]),
            "customer_groups": np.asarray([len({group[index[c]] for c in direct[e]}) for e in ids]),
            "neighbour_groups": np.asarray(
                [len({group[u] for u in g.neighbors(v)} - {group[v]}) for v in range(len(ids))]
            ),
            "downstream2": np.asarray(
                [len(direct[e].union(*(direct.get(c, set()) for c in direct[e]))) for e in ids]
            ),
            "supplied_out": np.asarray(
                [sum(1 for t in out_of.get(e, []) if t["target"] not in inside) for e in ids]
            ),
            "suppliers": np.asarray([sum(1 for s in into.get(e, []) if s in inside) for e in ids]),
            "arrests": np.asarray([arrests.get(e, 0) for e in ids]),
            "cases": np.asarray([len(cases.get(e, ())) for e in ids]),
            "seizures": np.asarray([sum(seized.get(c, 0) for c in cases.get(e, ())) for e in ids]),
            "tenure": np.asarray([active.get(e, (0, 0))[0] for e in ids]),
            "months": np.asarray([active.get(e, (0, 0))[1] for e in ids]),
            "unknown": np.asarray([unknown.get(e, (0, 0))[0] for e in ids]),
            "private": np.asarray([unknown.get(e, (0, 0))[1] for e in ids]),
            "names": [names.get(e, set()) for e in ids],
            "efficiency": _timed(seconds, "efficiency_falls", efficiency_falls, bare(g)),
            "falls_criminal": removal_falls(criminal).values,
            "efficiency_criminal": efficiency_falls(criminal),
            "degree_criminal": np.asarray(criminal.degree()),
            "falls_strong": removal_falls(strong).values,
            "efficiency_strong": efficiency_falls(strong),
        }
    SECONDS.update({k: round(v, 2) for k, v in seconds.items()})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="the synthetic world (with truth/)")
    parser.add_argument("-w", "--workspace", required=True, help="a resolved workspace")
    args = parser.parse_args()
    world = read_truth(args.world)
    truth, true_keys = world.persons, world.key_players
    with open_workspace(args.workspace, create=False) as ws:
        result = analyze(ws)
        found = features(ws, result.ties, result.members)
        votes = world.entity_persons(ws)
    entities_of_person: dict[str, set[str]] = {}
    for entity, counts in votes.items():
        for person in counts:
            entities_of_person.setdefault(person, set()).add(entity)
    person_of_entity = {e: c.most_common(1)[0][0] for e, c in votes.items()}
    network_of = {str(r["entity_id"]): str(r["network_id"]) for r in result.members.to_pylist()}
    keys = {p for ranked in true_keys.values() for p in ranked[:5]}

    def dedup(f: Feats) -> list[int]:
        seen: set[str | None] = set()
        first: list[int] = []
        later: list[int] = []
        for v in _default(f):
            p = person_of_entity.get(f["ids"][v])
            (later if p is not None and p in seen else first).append(v)
            seen.add(p)
        return first + later

    def best_of(n: int) -> Callable[[Feats], list[int]]:
        def ranked(f: Feats) -> list[int]:
            order = _default(f)
            good = [v for v in order[:n] if person_of_entity.get(f["ids"][v]) in keys]
            return good + [v for v in order if v not in good]

        return ranked

    rankers = {**VARIANTS, "bound_dedup": dedup}
    rankers |= {f"bound_best_of_{n}": best_of(n) for n in (6, 8, 10)}
    tops = {
        name: {nid: [f["ids"][v] for v in rank(f)[:5]] for nid, f in found.items()}
        for name, rank in rankers.items()
    }
    scores = {}
    for name, top in tops.items():
        scores[name] = key_player_overlap(
            truth, true_keys, person_of_entity, entities_of_person, network_of, {"default": top}
        )
    cuts = truth_cuts(args.world, truth)
    by_id = {t: (c.sure_id, c.tied_id, c.places_id) for t, c in cuts.items()}
    by_fall = {t: (c.sure_fall, c.tied_fall, c.places_fall) for t, c in cuts.items()}
    ceilings = {
        name: {
            which: key_player_overlap(
                truth,
                true_keys,
                person_of_entity,
                entities_of_person,
                network_of,
                {"default": top},
                ties_at_cut=tolerant,
                broken=broken,
            )["default"]["share_3_of_5"]
            for which, tolerant, broken in (
                ("ids_ours", by_id, "ours"),
                ("ids_against", by_id, "against"),
                ("ids_random", by_id, "random"),
                ("fall_ours", by_fall, "ours"),
                ("fall_random", by_fall, "random"),
            )
        }
        for name, top in tops.items()
    }
    sizes = Counter(r["network_id"] for r in truth.values() if r["network_id"])
    scored_cuts = [c for t, c in cuts.items() if sizes[t] >= KEY_MIN_PEOPLE and true_keys.get(t)]
    missed = {x["true"] for x in scores["default"]["misses"]}
    report: dict[str, Any] = {}
    for name, scored in scores.items():
        lost = {x["true"] for x in scored["misses"]}
        report[name] = {
            "share_3_of_5": scored["default"]["share_3_of_5"],
            "mean_hits": scored["default"]["mean_hits"],
            "places_moved": sum(
                len(set(top) - set(tops[name].get(nid, []))) for nid, top in tops["default"].items()
            ),
            "gained": len(missed - lost),
            "lost": len(lost - missed),
            "truth_tie_broken": ceilings[name],
        }
    report["seconds"] = dict(SECONDS)
    report["truth_cuts"] = {
        "scored": len(scored_cuts),
        "fifth_place_tied_on_fall": sum(c.tie_on_fall for c in scored_cuts),
        "places_tied_on_fall": sum(c.places_fall for c in scored_cuts if c.tie_on_fall),
        "people_tied_on_fall": sum(len(c.tied_fall) for c in scored_cuts if c.tie_on_fall),
        "fall_at_a_tied_fifth_place": dict(
            sorted(Counter(c.cut_fall for c in scored_cuts if c.tie_on_fall).items())
        ),
        "fifth_place_decided_by_id": sum(c.tie_on_id for c in scored_cuts),
        "people_tied_at_id": sum(len(c.tied_id) for c in scored_cuts if c.tie_on_id),
        "places_decided_by_id": sum(c.places_id for c in scored_cuts if c.tie_on_id),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
