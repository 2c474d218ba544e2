"""Possible matches (``lastmile review``): the pairs of people a resolution left apart, for an
analyst to judge (docs/resolution.md, "Possible matches")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.resolve import ResolveError
from lastmile.resolve.judge import explain_entity, judge_pair
from lastmile.resolve.review import FLOOR, possible_matches
from lastmile.resolve.run import resolve
from lastmile.store import Workspace, open_workspace

from .test_resolve import entity, make_operation


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("review")
    truth = make_operation(folder / "op")
    path = folder / "ws.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [folder / "op"], rejects=folder / "rejects.csv")
        result = resolve(ws)
    yield path, {"truth": truth, "result": result}


def _pair(rows: list[dict[str, Any]], a: str, b: str) -> dict[str, Any] | None:
    found = [r for r in rows if {r["record_a"], r["record_b"]} == {a, b}]
    return found[0] if found else None


def _check_listing(ws: Workspace, truth: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = possible_matches(ws).to_pylist()
    # A man written once with his date of birth and once without, in another agency's file:
    # the same full name alone falls short of a merge, and is offered for review.
    undated = _pair(rows, *truth["p0"][:2])
    assert undated is not None
    assert undated["why"].startswith("below the threshold")
    assert FLOOR <= undated["probability"] < 0.5
    assert "the same full name" in undated["evidence"]
    # A father and son sharing a phone and an address score high; a rule keeps them apart,
    # and the listing says which.
    family = _pair(rows, truth["jr"][0], truth["sr"][0])
    assert family is not None and family["why"].startswith("kept apart by a rule")
    assert "generation" in family["why"]
    # Most likely first; each pair of entities once, each record in the entity it is listed
    # under, never two records of one entity.
    probs = [r["probability"] for r in rows]
    assert probs == sorted(probs, reverse=True)
    assert all(p >= FLOOR for p in probs)
    keys = [(r["entity_a"], r["entity_b"]) for r in rows]
    assert len(keys) == len(set(keys)) and all(a < b for a, b in keys)
    for r in rows:
        assert entity(ws, r["record_a"]) == r["entity_a"]
        assert entity(ws, r["record_b"]) == r["entity_b"]
        assert r["name_a"] is not None or r["name_b"] is not None
        assert r["pairs"] >= 1
    return rows


def test_pairs_left_apart_are_listed_with_why_most_likely_first(
    reviewed: tuple[Path, dict[str, Any]],
) -> None:
    path, ctx = reviewed
    with open_workspace(path, create=False) as ws:
        rows = _check_listing(ws, ctx["truth"])
    assert ctx["result"].possible_matches == len(rows)


def test_possible_matches_are_stored_on_both_stores(workspace: Workspace, tmp_path: Path) -> None:
    truth = make_operation(tmp_path / "op")
    ingest_paths(workspace, [tmp_path / "op"], rejects=tmp_path / "rejects.csv")
    resolve(workspace)
    _check_listing(workspace, truth)


def test_a_judgement_settles_a_possible_match(
    reviewed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    source, ctx = reviewed
    truth = ctx["truth"]
    path = tmp_path / "ws.duckdb"
    path.write_bytes(source.read_bytes())
    with open_workspace(path) as ws:
        a, b = truth["p0"][:2]
        jr, sr = truth["jr"][0], truth["sr"][0]
        judge_pair(ws, "same", a, b, analyst="tester")
        judge_pair(ws, "different", jr, sr, analyst="tester")
        resolve(ws)
        rows = possible_matches(ws).to_pylist()
        # Confirmed: one person, so no longer a possible match; rejected: apart, and not
        # offered again.
        assert entity(ws, a) == entity(ws, b)
        assert _pair(rows, a, b) is None
        assert entity(ws, jr) != entity(ws, sr)
        assert _pair(rows, jr, sr) is None
        # The rest of the listing is untouched.
        assert _pair(rows, *truth["p60"][:2]) is not None


def test_the_listing_filters_by_entity_probability_and_count(
    reviewed: tuple[Path, dict[str, Any]],
) -> None:
    path, ctx = reviewed
    truth = ctx["truth"]
    with open_workspace(path, create=False) as ws:
        every = possible_matches(ws).to_pylist()
        jr = entity(ws, truth["jr"][0])
        mine = possible_matches(ws, entity=jr).to_pylist()
        assert mine and all(jr in (r["entity_a"], r["entity_b"]) for r in mine)
        assert len(mine) < len(every)
        high = possible_matches(ws, min_probability=0.5).to_pylist()
        assert high and all(r["probability"] >= 0.5 for r in high)
        assert len(high) < len(every)
        assert _pair(high, *truth["p0"][:2]) is None
        assert possible_matches(ws, limit=1).to_pylist() == every[:1]
        # The entity's explanation points to them.
        text = explain_entity(ws, jr).text()
        assert f"possible matches left apart: {len(mine)} (lastmile review {jr})" in text
        for bad, message in (
            ({"min_probability": 1.5}, "between 0 and 1"),
            ({"limit": 0}, "at least 1"),
            ({"entity": "P-nope"}, "no entity 'P-nope'"),
        ):
            with pytest.raises(ResolveError, match=message):
                possible_matches(ws, **bad)


def test_review_needs_a_resolution_first(tmp_path: Path) -> None:
    with (
        open_workspace(tmp_path / "ws.duckdb") as ws,
        pytest.raises(ResolveError, match="run 'lastmile resolve' first"),
    ):
        possible_matches(ws)


def test_cli_review(reviewed: tuple[Path, dict[str, Any]]) -> None:
    path, _ = reviewed
    runner = CliRunner()
    res = runner.invoke(app, ["review", "-w", str(path), "--format", "csv", "--limit", "2"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].replace('"', "").split(",")[:5] == [
        "entity_a",
        "name_a",
        "entity_b",
        "name_b",
        "probability",
    ]
    assert len(lines) == 3
    res = runner.invoke(app, ["review", "-w", str(path), "--min-probability", "2"])
    assert res.exit_code == 1
    assert "between 0 and 1" in res.output and "Traceback" not in res.output
