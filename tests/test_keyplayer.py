"""The default key-player ranking of a workspace network (docs/networks.md, "Key players of a
workspace network"): people supplied, then the fall of the largest component on one's removal
alone, then a stated role of distributor, then ties, then betweenness; the second of two people
sharing a selector comes later."""

from __future__ import annotations

import igraph as ig
import pyarrow as pa
import pytest

from lastmile.network.graph import Network, build_network
from lastmile.network.keyplayer import (
    DISTRIBUTES,
    SUPPLIES,
    key_players,
    mark_shared_selectors,
    removal_falls,
)
from lastmile.network.workspace import TIE_SCHEMA


def _net(edges: list[tuple[str, str]]) -> Network:
    return build_network(
        pa.table(
            {
                "source": [a for a, _ in edges],
                "target": [b for _, b in edges],
                "weight": [1.0] * len(edges),
            }
        )
    )


def _brute_falls(g: ig.Graph) -> list[int]:
    def largest(h: ig.Graph) -> int:
        return max(h.connected_components().sizes()) if h.vcount() else 0

    base = largest(g)
    out = []
    for v in range(g.vcount()):
        h = g.copy()
        h.delete_vertices([v])
        out.append(base - largest(h))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_removal_falls_match_removing_each_person(seed: int) -> None:
    """Only cut vertices are removed for real; the result must equal removing everyone."""
    import random

    random.seed(seed)
    n = random.randint(1, 30)
    g = ig.Graph.Erdos_Renyi(n=n, m=random.randint(0, n + 5))
    assert removal_falls(g).values.tolist() == _brute_falls(g)


def test_removal_falls_of_two_equal_largest_components_are_zero() -> None:
    g = ig.Graph(n=6, edges=[(0, 1), (1, 2), (3, 4), (4, 5)])
    assert removal_falls(g).values.tolist() == [0] * 6


def test_on_a_very_large_graph_only_the_busiest_cut_vertices_are_removed() -> None:
    """A path of 30 with a star of 5 leaves on vertex 20: with no budget, 10 removals are
    made, the cut vertices with most ties first (20, then 1..9 by id); the rest keep the lower
    bound 1 and are marked unmeasured."""
    g = ig.Graph(n=35, edges=[(i, i + 1) for i in range(29)] + [(20, 30 + i) for i in range(5)])
    exact = _brute_falls(g)
    falls = removal_falls(g, budget=0)
    assert falls.cut_vertices == 28 and falls.unmeasured == 18
    done = [20, *range(1, 10)]
    assert all(falls.measured[v] and falls.values[v] == exact[v] for v in done)
    assert all(falls.values[v] == 1 for v in range(35) if not falls.measured[v])
    assert removal_falls(g).values.tolist() == exact


def test_among_people_supplying_alike_the_cut_vertex_comes_before_the_busier_one() -> None:
    """A clique of seven (no single removal cuts it) and B, tied to two of it and the only
    link of three people: the clique's people have more ties, B's removal cuts the network."""
    clique = ["A", *[f"R{i}" for i in range(1, 7)]]
    edges = [(a, b) for i, a in enumerate(clique) for b in clique[i + 1 :]]
    edges += [("B", "R1"), ("B", "R2"), *[("B", f"L{i}") for i in range(3)]]
    net = _net(edges)
    assert key_players(net, 1, method="degree").table.column("id").to_pylist() != ["B"]
    table = key_players(net, 1, method="supply").table
    assert table.column("id").to_pylist() == ["B"]
    why = table.column("why")[0].as_py()
    assert "removing them alone cuts the intact largest component by 4" in why
    # stated supply still comes first
    net.graph.vs[SUPPLIES] = [2 if n == "A" else 0 for n in net.ids]
    assert key_players(net, 1, method="supply").table.column("id").to_pylist() == ["A"]


def _tie(a: str, b: str, kind: str) -> dict[str, object]:
    return {"source": a, "target": b, "kind": kind, "records": 1, "record_ids": "R"}


def test_the_second_of_two_people_sharing_a_selector_comes_after_the_others() -> None:
    """S1 and S2 share a phone (most often one person split in two, or one unit): both supply
    most, but the second is put after the people who share no selector, and says why."""
    edges = [("S1", f"D{i}") for i in range(4)] + [("S2", f"D{i}") for i in range(4)]
    edges += [("D0", "X"), ("X", "Y")]
    net = _net(edges)
    net.graph.vs[SUPPLIES] = [4 if n in ("S1", "S2") else 0 for n in net.ids]
    before = key_players(net, 2, method="supply").table.column("id").to_pylist()
    assert before == ["S1", "S2"]
    ties = pa.Table.from_pylist(
        [_tie("S1", "S2", "shared_selector"), _tie("S1", "OUT", "shared_selector")],
        schema=TIE_SCHEMA,
    )
    mark_shared_selectors({"N": net}, ties)
    table = key_players(net, len(net.ids), method="supply").table
    ids = table.column("id").to_pylist()
    assert ids[0] == "S1" and ids[-1] == "S2"
    why = table.column("why")[len(ids) - 1].as_py()
    assert "shares a selector with #1 (S1)" in why
    # someone outside the network (OUT) defers no one; other tie kinds defer no one
    assert net.graph.vs[net.ids.index("S1")]["shares_selector"] == ["S2"]
    mark_shared_selectors(
        {"N": net},
        pa.Table.from_pylist([_tie("S1", "S2", "association")], schema=TIE_SCHEMA),
    )
    assert key_players(net, 2, method="supply").table.column("id").to_pylist() == ["S1", "S2"]


def test_a_stated_distributor_breaks_the_tie_of_supply_and_fall_before_ties() -> None:
    """A ring X-Y-A-B-Z-X with a chord X-B, and B the only link of C and C of D: B and C are
    cut vertices, everyone else cuts off only himself. Among those, X has most ties and comes
    first, until a record states Y to be a distributor: then Y comes first among them, while
    the cut vertices keep their places; stated supply still comes before the role."""
    edges = [("X", "Y"), ("Y", "A"), ("A", "B"), ("B", "Z"), ("Z", "X"), ("X", "B")]
    edges += [("B", "C"), ("C", "D")]
    net = _net(edges)
    full = len(net.ids)
    before = key_players(net, full, method="supply").table.column("id").to_pylist()
    assert before[:3] == ["B", "C", "X"]
    net.graph.vs[DISTRIBUTES] = [n == "Y" for n in net.ids]
    table = key_players(net, full, method="supply").table
    after = table.column("id").to_pylist()
    assert after[:4] == ["B", "C", "Y", "X"]
    assert "a record states his role as distributor" in table.column("why")[2].as_py()
    assert "distributor" not in table.column("why")[3].as_py()
    net.graph.vs[SUPPLIES] = [1 if n == "D" else 0 for n in net.ids]
    assert key_players(net, 1, method="supply").table.column("id").to_pylist() == ["D"]
