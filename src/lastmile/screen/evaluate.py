"""Figures of screening against labelled posts: sale precision and recall, selector recall."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa


def figures(result: pa.Table, truth: pa.Table) -> dict[str, Any]:
    """``result`` from screening, ``truth`` with post_id, label and (optionally) selectors
    (``|``-separated keys); rows are matched by post_id. ``possible`` never counts as sale."""
    want = dict(zip(truth["post_id"].to_pylist(), truth["label"].to_pylist(), strict=True))
    planted: dict[str, set[str]] = {}
    if "selectors" in truth.column_names:
        for pid, sel in zip(
            truth["post_id"].to_pylist(), truth["selectors"].to_pylist(), strict=True
        ):
            planted[pid] = {s for s in (sel or "").split("|") if s}
    tp = fp = fn = possible_sales = possible_none = 0
    found_sel = total_sel = extra_sel = 0
    misses: list[str] = []
    false_alarms: list[str] = []
    for pid, lab, sels in zip(
        result["post_id"].to_pylist(),
        result["label"].to_pylist(),
        result["selectors"].to_pylist(),
        strict=True,
    ):
        truth_sale = want.get(pid) == "sale"
        if lab == "sale" and truth_sale:
            tp += 1
        elif lab == "sale":
            fp += 1
            false_alarms.append(pid)
        elif truth_sale:
            fn += 1
            misses.append(pid)
            possible_sales += lab == "possible"
        else:
            possible_none += lab == "possible"
        p = planted.get(pid, set())
        got = set(sels or [])
        total_sel += len(p)
        found_sel += len(p & got)
        extra_sel += len(got - p)
    return {
        "posts": result.num_rows,
        "sales": tp + fn,
        "sale_precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "sale_recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "true_sales_labelled_possible": possible_sales,
        "innocent_labelled_possible": possible_none,
        "false_sales": fp,
        "missed_sales": fn,
        "selectors_planted": total_sel,
        "selector_recall": round(found_sel / total_sel, 4) if total_sel else None,
        "selectors_not_planted": extra_sel,
        "examples_missed": misses[:10],
        "examples_false": false_alarms[:10],
    }


def read_labelled(path: Path) -> tuple[pa.Table, int]:
    """A labelled set of posts (a CSV with post_id, label and text, and optionally
    selectors): the rows labelled ``sale`` or ``none``, and how many rows were left out
    (a writer's ``unsure``)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [r for r in rows if r.get("label") in ("sale", "none")]
    columns = ["post_id", "label", "text"]
    if rows and "selectors" in rows[0]:
        columns.append("selectors")
    table = pa.table({c: pa.array([r[c] or "" for r in kept], pa.string()) for c in columns})
    return table, len(rows) - len(kept)
