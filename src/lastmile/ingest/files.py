"""Finding input files, checking their headers, and the SQL that streams each one.

A file is read by DuckDB's CSV reader (streaming, parallel), every column as text; rows the
reader cannot parse at all (wrong number of fields, bytes that are not UTF-8, a line over the
size limit) land in its rejects table with their line number, and every good row keeps its own
line number so a later error can name it. Nothing here reads a file whole into Python.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import io
import os
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from lastmile.ingest.mapping import Mapping, RecordMapping, filter_sql, projection
from lastmile.ingest.validate import file_columns, ident, q
from lastmile.model import RECORD_TYPES, RecordType
from lastmile.store.backends import connect_duckdb

# The header row is read by Python: at most this many bytes of it (a file whose first line
# runs on past it is rejected whole). Every other line is bounded by the CSV reader's own
# maximum (MAX_LINE_BYTES, its default).
HEADER_LIMIT = 1 << 20
MAX_LINE_BYTES = 2_000_000
# DuckDB's reader buffer (its default: 16 lines of the maximum). A line longer than the
# buffer is dropped by the reader without a reject (DuckDB 2.0): batch.py checks for it.
READER_BUFFER = 16 * MAX_LINE_BYTES
# Streamed reads (row counts, transcoding) go by blocks of this size.
BLOCK = 1 << 20

# The reader's own words for what went wrong with a line, made readable.
_CSV_ERRORS = {
    "INVALID ENCODING": "not valid UTF-8 (save the file as UTF-8)",
    "TOO MANY COLUMNS": "more fields than the header has",
    "MISSING COLUMNS": "fewer fields than the header has",
    "UNQUOTED VALUE": "a quote inside an unquoted field",
    "LINE SIZE OVER MAXIMUM": f"line longer than the maximum ({MAX_LINE_BYTES:,} bytes)",
    "CAST": "value cannot be read",
}


class FileError(Exception):
    """The whole file cannot be read; ``row`` and ``column`` say where, when known."""

    def __init__(self, reason: str, *, row: int = 0, column: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Skipped:
    """A path inside a folder (or given) that is not read, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def not_regular(path: Path) -> str:
    """Why ``path`` is not a regular file to read ("" when it is one). Links are followed."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a broken link" if os.path.islink(path) else "no longer there"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a link loop"
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a folder (folders are read one level deep)"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_files(path: Path) -> tuple[list[Path], list[Skipped]]:
    """The regular files ``path`` names: itself, or the entries of a folder (one level deep);
    and, inside a folder, what is not a regular file, with the reason. A path given that is
    not a regular file or folder is an error: lastmile reads regular files only (a FIFO or a
    device would hang it or never end)."""
    if os.path.isdir(path):
        files, skipped = [], []
        for entry in sorted(path.iterdir()):
            why = not_regular(entry)
            if why:
                skipped.append(Skipped(entry, why))
            else:
                files.append(entry)
        return files, skipped
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{path}: no such file or folder")
    why = not_regular(path)
    if why:
        raise FileError(f"{path}: {why}; lastmile reads regular files only")
    return [path], []


@dataclass
class InputFile:
    path: Path  # what is read (a CSV; an XLSX or JSON source is converted to one first)
    record_type: RecordType
    index: int = 0  # position in the batch, for ordering duplicates "first wins"
    columns: list[str] = field(default_factory=list)  # interchange columns it yields
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    mapping: RecordMapping | None = None  # None: an interchange file
    mapping_name: str = ""
    params: dict[str, str] = field(default_factory=dict)
    origin: Path | None = None  # the file as given, when ``path`` is a conversion of it
    source_columns: list[str] = field(default_factory=list)  # what a mapping reads of it
    header: list[str] = field(default_factory=list)  # every header name, by position
    error: str = ""  # the file could not even be converted (a broken JSON or XLSX source)

    @property
    def shown(self) -> Path:
        """The path to name in provenance and messages."""
        return self.origin or self.path


def record_type_for(path: Path) -> RecordType | None:
    """``subjects.csv``, ``subjects-2023.csv`` or ``subjects.part2.csv`` hold subjects."""
    stem = path.name.lower().removesuffix(".csv")
    if not path.name.lower().endswith(".csv"):
        return None
    for rt in sorted(RECORD_TYPES, key=lambda r: -len(r.name)):
        if stem == rt.name or stem.startswith((rt.name + "-", rt.name + ".", rt.name + "_")):
            return rt
    return None


def discover(paths: list[Path]) -> tuple[list[InputFile], list[Skipped]]:
    """Interchange files under ``paths`` (folders are read one level deep), in load order;
    and the paths that are not read, with the reason."""
    found: list[InputFile] = []
    skipped: list[Skipped] = []
    for path in paths:
        candidates, not_files = regular_files(path)
        skipped += not_files
        for candidate in candidates:
            rt = record_type_for(candidate)
            if rt is None:
                skipped.append(Skipped(candidate, "not an interchange file name, skipped"))
            else:
                found.append(InputFile(candidate, rt))
    order = {rt.name: i for i, rt in enumerate(RECORD_TYPES)}
    found.sort(key=lambda f: (order[f.record_type.name], str(f.path)))
    for i, f in enumerate(found):
        f.index = i
    return found, skipped


def sniff_encoding(path: Path) -> str:
    """ "utf-8", or "utf-16-le"/"utf-16-be" for a file that starts with that byte-order mark."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        raise FileError("empty file")
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    return "utf-8"


def looks_binary(path: Path) -> bool:
    """True for a file whose first 8 KB is not text: a NUL byte, or many bytes that are
    neither UTF-8 nor the usual white space. (Only asked of a file already rejected whole, to
    say so instead of guessing how many rows it had.)"""
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    text = head.decode("utf-8", errors="replace")
    odd = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n\f"))
    return odd > len(text) // 10


def _header_text(path: Path, encoding: str) -> tuple[list[str] | None, bool]:
    """The first CSV record of ``path`` from its first HEADER_LIMIT bytes, decoded leniently,
    and whether the record ran on past them."""
    with path.open("rb") as fh:
        raw = fh.read(HEADER_LIMIT + 1)
    cut = len(raw) > HEADER_LIMIT
    codec = "utf-8-sig" if encoding == "utf-8" else "utf-16"
    text = raw[:HEADER_LIMIT].decode(codec, errors="replace")
    lines = io.StringIO(text, newline="")
    last = ""

    def feed() -> Iterator[str]:
        nonlocal last
        for line in lines:
            last = line
            yield line

    # The csv module bounds a field (131,072 characters by default); the bound here is the
    # header's (process-wide, and only ever raised).
    if csv.field_size_limit() < HEADER_LIMIT + 1:
        csv.field_size_limit(HEADER_LIMIT + 1)
    header = next(csv.reader(feed()), None)
    # Ran on: the block was cut, and the record took every line of it, the last unfinished.
    ran_on = cut and not lines.read(1) and not last.endswith(("\n", "\r"))
    return header, ran_on


def read_header(f: InputFile) -> None:
    """Read and check the header row; fills ``f.columns`` and ``f.ignored_columns``."""
    if f.error:
        raise FileError(f.error)
    try:
        f.encoding = sniff_encoding(f.path)
        # Decode leniently so that a bad byte further down (a row the CSV reader will reject
        # on its own) does not fail the header; a replacement character *in* the header does.
        header, ran_on = _header_text(f.path, f.encoding)
    except csv.Error as exc:
        raise FileError(f"header is not CSV ({exc})", row=1) from exc
    except OSError as exc:
        raise FileError(f"cannot be read ({exc.strerror or exc})") from exc
    if ran_on:
        raise FileError(
            f"header row longer than the maximum ({HEADER_LIMIT:,} bytes); is this a CSV file?",
            row=1,
        )
    if header and any("\ufffd" in h for h in header):
        what = "UTF-8" if f.encoding == "utf-8" else "UTF-16"
        raise FileError(f"header is not valid {what}", row=1)
    if not header or not any(h.strip() for h in header):
        raise FileError("empty file" if header is None else "empty header row", row=1)
    # Columns are read by position (c0, c1...) and only the known ones are given their
    # names, so a blank name (a trailing comma), a quote or a name like "_line" in a header
    # cannot collide with lastmile's own columns or its SQL.
    f.header = [h.strip().lower() for h in header]
    if f.mapping is not None:
        wanted = f.mapping.source_columns()
    else:
        wanted = {c.name for c in file_columns(f.record_type)}
    # A name given twice is ambiguous only for a column that is read; any other is ignored.
    for name, n in Counter(f.header).items():
        if name and n > 1 and name in wanted:
            raise FileError(f"column {name!r} appears twice in the header", row=1, column=name)
    if f.mapping is not None:
        _check_mapped_header(f)
        return
    known = wanted
    seen = set(f.header)
    f.columns = [name for name in f.header if name in known]
    f.ignored_columns = list(dict.fromkeys(name for name in f.header if name and name not in known))
    for required in f.record_type.required_columns:
        if required not in seen:
            raise FileError("missing required column", row=1, column=required)


def count_data_lines(path: Path, encoding: str) -> int:
    """The non-blank lines below the first of a file, streamed by blocks (a file of one
    400 MB line is never held whole)."""
    decoder = codecs.getincrementaldecoder(encoding if encoding != "utf-8" else "utf-8-sig")(
        errors="replace"
    )
    lines = 0
    pending = False  # the current (unfinished) line has a non-blank character
    with path.open("rb") as fh:
        while True:
            block = fh.read(BLOCK)
            text = decoder.decode(block, final=not block)
            parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            for part in parts[:-1]:
                if pending or part.strip():
                    lines += 1
                pending = False
            pending = pending or bool(parts[-1].strip())
            if not block:
                break
    return max(lines + (1 if pending else 0) - 1, 0)


def first_line_longer(path: Path, limit: int) -> int:
    """The number (from 1) of the first line of ``path`` longer than ``limit`` bytes, or 0.
    Streamed by blocks."""
    line, length = 1, 0
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            parts = block.split(b"\n")
            for i, part in enumerate(parts):
                length += len(part)
                if length > limit:
                    return line
                if i < len(parts) - 1:
                    line, length = line + 1, 0
    return 0


def to_lf_endings(source: Path, out: Path) -> None:
    """Copy ``source`` with every CRLF, and every bare CR, written as LF, block by block (a CR
    at the end of a block waits for the next byte). A bare CR ends a line, as editors show it;
    a CRLF or CR inside a quoted value becomes LF."""
    with source.open("rb") as src, out.open("wb") as dst:
        while block := src.read(BLOCK):
            if block.endswith(b"\r"):
                block += src.read(1)
            dst.write(block.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))


def transcode_to_utf8(source: Path, encoding: str, out: Path) -> None:
    """Write ``source`` (UTF-16) as UTF-8, block by block; a FileError names where it cannot
    be decoded (a truncated file ends in half a character)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    done = 0
    with source.open("rb") as src, out.open("wb") as dst:
        if src.read(2) not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise FileError("not valid UTF-16 (no byte-order mark)")
        done = 2
        while True:
            block = src.read(BLOCK)
            try:
                dst.write(decoder.decode(block, final=not block).encode("utf-8"))
            except UnicodeDecodeError as exc:
                where = done + exc.start
                what = "it ends in the middle of a character" if not block else exc.reason
                raise FileError(f"not valid UTF-16 ({what}, byte {where:,})") from exc
            if not block:
                break
            done += len(block)


def _check_mapped_header(f: InputFile) -> None:
    assert f.mapping is not None
    # Only the columns the mapping reads are stored as text (the reader still splits every
    # field, so a line of the wrong width is still rejected): a carrier's unused direction
    # column cost the staging of 2M values in every ingest of a toll record.
    needed = f.mapping.source_columns()
    f.source_columns = [name for name in dict.fromkeys(f.header) if name and name in needed]
    for name in sorted(needed):
        if name not in f.source_columns:
            raise FileError(
                f"missing column the mapping {f.mapping_name!r} reads", row=1, column=name
            )
    f.columns = projection(f.mapping, f.params)[1]


def read_raw(con: duckdb.DuckDBPyConnection, f: InputFile) -> None:
    """Read ``f``'s columns as text into the temp table :func:`raw_table`, in file order.

    The reader's rejects go to the temp tables named by :func:`rejects_tables`
    (:func:`collect_rejects` reads them). DuckDB reads the file on every core and, with
    insertion order kept for this one statement, stores the rows in file order, so a row's
    position in the table is its place among the good rows: :func:`reader_sql` numbers lines
    from it. (row_number() OVER () over the reader would also number them, but it runs on one
    thread, and so would the typing, checking and hashing above it: twice as slow on two.)"""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(f.header))) + "}"
    errors, scans = rejects_tables(f)
    reader = (
        f"read_csv({q(str(f.path))}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {columns}, auto_detect = false, encoding = 'utf-8', "
        f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {READER_BUFFER}, "
        f"store_rejects = true, rejects_table = {q(errors)}, rejects_scan = {q(scans)})"
    )
    wanted = f.columns if f.mapping is None else f.source_columns
    named = ", ".join(f"c{f.header.index(c)} AS {ident(c)}" for c in wanted)
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw_table(f)} AS SELECT {named} FROM {reader}")
    finally:
        # If the read failed it aborted the transaction, which refuses this: let the read's
        # own error through.
        with contextlib.suppress(duckdb.Error):
            con.execute("SET preserve_insertion_order = false")


def raw_table(f: InputFile) -> str:
    return f"raw_{f.index}"


def reader_sql(f: InputFile) -> str:
    """A SELECT over the text :func:`read_raw` read: the columns, ``_file_index``, and
    ``_line`` as the line number *if the reader rejected no line* (the header being line 1);
    :func:`line_gaps_sql` corrects ``_line`` where it did."""
    raw = raw_table(f)
    # Row ids are contiguous in insertion order; inside a transaction they start at 2**55.
    numbered = f"SELECT *, rowid - (SELECT min(rowid) FROM {raw}) + 2 AS _line FROM {raw}"
    if f.mapping is None:
        keep = ", ".join(ident(c) for c in f.columns)
        return f"SELECT {keep}, {f.index} AS _file_index, _line FROM ({numbered})"
    exprs, _ = projection(f.mapping, f.params)
    # Rows a record does not apply to (when_present is blank) are not rows of that record.
    return (
        f"SELECT * EXCLUDE (_applies) FROM (SELECT {', '.join(exprs)}, "
        f"{f.index} AS _file_index, _line, {filter_sql(f.mapping)} AS _applies "
        f"FROM ({numbered})) WHERE _applies"
    )


def rejects_tables(f: InputFile) -> tuple[str, str]:
    return f"rej_errors_{f.index}", f"rej_scans_{f.index}"


def collect_rejects(con: duckdb.DuckDBPyConnection, f: InputFile, into: str) -> int:
    """Append the lines the reader rejected to ``into`` (_file_index, _line, column, reason);
    returns how many lines. Drops the reader's tables."""
    errors, scans = rejects_tables(f)
    reasons = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in _CSV_ERRORS.items())
    # The reader knows the columns by position (reader_sql); name them as the header does
    # (the names are a parameter: a CASE of 40,000 arms took seconds to plan).
    column = "arg_min(column_name, coalesce(column_idx, -1))"
    row = con.execute(
        f"""
        INSERT INTO {into}
        SELECT {f.index}, line,
               coalesce($names[TRY_CAST(substr({column}, 2) AS INTEGER) + 1], ''),
               coalesce(CASE arg_min(error_type, coalesce(column_idx, -1)) {reasons}
                        ELSE arg_min(error_message, coalesce(column_idx, -1)) END,
                        'line cannot be read')
        FROM {errors} GROUP BY line
        """,
        {"names": f.header},
    ).fetchone()
    con.execute(f"DROP TABLE IF EXISTS {errors}")
    con.execute(f"DROP TABLE IF EXISTS {scans}")
    return int(row[0]) if row else 0


def line_gaps_sql(rejects: str, file_indexes: list[int]) -> str:
    """For files whose reader rejected lines: rows (_file_index, good_before, j) such that a
    good row numbered k (``_line - 1`` before correction) sits ``j`` lines further down,
    where j is the largest with good_before < k. Used in an ASOF join."""
    indexes = ", ".join(map(str, file_indexes))
    return f"""
        SELECT _file_index, _line - 1 - j AS good_before, max(j) AS j FROM (
            SELECT _file_index, _line, row_number() OVER (PARTITION BY _file_index
                                                          ORDER BY _line) AS j
            FROM (SELECT DISTINCT _file_index, _line FROM {rejects}
                  WHERE _file_index IN ({indexes}) AND _line > 1)
        ) GROUP BY 1, 2
    """


def discover_mapped(
    paths: list[Path], mapping: Mapping, params: dict[str, str], workdir: Path
) -> tuple[list[InputFile], list[Skipped]]:
    """The files to read through ``mapping``: one input per file and record of the mapping.
    XLSX and JSON sources are first converted to CSV in ``workdir`` (their row numbers kept:
    a spreadsheet's row, a JSON array's element number plus one)."""
    missing = [p for p in mapping.params if not params.get(p)]
    if missing:
        flags = ", ".join("--" + p.replace("_", "-") for p in missing)
        raise FileError(f"the mapping {mapping.name!r} needs {flags}")
    suffixes = {"csv": (".csv", ".txt", ".tsv"), "xlsx": (".xlsx",), "json": (".json", ".jsonl")}
    found: list[InputFile] = []
    skipped: list[Skipped] = []
    for path in paths:
        candidates, not_files = regular_files(path)
        skipped += not_files
        for candidate in candidates:
            if path.is_dir() and not candidate.name.lower().endswith(suffixes[mapping.format]):
                names = "/".join(suffixes[mapping.format])
                skipped.append(Skipped(candidate, f"not a {names} file, skipped"))
                continue
            error = ""
            try:
                readable = _as_csv(candidate, mapping.format, workdir, len(found))
            except FileError as err:
                # One broken source is one reject; the other files of the batch still load.
                readable, error = candidate, err.reason
            for rec in mapping.records:
                found.append(
                    InputFile(
                        readable,
                        rec.record_type,
                        mapping=rec,
                        mapping_name=mapping.name,
                        params=params,
                        origin=candidate if readable != candidate else None,
                        error=error,
                    )
                )
    order = {rt.name: i for i, rt in enumerate(RECORD_TYPES)}
    found.sort(key=lambda f: order[f.record_type.name])
    for i, f in enumerate(found):
        f.index = i
    return found, skipped


def _as_csv(path: Path, fmt: str, workdir: Path, n: int) -> Path:
    if fmt == "csv":
        return path
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{n:05d}-{path.stem}.csv"
    if fmt == "json":
        con = connect_duckdb()
        source = f"read_json({q(str(path))}, format = 'auto', records = true"
        try:
            # Every key is read as text: a key whose values mix types would otherwise be JSON,
            # its strings written with their quotes, and times would be retyped.
            keys = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source})").fetchall()]
            as_text = "{" + ", ".join(f"{q(k)}: 'VARCHAR'" for k in keys) + "}"
            con.execute(
                f"COPY (SELECT * FROM {source}, columns = {as_text})) "
                f"TO {q(str(out))} (HEADER, DELIMITER ',')"
            )
        except duckdb.Error as exc:
            raise FileError(f"not a JSON array or JSON lines of records ({exc})") from exc
        finally:
            con.close()
        return out
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise FileError("reading XLSX needs openpyxl") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise FileError(f"not an XLSX workbook ({exc})") from exc
    if not book.worksheets:
        raise FileError("the workbook has no sheet")
    # One row at a time (read-only mode streams the sheet), so a large sheet is not held whole.
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            for row in book.worksheets[0].iter_rows(values_only=True):
                writer.writerow(["" if v is None else _cell_text(v) for v in row])
    except Exception as exc:  # openpyxl raises many kinds for a damaged sheet
        raise FileError(f"the sheet cannot be read ({exc})") from exc
    finally:
        book.close()
    return out


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        # A date cell is a datetime at midnight; written as a date, a DATE column reads it.
        if value.time() == datetime.min.time():
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
