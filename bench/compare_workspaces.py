"""Do two DuckDB workspaces hold the same records? For a change to ingest that must store
the same rows: ingest the same batches with the old code and with the new, then

    python bench/compare_workspaces.py OLD.duckdb NEW.duckdb

Every table of the first is compared with the same table of the second, row for row
(``EXCEPT ALL`` both ways), leaving out the columns that differ between any two ingests: the
ids of files and batches (random), the times they ran and the paths of the rejects files.
Content hashes and event keys are compared. Prints JSON; exits 1 when a table differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

# Random per ingest (uuid4 or the clock), or where the rejects went.
VARYING = {
    "source_file_id",
    "batch_id",
    "file_id",
    "read_at",
    "started_at",
    "finished_at",
    "applied_at",
    "rejects_file",
    "superseded_by",
    "supersedes",
}


def compare(old: Path, new: Path) -> dict[str, dict[str, int]]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{old}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{new}' AS b (READ_ONLY)")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'a' AND table_schema = 'main' ORDER BY 1"
        ).fetchall()
    ]
    out: dict[str, dict[str, int]] = {}
    for table in tables:
        columns = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_catalog = 'a' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        kept = ", ".join(f'"{c}"' for c in columns if c not in VARYING)
        a, b = f"a.main.{table}", f"b.main.{table}"

        def count(sql: str) -> int:
            row = con.execute(sql).fetchone()
            return int(row[0]) if row else 0

        out[table] = {
            "rows": count(f"SELECT count(*) FROM {a}"),
            "only_in_old": count(
                f"SELECT count(*) FROM (FROM {a} SELECT {kept} EXCEPT ALL FROM {b} SELECT {kept})"
            ),
            "only_in_new": count(
                f"SELECT count(*) FROM (FROM {b} SELECT {kept} EXCEPT ALL FROM {a} SELECT {kept})"
            ),
        }
    con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    tables = compare(args.old, args.new)
    differ = sorted(t for t, c in tables.items() if c["only_in_old"] or c["only_in_new"])
    print(json.dumps({"tables": tables, "differ": differ, "same": not differ}, indent=2))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
