"""Splink's Spark backend for ``lastmile resolve --engine spark`` (docs/resolution.md, "Engines").

Only the person matcher's Splink steps (training, unless a model is given, and prediction) run
on Spark; the features are built, and the predictions clustered, anchored and stored, on the
workspace's DuckDB connection as on the DuckDB engine, with Arrow between the two.

The model is written, trained and saved in DuckDB's SQL (the comparison levels are custom
SQL). :func:`to_spark` renders a model's SQL in Spark's for Splink's Spark backend, and
:func:`to_duckdb` brings a model trained on Spark back to DuckDB's SQL, so a saved model is
one file whichever engine made or uses it. The rendering is sqlglot's (as Splink's own
``base_dialect_str`` does) with the functions sqlglot does not carry across put right: list
overlap, list intersection size, Jaro-Winkler and day differences. Jaro-Winkler and
Damerau-Levenshtein on Spark are the Scala functions of the jar Splink ships, which
:func:`session` registers.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from lastmile.resolve.errors import ResolveError

# The name the person features are registered under (persons._linker).
INPUT_TABLE = "person_features"

# DuckDB list functions and the Spark functions that do the same, when sqlglot leaves the
# name as it is.
_RENAMES = {
    "list_intersect": "array_intersect",
    "array_intersect": "array_intersect",
    "jaro_similarity": "jaro_sim",
    "jaro_winkler_similarity": "jaro_winkler",
    "list_distinct": "array_distinct",
}


def _is_list(node: exp.Expression) -> bool:
    if isinstance(node, exp.ArrayIntersect | exp.ArrayFilter | exp.ArrayDistinct | exp.Array):
        return True
    if isinstance(node, exp.Column):
        # A feature column that holds a list, as l.col or as Splink's col_l.
        from lastmile.resolve.persons import LIST_COLUMNS

        name = node.name.lower()
        return name in LIST_COLUMNS or name.removesuffix("_l").removesuffix("_r") in LIST_COLUMNS
    return isinstance(node, exp.Anonymous) and node.name.lower().startswith(("list_", "array_"))


def _spark_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayOverlaps):
        # sqlglot writes DuckDB's list_has_any as `a && b`, which Spark does not parse.
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _RENAMES:
        return exp.Anonymous(this=_RENAMES[node.name.lower()], expressions=node.expressions)
    if isinstance(node, exp.Length) and _is_list(node.this):
        # DuckDB's len() of a list; Spark's length() is of strings only.
        return exp.Anonymous(this="size", expressions=[node.this.transform(_spark_node)])
    if isinstance(node, exp.DateDiff) and node.text("unit").upper() in ("", "DAY"):
        # date_diff('day', start, end) in DuckDB; datediff(end, start) in Spark.
        return exp.Anonymous(this="datediff", expressions=[node.this, node.expression])
    return node


def sql_to_spark(sql: str) -> str:
    """One SQL expression in DuckDB's dialect, rendered in Spark's."""
    if sql.strip().upper() == "ELSE":
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_spark_node)
    return tree.sql(dialect="spark")


def to_spark(model: Mapping[str, Any]) -> dict[str, Any]:
    """A Splink model (settings) written in DuckDB's SQL, rendered in Spark's."""
    out = copy.deepcopy(dict(model))
    if out.get("sql_dialect") == "spark":
        return out
    for comp in out.get("comparisons", []):
        for level in comp["comparison_levels"]:
            level["sql_condition"] = sql_to_spark(level["sql_condition"])
    rules = []
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        rule = dict(rule) if isinstance(rule, dict) else {"blocking_rule": rule}
        rule["blocking_rule"] = sql_to_spark(rule["blocking_rule"])
        rule["sql_dialect"] = "spark"
        rules.append(rule)
    if rules:
        out["blocking_rules_to_generate_predictions"] = rules
    out["sql_dialect"] = "spark"
    return out


def to_duckdb(trained: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, Any]:
    """A model trained on Spark (from ``to_spark(template)``) with ``template``'s DuckDB SQL
    put back: the parameters are the trained model's, level by level."""
    out = copy.deepcopy(dict(trained))
    by_name = {c["output_column_name"]: c for c in template["comparisons"]}
    for comp in out["comparisons"]:
        levels = by_name[comp["output_column_name"]]["comparison_levels"]
        if len(levels) != len(comp["comparison_levels"]):
            raise ResolveError(
                f"the model's comparison {comp['output_column_name']!r} changed in training"
            )
        for level, original in zip(comp["comparison_levels"], levels, strict=True):
            level["sql_condition"] = original["sql_condition"]
    out["blocking_rules_to_generate_predictions"] = copy.deepcopy(
        template["blocking_rules_to_generate_predictions"]
    )
    out["sql_dialect"] = template.get("sql_dialect", "duckdb")
    return out


def session(cores: int | None = None, memory: str | None = None) -> Any:
    """A local Spark session with the similarity functions of the jar Splink ships.

    ``cores`` defaults to ``LASTMILE_SPARK_CORES`` or 2, ``memory`` (the driver's, which in
    local mode does all the work) to ``LASTMILE_SPARK_MEMORY`` or 2g."""
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError as exc:
        raise ResolveError(
            "the spark engine needs PySpark: pip install 'lastmile[spark]' "
            f"(and Java 17 or later) ({exc})"
        ) from exc
    n = cores or int(os.environ.get("LASTMILE_SPARK_CORES", "2"))
    mem = memory or os.environ.get("LASTMILE_SPARK_MEMORY", "2g")
    logging.getLogger("py4j").setLevel(logging.ERROR)
    try:
        spark = (
            SparkSession.builder.master(f"local[{n}]")
            .appName("lastmile resolve")
            .config("spark.jars", similarity_jar_location())
            .config("spark.driver.memory", mem)
            # Small data per run: few shuffle partitions (Spark's 200 are for clusters).
            .config("spark.sql.shuffle.partitions", str(max(4, 2 * n)))
            .config("spark.default.parallelism", str(max(4, 2 * n)))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as exc:  # PySpark raises its own errors when Java cannot start
        raise ResolveError(
            "Spark could not start (it needs Java 17 or later: java on PATH or JAVA_HOME): "
            f"{str(exc).splitlines()[0][:300]}"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def api(spark: Any = None) -> Any:
    """Splink's SparkAPI on ``spark`` (a new local session when None). Splink registers the
    jar's functions (jaro_winkler, damerau_levenshtein...) with the session."""
    from splink import SparkAPI

    spark = spark if spark is not None else session()
    logging.getLogger("splink.internals.spark.database_api").setLevel(logging.ERROR)
    # One session serves run after run (and training registers the records more than once):
    # the previous registration of the records goes first.
    spark.catalog.dropTempView(INPUT_TABLE)
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions") or 4)
    # In local mode intermediate tables are kept in memory (spilled to disk when large), not
    # written as parquet checkpoints, which would need a checkpoint directory.
    return SparkAPI(  # type: ignore[no-untyped-call]
        spark_session=spark,
        break_lineage_method="persist",
        num_partitions_on_repartition=partitions,
    )
