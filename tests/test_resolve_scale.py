"""Resolution's bounds for large record sets: Splink's own DuckDB connection is bounded and
spills, expectation maximisation learns from a sample of pairs, and prediction runs in
chunks that give the same pairs as one pass (docs/resolution.md, step 3, "Memory")."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
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
            "name_sound": ["N550 G620"] * n + ["A500 R200", "A500 R200", None],
        }
    )
    out = persons.blocking_keys(table)
    # Same rows, same order, the features untouched.
    assert out.select(table.column_names).equals(table)
    rows = out.to_pylist()
    big, small = rows[:n], rows[n:]
    # A date of birth's rules take an initial at every size; a date and an initial held by
    # more than MAX_BLOCK records are split by the other initial.
    assert [r["blk_dob_first"] for r in big] == [f[0] for f in firsts[:n]]
    assert [r["blk_dob_sur"] for r in big] == [f"g|{f[0]}" for f in firsts[:n]]
    # A name key held by more than MAX_BLOCK records: split by the birth year.
    assert {tuple(r["blk_name_keys"]) for r in big} == {("common name|1990",)}
    # A surname and birth year held by more than MAX_BLOCK records: split by the initial;
    # given name and surname together are each held by few: kept whole.
    assert [r["blk_sur_year"] for r in big] == [f[0] for f in firsts[:n]]
    assert {r["blk_name"] for r in big} == {""}
    # A street name shared by many with one surname: split by the given name's initial.
    assert [r["blk_mon_sur"] for r in big] == [f[0] for f in firsts[:n]]
    assert {r["blk_mon_first"] for r in small[:2]} == {""}
    # Small blocks keep their key whole ('' agrees with ''), but for the date of birth's
    # initials.
    assert [r["blk_dob_first"] for r in small] == ["a", "a", "l"]
    assert [r["blk_dob_sur"] for r in small] == ["r", "r", "s"]
    assert [r["blk_name_keys"] for r in small] == [["ana reyes"], ["ana reyes"], None]
    assert {r["blk_name"] for r in small} == {""}
    # Names that sound alike held by more than MAX_BLOCK records: split by the birth year.
    assert {r["blk_sound"] for r in big} == {"1990"}
    assert {r["blk_sound"] for r in small} == {""}
    # A surname held by more than MAX_BLOCK records: split by the given name's initial; a
    # given name held by few is kept whole.
    assert [r["blk_sur"] for r in big] == [f[0] for f in firsts[:n]]
    assert {r["blk_sur"] for r in small} == {""}
    assert {r["blk_first"] for r in rows} == {""}


def _dob_pairs(table: pa.Table) -> set[tuple[str, str]]:
    """The pairs the date-of-birth blocking rules compare, by the rules' own SQL."""
    rules = [
        r["blocking_rule"]
        for r in persons.blocking_rules()
        if r["blocking_rule"].startswith("l.dob = r.dob")
    ]
    assert len(rules) == 2
    con = duckdb.connect()
    con.register("t", persons.blocking_keys(table))
    rows = con.execute(
        f"SELECT l.record_id, r.record_id FROM t l JOIN t r ON l.record_id < r.record_id "
        f"AND (({rules[0]}) OR ({rules[1]}))"
    ).fetchall()
    return {(a, b) for a, b in rows}


def _people(firsts: list[str | None], surs: list[str | None], dob: str) -> pa.Table:
    n = len(firsts)
    return pa.table(
        {
            "record_id": [f"R{i:05d}" for i in range(n)],
            "first": pa.array(firsts, pa.string()),
            "sur1": pa.array(surs, pa.string()),
            "sur2": pa.array([None] * n, pa.string()),
            "dob": [dob] * n,
            "name_keys": pa.array([None] * n, pa.list_(pa.string())),
            "moniker": pa.array([None] * n, pa.string()),
            "name_sound": pa.array([None] * n, pa.string()),
        }
    )


def test_one_date_of_birth_compares_records_whose_given_name_or_surname_initial_agrees() -> None:
    table = _people(
        ["bill", "william", "maria", "jose", None, None, "ana"],
        ["smith", "smith", "lopez", "luna", None, None, None],
        "1970-03-04",
    )
    pairs = _dob_pairs(table)
    assert ("R00000", "R00001") in pairs  # a nickname with another initial: the surname's
    assert ("R00002", "R00003") in pairs  # another surname: the given name's initial
    assert ("R00004", "R00005") in pairs  # no name on either: they meet on the date
    assert ("R00000", "R00002") not in pairs  # neither initial agrees
    assert ("R00004", "R00006") in pairs  # no surname on either
    assert ("R00000", "R00004") not in pairs  # a full name against none
    assert ("R00002", "R00006") not in pairs


def test_date_of_birth_pairs_grow_with_the_records_not_their_square() -> None:
    """All records born on one day (the worst case for the rule): the pairs compared stay
    within MAX_BLOCK per record and rule, however many records there are."""
    import random

    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in (200, 2_000):
        firsts = [rng.choice(letters) + "x" for _ in range(n)]
        surs = [rng.choice(letters) + "y" for _ in range(n)]
        pairs = _dob_pairs(_people(firsts, surs, "1980-01-01"))
        assert len(pairs) <= 2 * n * persons.MAX_BLOCK / 2
        assert len(pairs) < n * (n - 1) / 2 / 5
        # Every pair kept agrees on an initial.
        by_id = {f"R{i:05d}": (firsts[i][0], surs[i][0]) for i in range(n)}
        assert all(by_id[a][0] == by_id[b][0] or by_id[a][1] == by_id[b][1] for a, b in pairs)


def test_prediction_compares_only_pairs_with_a_changed_side(
    features: pa.Table, model: dict[str, Any]
) -> None:
    whole = persons.predict(features, model)
    assert whole.num_rows > 2
    marked = str(whole["record_id_l"][0])
    flags = pa.array([rid == marked for rid in features["record_id"].to_pylist()], pa.bool_())
    only = persons.predict(features.append_column(persons.CHANGED_COLUMN, flags), model)
    expected = [p for p in _pairs(whole) if marked in p[:2]]
    assert _pairs(only) == expected
    none = pa.array([False] * features.num_rows, pa.bool_())
    unchanged = features.append_column(persons.CHANGED_COLUMN, none)
    assert persons.predict(unchanged, model).num_rows == 0


def test_the_entity_pass_marks_as_changed_only_entities_not_compared_as_they_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A record alone was compared as that record (unless a rule vetoed its pair, which the
    entity pass relaxes, or it is stated to be tied to a record whose entity the first pass
    grew, whose ties are new); an entity of several records is new; in a later pass, only
    an entity that the pass before merged."""
    from lastmile.resolve import collective

    con = duckdb.connect()
    cols = ", ".join(
        f"NULL::VARCHAR[] AS {c}" if c in persons.LIST_COLUMNS else f"NULL::VARCHAR AS {c}"
        for c in persons.FEATURE_COLUMNS[1:]
    )
    con.execute(
        "CREATE TEMP TABLE person_features AS SELECT record_id, "
        + cols.replace("NULL::VARCHAR AS investigation_id", "'I' || record_id AS investigation_id")
        + " FROM (VALUES ('a'), ('b'), ('c'), ('d'), ('e'), ('f')) t(record_id)"
    )
    con.execute("CREATE TEMP TABLE person_edges AS SELECT 'a' AS a, 'b' AS b")
    con.execute(
        "CREATE TEMP TABLE vetoed AS SELECT * FROM (VALUES ('c', 'd', 'names disagree'), "
        "('a', 'e', NULL)) t(a, b, veto)"
    )
    # f is an associate of b (of the entity a-b); e of nobody resolved with another.
    con.execute(
        "CREATE TEMP TABLE src_relationships AS SELECT * FROM (VALUES ('f', 'b', 'associate'), "
        "('e', 'd', 'associate'), ('e', 'c', 'member_of')) t(from_id, to_id, kind)"
    )
    seen: list[dict[str, bool]] = []

    def spy(features: pa.Table, *args: Any, **kwargs: Any) -> pa.Table:
        rows = features.select(["record_id", persons.CHANGED_COLUMN]).to_pylist()
        seen.append({r["record_id"]: r[persons.CHANGED_COLUMN] for r in rows})
        return features.slice(0, 0)

    monkeypatch.setattr(persons, "predict", spy)
    collective.predict_entities(con, {}, first_pass=True)
    assert seen[-1] == {"a": True, "c": True, "d": True, "e": False, "f": True}
    # Nothing merged since: nothing to compare again.
    collective.predict_entities(con, {}, first_pass=False)
    assert not any(seen[-1].values())
    # The pass merged (a, b) with e: only that entity is new.
    con.execute("INSERT INTO person_edges VALUES ('b', 'e')")
    collective.predict_entities(con, {}, first_pass=False)
    assert seen[-1] == {"a": True, "c": False, "d": False, "f": False}


def test_parsing_in_worker_processes_gives_the_same_features(
    features: pa.Table, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lastmile.resolve import features as feats

    monkeypatch.setattr(feats, "PARALLEL_MIN", 2)
    monkeypatch.setattr(feats, "_workers", lambda: 2)
    calls: list[int] = []
    original = feats.ProcessPoolExecutor

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(feats, "ProcessPoolExecutor", spy)
    folder = tmp_path_factory.mktemp("parallel")
    make_operation(folder / "op")
    with open_workspace(folder / "ws.duckdb") as ws:
        ingest_paths(ws, [folder / "op"], rejects=folder / "rejects.csv")
        parallel = build_features(ws, ws.store.staging())
    assert calls  # the workers did the parsing
    key = [("record_id", "ascending")]
    assert parallel.sort_by(key).equals(features.sort_by(key))


def test_parsing_workers_are_not_forked_from_here_nor_run_the_callers_script(
    tmp_path: Path,
) -> None:
    """parallel_map's workers come from a fork server (this process runs DuckDB's threads,
    and forking it could deadlock), and a script without a ``__main__`` guard that calls it
    runs once: its workers do not run it again."""
    import os
    import subprocess
    import sys

    runs = tmp_path / "runs.txt"
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import os\n"
        "from pathlib import Path\n"
        "from lastmile.resolve import features\n"
        f"with open({str(runs)!r}, 'a') as f:\n"
        "    f.write('run\\n')\n"
        "features.PARALLEL_MIN = 2\n"
        "features._workers = lambda: 2\n"
        # /proc/self/stat of the process that reads it: its pid and its parent's.
        "stats = features.parallel_map(Path.read_text, [Path('/proc/self/stat')] * 64)\n"
        "workers = {(s.split()[0], s.split(')')[1].split()[1]) for s in stats}\n"
        "print(os.getpid(), ' '.join(p for w in sorted(workers) for p in w))\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    # The values were parsed in other processes, none of them a child of the script.
    parent, *workers = done.stdout.split()
    assert workers and parent not in workers
    assert runs.read_text(encoding="utf-8") == "run\n"
