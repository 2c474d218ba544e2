"""bench/resolve_lists.py: the other agencies' lists it writes are valid and truthful."""

from __future__ import annotations

import csv
from pathlib import Path

from lastmile.ingest import ingest_paths
from lastmile.store import open_workspace
from tests.bench_modules import load_bench


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_lists_ingest_whole_and_the_truth_names_every_record(tmp_path: Path) -> None:
    bench = load_bench("resolve_lists")
    made = bench.write_lists(tmp_path / "lists", 120, seed=3)
    with open_workspace(tmp_path / "ws.duckdb") as ws:
        result = ingest_paths(ws, [tmp_path / "lists"], rejects=tmp_path / "rejects.csv")
    assert result.rejected == 0
    subjects = _rows(tmp_path / "lists" / "subjects.csv")
    truth = {
        r["record_id"]: r["entity_id"] for r in _rows(tmp_path / "lists" / "truth" / "records.csv")
    }
    assert made["records"] == len(subjects) == len(truth)
    assert {s["subject_id"] for s in subjects} == set(truth)
    # One person at most once in a case file: two subject records of one case file are two
    # people to the resolver, and the truth must not say otherwise.
    seen = {(s["investigation_id"], truth[s["subject_id"]]) for s in subjects}
    assert len(seen) == len(subjects)
    # People are written in more than one alphabet, and most are seen more than once.
    assert any(not s["full_name"].isascii() for s in subjects)
    assert len(set(truth.values())) < len(truth)


def test_a_seed_gives_the_same_lists(tmp_path: Path) -> None:
    bench = load_bench("resolve_lists")
    bench.write_lists(tmp_path / "a", 60, seed=5)
    bench.write_lists(tmp_path / "b", 60, seed=5)
    for name in ("subjects.csv", "selectors.csv", "truth/records.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
