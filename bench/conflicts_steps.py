"""The conflicts stage's lines query (``conflicts.load_lines``: the handovers, the lines passed
on and the cases that show a handover's line) on a PostgreSQL store, step by step: each staged
step's time, its ``ANALYZE``'s and its rows, then the rest as one query, and a digest of the
rows (as bench/conflicts_store.py's).

    python bench/conflicts_steps.py POSTGRESQL_URL [--stage all|none|STEP,STEP,...]
        [--work-mem 64MB] [--explain STEP]

``--stage all`` (the default) is what ``Store.query_steps`` runs; ``none`` is the one WITH
query DuckDB runs (and PostgreSQL ran before); a list stages those steps only, the others
staying CTEs of each statement that reads them. ``--explain STEP`` prints the plan of the
statement that makes STEP (``EXPLAIN ANALYZE``) and stops there. It runs in one transaction,
rolled back: the store is only read. Prints JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import psycopg

from lastmile.comms.handovers import HandoverParams, line_steps
from lastmile.resolve.conflicts import LINES_SELECT, SEEN_STEPS
from lastmile.store.backends import with_clause


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="A postgresql:// URL of an ingested workspace.")
    parser.add_argument("--stage", default="all", help="all, none or STEP,STEP,...")
    parser.add_argument("--work-mem", help="SET LOCAL work_mem for the transaction.")
    parser.add_argument("--explain", help="EXPLAIN ANALYZE the statement of this step.")
    args = parser.parse_args()
    steps = [*line_steps(HandoverParams()), *SEEN_STEPS]
    names = {s.name for s in steps}
    chosen = {"all": names, "none": set()}.get(args.stage, set(args.stage.split(",")))
    if chosen - names:
        parser.error(f"no step {sorted(chosen - names)}; the steps: {[s.name for s in steps]}")
    staged = [s for s in steps if s.name in chosen]
    timings: list[dict[str, object]] = []
    out: dict[str, object] = {"stage": args.stage, "steps": timings}
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("SET jit = off")  # as the store's sessions
        started = time.time()
        with conn.transaction(force_rollback=True):
            if args.work_mem:
                conn.execute("SELECT set_config('work_mem', %s, true)", [args.work_mem])
            for step in staged:
                ctes = [s for s in steps[: steps.index(step)] if s not in staged]
                prefix = f"WITH {with_clause(ctes)}\n" if ctes else ""
                sql = f"CREATE TEMP TABLE {step.name} ON COMMIT DROP AS {prefix}{step.sql}"
                if step.name == args.explain:
                    for row in conn.execute(f"EXPLAIN ANALYZE {sql}").fetchall():
                        print(row[0])
                    return
                t0 = time.time()
                conn.execute(sql)
                t1 = time.time()
                conn.execute(f"ANALYZE {step.name}")
                count = conn.execute(f"SELECT count(*) FROM {step.name}").fetchone()
                timings.append(
                    {
                        "step": step.name,
                        "seconds": round(t1 - t0, 2),
                        "analyze": round(time.time() - t1, 2),
                        "rows": count[0] if count else 0,
                    }
                )
                print(timings[-1], file=sys.stderr, flush=True)
            rest = [s for s in steps if s not in staged]
            t0 = time.time()
            rows = conn.execute(
                (f"WITH {with_clause(rest)}\n" if rest else "") + LINES_SELECT
            ).fetchall()
            out["final_seconds"] = round(time.time() - t0, 2)
        out["seconds"] = round(time.time() - started, 2)
    lines = sorted("\t".join("" if v is None else str(v) for v in r) for r in rows)
    out["rows"] = len(lines)
    out["digest"] = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
