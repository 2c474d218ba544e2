"""Benchmark: the communications analyses on the synthetic national operation.

In one run:

- **handovers**: ``lastmile.comms.handovers`` against the operation's ground truth
  (``truth/handovers.csv``), as precision, recall and F1 over (old, new) pairs. Recall is
  given three ways: over every burner replacement in the world (``recall_all``, the figure
  the method is held to), over those whose old and new numbers both appear in the events,
  and over those the events *evidence* (old and new share at least three contacts);
- **common**: ``lastmile.comms.common`` for the ten selectors with the most events, every
  shared contact (no 100-row page), timed (best of three after one warm-up run), with the
  number of events in the workspace;
- **peer**: the same common-contacts question answered by a dataframe library over the same
  events, loaded from DuckDB (pandas when installed, else pyarrow.compute; the JSON says
  which), timed as load and compute, each the best of three after one warm-up run, as
  lastmile's side. The two must find the same set of contacts (``same_contacts``).

``--copies K`` stacks K copies of the events (each later copy shifted by 430 days) in a
scratch DuckDB workspace first, to time ``common`` at K times the size.

    python bench/tollrecords_analyses.py --operation /tmp/nat2 \\
        --workspace /tmp/nat2.duckdb [--copies 2]
    python bench/tollrecords_analyses.py            # generates and ingests (5M events)

The given workspace is opened read-only and never modified.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lastmile.comms import common, handovers, to_rows
from lastmile.ingest import ingest_paths
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import DuckDBStore

warnings.filterwarnings("ignore", category=UserWarning)


def prepare(args: argparse.Namespace, scratch: Path) -> tuple[Path, Path]:
    """(operation folder, DuckDB workspace file), generating and ingesting when not given."""
    if args.operation and args.workspace:
        return Path(args.operation), Path(args.workspace)
    from lastmile.synth import generate

    operation = Path(args.operation) if args.operation else scratch / "operation"
    if not (operation / "truth" / "handovers.csv").exists():
        generate("national", args.seed, operation, communications=args.events)
    path = scratch / "bench.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [operation], rejects=scratch / "rejects.csv")
    return operation, path


def stack(source: Path, copies: int, scratch: Path) -> Path:
    """A scratch workspace whose events are ``copies`` copies of the source's."""
    path = scratch / f"stacked-{copies}.duckdb"
    open_workspace(path).close()  # schema
    con = duckdb.connect(str(path))
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    for k in range(copies):
        con.execute(
            "INSERT INTO communications SELECT event_key || ?, time + ? * INTERVAL 430 DAY, "
            "from_selector, from_selector_valid, to_selector, to_selector_valid, kind, "
            "platform, duration_s FROM src.communications",
            [f"-{k}", k],
        )
    con.close()
    return path


def handover_quality(ws: Workspace, operation: Path) -> dict[str, Any]:
    with (operation / "truth" / "handovers.csv").open(encoding="utf-8") as f:
        truth = {(r["old_selector"], r["new_selector"]) for r in csv.DictReader(f)}
    started = time.perf_counter()
    table = handovers(ws)
    seconds = time.perf_counter() - started
    found = {(r["old_selector"], r["new_selector"]) for r in to_rows(table)}
    # Which truth pairs appear in the events, and how many contacts old and new share.
    con = ws.store.staging()
    con.register("bench_truth", pa.table({"o": [p[0] for p in truth], "n": [p[1] for p in truth]}))
    rows = con.execute(
        """
        WITH c AS (
            SELECT DISTINCT from_selector AS sel, to_selector AS contact FROM communications
            UNION
            SELECT DISTINCT to_selector, from_selector FROM communications
        ),
        seen AS (SELECT DISTINCT sel FROM c)
        SELECT t.o, t.n, (
            SELECT COUNT(*) FROM c a JOIN c b ON a.contact = b.contact
            WHERE a.sel = t.o AND b.sel = t.n
        ) AS shared
        FROM bench_truth t
        WHERE t.o IN (SELECT sel FROM seen) AND t.n IN (SELECT sel FROM seen)
        """
    ).fetchall()
    con.unregister("bench_truth")
    observed = {(o, n) for o, n, _ in rows}
    evidenced = {(o, n) for o, n, s in rows if s >= 3}
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0

    def recall(of: set[tuple[str, str]]) -> float:
        return round(len(found & of) / len(of), 4) if of else 0.0

    r = len(found & evidenced) / len(evidenced) if evidenced else 0.0
    return {
        "seconds": round(seconds, 2),
        "found": len(found),
        "true_positives": tp,
        "precision": round(precision, 4),
        "recall_evidenced": round(r, 4),
        "f1_evidenced": round(2 * precision * r / (precision + r), 4) if precision + r else 0.0,
        "recall_observed": recall(observed),
        "recall_all": recall(truth),
        "truth_all": len(truth),
        "truth_observed": len(observed),
        "truth_evidenced": len(evidenced),
        "evidenced_means": "old and new selectors both in the events, sharing >= 3 contacts",
    }


def top_targets(ws: Workspace, n: int) -> list[str]:
    rows = ws.store.rows(
        "SELECT sel FROM (SELECT from_selector AS sel FROM communications UNION ALL "
        "SELECT to_selector FROM communications) e GROUP BY sel ORDER BY COUNT(*) DESC, sel "
        "LIMIT ?",
        (n,),
    )
    return [str(r[0]) for r in rows]


EVERY = 2**62  # no page: every shared contact, as the peer computes every group


def time_common(ws: Workspace, targets: list[str]) -> dict[str, Any]:
    common(ws, targets, limit=EVERY)  # warm-up
    times = []
    for _ in range(3):
        started = time.perf_counter()
        table = common(ws, targets, limit=EVERY)
        times.append(time.perf_counter() - started)
    return {
        "seconds": round(min(times), 3),
        "rows": table.num_rows,
        "contacts": set(table.column("contact").to_pylist()),
    }


def peer_common(path: Path, targets: list[str]) -> dict[str, Any]:
    """The same question in a dataframe library, over events loaded from DuckDB: one
    warm-up, then the best of three of the load and of the compute, as lastmile's side."""
    loads, computes = [], []
    for attempt in range(4):
        started = time.perf_counter()
        con = duckdb.connect(str(path), read_only=True)
        events: pa.Table = con.sql(
            "SELECT from_selector, to_selector, time FROM communications"
        ).to_arrow_table()
        con.close()
        loaded = time.perf_counter() - started
        answer = _peer_compute(events, targets)
        if attempt:  # the first run warms up
            loads.append(loaded)
            computes.append(answer["compute_seconds"])
    answer["load_seconds"] = round(min(loads), 3)
    answer["compute_seconds"] = round(min(computes), 3)
    return answer


def _peer_compute(events: pa.Table, targets: list[str]) -> dict[str, Any]:
    if importlib.util.find_spec("pandas") is None:
        library = "pyarrow.compute (pandas is not installed)"
        started = time.perf_counter()
        tset = pa.array(targets)
        out = pc.is_in(events["from_selector"], value_set=tset)
        inc = pc.is_in(events["to_selector"], value_set=tset)
        a = events.filter(out).select(["from_selector", "to_selector", "time"])
        b = events.filter(inc).select(["to_selector", "from_selector", "time"])
        names = ["target", "contact", "time"]
        e = pa.concat_tables([a.rename_columns(names), b.rename_columns(names)])
        e = e.filter(pc.invert(pc.is_in(e["contact"], value_set=tset)))
        g = e.group_by("contact").aggregate(
            [("target", "count_distinct"), ("time", "count"), ("time", "min"), ("time", "max")]
        )
        g = g.filter(pc.greater_equal(g["target_count_distinct"], 2))
        g = g.sort_by([("target_count_distinct", "descending"), ("time_count", "descending")])
        rows = g.num_rows
        contacts = set(g.column("contact").to_pylist())
    else:
        import pandas as pd

        library = f"pandas {pd.__version__}"
        df = events.to_pandas()
        started = time.perf_counter()
        a = df[df.from_selector.isin(targets)].rename(
            columns={"from_selector": "target", "to_selector": "contact"}
        )
        b = df[df.to_selector.isin(targets)].rename(
            columns={"to_selector": "target", "from_selector": "contact"}
        )
        e = pd.concat([a, b])
        e = e[~e.contact.isin(targets)]
        g = e.groupby("contact").agg(
            targets=("target", "nunique"), events=("time", "size"), first=("time", "min")
        )
        g = g[g.targets >= 2].sort_values(["targets", "events"], ascending=False)
        rows = len(g)
        contacts = set(g.index)
    computed = time.perf_counter() - started
    return {"library": library, "compute_seconds": computed, "rows": rows, "contacts": contacts}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--operation", help="folder with truth/handovers.csv")
    ap.add_argument("--workspace", help="DuckDB workspace with the operation ingested")
    ap.add_argument("--events", type=int, default=5_000_000, help="when generating")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--copies", type=int, default=1, help="time common on K copies of events")
    ap.add_argument("--targets", type=int, default=10)
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="lastmile-bench-"))
    try:
        operation, path = prepare(args, scratch)
        ws = Workspace(DuckDBStore(path, read_only=True))
        result: dict[str, Any] = {"operation": str(operation), "workspace": str(path)}
        result["handovers"] = handover_quality(ws, operation)
        targets = top_targets(ws, args.targets)
        ws.close()
        timed = stack(path, args.copies, scratch) if args.copies > 1 else path
        ws = Workspace(DuckDBStore(timed, read_only=True))
        events = int(ws.store.rows("SELECT COUNT(*) FROM communications")[0][0])
        run = time_common(ws, targets)
        ws.close()
        result["common"] = {
            "events": events,
            "copies": args.copies,
            "targets": targets,
            "seconds": run["seconds"],
            "rows": run["rows"],
            "goal_seconds": 2.0,
        }
        peer = peer_common(timed, targets)
        peer["same_contacts"] = peer.pop("contacts") == run["contacts"]
        result["peer"] = peer
        print(json.dumps(result, indent=2, default=str))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
