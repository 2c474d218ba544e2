"""Finding interchange files and reading one into a DuckDB staging table.

A file is read by DuckDB's CSV reader (streaming, parallel), every column as text; rows the
reader cannot parse at all (wrong number of fields, bytes that are not UTF-8, a line over the
size limit) land in its rejects table with their line number, and every good row keeps its own
line number so a later error can name it. Nothing here reads a file whole into Python.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lastmile.ingest.validate import file_columns, ident, q
from lastmile.model import RECORD_TYPES, RecordType

# The reader's own words for what went wrong with a line, made readable.
_CSV_ERRORS = {
    "INVALID ENCODING": "not valid UTF-8 (save the file as UTF-8)",
    "TOO MANY COLUMNS": "more fields than the header has",
    "MISSING COLUMNS": "fewer fields than the header has",
    "UNQUOTED VALUE": "a quote inside an unquoted field",
    "LINE SIZE OVER MAXIMUM": "line longer than the maximum (2 MB)",
    "CAST": "value cannot be read",
}


class FileError(Exception):
    """The whole file cannot be read; ``row`` and ``column`` say where, when known."""

    def __init__(self, reason: str, *, row: int = 0, column: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row
        self.column = column


@dataclass
class InputFile:
    path: Path
    record_type: RecordType
    index: int = 0  # position in the batch, for ordering duplicates "first wins"
    columns: list[str] = field(default_factory=list)  # header names as in the model
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def record_type_for(path: Path) -> RecordType | None:
    """``subjects.csv``, ``subjects-2023.csv`` or ``subjects.part2.csv`` hold subjects."""
    stem = path.name.lower().removesuffix(".csv")
    if not path.name.lower().endswith(".csv"):
        return None
    for rt in sorted(RECORD_TYPES, key=lambda r: -len(r.name)):
        if stem == rt.name or stem.startswith((rt.name + "-", rt.name + ".", rt.name + "_")):
            return rt
    return None


def discover(paths: list[Path]) -> tuple[list[InputFile], list[Path]]:
    """Interchange files under ``paths`` (folders are read one level deep), in load order;
    and the paths that are not interchange files."""
    found: list[InputFile] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        candidates = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            rt = record_type_for(candidate)
            if rt is None:
                skipped.append(candidate)
            else:
                found.append(InputFile(candidate, rt))
    order = {rt.name: i for i, rt in enumerate(RECORD_TYPES)}
    found.sort(key=lambda f: (order[f.record_type.name], str(f.path)))
    for i, f in enumerate(found):
        f.index = i
    return found, skipped


def sniff_encoding(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        raise FileError("empty file")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def read_header(f: InputFile) -> None:
    """Read and check the header row; fills ``f.columns`` and ``f.ignored_columns``."""
    f.encoding = sniff_encoding(f.path)
    # Decode leniently so that a bad byte further down (a row the CSV reader will reject on
    # its own) does not fail the header; a replacement character *in* the header does.
    encoding = "utf-8-sig" if f.encoding == "utf-8" else "utf-16"
    try:
        with f.path.open("r", encoding=encoding, errors="replace", newline="") as fh:
            header = next(csv.reader(fh), None)
    except csv.Error as exc:
        raise FileError(f"header is not CSV ({exc})", row=1) from exc
    if header and any("\ufffd" in h for h in header):
        raise FileError("header is not valid UTF-8", row=1)
    if not header or not any(h.strip() for h in header):
        raise FileError("empty file" if header is None else "empty header row", row=1)
    known = {c.name for c in file_columns(f.record_type)}
    seen: set[str] = set()
    for raw in header:
        name = raw.strip().lower()
        if name in seen:
            raise FileError(f"column {name!r} appears twice in the header", row=1, column=name)
        seen.add(name)
        f.columns.append(name)
        if name not in known:
            f.ignored_columns.append(name)
    for required in f.record_type.required_columns:
        if required not in seen:
            raise FileError("missing required column", row=1, column=required)


def stage_file(con: duckdb.DuckDBPyConnection, f: InputFile, table: str) -> str:
    """Read ``f`` into staging; returns a SELECT of its columns as text with ``_file_index``
    and ``_line`` (the line number in the file, the header being line 1). The lines the reader
    rejected go to ``{table}_csv_rejects`` (line, column, reason, value). The caller drops
    ``{table}``, ``{table}_read`` and ``{table}_csv_rejects`` when done."""
    columns = "{" + ", ".join(f"{q(c)}: 'VARCHAR'" for c in f.columns) + "}"
    errors, scans = f"{table}_rej_errors", f"{table}_rej_scans"
    con.execute(f"DROP TABLE IF EXISTS {errors}")
    con.execute(f"DROP TABLE IF EXISTS {scans}")
    reader = (
        f"read_csv({q(str(f.path))}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {columns}, auto_detect = false, encoding = {q(f.encoding)}, "
        f"store_rejects = true, rejects_table = {q(errors)}, rejects_scan = {q(scans)})"
    )
    keep = ", ".join(ident(c) for c in f.columns)
    # The reader keeps file order and row_number() OVER () runs as a streaming window over it,
    # so k is the k-th good row; skipping the lines the reader rejected recovers its line.
    # (rowid cannot serve: inside a transaction a temp table's row ids start at 2**55.)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_read AS "
        f"SELECT row_number() OVER () AS k, {keep} FROM {reader}"
    )
    rejected_lines = con.execute(f"SELECT count(*) FROM {errors}").fetchone()
    if not rejected_lines or rejected_lines[0] == 0:
        source = f"SELECT {keep}, {f.index} AS _file_index, k + 1 AS _line FROM {table}_read"
    else:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            WITH bad AS (
                SELECT line, row_number() OVER (ORDER BY line) AS j
                FROM (SELECT DISTINCT line FROM {errors})
            ),
            gaps AS (SELECT line - 1 - j AS good_before, max(j) AS j FROM bad GROUP BY 1),
            good AS (SELECT * FROM {table}_read)
            SELECT {keep}, {f.index} AS _file_index, good.k + 1 + coalesce(gaps.j, 0) AS _line
            FROM good ASOF LEFT JOIN gaps ON good.k > gaps.good_before
            """
        )
        con.execute(f"DROP TABLE {table}_read")
        source = f"SELECT * FROM {table}"
    reasons = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in _CSV_ERRORS.items())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table}_csv_rejects AS
        SELECT {f.index} AS _file_index, line AS _line,
               coalesce(arg_min(column_name, column_idx), '') AS "column",
               CASE arg_min(error_type, column_idx) {reasons}
                    ELSE arg_min(error_message, column_idx) END AS reason,
               left(arg_min(csv_line, column_idx), 120) AS value
        FROM {errors} GROUP BY line
        """
    )
    con.execute(f"DROP TABLE IF EXISTS {errors}")
    con.execute(f"DROP TABLE IF EXISTS {scans}")
    return source
