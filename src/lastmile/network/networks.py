"""Distribution networks: connected groups of entities under criminal ties, with the supply
chain cut above local organizations.

The rules (docs/networks.md, "Distribution networks", says why):

1. Only criminal ties join people into a network: ``supply``, ``membership`` of an organization
   that is not a cartel or a business (nor a gang or crew named in investigations of two or
   more cities: street organizations are local), and ``communication`` with at least ``MIN_EVENTS``
   events (the stated minimum of evidence: a single call is not a relationship). Family,
   association, co-arrest and shared-selector ties never join two groups: a lawyer, a relative
   or a shared business phone does not make two crews one network. An organization entity
   whose case files fall into groups that name no subject in common joins its members as one
   organization per group (resolution matches organizations by name; one entity can be
   several groups of one name).
2. Upstream entities are evidence for attribution, not members: cartel organizations, persons
   with a stated membership in one, and **hubs**. A supplier is a hub when its supply ties reach
   two or more local units that are connected to each other only through it: parts of at
   least ``MIN_GROUP`` entities, each with a local organization of its own or in cities
   disjoint from the others'; and the units reach beyond the supplier's own cities (a
   distributor supplying crews in his own city is their head, not a hub above them).
   Whoever supplies an upstream entity (and his suppliers, up the chain) is upstream too.
   A hub (or a supplier above one) who is a stated member of an organization (a DTO of his
   own cell) is above the crews
   he supplies, not above his own organization: once the networks are built he joins the
   network holding his organization, and only hubs with no such network stay upstream.
   Tie by tie, too: a *regional* supplier (the people he supplies are, together, in two or
   more cities) is cut from each customer whose cities are a strict subset of his own (the
   supply tie and the pair's calls do not join; the pieces stay apart under rule 5): a
   wholesale level above a retail crew, evidence for attribution, not one network.
   Candidates come from the graph's structure in one linear pass (supply ties of one
   supplier in different biconnected components of the criminal graph reach parts only it
   joins; Hopcroft & Tarjan 1973); only they are checked further.
3. Networks are the connected components of the criminal graph once the upstream entities are
   taken out; upstream entities form their own networks from the criminal ties among them.
4. A component with clear community structure is split into its communities:
   Leiden on the ties weighted ``1 + ln(records)`` (modularity, resolution 1, seeded, the
   best of ``LEIDEN_RUNS`` runs), kept when the partition's modularity is at least
   ``MIN_MODULARITY`` (0.3, the level above which Clauset, Newman & Moore 2004 find
   significant community structure). Communities are
   merged back by constrained agglomeration (strongest links first, never two groups that
   are distinct in the records: each with an organization of the component's highest kind,
   DTO or else gang/crew, or in disjoint cities, or one supplies the other and works beyond
   its cities, selling there or with a member working only there: a regional supplier is
   above a local crew, or no investigation names people of both: no agency has worked them
   as one target), and a group still
   holding two DTOs is
   split again the same way (modularity's resolution limit; a piece with no organization
   of its own that the first pass refused to such a group is then offered to its parts).
   Groups of people who mostly
   deal among themselves and touch other groups through a few ties are separate networks
   (Calderoni 2012; Morselli 2009), even when those few ties pass the evidence minimum.
5. Weak evidence (a stated association, arrest together, shared selector; never family, and
   never a call or two: below rule 1's minimum a call is no relationship) attaches people and
   pieces to a network under the same constraint (case files included); it never
   makes a network of its own, and never rejoins two networks that rule 4 set apart.
6. A person in no network after rules 1-5 (most have no tie at all in the records) joins the
   home network of a strict majority of the investigations that name him: an investigation's
   home holds most of the entities its subject and organization records name (the home that
   also takes its seizures). Never upstream entities or organizations, never two networks
   of a unit's size: a *fragment* (a network of at most ``MIN_GROUP`` entities, too small to
   be a unit of rules 2 and 4) joins the larger network that is home to a strict majority of
   its investigations, unless their cities are disjoint.
   Selectors are not members (their owners are). A network needs at least two entities.
   ``network_id`` is ``N-`` and the smallest entity id in it, stable while the network is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import igraph as ig
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from lastmile.model import Role
from lastmile.network.communities import leiden
from lastmile.network.graph import Network
from lastmile.network.keyplayer import DISTRIBUTES, SUPPLIES, mark_shared_selectors
from lastmile.store import Workspace

MIN_EVENTS = 3
MIN_GROUP = 3
MIN_MODULARITY = 0.3
# Rule 4's Leiden runs: the partition of the highest modularity of these many is used, the
# practice of Leiden's authors for a stochastic optimiser. One run let the seed draw a
# network's boundary (division 11's ARI 0.956-0.988 over seeds 0-4); the best of 20 gives
# every division one answer from every seed, and nationally the same mean ARI over seeds
# (docs/networks-rounds.md, "Seventh round"; bench/network_truth.py --leiden-runs, --only spread).
LEIDEN_RUNS = 20
REGIONAL_CITIES = 2
NON_MEMBER_ORGS = ("cartel", "business")
UNIT_ORG = "dto"
WEAK_KINDS = ("association", "co_arrest", "shared_selector")
UNIT_LEVEL = {"dto": 2, "gang": 1, "crew": 1}
LOCAL_KINDS = ("gang", "crew")
# Rule 2's local distributor judged by where he sells (one city) and not by his own records'
# cities alone, which grow with every identity resolution joins to him: national ARI 0.9055
# to 0.9229 with the date override. On at merge though one network fewer is attributed and
# one more wrongly nationally: both are networks it rightly parts whose records carry little
# or misleading evidence of their cartel (docs/networks-rounds.md, "Eighth round"; the
# benches' --no-hubs-by-market measures it off).
HUBS_BY_MARKET = True
# Rule 2's market (``markets``) counts a customer in his home city (where a majority of his
# case files, else of his criminal ties, are) and where he sells on, not in every city of his
# records: a stray record of a customer (a neighbouring agency's case, a second identity
# joined by resolution) no longer makes his supplier regional (docs/networks-rounds.md,
# "Ninth round"; the benches' --no-market-by-home measures it off).
MARKET_BY_HOME = True
# A network as home_networks knows it: a group's index while networks are built, a stored
# (upstream, network_id) afterwards.
K = TypeVar("K", int, tuple[bool, str])


def bare_graph(g: ig.Graph) -> ig.Graph:
    """The structure of ``g`` without attributes (cheap to copy)."""
    return ig.Graph(n=g.vcount(), edges=g.get_edgelist(), directed=False)


MEMBERSHIP_SCHEMA = pa.schema(
    [("entity_id", pa.string()), ("network_id", pa.string()), ("upstream", pa.bool_())]
)


def criminal_ties(
    ties: pa.Table, org_kind: dict[str, str], places: dict[str, set[str]] | None = None
) -> pa.Table:
    """The ties that may join a network (rule 1), as ``source, target, kind, records``.

    With ``places`` (entity -> cities of its investigations), membership of a gang or crew
    named in investigations of two or more cities does not join: street organizations are
    local, and one such entity is most often two groups of one name (or one name resolved
    across cities), so being its member is no evidence of working with its other members.
    """
    rows = ties.select(["source", "target", "kind", "records"]).to_pylist()
    scattered = {
        e for e, k in org_kind.items() if k in LOCAL_KINDS and len((places or {}).get(e, ())) > 1
    }
    keep = []
    for r in rows:
        if r["kind"] == "supply" or (
            r["kind"] == "communication" and (r["records"] or 0) >= MIN_EVENTS
        ):
            keep.append(r)
        elif r["kind"] == "membership":
            orgs = [org_kind[e] for e in (r["source"], r["target"]) if e in org_kind]
            ends = (r["source"], r["target"])
            if orgs and all(k not in NON_MEMBER_ORGS for k in orgs) and scattered.isdisjoint(ends):
                keep.append(r)
    schema = pa.schema(
        [
            ("source", pa.string()),
            ("target", pa.string()),
            ("kind", pa.string()),
            ("records", pa.int64()),
        ]
    )
    return pa.Table.from_pylist(keep, schema=schema)


def _graph(edges: pa.Table) -> ig.Graph:
    names = sorted(
        set(edges.column("source").to_pylist()) | set(edges.column("target").to_pylist())
    )
    index = {n: i for i, n in enumerate(names)}
    pairs = [
        (index[s], index[t])
        for s, t in zip(
            edges.column("source").to_pylist(), edges.column("target").to_pylist(), strict=True
        )
    ]
    g = ig.Graph(n=len(names), edges=pairs, directed=False)
    g.vs["name"] = names
    g.es["kind"] = edges.column("kind").to_pylist()
    g.es["source_name"] = edges.column("source").to_pylist()
    g.es["weight"] = [
        1.0 + math.log(max(int(r or 1), 1)) for r in edges.column("records").to_pylist()
    ]
    return g


def _root(parent: list[int], c: int) -> int:
    """The representative of ``c``'s group in a union-find forest (with path halving)."""
    while parent[c] != c:
        parent[c] = parent[parent[c]]
        c = parent[c]
    return c


def split_communities(
    g: ig.Graph,
    *,
    local_orgs: set[str] | frozenset[str] = frozenset(),
    places: dict[str, set[str]] | None = None,
    seed: int = 0,
    organizations: set[str] | frozenset[str] = frozenset(),
    cases: dict[str, set[str]] | None = None,
    markets: Mapping[str, set[str]] | None = None,
    runs: int = LEIDEN_RUNS,
) -> list[list[int]]:
    """Rule 4: the vertices of a connected graph as one group, or as its distinct communities.

    ``markets``: supplier -> the cities of everyone he is stated to supply, over the whole
    criminal graph (:func:`markets`); without it, the supply ties of ``g`` alone.

    Then, inside every group that still holds two or more ``organizations`` (the DTOs: whole
    trafficking organizations, where gangs and crews may be one's street arms), rule 4 again
    with only those as marks: modularity's resolution limit (Fortunato & Barthelemy 2007)
    merges small communities that are clearly separate on their own in a large graph, and
    two DTOs in one group are the records saying that it holds two organizations. A piece
    the first pass refused to such a group, with no organization of its own, may then join
    one of its parts (docs/networks-rounds.md, "Sixth round").
    """
    groups = _split_once(
        g,
        local_orgs=local_orgs,
        places=places,
        seed=seed,
        cases=cases,
        markets=markets,
        runs=runs,
    )
    names = g.vs["name"]
    result: list[list[int]] = []
    flags: list[bool] = []
    for group in groups:
        if sum(names[v] in organizations for v in group) < 2:
            result.append(group)
            flags.append(False)
            continue
        sub = g.induced_subgraph(group)
        parts = _split_once(
            sub,
            local_orgs=organizations,
            places=places,
            seed=seed,
            cases=cases,
            markets=markets,
            runs=runs,
        )
        if len(parts) == 1:
            result.append(group)
            flags.append(False)
            continue
        for part in parts:
            inner = sub.induced_subgraph(part)
            for piece in split_communities(
                inner,
                local_orgs=organizations,
                places=places,
                seed=seed,
                organizations=organizations,
                cases=cases,
                markets=markets,
                runs=runs,
            ):
                result.append([group[part[i]] for i in piece])
                flags.append(True)
    if any(flags) and len(result) > 1:
        # The first pass refused some pieces because of a group as a whole (its cities, its
        # market); the second pass found that group to be several organizations. A piece
        # with no organization of its own is offered again to those parts, under the same
        # test: it joins the part it is most tied to unless they are distinct.
        h = g.copy()
        h.simplify(combine_edges={"weight": "sum"}, multiple=True, loops=True)
        membership = [0] * g.vcount()
        for i, group in enumerate(result):
            for v in group:
                membership[v] = i
        result = _agglomerate(
            g,
            h,
            membership,
            local_orgs=local_orgs,
            places=places,
            cases=cases,
            markets=markets,
            parted=list(flags),
        )
    return sorted(sorted(group) for group in result)


def _split_once(
    g: ig.Graph,
    *,
    local_orgs: set[str] | frozenset[str] = frozenset(),
    places: dict[str, set[str]] | None = None,
    seed: int = 0,
    cases: dict[str, set[str]] | None = None,
    markets: Mapping[str, set[str]] | None = None,
    runs: int = LEIDEN_RUNS,
) -> list[list[int]]:
    """Rule 4: the vertices of a connected graph as one group, or as its distinct communities.

    Leiden communities (weights ``weight``; the best of ``runs`` runs by modularity, from one
    generator seeded ``seed``: with several, no single run decides a boundary) count only when
    their modularity is at least ``MIN_MODULARITY``; then two tied communities stay together
    unless they are distinct units in the sense of rule 2: each holds a local organization, or
    their cities are disjoint, or one supplies the other and sells in cities the other does
    not (its *market*: the cities of the people its members supply, ``markets`` and the supply
    ties of ``g``), or no investigation names people of both (``cases``: entity -> the
    investigations whose records name it).
    """
    whole = [list(range(g.vcount()))]
    if g.vcount() < 2 * MIN_GROUP or g.ecount() == 0:
        return whole
    h = g.copy()
    h.simplify(combine_edges={"weight": "sum"}, multiple=True, loops=True)
    membership = leiden(h, seed=seed, runs=runs)
    count = int(membership.max()) + 1
    if count == 1 or h.modularity(membership.tolist(), weights="weight") < MIN_MODULARITY:
        return whole
    return _agglomerate(
        g,
        h,
        membership.tolist(),
        local_orgs=local_orgs,
        places=places,
        cases=cases,
        markets=markets,
    )


def _agglomerate(
    g: ig.Graph,
    h: ig.Graph,
    membership: list[int],
    *,
    local_orgs: set[str] | frozenset[str],
    places: dict[str, set[str]] | None,
    cases: dict[str, set[str]] | None,
    markets: Mapping[str, set[str]] | None,
    parted: list[bool] | None = None,
) -> list[list[int]]:
    """Rule 4's constrained merge of the communities ``membership`` (one per vertex of ``g``;
    ``h``: ``g`` simplified, weights summed) into groups, as lists of vertices.

    ``parted``: for each community, whether it is a part of a group the second pass split;
    when given, only a part and a community with no ``local_orgs`` of its own that is not a
    part are merged (the pieces offered again after the second pass)."""
    count = max(membership) + 1
    places = places or {}
    cases = cases or {}
    markets = markets or {}
    names = h.vs["name"]
    orgs = [False] * count
    cities: list[set[str]] = [set() for _ in range(count)]
    files: list[set[str]] = [set() for _ in range(count)]
    # A community's market: the cities of the people its members are stated to supply; and
    # the cities of each of its members (one set a person), to see who works only elsewhere.
    reach: list[set[str]] = [set() for _ in range(count)]
    spans: list[set[frozenset[str]]] = [set() for _ in range(count)]
    for v, c in enumerate(membership):
        orgs[c] = orgs[c] or names[v] in local_orgs
        cities[c] |= places.get(names[v], set())
        files[c] |= cases.get(names[v], set())
        reach[c] |= markets.get(names[v], set())
        if places.get(names[v]):
            spans[c].add(frozenset(places[names[v]]))
    # Supply between communities: (supplier's community, supplied community).
    supplies: set[tuple[int, int]] = set()
    if "kind" in g.es.attributes():
        for e in g.es.select(kind="supply"):
            forward = names[e.source] == e["source_name"]
            src, dst = (e.source, e.target) if forward else (e.target, e.source)
            reach[membership[src]] |= places.get(names[dst], set())
            if membership[src] != membership[dst]:
                supplies.add((membership[src], membership[dst]))
    between: dict[tuple[int, int], float] = {}
    for e in h.es:
        a, b = sorted((membership[e.source], membership[e.target]))
        if a != b:
            between[(a, b)] = between.get((a, b), 0.0) + float(e["weight"])
    parent = list(range(count))

    # Constrained agglomeration: the strongest links between communities are merged first,
    # and two groups that are distinct in the records (each with a local organization, or
    # in disjoint cities) are never merged, so a community with no marks of its own joins
    # the group it is most tied to and cannot chain two distinct groups together.
    for (a, b), _ in sorted(between.items(), key=lambda kv: (-kv[1], kv[0])):
        ra, rb = _root(parent, a), _root(parent, b)
        if ra == rb:
            continue
        apart = bool(cities[ra] and cities[rb] and not cities[ra] & cities[rb])
        # A group that supplies the other and works beyond its cities is above it in the
        # chain (a regional supplier over a local crew): not one network. Beyond means that
        # it sells there (the people its members supply are in cities the other is not) or
        # that one of its people works only there; a single person with records in the
        # other's city and a second one (two identities joined, a neighbouring agency's case)
        # does not make his group regional (docs/networks-rounds.md, "Sixth round").
        for x, y in ((a, b), (b, a)):
            upper, lower = _root(parent, x), _root(parent, y)
            if (x, y) in supplies and cities[lower]:
                here = cities[lower]
                if not reach[upper] <= here or any(not s & here for s in spans[upper]):
                    apart = True
        # No case file names people of both: no agency has worked them as one target.
        apart = apart or bool(files[ra] and files[rb] and not files[ra] & files[rb])
        if (orgs[ra] and orgs[rb]) or apart:
            continue
        if parted is not None:
            # Only a part of a split group and an unmarked piece that is not one.
            if parted[ra] == parted[rb] or orgs[rb if parted[ra] else ra]:
                continue
            parted[rb] = True
        parent[ra] = rb
        orgs[rb] = orgs[rb] or orgs[ra]
        cities[rb] |= cities[ra]
        files[rb] |= files[ra]
        reach[rb] |= reach[ra]
        spans[rb] |= spans[ra]
    groups: dict[int, list[int]] = {}
    for v, c in enumerate(membership):
        groups.setdefault(_root(parent, c), []).append(v)
    return sorted(groups.values())


def hubs(
    g: ig.Graph,
    *,
    local_orgs: set[str] | frozenset[str] = frozenset(),
    places: dict[str, set[str]] | None = None,
    min_group: int = MIN_GROUP,
    sold: Mapping[str, set[str]] | None = None,
) -> set[str]:
    """Suppliers whose supply ties reach two or more local units that only they join (rule 2).

    A unit is a part of the graph that falls apart from the rest when the supplier is taken
    out, has at least ``min_group`` entities, and is distinct from the others: it holds a local
    organization the others do not, or its places (cities) are disjoint from theirs. A crew
    leader whose dealers do not know each other is not a hub: his dealers' parts hold no
    organization of their own and share his city. Nor is a supplier whose units all lie in his
    own cities: a distributor heading his organization's crews. With ``HUBS_BY_MARKET`` (the
    default), that holds only of a supplier who sells in one city (the people he is stated to
    supply are in one city, :func:`markets`; ``sold`` if the caller has it, else computed): one
    who sells in two or more is regional (as in :func:`regional_supply_ties`) and a hub
    whatever his own records' cities, which follow the agencies of every market he serves and
    the identities resolution joined.
    """
    if g.ecount() == 0:
        return set()
    places = places or {}
    if not HUBS_BY_MARKET:
        sold = {}
    elif sold is None:
        sold = markets(g, places)
    blocks_of: dict[int, set[int]] = {}
    for b, block in enumerate(g.biconnected_components()):
        for v in block:
            blocks_of.setdefault(v, set()).add(b)
    index = {n: i for i, n in enumerate(g.vs["name"])}
    reach: dict[int, tuple[set[int], set[int]]] = {}
    for e in g.es.select(kind="supply"):
        s = index[e["source_name"]]
        c = e.target if e.source == s else e.source
        # an edge lies in exactly one block: the one both its ends share
        block = min(blocks_of.get(s, set()) & blocks_of.get(c, set()), default=-1)
        customers, blocks = reach.setdefault(s, (set(), set()))
        customers.add(c)
        blocks.add(block)
    found: set[str] = set()
    component = np.asarray(g.connected_components().membership)
    all_names = np.asarray(g.vs["name"], dtype=object)
    # What marks a unit, as columns: each local organization, then each city; a part's marks
    # are the sum of its members' rows.
    column: dict[tuple[str, str], int] = {}
    rows, cols = [], []
    for i, name in enumerate(all_names):
        if name in local_orgs:
            rows.append(i)
            cols.append(column.setdefault(("org", name), len(column)))
        for city in places.get(name, ()):
            rows.append(i)
            cols.append(column.setdefault(("city", city), len(column)))
    marks = sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(g.vcount(), max(len(column), 1))
    )
    is_org = np.zeros(marks.shape[1], dtype=bool)
    is_org[[i for (kind, _), i in column.items() if kind == "org"]] = True
    local: dict[int, tuple[ig.Graph, np.ndarray, dict[int, int]]] = {}
    for s, (customers, blocks) in reach.items():
        if len(blocks) < 2:
            continue
        # Only the supplier's own component can fall apart when he is taken out.
        c = int(component[s])
        if c not in local:
            vertices = np.flatnonzero(component == c)
            local[c] = (
                bare_graph(g.induced_subgraph(vertices.tolist())),
                vertices,
                {int(v): i for i, v in enumerate(vertices)},
            )
        sub, vertices, position = local[c]
        h = sub.copy()
        ig.GraphBase.delete_vertices(h, [position[s]])
        keep = np.delete(vertices, position[s])
        membership = np.asarray(ig.GraphBase.connected_components(h))
        sizes = np.bincount(membership)
        parts = sorted({int(membership[int(np.searchsorted(keep, x))]) for x in customers})
        units = [p for p in parts if sizes[p] >= min_group]
        if len(units) < 2:
            continue
        slot = np.full(len(sizes), -1)
        slot[units] = np.arange(len(units))
        inside = slot[membership] >= 0
        onehot = sp.csr_matrix(
            (np.ones(int(inside.sum())), (slot[membership][inside], np.flatnonzero(inside))),
            shape=(len(units), len(keep)),
        )
        held = (onehot @ marks[keep]).toarray() > 0
        # A supplier whose units all lie in his own cities is a local distributor, the head
        # of his own organization's street arms, not a regional hub above them; by market,
        # only when he sells in one city: one who sells in two or more (rule 2's regional
        # supplier) is above the units however many cities his own records name, since they
        # follow the agencies that named him and the identities resolution joined
        # (docs/networks-rounds.md, "Eighth round").
        own = places.get(str(all_names[s]), set())
        reached = {
            city for (kind, city), i in column.items() if kind == "city" and held[:, i].any()
        }
        if own and reached <= own and len(sold.get(str(all_names[s]), ())) < REGIONAL_CITIES:
            continue
        total = held.sum(axis=0)
        distinct = 0
        for i in range(len(units)):
            mine = held[i]
            others = (total - mine) > 0
            own_org = bool(np.any(mine & is_org & ~others))
            cities, other_cities = mine & ~is_org, others & ~is_org
            apart = bool(cities.any() and other_cities.any() and not np.any(cities & other_cities))
            distinct += own_org or apart
        if distinct >= 2:
            found.add(str(all_names[s]))
    return found


def suppliers_above(g: ig.Graph, upstream: set[str]) -> set[str]:
    """Rule 2, up the chain: the suppliers of ``upstream`` entities, their suppliers, and so
    on (following the stated direction of the supply ties of ``g``), ``upstream`` left out.

    A hub is above the local units he supplies; whoever supplies him is a level higher still
    (an importer or wholesaler above a regional distributor: Natarajan 2006; Desroches 2005),
    so he is evidence for attribution, not a member of a local network he may also call.
    """
    names = g.vs["name"]
    suppliers: dict[str, set[str]] = {}
    for e in g.es.select(kind="supply"):
        s = e["source_name"]
        c = names[e.target] if names[e.source] == s else names[e.source]
        suppliers.setdefault(c, set()).add(s)
    found: set[str] = set()
    frontier = [u for u in upstream if u in suppliers]
    while frontier:
        x = frontier.pop()
        for s in suppliers.get(x, ()):
            if s not in found and s not in upstream:
                found.add(s)
                frontier.append(s)
    return found


def hub_partners(g: ig.Graph, upstream: set[str], excluded: set[str]) -> set[str]:
    """Rule 5's exception: the entities of ``g`` (``excluded`` ones left out, the
    organizations) all of whose criminal ties lead to ``upstream`` entities: a hub's partner,
    an upstream cell's caller.

    With the hubs taken out, such a person is alone on the local side, and rule 5 would join
    him to whichever network a single stated association reaches. His criminal ties are the
    better evidence of his level: he works with the people above the crews, not in one
    (Natarajan 2006; Desroches 2005). Rule 5 leaves him out; rule 6 (his case files) may still
    place him. Removing hubs must not turn their partners into members of the crews they
    supply (docs/networks-rounds.md, "Eighth round", the hub's partner).
    """
    up = np.array([n in upstream for n in g.vs["name"]])
    found: set[str] = set()
    for v, name in enumerate(g.vs["name"]):
        if up[v] or name in excluded:
            continue
        near = g.neighbors(v)
        if near and all(up[u] for u in near):
            found.add(name)
    return found


def home_cities(
    g: ig.Graph,
    places: Mapping[str, set[str]],
    city_records: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, set[str]]:
    """Entity of ``g`` -> his *home*: the city holding a strict majority of his case files
    (``city_records``: entity -> city -> his investigations there; without it, one per city
    of ``places``); failing that, the city of his ``places`` where a strict majority of his
    criminal neighbours (those with records in any of his cities) have records, the most of
    them if several (all of those tied); failing that, all his cities.

    The place most of a person's observations are in is his home in the studies that locate
    people from their traces (the most active location, the simplest home-detection rule:
    Vanhoof et al. 2018; Pappalardo et al. 2021); where his records do not decide, his
    criminal ties do (his crew's city). A stray record elsewhere (a neighbouring city's
    agency, a second identity joined by resolution) does not move him; a person whose case
    files are spread over many cities with no majority (a regional distributor) keeps them all.
    """
    names = g.vs["name"]
    counts = city_records or {}
    home: dict[str, set[str]] = {}
    for v, name in enumerate(names):
        cities = places.get(name, set())
        if len(cities) < 2:
            home[name] = set(cities)
            continue
        mine = {c: counts.get(name, {}).get(c, 1) for c in cities}
        total = sum(mine.values())
        best = max(mine, key=lambda c: (mine[c], c))
        if 2 * mine[best] > total:
            home[name] = {best}
            continue
        near: Counter[str] = Counter()
        tied = 0
        # Distinct neighbours: ``_graph`` holds one edge per kind of tie, and a person tied to
        # him by supply and by calls is still one neighbour.
        for u in set(g.neighbors(v)):
            theirs = places.get(names[u], set()) & cities
            tied += bool(theirs)
            near.update(theirs)
        most = max(near.values(), default=0)
        if 2 * most > tied:
            home[name] = {c for c, n in near.items() if n == most}
        else:
            home[name] = set(cities)
    return home


def markets(
    g: ig.Graph,
    places: Mapping[str, set[str]],
    city_records: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, set[str]]:
    """Supplier -> the cities of the people he is stated to supply (the supply ties of ``g``).

    Where a supplier sells is his level of the market (a wholesaler sells to several local
    markets, a distributor to his own; Pearson & Hobbs 2001; Desroches 2005), not where his
    own records are: a person resolved across two identities, or named by an agency of a
    neighbouring city, has records in cities he does not supply. The same holds of his
    customers: with ``MARKET_BY_HOME`` (the default), a customer counts in his home
    (:func:`home_cities`), not in every city of his records, and, if he supplies others
    himself, in the homes of the people he supplies: the supplier's goods are sold on there,
    so a wholesaler above a regional distributor sells in the homes of the distributor's
    customers. One level down only, not along the whole chain: where the distributor's own
    customers sell on in turn is not counted for the wholesaler (docs/networks.md, rule 2).
    ``city_records``: entity -> city -> his investigations there.
    """
    names = g.vs["name"]
    links = []
    for e in g.es.select(kind="supply"):
        s = e["source_name"]
        links.append((s, names[e.target] if names[e.source] == s else names[e.source]))
    served: dict[str, set[str]] = {}
    if not MARKET_BY_HOME:
        for s, c in links:
            served.setdefault(s, set()).update(places.get(c, set()))
        return served
    home = home_cities(g, places, city_records)
    # Where each supplier's customers live: for a customer who supplies others, where the
    # goods he buys are sold on.
    onward: dict[str, set[str]] = {}
    for s, c in links:
        onward.setdefault(s, set()).update(home.get(c, places.get(c, set())))
    for s, c in links:
        served.setdefault(s, set()).update(home.get(c, places.get(c, set())) | onward.get(c, set()))
    return served


def regional_supply_ties(
    g: ig.Graph,
    places: Mapping[str, set[str]],
    *,
    sold: Mapping[str, set[str]] | None = None,
) -> list[int]:
    """Rule 2, tie by tie: the ties of ``g`` between a regional supplier and a local customer.

    A supplier is *regional* when the people he is stated to supply are, together, in two or
    more cities (he serves several local markets). His supply tie to a customer whose cities
    are a strict subset of his own (the customer works in part of the supplier's area, the
    supplier beyond it) is a tie between two levels of the market, wholesale above retail
    (Natarajan 2006; Bright & Delaney 2013): evidence for attribution, not of one network.
    Returned are the ids of every criminal tie between such a pair (the supply tie and the
    pair's calls: one relationship). Entities with no known city are never cut. ``sold``: the
    suppliers' markets (:func:`markets`) if the caller has them, else computed on ``g``.
    """
    names = g.vs["name"]
    if sold is None:
        sold = markets(g, places)
    links: list[tuple[int, int]] = []
    for e in g.es.select(kind="supply"):
        forward = names[e.source] == e["source_name"]
        links.append((e.source, e.target) if forward else (e.target, e.source))
    pairs: set[tuple[int, int]] = set()
    for s, c in links:
        upper, lower = places.get(names[s], set()), places.get(names[c], set())
        if lower and lower < upper and len(sold.get(names[s], ())) >= REGIONAL_CITIES:
            pairs.add((min(s, c), max(s, c)))
    return [e.index for e in g.es if (min(e.tuple), max(e.tuple)) in pairs]


def split_organizations(
    edges: pa.Table, org_kind: Mapping[str, str], case_files: Mapping[str, set[str]]
) -> tuple[pa.Table, dict[str, str]]:
    """Rule 1, for organizations: one organization entity named in case files that share no
    subject joins its members as so many organizations.

    An organization's investigations are grouped by the people they name: two of them are in
    one group when some person is named in both (an agency that names the same subjects works
    the same target). An entity whose records fall into two or more such groups is, for
    joining people, one organization per group (``O``, ``O#1``, ``O#2``... by size): a member
    is tied to the group whose investigations name him most (the largest group when none
    does). Returns the criminal ties with those names and ``alias`` (``O#k`` -> ``O``).
    Why: an investigation is opened on one target (rule 6), and organizations are matched
    by name, so one entity can be several groups of one name (nationally, 124 of the 126
    organization entities with members of several true networks were such merges); being
    its member is then no evidence of working with its members in other case files.
    """
    cases: dict[str, set[str]] = {}
    for investigation, named in case_files.items():
        for e in named:
            cases.setdefault(e, set()).add(investigation)
    rows = edges.to_pylist()
    members_of: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r["kind"] == "membership":
            o = r["source"] if r["source"] in org_kind else r["target"]
            members_of.setdefault(o, []).append(i)
    alias: dict[str, str] = {}
    for o, tied in sorted(members_of.items()):
        investigations = sorted(cases.get(o, ()))
        if len(investigations) < 2:
            continue
        position = {inv: k for k, inv in enumerate(investigations)}
        parent = list(range(len(investigations)))
        first: dict[str, int] = {}
        for investigation in investigations:
            here = position[investigation]
            for e in sorted(case_files.get(investigation, ())):
                if e in org_kind:
                    continue
                if e in first:
                    parent[_root(parent, here)] = _root(parent, first[e])
                else:
                    first[e] = here
        clusters: dict[int, set[str]] = {}
        for investigation in investigations:
            clusters.setdefault(_root(parent, position[investigation]), set()).add(investigation)
        if len(clusters) < 2:
            continue
        groups = sorted(clusters.values(), key=lambda c: (-len(c), sorted(c)))
        for i in tied:
            r = rows[i]
            person = r["target"] if r["source"] == o else r["source"]
            mine = cases.get(person, set())
            best = max(range(len(groups)), key=lambda k: (len(mine & groups[k]), -k))
            if best == 0:
                continue
            name = f"{o}#{best}"
            alias[name] = o
            r["source" if r["source"] == o else "target"] = name
    return pa.Table.from_pylist(rows, schema=edges.schema), alias


def _unalias(found: list[list[str]], alias: Mapping[str, str]) -> list[list[str]]:
    """The groups with ``O#k`` named ``O`` again, ``O`` kept in the largest group holding it."""
    placed: set[str] = set()
    result = []
    for names in sorted(found, key=lambda g: -len(g)):
        out: list[str] = []
        for n in names:
            n = alias.get(n, n)
            if n not in placed:
                placed.add(n)
                out.append(n)
        result.append(out)
    return [g for g in result if len(g) >= 2]


def join_own_organization(
    groups: list[list[str]], own_orgs: Mapping[str, list[str]]
) -> tuple[list[list[str]], set[str]]:
    """Rule 2's hubs rejoin the network of their own organization.

    ``own_orgs``: hub -> the organizations he is a stated member of. A hub joins the network
    holding most of them (the smallest index on a tie) and is no longer upstream; a hub whose
    organizations are in no network stays upstream. Returns the groups and the hubs moved.
    """
    group_of = _group_index(groups)
    result = [list(names) for names in groups]
    moved: set[str] = set()
    for hub, orgs in sorted(own_orgs.items()):
        count: dict[int, int] = {}
        for org in orgs:
            if org in group_of:
                count[group_of[org]] = count.get(group_of[org], 0) + 1
        if count:
            best = min(count, key=lambda i: (-count[i], i))
            result[best].append(hub)
            moved.add(hub)
    return result, moved


def criminal_graph(
    ties: pa.Table,
    org_kind: dict[str, str],
    places: dict[str, set[str]] | None = None,
    case_files: dict[str, set[str]] | None = None,
) -> tuple[ig.Graph, dict[str, str], dict[str, str]] | None:
    """The graph the network rules read (:func:`criminal_ties`, organizations split by
    :func:`split_organizations`), ``org_kind`` with each split organization's aliases, and
    the aliases (alias -> organization); ``None`` if there is no criminal tie. Shared by
    :func:`distribution_networks` and the benches that trace its rules."""
    edges = criminal_ties(ties, org_kind, places)
    if edges.num_rows == 0:
        return None
    edges, alias = split_organizations(edges, org_kind, case_files or {})
    if alias:
        org_kind = {**org_kind, **{a: org_kind[o] for a, o in alias.items()}}
    return _graph(edges), org_kind, alias


def distribution_networks(
    ties: pa.Table,
    org_kind: dict[str, str],
    cartel_members: set[str],
    places: dict[str, set[str]] | None = None,
    case_files: dict[str, set[str]] | None = None,
    *,
    seed: int = 0,
    runs: int = LEIDEN_RUNS,
    city_records: Mapping[str, Mapping[str, int]] | None = None,
) -> pa.Table:
    """``entity_id, network_id, upstream`` for every entity in a network (rules 1-6).

    ``org_kind`` maps organization entities to their kind; ``cartel_members`` are persons with
    a stated membership in a cartel (upstream by definition, as are cartel organizations);
    ``places`` maps entities to the cities of their investigations (for the hub rule);
    ``case_files`` maps each investigation to the entities its subject and organization records
    name (for rule 6). ``seed`` and ``runs``: rule 4's Leiden runs (:func:`split_communities`).
    ``city_records``: entity -> city -> his investigations there (rule 2's market counts a
    retail customer in his home city, :func:`home_cities`).
    """
    found_graph = criminal_graph(ties, org_kind, places, case_files)
    if found_graph is None:
        return MEMBERSHIP_SCHEMA.empty_table()
    g, org_kind, alias = found_graph
    local = {e for e, k in org_kind.items() if k not in NON_MEMBER_ORGS}
    dtos = {e for e, k in org_kind.items() if k == UNIT_ORG}
    # Where each supplier sells, over the whole criminal graph (rule 2's hubs and regional
    # suppliers, rule 4's supply test): computed once.
    sold = markets(g, places or {}, city_records)
    found_hubs = hubs(g, local_orgs=local, places=places, sold=sold)
    upstream = found_hubs | cartel_members | {e for e, k in org_kind.items() if k == "cartel"}
    # Whoever supplies an upstream entity is above it in the chain: upstream too, and, like a
    # hub, back in his own organization's network if he is a stated member of one.
    above = suppliers_above(g, upstream)
    found_hubs |= above
    upstream |= above
    # Rule 5 leaves out whoever works only with upstream entities (a hub's partner): his
    # criminal ties place him beside them, above the crews, and a stated association with a
    # crew member is no evidence that he is one of them.
    partners = hub_partners(g, upstream, set(org_kind))
    # A hub's own organizations (membership ties of rule 1): he is above the crews he
    # supplies, but a member of his own organization's network.
    own_orgs: dict[str, list[str]] = {}
    for e in g.es.select(kind="membership"):
        a, b = g.vs[e.source]["name"], g.vs[e.target]["name"]
        for person, org in ((a, b), (b, a)):
            if person in found_hubs and person not in cartel_members and org in org_kind:
                own_orgs.setdefault(person, []).append(org)
    rejoined: set[str] = set()
    is_up = np.array([n in upstream for n in g.vs["name"]])
    cases: dict[str, set[str]] = {}
    for investigation, named in (case_files or {}).items():
        for e in named:
            cases.setdefault(e, set()).add(investigation)
    rows: list[dict[str, object]] = []
    for flag in (False, True):
        keep = [
            v for v in range(g.vcount()) if is_up[v] == flag and g.vs[v]["name"] not in rejoined
        ]
        sub = g.induced_subgraph(keep)
        # The pieces a regional supply tie held together are siblings, like rule 4's
        # communities: weak evidence (rule 5) does not join them back.
        before = sub.connected_components().membership
        if not flag:
            sub.delete_edges(regional_supply_ties(sub, places or {}, sold=sold))
        found: list[list[str]] = []
        origin: list[int] = []
        for comp in sub.connected_components():
            number = before[comp[0]]
            if len(comp) < 2:
                continue
            groups = [list(comp)]
            if not flag:
                part = sub.induced_subgraph(comp)
                present = set(part.vs["name"])
                # The units are marked by the highest kind of organization present: DTOs
                # when the component holds any (its gangs and crews may be their street
                # arms), else the gangs and crews themselves.
                marks = (dtos & present) or (local & present)
                split = split_communities(
                    part,
                    local_orgs=marks,
                    places=places,
                    organizations=dtos,
                    cases=cases,
                    markets=sold,
                    seed=seed,
                    runs=runs,
                )
                groups = [[comp[i] for i in group] for group in split]
            kept = [[sub.vs[v]["name"] for v in group] for group in groups if len(group) >= 2]
            found.extend(kept)
            origin.extend([number] * len(kept))
        if not flag:
            found = attach(
                found,
                ties,
                upstream | partners,
                {e: UNIT_LEVEL.get(k, 0) for e, k in org_kind.items()},
                places or {},
                origin,
                cases,
            )
            found = attach_by_case_file(found, case_files or {}, upstream | set(org_kind))
            found, rejoined = join_own_organization(found, own_orgs)
            found = attach_fragments(found, case_files or {}, places or {})
        if alias:
            found = _unalias(found, alias)
        for group_names in found:
            ordered = sorted(group_names)
            nid = f"N-{ordered[0]}"
            rows.extend({"entity_id": n, "network_id": nid, "upstream": flag} for n in ordered)
    return pa.Table.from_pylist(rows, schema=MEMBERSHIP_SCHEMA).sort_by(
        [("network_id", "ascending"), ("entity_id", "ascending")]
    )


def attach(
    groups: list[list[str]],
    ties: pa.Table,
    upstream: set[str],
    level: dict[str, int],
    places: dict[str, set[str]],
    origins: list[int] | None = None,
    cases: dict[str, set[str]] | None = None,
) -> list[list[str]]:
    """Rule 5: pieces of one network that the criminal ties leave apart are put back together
    by the weaker evidence of working together (``WEAK_KINDS``: a stated association, an arrest
    together, a shared phone or account), under the same constraint as rule 4. Calls below
    ``MIN_EVENTS`` are not among them: rule 1's minimum says a call or two is no relationship,
    and it holds here too (a retail customer's call to his dealer does not make him a member).

    Networks and the people in none of them are joined along these ties, the strongest links
    first (the number of ties between the two), never two groups that are distinct in the
    records (each holds a DTO, or, neither holding one, each a gang or crew; or their cities are
    disjoint; or no investigation names people of both, ``cases`` mapping an entity to the
    investigations whose records name it), and never two people who are in
    no network (weak ties attach to a network; they do not make one). Family ties are not
    among them: a relative does not join a network by being one. Upstream entities take no
    part.
    """
    group_of = _group_index(groups)
    solo: dict[str, int] = {}
    links: dict[tuple[int, int], int] = {}
    for a, b, kind in zip(
        ties.column("source").to_pylist(),
        ties.column("target").to_pylist(),
        ties.column("kind").to_pylist(),
        strict=True,
    ):
        # Calls below the evidence minimum are not among them (rule 1: a call or two is no
        # relationship; a retail customer's or a wrong number's call is no membership).
        if kind not in WEAK_KINDS or a in upstream or b in upstream:
            continue
        ends = []
        for e in (a, b):
            if e not in group_of:
                group_of[e] = solo[e] = len(groups) + len(solo)
            ends.append(group_of[e])
        x, y = sorted(ends)
        if x != y:
            links[(x, y)] = links.get((x, y), 0) + 1
    count = len(groups) + len(solo)
    members: list[list[str]] = [list(names) for names in groups] + [[]] * len(solo)
    for e, i in solo.items():
        members[i] = [e]
    marked = [max((level.get(n, 0) for n in names), default=0) for names in members]
    cities = [set().union(*(places.get(n, set()) for n in names)) for names in members]
    files = [set().union(*((cases or {}).get(n, set()) for n in names)) for names in members]
    is_network = [i < len(groups) for i in range(count)]
    split_from: list[set[int]] = [
        {origins[i]} if origins is not None and i < len(groups) else set() for i in range(count)
    ]
    parent = list(range(count))

    ordered = sorted(links.items(), key=lambda kv: (-kv[1], kv[0]))
    changed = True
    while changed:
        changed = False
        for (a, b), _ in ordered:
            ra, rb = _root(parent, a), _root(parent, b)
            if ra == rb or not (is_network[ra] or is_network[rb]):
                continue
            apart = bool(cities[ra] and cities[rb] and not cities[ra] & cities[rb])
            # rule 4 set these apart on criminal ties: weak evidence does not undo it
            siblings = bool(split_from[ra] & split_from[rb])
            apart = apart or bool(files[ra] and files[rb] and not files[ra] & files[rb])
            if (marked[ra] and marked[ra] == marked[rb]) or apart or siblings:
                continue
            parent[ra] = rb
            marked[rb] = max(marked[rb], marked[ra])
            cities[rb] |= cities[ra]
            split_from[rb] |= split_from[ra]
            files[rb] |= files[ra]
            is_network[rb] = True
            changed = True
    joined: dict[int, list[str]] = {}
    for i, names in enumerate(members):
        joined.setdefault(_root(parent, i), []).extend(names)
    return [names for r, names in joined.items() if is_network[r] and len(names) >= 2]


def _group_index(groups: list[list[str]]) -> dict[str, int]:
    """entity -> the index of the group (network) holding it."""
    return {n: i for i, names in enumerate(groups) for n in names}


def home_networks(
    named: Iterable[tuple[str, str]],
    network_of: Mapping[str, K],
    last: Callable[[K], bool] = lambda _: False,
) -> dict[str, K]:
    """investigation -> its *home* network: the one holding most of the entities its records
    name (``named``: investigation, entity pairs without repeats; ``network_of``: entity ->
    network), networks for which ``last`` holds only when no other network holds any, the
    smallest network on a tie. Rule 6 uses it on the groups being built, and the stored analysis
    (``stored.investigation_networks``) on the networks it stored, so the home that takes
    an investigation's seizures is chosen by the same rule."""
    held: dict[str, dict[K, int]] = {}
    for investigation, entity in named:
        network = network_of.get(entity)
        if network is None:
            continue
        counts = held.setdefault(investigation, {})
        counts[network] = counts.get(network, 0) + 1
    return {
        inv: min(counts, key=lambda n: (last(n), -counts[n], n)) for inv, counts in held.items()
    }


def attach_by_case_file(
    groups: list[list[str]],
    case_files: dict[str, set[str]],
    excluded: set[str] | frozenset[str] = frozenset(),
) -> list[list[str]]:
    """Rule 6: a person in no network joins the home network of his investigations.

    An investigation's *home* is the network holding most of the entities its subject and
    organization records name (the smallest index on a tie: the same home that gives a
    network its seizures). A person named in investigations but in no network (no tie, or
    only ties rules 1-5 do not follow) joins the home shared by a strict majority of his
    investigations that have one; with no such majority he stays out. ``excluded`` entities
    (upstream ones, organizations) never join this way. Networks are never joined to each
    other by this rule: a case file that follows a supply chain names people of several
    networks, and it decides only for someone with no better evidence.
    """
    group_of = _group_index(groups)
    home = home_networks(((inv, e) for inv, named in case_files.items() for e in named), group_of)
    votes: dict[str, dict[int, int]] = {}
    for investigation, named in sorted(case_files.items()):
        if investigation not in home:
            continue
        for e in named:
            if e not in group_of and e not in excluded:
                count = votes.setdefault(e, {})
                count[home[investigation]] = count.get(home[investigation], 0) + 1
    result = [list(names) for names in groups]
    for e, count in sorted(votes.items()):
        best = min(count, key=lambda i: (-count[i], i))
        if 2 * count[best] > sum(count.values()):
            result[best].append(e)
    return result


def attach_fragments(
    groups: list[list[str]],
    case_files: dict[str, set[str]],
    places: dict[str, set[str]],
    most: int = MIN_GROUP,
) -> list[list[str]]:
    """Rule 6 for pieces: a network of at most ``most`` entities (smaller than a unit of rule 2
    and 4 needs to count as one, ``MIN_GROUP``) joins the network that is home to a strict
    majority of its investigations that have one.

    An investigation's home here is the network, other than the piece itself, holding most of
    the entities its records name (the smallest index on a tie). The piece joins only a larger
    network whose cities are not disjoint from its own. Moves are decided on the groups as
    they are, in one pass (a piece never joins a piece that moves itself: it then follows it).
    """
    group_of = _group_index(groups)
    files: dict[int, set[str]] = {}
    for investigation, named in case_files.items():
        for e in named:
            if e in group_of:
                files.setdefault(group_of[e], set()).add(investigation)
    cities = [set().union(*(places.get(n, set()) for n in names)) for names in groups]
    target: dict[int, int] = {}
    for i, names in enumerate(groups):
        if len(names) > most or i not in files:
            continue
        # Each investigation's home among the other networks (the piece's own people left out).
        home = home_networks(
            ((inv, e) for inv in files[i] for e in case_files[inv] if group_of.get(e) != i),
            group_of,
        )
        votes = Counter(home.values())
        if not votes:
            continue
        best = min(votes, key=lambda j: (-votes[j], j))
        if 2 * votes[best] <= sum(votes.values()) or len(groups[best]) <= most:
            continue
        if cities[i] and cities[best] and not cities[i] & cities[best]:
            continue
        target[i] = best
    final: dict[int, list[str]] = {}
    for i, names in enumerate(groups):
        j, seen = i, {i}
        while j in target and target[j] not in seen:
            j = target[j]
            seen.add(j)
        final.setdefault(j, []).extend(names)
    return [final[j] for j in sorted(final)]


SUMMARY_SCHEMA = pa.schema(
    [
        ("network_id", pa.string()),
        ("upstream", pa.bool_()),
        ("people", pa.int64()),
        ("organizations", pa.int64()),
        ("investigations", pa.int64()),
        ("agencies", pa.string()),
        ("cities", pa.string()),
        ("states", pa.string()),
        ("divisions", pa.string()),
        ("multi_city", pa.bool_()),
        ("arrests", pa.int64()),
    ]
)

_ORG_KINDS = """
    SELECT DISTINCT m.entity_id, o.kind FROM organizations o
    JOIN entity_members m ON m.record_type = 'organizations' AND m.record_id = o.organization_id
"""

_PLACES = """
    SELECT DISTINCT m.entity_id, m.record_type, i.investigation_id, i.agency_id, i.city, i.state,
           i.division
    FROM entity_members m
    JOIN subjects s ON m.record_type = 'subjects' AND s.subject_id = m.record_id
    JOIN investigations i ON i.investigation_id = s.investigation_id
    UNION
    SELECT DISTINCT m.entity_id, m.record_type, i.investigation_id, i.agency_id, i.city, i.state,
           i.division
    FROM entity_members m
    JOIN organizations o ON m.record_type = 'organizations' AND o.organization_id = m.record_id
    JOIN investigations i ON i.investigation_id = o.investigation_id
"""

_DISTRIBUTORS = """
    SELECT DISTINCT m.entity_id FROM subjects s
    JOIN entity_members m ON m.record_type = 'subjects' AND m.record_id = s.subject_id
    WHERE s.role = ?
"""

_ARRESTS = """
    SELECT p.entity_id, count(DISTINCT a.arrest_id) AS arrests FROM arrests a
    JOIN entity_members p ON p.record_type = 'subjects' AND p.record_id = a.subject_id
    GROUP BY p.entity_id
"""


@dataclass(frozen=True)
class NetworkInputs:
    """What the network rules read from a workspace besides its ties: each organization's
    kind, the members of a cartel, each entity's places (``_PLACES`` rows as text) and
    cities (``City, ST``), and each case file's entities."""

    org_kind: dict[str, str]
    cartel_members: set[str]
    places: dict[str, list[tuple[str, ...]]]
    cities_of: dict[str, set[str]]
    case_files: dict[str, set[str]]
    city_records: dict[str, dict[str, int]]


def network_inputs(ws: Workspace, ties: pa.Table) -> NetworkInputs:
    """The inputs of :func:`distribution_networks` other than the ties, read from ``ws``
    (shared by :func:`workspace_networks` and the benches that trace its rules)."""
    from lastmile.network.stored import INVESTIGATION_MEMBERS

    org_kind = {str(e): str(k) for e, k in ws.store.rows(_ORG_KINDS)}
    cartels = {e for e, k in org_kind.items() if k == "cartel"}
    cartel_members = {
        (r["target"] if r["source"] in cartels else r["source"])
        for r in ties.select(["source", "target", "kind"]).to_pylist()
        if r["kind"] == "membership" and (r["source"] in cartels or r["target"] in cartels)
    }
    places: dict[str, list[tuple[str, ...]]] = {}
    for row in ws.store.rows(_PLACES):
        places.setdefault(str(row[0]), []).append(tuple("" if v is None else str(v) for v in row))
    cities_of = {e: {f"{p[4]}, {p[5]}" for p in ps if p[4]} for e, ps in places.items()}
    # Each entity's investigations per city: one count per investigation, however many of
    # his records (of any type) it holds.
    city_records: dict[str, dict[str, int]] = {}
    for e, ps in places.items():
        found = Counter(city for _, city in {(p[2], f"{p[4]}, {p[5]}") for p in ps if p[4]})
        city_records[e] = dict(found)
    case_files: dict[str, set[str]] = {}
    for investigation, entity in ws.store.rows(INVESTIGATION_MEMBERS):
        case_files.setdefault(str(investigation), set()).add(str(entity))
    return NetworkInputs(org_kind, cartel_members, places, cities_of, case_files, city_records)


def workspace_networks(
    ws: Workspace, ties: pa.Table | None = None, *, seed: int = 0, runs: int = LEIDEN_RUNS
) -> tuple[pa.Table, pa.Table]:
    """The distribution networks of a workspace: (membership, summary).

    ``membership``: ``entity_id, network_id, upstream``. ``summary``: one row per network with
    its people, organizations, investigations, agencies, cities (``City, ST``), states,
    divisions, ``multi_city`` (two or more cities) and arrests, largest first. ``seed`` and
    ``runs``: rule 4's Leiden runs (:func:`split_communities`).
    """
    from lastmile.network.workspace import entity_ties

    if ties is None:
        ties = entity_ties(ws)
    inputs = network_inputs(ws, ties)
    org_kind, places = inputs.org_kind, inputs.places
    members = distribution_networks(
        ties,
        org_kind,
        inputs.cartel_members,
        inputs.cities_of,
        inputs.case_files,
        seed=seed,
        runs=runs,
        city_records=inputs.city_records,
    )
    arrests = {str(e): int(n) for e, n in ws.store.rows(_ARRESTS)}
    persons = {
        str(e)
        for (e,) in ws.store.rows(
            "SELECT DISTINCT entity_id FROM entity_members WHERE record_type = 'subjects'"
        )
    }
    grouped: dict[str, list[dict[str, object]]] = {}
    for row in members.to_pylist():
        grouped.setdefault(str(row["network_id"]), []).append(row)
    summary = []
    for nid, rows in grouped.items():
        ents = [str(r["entity_id"]) for r in rows]
        seen = [p for e in ents for p in places.get(e, [])]
        people = sum(1 for e in ents if e in persons)
        orgs = sum(1 for e in ents if e in org_kind)
        cities = sorted({f"{p[4]}, {p[5]}" for p in seen if p[4]})
        summary.append(
            {
                "network_id": nid,
                "upstream": bool(rows[0]["upstream"]),
                "people": people,
                "organizations": orgs,
                "investigations": len({p[2] for p in seen}),
                "agencies": "|".join(sorted({p[3] for p in seen if p[3]})),
                "cities": "|".join(cities),
                "states": "|".join(sorted({p[5] for p in seen if p[5]})),
                "divisions": "|".join(sorted({p[6] for p in seen if p[6]})),
                "multi_city": len(cities) >= 2,
                "arrests": sum(arrests.get(e, 0) for e in ents),
            }
        )
    table = pa.Table.from_pylist(summary, schema=SUMMARY_SCHEMA)
    return members, table.sort_by([("people", "descending"), ("network_id", "ascending")])


def network_graphs(
    ws: Workspace, ties: pa.Table | None = None, members: pa.Table | None = None
) -> dict[str, Network]:
    """Every distribution network of a workspace as a Network of its people: the ties between
    them of every kind but family and membership (supply, communication, association, arrest
    together, shared selector), weighted by the records behind them (events for
    communication, records otherwise). The evidence minimum and rule 5's constraint decide
    who joins a network; inside it, every tie of working together is a path.

    Organizations are members of a network but not nodes here: a membership is an
    affiliation, not a tie through which drugs, money or orders pass (it would make the
    organization a broker between all its members), so key players, disruption and missing
    ties are about people. A person of the network without such ties is an isolated node.

    Each person carries the key-player ranking's evidence: how many people of the network he
    is stated to supply (``SUPPLIES``) and whether a subject record states his role as
    distributor (``DISTRIBUTES``).
    """
    from lastmile.network.graph import build_network
    from lastmile.network.workspace import entity_ties

    if ties is None:
        ties = entity_ties(ws)
    if members is None:
        members, _ = workspace_networks(ws, ties)
    org_kind = {str(e): str(k) for e, k in ws.store.rows(_ORG_KINDS)}
    persons = {
        str(e)
        for (e,) in ws.store.rows(
            "SELECT DISTINCT entity_id FROM entity_members WHERE record_type = 'subjects'"
        )
    }
    network_of = {
        str(r["entity_id"]): str(r["network_id"])
        for r in members.to_pylist()
        if str(r["entity_id"]) in persons and str(r["entity_id"]) not in org_kind
    }
    edges: dict[str, list[dict[str, object]]] = {nid: [] for nid in set(network_of.values())}
    tied: set[str] = set()
    weak = [
        r
        for r in ties.select(["source", "target", "kind", "records"]).to_pylist()
        if r["kind"] in WEAK_KINDS
        or (r["kind"] == "communication" and (r["records"] or 0) < MIN_EVENTS)
    ]
    for r in [*criminal_ties(ties, org_kind).to_pylist(), *weak]:
        nid = network_of.get(r["source"])
        if nid is not None and network_of.get(r["target"]) == nid:
            edges[nid].append(
                {
                    "source": r["source"],
                    "target": r["target"],
                    "weight": float(max(r["records"] or 1, 1)),
                }
            )
            tied.update((r["source"], r["target"]))
    for entity, nid in network_of.items():
        if entity not in tied:
            edges[nid].append({"source": entity, "target": None, "weight": 1.0})
    # Who supplies whom inside each network: the key-player ranking's evidence of dependants.
    customers: dict[str, set[str]] = {}
    for r in ties.select(["source", "target", "kind"]).to_pylist():
        nid = network_of.get(r["source"])
        if r["kind"] == "supply" and nid is not None and network_of.get(r["target"]) == nid:
            customers.setdefault(r["source"], set()).add(r["target"])
    # Whose records state the role of distributor: the ranking's evidence of dependants no
    # record names.
    distributors = {
        str(e)
        for (e,) in ws.store.rows(_DISTRIBUTORS, [Role.DISTRIBUTOR.value])
        if str(e) in network_of
    }
    schema = pa.schema([("source", pa.string()), ("target", pa.string()), ("weight", pa.float64())])
    graphs = {}
    for nid, rows in sorted(edges.items()):
        if not rows:
            continue
        net = build_network(pa.Table.from_pylist(rows, schema=schema))
        net.graph.vs[SUPPLIES] = [len(customers.get(name, ())) for name in net.ids]
        net.graph.vs[DISTRIBUTES] = [name in distributors for name in net.ids]
        graphs[nid] = net
    mark_shared_selectors(graphs, ties)
    return graphs


def workspace_network(ws: Workspace, network_id: str) -> Network:
    """One distribution network of a workspace (see :func:`network_graphs`)."""
    from lastmile.network.graph import NetworkError

    graphs = network_graphs(ws)
    if network_id not in graphs:
        known = list(graphs)[:5]
        hint = f" (for example {', '.join(known)}; see lastmile networks)" if known else ""
        raise NetworkError(f"no network {network_id!r} in this workspace{hint}")
    return graphs[network_id]


def workspace_key_players(ws: Workspace, k: int = 10, *, seed: int = 0) -> pa.Table:
    """The top ``k`` of every network by the default ranking: network_id, entity_id, rank, score."""
    from lastmile.network.keyplayer import WORKSPACE_METHOD, key_players

    rows: list[dict[str, object]] = []
    for nid, net in network_graphs(ws).items():
        table = key_players(net, k, method=WORKSPACE_METHOD, seed=seed).table
        for r in table.select(["rank", "id", "score"]).to_pylist():
            rows.append(
                {"network_id": nid, "entity_id": r["id"], "rank": r["rank"], "score": r["score"]}
            )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("network_id", pa.string()),
                ("entity_id", pa.string()),
                ("rank", pa.int64()),
                ("score", pa.float64()),
            ]
        ),
    )
