"""bench/network_keymiss.py: where the truth's key players of a missed true network are."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench_modules import load_bench


def _bench() -> Any:
    return load_bench("network_keymiss")


@pytest.fixture(scope="module")
def bench() -> Any:
    return _bench()


def _world(bench: Any) -> dict[str, Any]:
    """True network T of 12 people (t0..t11) and U of 10 (u0..u9). Ours: N-A holds t0..t7 and
    u0 (glue), N-B holds t8..t10 (a piece of T), N-U (upstream) holds t11, N-C holds u1..u9.
    The truth's top 5 of T: t0 (picked), t1 (ranked 7th in N-A), t8 (in the piece N-B), t11
    (upstream) and t9 (piece); of U: u1..u5, all picked."""
    true_network = {f"t{i}": "T" for i in range(12)} | {f"u{i}": "U" for i in range(10)}
    person_of_entity = {f"E{p}": p for p in true_network}
    network_of = {f"Et{i}": "N-A" for i in range(8)} | {"Eu0": "N-A"}
    network_of |= {f"Et{i}": "N-B" for i in (8, 9, 10)} | {"Et11": "N-U"}
    network_of |= {f"Eu{i}": "N-C" for i in range(1, 10)}
    ranking = {
        "N-A": ["Et0", "Eu0", "Et2", "Et3", "Et4", "Et5", "Et1"],
        "N-C": [f"Eu{i}" for i in range(1, 10)],
    }
    places = {
        "N-A": {e: bench.Place(r, 0, 1, 1) for r, e in enumerate(ranking["N-A"], start=1)},
    }
    return {
        "true_network": true_network,
        "true_keys": {"T": ["t0", "t1", "t8", "t11", "t9"], "U": [f"u{i}" for i in range(1, 6)]},
        "person_of_entity": person_of_entity,
        "network_of": network_of,
        "upstream": {"N-U"},
        "ranking": ranking,
        "places": places,
        "ties": {"Et8": [("Et2", "supply")], "Et2": [("Et8", "supply")]},
        "cases": {"Et9": {"I-1"}, "Et3": {"I-1"}},
    }


def test_each_missed_key_player_is_placed(bench: Any) -> None:
    found = bench.key_misses(**_world(bench))
    assert found["true_networks"] == 2
    assert found["share_3_of_5"] == 0.5  # U met (5 of 5), T missed (1 of 5)
    assert found["missed_hits"] == {1: 1}
    assert found["key_players_missed"] == {"piece": 2, "ranked": 1, "upstream": 1}
    (missed,) = found["details"]
    assert missed["ours"] == "N-A"
    where = {m["person"]: m for m in missed["missed"]}
    assert where["t1"]["where"] == "ranked" and where["t1"]["rank"] == 7
    assert where["t8"]["where"] == "piece" and where["t8"]["ties_to_ours"] == {"supply": 1}
    assert where["t9"]["shared_case_file"] is True
    assert where["t11"]["where"] == "upstream"
    # our picks the truth does not list: u0 is of another true network, t2..t4 of T
    assert found["picked_instead"] == {"other": 1, "same": 3}
    # three key players placed elsewhere would lift T to 3 of 5 (it needs two more);
    # the one ranked below 5th alone would not
    assert found["flip_if_placed"] == 1 and found["flip_if_ranked"] == 0


def test_resolution_splits_unrecorded_people_and_duplicate_picks(bench: Any) -> None:
    """t1's records resolved into two entities (Et1 8th, Et1b 9th in N-A), t2's into two that
    both take a place (Et2 3rd, Et2b 4th), and t11 has no entity at all."""
    world = _world(bench)
    world["person_of_entity"] |= {"Et1b": "t1", "Et2b": "t2"}
    del world["person_of_entity"]["Et11"]
    world["network_of"] |= {"Et1b": "N-A", "Et2b": "N-A"}
    del world["network_of"]["Et11"]
    world["ranking"]["N-A"] = ["Et0", "Eu0", "Et2", "Et2b", "Et3", "Et4", "Et5", "Et1", "Et1b"]
    world["places"] = {
        "N-A": {e: bench.Place(r, 0, 1, 1) for r, e in enumerate(world["ranking"]["N-A"], start=1)}
    }
    found = bench.key_misses(**world)
    assert found["key_players_missed"] == {"piece": 2, "ranked": 1, "unrecorded": 1}
    where = {m["person"]: m for m in found["details"][0]["missed"]}
    # the better placed of his two entities, and how many he has
    assert where["t1"]["rank"] == 8 and where["t1"]["entities"] == 2
    assert where["t11"]["entities"] == 0
    assert found["ranked_at"] == {"6-10": 1}
    assert found["split_by_resolution"] == 1
    # 11 of T's 12 people are named by a record: T is not mostly unrecorded
    assert found["details"][0]["recorded"] == 11 and found["mostly_unrecorded"] == {
        "missed": 0,
        "met": 0,
    }
    # Et2b is a second half of a person already picked, not another person of T
    assert found["picked_instead"] == {"duplicate": 1, "other": 1, "same": 2}


def test_a_true_network_no_record_names_is_mostly_unrecorded(bench: Any) -> None:
    world = _world(bench)
    for i in range(2, 8):
        del world["person_of_entity"][f"Et{i}"]
    found = bench.key_misses(**world)
    assert found["details"][0]["recorded"] == 6
    assert found["mostly_unrecorded"] == {"missed": 0, "met": 0}
    del world["person_of_entity"]["Et10"]
    found = bench.key_misses(**world)
    assert found["details"][0]["recorded"] == 5
    assert found["mostly_unrecorded"] == {"missed": 1, "met": 0}
    # U, met, is mostly unrecorded once six of its ten people are named by no record
    for i in range(5, 10):
        del world["person_of_entity"][f"Eu{i}"]
    del world["person_of_entity"]["Eu0"]
    found = bench.key_misses(**world)
    assert found["mostly_unrecorded"] == {"missed": 1, "met": 1}
