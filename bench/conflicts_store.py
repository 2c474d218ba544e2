"""The conflicts stage's queries on a store (DuckDB or PostgreSQL): their time and a digest
of what they return, so that two stores, or a change of the SQL, can be compared.

    python bench/conflicts_store.py WORKSPACE [WORKSPACE ...] [--repeat 2] [--resolve]

Each WORKSPACE is a DuckDB file or a ``postgresql://`` URL where an operation is ingested
(resolved or not: it is only read). For each, in this order, with each one's wall time:

- ``passings``: ``handovers.passings`` alone, run through the store (the lines passed on,
  docs/resolution.md "Lines passed on": ``passings_sql``, run step by step where the store
  plans better so, ``Store.query_steps``);
- ``returned_lines``: ``conflicts.RETURNED_LINES`` alone, through the store;
- ``load_lines``: ``conflicts.load_lines`` as ``lastmile resolve`` runs it (both queries
  above, the handovers and the cases that show them), into an in-memory DuckDB connection;
- with ``--resolve``: the whole ``lastmile resolve`` on a copy of the workspace (a copied
  file; for PostgreSQL a database made with ``CREATE DATABASE ... TEMPLATE``, dropped
  after), with each step's time (``bench/resolve.py``'s ``--profile`` steps).

``rows`` and ``digest`` (SHA-256 of the sorted rows, as text) let two runs or two stores be
compared: they must match. Prints JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lastmile.comms.handovers import HandoverParams, passings
from lastmile.resolve import conflicts
from lastmile.resolve.run import resolve
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import connect_duckdb
from resolve import profile_steps


def digest(rows: list[tuple[Any, ...]]) -> dict[str, object]:
    """How many rows and a SHA-256 of them sorted, each as text (the same on both stores)."""
    lines = sorted("\t".join("" if v is None else str(v) for v in r) for r in rows)
    return {
        "rows": len(lines),
        "digest": hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16],
    }


def timed_query(ws: Workspace, sql: str, repeat: int) -> dict[str, object]:
    seconds: list[float] = []
    rows: list[tuple[Any, ...]] = []
    for _ in range(repeat):
        started = time.time()
        rows = ws.store.rows(sql)
        seconds.append(round(time.time() - started, 2))
    return {"seconds": seconds, **digest(rows)}


def timed_passings(ws: Workspace, repeat: int) -> dict[str, object]:
    seconds: list[float] = []
    rows: list[tuple[Any, ...]] = []
    for _ in range(repeat):
        started = time.time()
        rows = passings(ws, HandoverParams())
        seconds.append(round(time.time() - started, 2))
    return {"seconds": seconds, **digest(rows)}


LINE_TABLES = ("returned_lines", "handover_pairs", "handover_seen", "passed_lines")


def timed_load_lines(ws: Workspace, repeat: int) -> dict[str, object]:
    seconds: list[float] = []
    out: dict[str, object] = {}
    for _ in range(repeat):
        con = connect_duckdb()
        started = time.time()
        conflicts.load_lines(ws, con)
        seconds.append(round(time.time() - started, 2))
        out = {t: digest(con.execute(f"SELECT * FROM {t}").fetchall()) for t in LINE_TABLES}
        con.close()
    return {"seconds": seconds, **out}


def _postgres_copy(url: str) -> tuple[str, str]:
    """A copy of the PostgreSQL database of ``url`` (its URL) and the copy's name."""
    import psycopg

    base, _, db = url.rpartition("/")
    db, sep, query = db.partition("?")
    copy = f"{db}_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{db}"')
    return f"{base}/{copy}{sep}{query}", copy


def _postgres_drop(url: str, name: str) -> None:
    import psycopg

    base = url.rpartition("/")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def timed_resolve(workspace: str, steps: list[dict[str, object]]) -> dict[str, object]:
    """The whole resolution of a copy of the workspace, with its steps' times (``steps``:
    the list :func:`profile_steps` fills), and the digest of the conflicts it stores."""
    steps.clear()
    with tempfile.TemporaryDirectory() as tmp:
        dropped: str | None = None
        if workspace.startswith(("postgresql://", "postgres://")):
            target, dropped = _postgres_copy(workspace)
        else:
            target = str(Path(tmp) / "ws.duckdb")
            shutil.copyfile(workspace, target)
        try:
            with open_workspace(target) as ws:
                started = time.time()
                result = resolve(ws)
                seconds = round(time.time() - started, 1)
                # The conflicts this run finds: a workspace resolved before keeps the ones
                # no longer found (is_current false), which differ with its history, not
                # with the store.
                stored = ws.store.rows(
                    "SELECT target_id, agency_id, division, other_agency_id, other_division, "
                    "basis FROM conflicts WHERE is_current"
                )
        finally:
            if dropped is not None:
                _postgres_drop(workspace, dropped)
    return {
        "seconds": seconds,
        "entities": result.entities,
        "conflicts": {"possible": result.possible_conflicts, **digest(stored)},
        "steps": list(steps),
    }


def measure(
    workspace: str, repeat: int, steps: list[dict[str, object]] | None
) -> dict[str, object]:
    out: dict[str, object] = {"workspace": workspace.rpartition("@")[2]}
    with open_workspace(workspace, create=False) as ws:
        out["store"] = ws.kind
        out["communications"] = int(ws.store.rows("SELECT count(*) FROM communications")[0][0])
        out["passings"] = timed_passings(ws, repeat)
        print(f"passings: {out['passings']}", file=sys.stderr, flush=True)
        out["returned_lines"] = timed_query(ws, conflicts.RETURNED_LINES, repeat)
        print(f"returned_lines: {out['returned_lines']}", file=sys.stderr, flush=True)
        out["load_lines"] = timed_load_lines(ws, repeat)
        print(f"load_lines: {out['load_lines']}", file=sys.stderr, flush=True)
    if steps is not None:
        out["resolve"] = timed_resolve(workspace, steps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspaces", nargs="+", help="DuckDB files or postgresql:// URLs.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs of each query (default 1).")
    parser.add_argument(
        "--resolve", action="store_true", help="Also time the whole resolve, on a copy."
    )
    args = parser.parse_args()
    steps = profile_steps() if args.resolve else None
    results = [measure(w, max(1, args.repeat), steps) for w in args.workspaces]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
