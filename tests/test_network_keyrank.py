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
