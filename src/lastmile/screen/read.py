"""Reading posts to screen: CSV with a ``text`` column, JSON lines, or any layout through a
mapping (``lastmile.ingest.mapping``, record type ``posts``).

Every file yields the columns POST_COLUMNS (text, blank where a column is absent) and
``row``, the post's row number in its file (1 for the first post). A line that cannot be read
is a problem (file, row, reason); the file's other rows are kept.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from lastmile.ingest.files import (
    FileError,
    InputFile,
    collect_rejects,
    discover_mapped,
    read_header,
    read_raw,
    reader_sql,
)
from lastmile.ingest.mapping import Mapping, RecordMapping
from lastmile.model import POSTS
from lastmile.screen.text import mend

POST_COLUMNS = ("post_id", "platform", "author", "posted_at", "text")


@dataclass
class Posts:
    table: pa.Table  # POST_COLUMNS + file + row
    problems: list[str] = field(default_factory=list)


def _table(rows: dict[str, list[str | None]]) -> pa.Table:
    return pa.table({c: pa.array(v, pa.string()) for c, v in rows.items()})


def _empty() -> dict[str, list[str | None]]:
    return {c: [] for c in (*POST_COLUMNS, "file", "row")}


def _json_lines(path: Path, problems: list[str]) -> pa.Table:
    rows = _empty()
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        n = 0
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}, line {line_no}: not JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("text", ""), str | None):
                problems.append(f"{path}, line {line_no}: not a record with a text")
                continue
            n += 1
            for c in POST_COLUMNS:
                v = obj.get(c)
                rows[c].append(mend(v if isinstance(v, str) else None if v is None else str(v)))
            rows["file"].append(str(path))
            rows["row"].append(str(n))
    return _table(rows)


def _auto_mapping(path: Path) -> RecordMapping:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        header = [h.strip().lower() for h in next(csv.reader(fh), [])]
    if "text" not in header:
        raise FileError("no 'text' column (give --mapping for another layout)", row=1)
    columns = {c: {"column": c} for c in POST_COLUMNS if c in header}
    columns["investigation_id"] = {"value": ""}
    return RecordMapping(POSTS, columns)


def _mapped(con: duckdb.DuckDBPyConnection, f: InputFile, problems: list[str]) -> pa.Table:
    read_header(f)
    read_raw(con, f)
    con.execute("CREATE OR REPLACE TEMP TABLE _rej (i INT, line BIGINT, col TEXT, why TEXT)")
    collect_rejects(con, f, "_rej")
    for _i, line, col, why in con.execute("SELECT * FROM _rej ORDER BY line").fetchall():
        where = f", column {col}" if col else ""
        problems.append(f"{f.shown}, line {line}{where}: {why}")
    got = con.sql(reader_sql(f)).to_arrow_table()
    n = got.num_rows
    out: dict[str, pa.Array] = {}
    for c in POST_COLUMNS:
        if c in got.column_names:
            out[c] = got[c].cast(pa.string()).combine_chunks()
        else:
            out[c] = pa.nulls(n, pa.string())
    out["file"] = pa.array([str(f.shown)] * n, pa.string())
    out["row"] = pa.array([str(i) for i in range(1, n + 1)], pa.string())
    return pa.table(out)


def read_posts(
    paths: list[Path], mapping: Mapping | None = None, params: dict[str, str] | None = None
) -> Posts:
    """Posts of every file, in order. A file that cannot be read at all is one problem."""
    problems: list[str] = []
    tables: list[pa.Table] = []
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="lastmile-screen-") as tmp:
            for path in paths:
                try:
                    if not path.is_file():
                        raise FileError("no such file")
                    if mapping is not None:
                        inputs, _ = discover_mapped([path], mapping, dict(params or {}), Path(tmp))
                        for f in inputs:
                            if f.record_type is not POSTS:
                                raise FileError(
                                    f"the mapping {mapping.name!r} makes {f.record_type.name}, "
                                    "not posts"
                                )
                            tables.append(_mapped(con, f, problems))
                    elif path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
                        tables.append(_json_lines(path, problems))
                    else:
                        f = InputFile(path, POSTS, mapping=_auto_mapping(path))
                        tables.append(_mapped(con, f, problems))
                except FileError as exc:
                    where = f", line {exc.row}" if exc.row else ""
                    problems.append(f"{path}{where}: {exc.reason}")
                except duckdb.Error as exc:
                    problems.append(f"{path}: cannot be read ({str(exc).splitlines()[0]})")
    finally:
        con.close()
    if not tables:
        return Posts(_table(_empty()), problems)
    return Posts(pa.concat_tables(tables), problems)
