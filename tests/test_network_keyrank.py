"""bench/network_keyrank.py: the evidence other key-player rankings read, and their order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.bench_modules import load_bench


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_bench("network_keyrank")


def _network(**keys: Any) -> dict[str, Any]:
    """Four people a..d alike in every key but those given."""
    n = 4
    base: dict[str, Any] = {
        "ids": ["a", "b", "c", "d"],
        "shares": [[] for _ in range(n)],
        "names": [{"a"}, {"b"}, {"c"}, {"d"}],
    }
    for key in ("supplied", "falls", "distributes", "degree", "betweenness"):
        base[key] = np.zeros(n)
    return base | keys


def test_name_key_reads_one_name_however_written(bench: Any) -> None:
    assert bench.name_key("BREWER, Jason") == bench.name_key("Jason Brewer") == "brewer jason"
    assert bench.name_key("Terjo Cordero, Rubén José") == "cordero jose ruben terjo"
    assert bench.name_key("Jason Brewer") != bench.name_key("Jason Brewster")


def test_ordered_reads_the_keys_in_order_and_defers_a_shared_selector(bench: Any) -> None:
    f = _network(
        supplied=np.array([0, 2, 2, 0]),
        falls=np.array([5, 1, 3, 1]),
        degree=np.array([9, 1, 1, 1]),
    )
    # supplied first (b, c), then the fall (c before b), then the rest by the fall (a)
    assert bench.ordered(f, [f["supplied"], f["falls"], f["degree"]]) == [2, 1, 0, 3]
    # b shares a selector with c, ranked before him: b after everyone who shares none
    f["shares"] = [[], ["c"], ["b"], []]
    assert bench.ordered(f, [f["supplied"], f["falls"], f["degree"]]) == [2, 0, 3, 1]


def test_ordered_by_name_defers_a_second_entity_of_one_name(bench: Any) -> None:
    f = _network(supplied=np.array([3, 2, 1, 0]), names=[{"x"}, {"x"}, {"y"}, set()])
    assert bench.ordered(f, [f["supplied"]]) == [0, 1, 2, 3]
    assert bench.ordered(f, [f["supplied"]], by_name=True) == [0, 2, 3, 1]


def test_the_default_variant_is_the_library_ranking(bench: Any) -> None:
    f = _network(
        supplied=np.array([0, 1, 1, 0]),
        falls=np.array([1, 1, 2, 1]),
        distributes=np.array([0, 0, 0, 1]),
        degree=np.array([4, 2, 1, 1]),
        betweenness=np.array([0.0, 0.5, 0.1, 0.0]),
    )
    # c (supplies one, fall 2), b (supplies one), d (a stated distributor), a
    assert bench.VARIANTS["default"](f) == [2, 1, 3, 0]


def test_activity_spans_dated_ties_of_working_together_inside_the_network(bench: Any) -> None:
    network_of = {"a": "N", "b": "N", "c": "N", "x": "M"}
    ties = [
        {
            "source": "a",
            "target": "b",
            "kind": "communication",
            "first": "2022-01-05T10:00",
            "last": "2022-03-01T09:00",
        },
        {"source": "b", "target": "c", "kind": "supply", "first": "2022-06-30", "last": None},
        # family is not working together, and a tie to another network is not inside it
        {"source": "a", "target": "c", "kind": "family", "first": "2010-01-01", "last": None},
        {"source": "a", "target": "x", "kind": "supply", "first": "2024-01-01", "last": None},
        {"source": "c", "target": "b", "kind": "association", "first": "", "last": "junk"},
    ]
    found = bench.activity(ties, network_of)
    assert found["a"] == (55, 2)  # 5 January to 1 March, two months
    assert found["b"] == (176, 3)  # to 30 June
    assert found["c"] == (0, 1)
    assert "x" not in found


def _brute_efficiency_falls(g: Any) -> np.ndarray:
    def efficiency(h: Any) -> float:
        n = h.vcount()
        return float(np.sum(h.harmonic_centrality(normalized=False))) / (n * (n - 1))

    out = []
    for v in range(g.vcount()):
        h = g.copy()
        h.delete_vertices([v])
        out.append(efficiency(g) - efficiency(h))
    return np.asarray(out)


def test_efficiency_falls_are_the_fall_in_global_efficiency_on_each_removal(bench: Any) -> None:
    import igraph as ig

    # a path 0-1-2-3 with a triangle 3-4-5 and a leaf 6 on 4, and an isolated 7
    g = ig.Graph(n=8, edges=[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (3, 5), (4, 6)])
    exact = _brute_efficiency_falls(g)
    assert np.allclose(bench.efficiency_falls(g), exact)
    # the cut vertex 3 loses most; the isolated person loses nothing but the pairs' count
    assert int(np.argmax(exact)) == 3
    # with no budget, the people with two ties or more keep the leaf form: a lower bound
    bounded = bench.efficiency_falls(g, budget=0)
    leaves = [0, 6, 7]
    assert np.allclose(bounded[leaves], exact[leaves])
    assert np.all(bounded <= exact + 1e-12)
    assert bounded[3] < exact[3]


def test_kind_graph_keeps_only_the_kinds_given_among_the_people_given(bench: Any) -> None:
    ties = [
        {"source": "a", "target": "b", "kind": "supply"},
        {"source": "b", "target": "a", "kind": "communication"},
        {"source": "b", "target": "c", "kind": "shared_selector"},
        {"source": "c", "target": "x", "kind": "supply"},
        {"source": "c", "target": "c", "kind": "association"},
    ]
    g = bench.kind_graph(["a", "b", "c"], ties, bench.TRUTH_KINDS)
    assert g.vcount() == 3
    assert sorted(g.get_edgelist()) == [(0, 1)]


def _world(tmp_path: Any, ties: list[tuple[str, str, str]], recorded: list[str]) -> Any:
    truth = tmp_path / "truth"
    truth.mkdir()
    people = sorted({p for a, b, _ in ties for p in (a, b)})
    (truth / "entities.csv").write_text(
        "entity_id,kind,network_id,cartel,role\n"
        + "".join(f"{p},person,NET-0000,Sinaloa,dealer\n" for p in people)
    )
    (truth / "records.csv").write_text(
        "record_id,entity_id,record_type,discoverable\n"
        + "".join(f"S{i},{p},subjects,true\n" for i, p in enumerate(recorded))
    )
    (truth / "ties.csv").write_text(
        "entity_a,entity_b,kind,observed\n" + "".join(f"{a},{b},{k},true\n" for a, b, k in ties)
    )
    return {p: {"network_id": "NET-0000"} for p in people}


def test_truth_cuts_finds_a_fifth_place_left_to_the_entity_id(bench: Any, tmp_path: Any) -> None:
    # a star: the hub P0 cuts off eight leaves; every leaf falls by one and, alike in
    # efficiency, the four places after the hub go to the leaves of the smallest ids
    ties = [("P0", f"P{i}", "supply") for i in range(1, 9)]
    ties.append(("P1", "P9", "family"))  # not a criminal tie: P9 is isolated
    persons = _world(tmp_path, ties, [f"P{i}" for i in range(10)])
    cut = bench.truth_cuts(tmp_path, persons)["NET-0000"]
    assert cut.listed == ["P0", "P1", "P2", "P3", "P4"]
    assert cut.sure_fall == {"P0"} and cut.places_fall == 4
    assert cut.tied_fall == {f"P{i}" for i in range(1, 9)}
    assert cut.tie_on_fall and cut.tie_on_id
    assert cut.tied_id == cut.tied_fall and cut.places_id == 4


def test_truth_cuts_reads_efficiency_before_the_id(bench: Any, tmp_path: Any) -> None:
    # two hubs: P0 (three leaves) and P1 (one leaf, P5); the four leaves tie on the fall for
    # three places, and P0's leaves, nearer everyone, lose more efficiency: no id decides
    ties = [("P0", "P1", "supply"), ("P1", "P5", "communication")]
    ties += [("P0", f"P{i}", "supply") for i in range(2, 5)]
    persons = _world(tmp_path, ties, [f"P{i}" for i in range(6)])
    cut = bench.truth_cuts(tmp_path, persons)["NET-0000"]
    assert cut.listed == ["P0", "P1", "P2", "P3", "P4"]
    assert cut.tied_fall == {"P2", "P3", "P4", "P5"} and cut.places_fall == 3
    assert cut.tie_on_fall and not cut.tie_on_id
    assert cut.tied_id == {"P2", "P3", "P4"}


def test_the_figure_with_the_truths_tie_set_aside(bench: Any) -> None:
    truth_bench = load_bench("network_truth")
    # one true network of ten people; the truth lists K0-K4, K3 and K4 being two of four
    # people tied for the last two places (K3, K4, T1, T2); ours picks K0, K1, T1, T2, X
    people = ["K0", "K1", "K2", "K3", "K4", "T1", "T2", "X", "Y", "Z"]
    truth = {p: {"network_id": "N"} for p in people}
    keys = {"N": ["K0", "K1", "K2", "K3", "K4"]}
    persons = {p: p for p in people}
    entities = {p: {p} for p in people}
    network_of = {p: "ours" for p in people}
    top = {"default": {"ours": ["K0", "K1", "T1", "T2", "X"]}}
    cut = {"N": ({"K0", "K1", "K2"}, {"K3", "K4", "T1", "T2"}, 2)}

    def share(**kw: Any) -> Any:
        scored = truth_bench.key_player_overlap(
            truth, keys, persons, entities, network_of, top, **kw
        )
        return scored["default"]["share_3_of_5"], scored["default"]["mean_hits"]

    assert share() == (0.0, 2.0)  # K0, K1: two of five
    assert share(ties_at_cut=cut, broken="ours") == (1.0, 4.0)  # T1, T2 fill the two places
    assert share(ties_at_cut=cut, broken="against") == (0.0, 2.0)
    # at random, at least one of T1, T2 among the two places drawn from four: 1 - 1/6
    met, hits = share(ties_at_cut=cut, broken="random")
    assert met == round(5 / 6, 4) and hits == 3.0
