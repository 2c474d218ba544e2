"""Writing tables as CSV: header row, UTF-8, quotes only where needed, blank for missing.

DuckDB's COPY does the writing (fast, and quoting only where CSV needs it); rows keep the
order they are given in, so the same input gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from lastmile.model import RecordType


class Writer:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.counts: dict[str, int] = {}
        self._con = duckdb.connect()
        # One thread keeps the output order trivially stable.
        self._con.execute("SET threads = 1")
        self._con.execute("SET preserve_insertion_order = true")

    def rows(self, name: str, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
        """Write ``rows`` (dicts of strings; "" means missing) with exactly ``columns``."""
        data = {
            c: pa.array([r.get(c, "") or None for r in rows], type=pa.string()) for c in columns
        }
        self.table(name, pa.table(data))

    def record_type(self, rt: RecordType, rows: list[dict[str, str]]) -> None:
        self.rows(rt.file_name, tuple(c.name for c in rt.columns), rows)

    def table(self, name: str, table: pa.Table) -> None:
        path = self.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con.register("_out", table)
        try:
            target = str(path).replace("'", "''")
            self._con.execute(f"COPY _out TO '{target}' (FORMAT csv, HEADER, DELIMITER ',')")
        except duckdb.Error as exc:
            # A full disk or a folder that went away: one line, the file and the reason.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OSError(f"cannot write {path}: {reason}") from exc
        finally:
            self._con.unregister("_out")
        self.counts[name] = table.num_rows

    def close(self) -> None:
        self._con.close()
