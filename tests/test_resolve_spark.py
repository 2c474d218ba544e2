"""Resolution on Splink's Spark backend (``--engine spark``) gives what DuckDB gives.

The division operation is trained once on DuckDB; the saved model is then applied on Spark
(local mode) to the same records, and the clusters, merged pairs and their scores must be
the same. Training on Spark is not run here (it takes minutes in local mode on a loaded
2-core machine); a model trained there is saved in DuckDB's SQL (``spark.to_duckdb``).
Spark needs Java 17+ (``make test`` checks for it) and the ``spark`` extra, which ``dev``
pulls in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.resolve import persons
from lastmile.resolve import spark as spark_engine
from lastmile.resolve.run import resolve
from lastmile.store import Workspace, open_workspace
from lastmile.synth import generate

SMALL = Path(__file__).parent / "fixtures" / "small_operation"


def test_every_comparison_is_rendered_in_spark_sql() -> None:
    """No DuckDB-only function or operator is left in the model Spark receives."""
    model = spark_engine.to_spark(persons.settings())
    duckdb_only = re.compile(r"\blist_\w+|\blen\(|&&|date_diff|jaro_winkler_similarity", re.I)
    # Spark's length() is of strings only: a list's is size().
    lengths = re.compile(r"\bLENGTH\((?:[lr]\.)?(\w+?)(?:_[lr])?\)", re.I)
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            assert not duckdb_only.search(level["sql_condition"]), level["sql_condition"]
            for col in lengths.findall(level["sql_condition"]):
                assert col not in persons.LIST_COLUMNS, level["sql_condition"]
    for rule in model["blocking_rules_to_generate_predictions"]:
        assert rule["sql_dialect"] == "spark"
        assert not duckdb_only.search(rule["blocking_rule"]), rule["blocking_rule"]
    # And a model trained on Spark is saved in DuckDB's SQL again, parameters kept.
    back = spark_engine.to_duckdb(model, persons.settings())
    assert back["comparisons"] == persons.settings()["comparisons"]
    assert back["sql_dialect"] == "duckdb"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local session for the module (the command line's run finds it and uses it)."""
    java = os.environ.get("JAVA_HOME", "") or shutil.which("java")
    if not java and not os.environ.get("CI"):
        pytest.skip("no Java (make test installs it with scripts/java.sh)")
    session = spark_engine.session()
    yield session
    session.stop()


def _partition(ws: Workspace) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record_id, entity_id in ws.store.rows(
        "SELECT record_id, entity_id FROM entity_members WHERE record_type = 'subjects'"
    ):
        groups.setdefault(str(entity_id), set()).add(str(record_id))
    return {frozenset(g) for g in groups.values()}


def _edges(ws: Workspace) -> dict[tuple[str, str], float]:
    return {
        (str(a), str(b)): float(p)
        for a, b, p in ws.store.rows("SELECT record_a, record_b, probability FROM match_edges")
    }


@pytest.mark.slow
@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_clusters_on_the_division_operation(
    spark: Any, tmp_path: Path
) -> None:
    """Trained once on DuckDB; the saved model applied on Spark by the command line."""
    op = tmp_path / "division"
    generate("division", seed=2022, out_dir=op, communications=1000)
    model = tmp_path / "model.json"
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [op], rejects=tmp_path / "rejects.csv")
        on_duckdb = resolve(ws, save_model=model)
        duck_partition, duck_edges = _partition(ws), _edges(ws)
    out = CliRunner().invoke(
        app,
        ["resolve", "-w", str(path), "--engine", "spark", "--model", str(model), "-f", "json"],
    )
    assert out.exit_code == 0, out.output
    on_spark = json.loads(out.output)
    with open_workspace(path) as ws:
        spark_partition, spark_edges = _partition(ws), _edges(ws)
        engines = [
            r[0] for r in ws.store.rows("SELECT engine FROM resolution_runs ORDER BY finished_at")
        ]
    assert engines == ["duckdb", "spark"]
    assert on_spark["engine"] == "spark" and not on_spark["trained"]
    assert on_duckdb.records["subjects"] > 500
    # Some records merged, so the comparison is not between two sets of singletons.
    assert len(duck_partition) < on_duckdb.records["subjects"]
    assert spark_partition == duck_partition
    assert spark_edges.keys() == duck_edges.keys()
    for pair, p in duck_edges.items():
        assert spark_edges[pair] == pytest.approx(p, abs=1e-9), pair
    assert on_spark["vetoed"] == on_duckdb.vetoed
    assert on_spark["entities"] == on_duckdb.entities
