"""Resolution's bounds for large record sets: Splink's own DuckDB connection is bounded and
spills, expectation maximisation learns from a sample of pairs, and prediction runs in
chunks that give the same pairs as one pass (docs/resolution.md, step 3, "Memory")."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lastmile.ingest import ingest_paths
from lastmile.resolve import persons
from lastmile.resolve.run import build_features
from lastmile.store import open_workspace
from lastmile.store.backends import MEMORY_ENV
from tests.test_resolve import make_operation


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pa.Table]:
    folder = tmp_path_factory.mktemp("scale")
    make_operation(folder / "op")
    with open_workspace(folder / "ws.duckdb") as ws:
        ingest_paths(ws, [folder / "op"], rejects=folder / "rejects.csv")
        yield build_features(ws, ws.store.staging())


@pytest.fixture(scope="module")
def model(features: pa.Table) -> dict[str, Any]:
    return persons.train(features)


def test_splinks_connection_is_bounded_spills_and_is_released(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MEMORY_ENV, "300MB")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    api = persons.duckdb_api()
    con = api.duckdb_con
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit in ("286.1 MiB", "300.0 MB"), limit
    assert Path(spill).parent == tmp_path and Path(spill).is_dir()

    class Linker:
        _db_api = api

    persons.release(Linker())
    assert not Path(spill).exists()
    with pytest.raises(Exception, match="closed"):
        con.execute("SELECT 1")


def test_training_and_prediction_leave_no_connection_behind(
    features: pa.Table, model: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made: list[Any] = []
    original = persons.duckdb_api

    def spy() -> Any:
        made.append(original())
        return made[-1]

    monkeypatch.setattr(persons, "duckdb_api", spy)
    persons.predict(features, model)
    assert made and not any(tmp_path.glob("lastmile-splink-*"))
    assert all(not api.lastmile_release.alive for api in made)


def _pairs(pred: pa.Table) -> list[tuple[Any, ...]]:
    gammas = sorted(c for c in pred.column_names if c.startswith("gamma_"))
    cols = ["record_id_l", "record_id_r", "match_probability", *gammas]
    rows = zip(*(pred[c].to_pylist() for c in cols), strict=True)
    out = []
    for row in rows:
        a, b = sorted((row[0], row[1]))
        out.append((a, b, round(row[2], 12), *row[3:]))
    return sorted(out)


def test_chunked_prediction_gives_the_same_pairs(features: pa.Table, model: dict[str, Any]) -> None:
    whole = persons.predict(features, model)
    chunked = persons.predict(features, model, chunk_records=7)
    assert features.num_rows > 7 * 3  # so there are several chunks
    assert whole.num_rows > 10
    assert _pairs(chunked) == _pairs(whole)
    # The compared values stay in DuckDB; the levels and weights come back.
    assert "first_l" not in whole.column_names and "gamma_name" in whole.column_names
    assert "mw_name" in whole.column_names


def test_expectation_maximisation_learns_from_a_bounded_sample(
    features: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    from splink.internals.linker_components.training import LinkerTraining

    seen: list[Any] = []
    original = LinkerTraining.estimate_parameters_using_expectation_maximisation

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("max_pairs"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LinkerTraining, "estimate_parameters_using_expectation_maximisation", spy)
    monkeypatch.setattr(persons, "EM_MAX_PAIRS", 40)
    skipped: list[str] = []
    model = persons.train(features, skipped=skipped)
    assert seen == [40, 40]
    assert model["comparisons"]


def test_large_blocks_are_split_by_a_second_key_and_small_ones_kept() -> None:
    n = persons.MAX_BLOCK + 10
    firsts = [f"{chr(ord('a') + i % 26)}name" for i in range(n)] + ["ana", "ana", "luis"]
    table = pa.table(
        {
            "record_id": [f"R{i:03d}" for i in range(n + 3)][::-1],
            "first": firsts,
            "sur1": ["garcia"] * n + ["reyes", "reyes", "smith"],
            "sur2": [None] * (n + 3),
            "dob": ["1990-01-01"] * n + ["1980-05-05", "1980-05-05", None],
            "name_keys": [["common name"]] * n + [["ana reyes"], ["ana reyes"], None],
            "moniker": ["flaco"] * n + ["flaco", "flaco", None],
        }
    )
    out = persons.blocking_keys(table)
    # Same rows, same order, the features untouched.
    assert out.select(table.column_names).equals(table)
    rows = out.to_pylist()
    big, small = rows[:n], rows[n:]
    # A date of birth held by more than MAX_BLOCK records: split by the initials.
    assert [r["blk_dob_first"] for r in big] == [f[0] for f in firsts[:n]]
    assert {r["blk_dob_sur"] for r in big} == {"g"}
    # A name key held by more than MAX_BLOCK records: split by the birth year.
    assert {tuple(r["blk_name_keys"]) for r in big} == {("common name|1990",)}
    # A surname and birth year held by more than MAX_BLOCK records: split by the initial;
    # given name and surname together are each held by few: kept whole.
    assert [r["blk_sur_year"] for r in big] == [f[0] for f in firsts[:n]]
    assert {r["blk_name"] for r in big} == {""}
    # A street name shared by many with one surname: split by the given name's initial.
    assert [r["blk_mon_sur"] for r in big] == [f[0] for f in firsts[:n]]
    assert {r["blk_mon_first"] for r in small[:2]} == {""}
    # Small blocks keep their key whole ('' agrees with '').
    assert [r["blk_dob_first"] for r in small[:2]] == ["", ""]
    assert [r["blk_name_keys"] for r in small] == [["ana reyes"], ["ana reyes"], None]
    assert {r["blk_name"] for r in small} == {""}
