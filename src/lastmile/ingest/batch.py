"""One ingest batch: every good row of every file lands in one transaction, or nothing does.

For each record type, in load order (agencies before investigations before their records):

1. check each file's header (``files.read_header``); a file that cannot be read at all is one
   reject (its rows counted);
2. read each file's text into a temp table, on every core, in file order (``files.read_raw``;
   the lines the CSV reader itself rejects are collected after, ``files.collect_rejects``);
3. normalize the distinct selector values of that text (``normalize.build_map``);
4. in one SQL pass over the text (``files.reader_sql``), type and check every value, resolve
   references against the store and the earlier types of this batch, hash the content, join
   the normalized selectors and, for events, compute their keys (``validate.validation_sql``);
5. sort out duplicates: the same id with the same content is a duplicate (nothing is added),
   the same id with other content is rejected, naming where the first came from; an event
   already stored gains a source;
6. append the new rows to the store.

Rejected rows go to the rejects file with file, row, column and reason; every input row is
counted as loaded, duplicate or rejected.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lastmile import __version__
from lastmile.ingest.files import (
    BLOCK,
    MAX_LINE_BYTES,
    READER_BUFFER,
    FileError,
    InputFile,
    Skipped,
    collect_rejects,
    count_data_lines,
    discover,
    discover_mapped,
    first_line_longer,
    line_gaps_sql,
    looks_binary,
    raw_table,
    read_header,
    read_raw,
    reader_sql,
    to_lf_endings,
    transcode_to_utf8,
)
from lastmile.ingest.mapping import Mapping, trimmed_columns
from lastmile.ingest.normalize import AUTO, build_map
from lastmile.ingest.validate import (
    KnownKeys,
    extra_type,
    file_columns,
    ident,
    mapping_extras,
    q,
    typed_sql,
    validation_sql,
    with_content_hash_sql,
)
from lastmile.model import (
    RECORD_TYPES,
    RECORD_TYPES_BY_NAME,
    ColumnType,
    RecordType,
    SelectorKind,
)
from lastmile.store import Workspace
from lastmile.store.backends import DEFAULT_MEMORY_LIMIT, MEMORY_ENV, driver_errors
from lastmile.store.schema import EVENT_COLUMNS, SOURCE_FILES, record_tables
from lastmile.times import utcnow

Progress = Callable[[str, float], None]

# Every line a reader rejected, whether reported (batch_rejects) or read again for another
# record of a mapping (batch_reread_lines): both shift the line numbers of the rows below.
REJECTED_LINES = (
    "(SELECT _file_index, _line FROM batch_rejects "
    "UNION ALL SELECT _file_index, _line FROM batch_reread_lines)"
)

# Test hook: crash (as a killed process would) right after writing this record type, inside
# the batch's transaction, to prove that a crash leaves the store as it was.
FAULT_ENV = "LASTMILE_FAULT_AFTER"


# Up to this many files of one record type, each stored row's file id is a constant of the
# INSERT (a CASE on the file's index); past it, it is looked up in batch_files.
MAX_CASE_FILES = 64


class IngestError(Exception):
    """The batch could not be loaded at all."""


# A reference names a record of these types (for "unknown investigation 'X'").
SINGULAR = {
    "agencies": "agency",
    "investigations": "investigation",
    "subjects": "subject",
    "organizations": "organization",
    "selectors": "selector",
}


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    read_at: datetime
    # Some block of BLOCK bytes holds no line break: the file may have a line longer than the
    # CSV reader's buffer, which it drops without a word (files.first_line_longer checks).
    long_run: bool
    # Lines end both in CRLF and in a bare LF (files pasted together from two systems), or some
    # in a bare CR: DuckDB's reader takes one line ending per file and stops the whole batch on
    # another ("invalid state"), so such a file is read from a copy with LF only
    # (files.to_lf_endings).
    mixed_endings: bool = False


def file_digest(path: Path) -> Digest:
    """The SHA-256 (hex), size and time read of a file as it is on disk now, in one pass
    (hashlib and the searches for line breaks run in C, releasing the GIL)."""
    read_at = utcnow()
    digest = hashlib.sha256()
    size, long_run, crlf, bare_lf, bare_cr = 0, False, False, False, False
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
            size += len(block)
            long_run = long_run or (len(block) == BLOCK and b"\n" not in block)
            if b"\r" not in block:
                # Most files end their lines in LF alone: one search, no counts.
                bare_lf = bare_lf or b"\n" in block
                continue
            pairs = block.count(b"\r\n")
            crlf = crlf or pairs > 0
            # A CR that ends a block and the LF that starts the next count as bare: a false
            # alarm costs one copy of the file, never a wrong row.
            bare_lf = bare_lf or block.count(b"\n") > pairs
            bare_cr = bare_cr or block.count(b"\r") > pairs
    return Digest(digest.hexdigest(), size, read_at, long_run, (crlf and bare_lf) or bare_cr)


@dataclass
class TypeCounts:
    files: int = 0
    rows: int = 0
    loaded: int = 0
    duplicate: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class Reject:
    file: str
    row: int
    column: str
    reason: str

    def line(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        col = f" column {self.column}:" if self.column else ""
        return f"{where}:{col} {self.reason}"


@dataclass
class BatchResult:
    batch_id: str
    counts: dict[str, TypeCounts]
    rejects_total: int = 0
    first_rejects: list[Reject] = field(default_factory=list)
    rejects_file: Path | None = None
    skipped: list[Skipped] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    # What went wrong after the commit (the batch IS loaded): e.g. where the rejects went
    # when the rejects file could not be written.
    notes: list[str] = field(default_factory=list)
    supersedes: str | None = None
    superseded_files: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return sum(c.loaded for c in self.counts.values())

    @property
    def duplicate(self) -> int:
        return sum(c.duplicate for c in self.counts.values())

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "loaded": self.loaded,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "by_type": {k: vars(v) for k, v in self.counts.items()},
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "skipped": [{"path": str(p.path), "reason": p.reason} for p in self.skipped],
            "ignored_columns": self.ignored_columns,
            "notes": self.notes,
            "supersedes": self.supersedes,
            "superseded_files": self.superseded_files,
        }


def new_batch_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class _Batch:
    def __init__(
        self,
        ws: Workspace,
        files: list[InputFile],
        progress: Progress | None,
        workdir: Path,
    ) -> None:
        self.ws = ws
        self.workdir = workdir
        self.store = ws.store
        self.con: duckdb.DuckDBPyConnection = ws.store.staging()
        self.files = files
        self.progress = progress
        self.batch_id = new_batch_id()
        self.counts: dict[str, TypeCounts] = {}
        self.ignored: dict[str, list[str]] = {}
        self.done_types: list[str] = []
        self.file_level_rows: dict[int, int] = {}
        self.read_paths: set[Path] = set()
        self.stored_by_file: dict[int, int] = {}
        self.transcoded: dict[Path, Path | FileError] = {}
        self.file_ids: dict[int, uuid.UUID] = {}
        # The columns of the staged rows of the record type being loaded (val_{name}).
        self.staged: set[str] = set()
        # Chain of custody: every file is hashed as received, on another thread while DuckDB
        # reads (hashlib releases the GIL), so that the hash costs no second pass in time.
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lastmile-sha256")
        self.digests: dict[Path, Future[Digest]] = {}
        for f in files:
            if f.shown not in self.digests:
                self.digests[f.shown] = self._hasher.submit(file_digest, f.shown)

    # -- helpers -------------------------------------------------------------------------
    def _tick(self, message: str, step: int, steps: int) -> None:
        if self.progress:
            self.progress(message, step / steps)

    def _reject_sql(self, select_sql: str) -> None:
        """Append (``_file_index``, ``_line``, column, reason) rows to the rejects table."""
        self.con.execute(f"INSERT INTO batch_rejects {select_sql}")

    def _count(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    # -- the batch -----------------------------------------------------------------------
    def stage_files(self) -> None:
        """Stage the batch's files: ``batch_files`` (index, path, name, and the id of the path:
        a mapping may read several record types from one file)."""
        ids: dict[str, uuid.UUID] = {}
        self.file_ids = {f.index: ids.setdefault(str(f.shown), uuid.uuid4()) for f in self.files}
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE batch_files "
            "(_file_index INTEGER, path VARCHAR, base VARCHAR, file_id UUID)"
        )
        self.con.executemany(
            "INSERT INTO batch_files VALUES (?, ?, ?, ?)",
            [(f.index, str(f.shown), f.shown.name, self.file_ids[f.index]) for f in self.files],
        )

    def _note_sources(self, table: str) -> None:
        """Count, per file, the staged rows in ``table`` about to be stored."""
        rows = self.con.execute(f"SELECT _file_index, count(*) FROM {table} GROUP BY 1").fetchall()
        for index, n in rows:
            self.stored_by_file[int(index)] = self.stored_by_file.get(int(index), 0) + int(n)

    def record_source_files(self) -> None:
        """Record in the store's ``source_files`` every file this batch read, whether or not
        it stored a row: its SHA-256 as received, size, time read and records stored."""
        custody: list[tuple[str, str | None, int | None, datetime]] = []
        for path, future in self.digests.items():
            try:
                d = future.result()
                custody.append((str(path), d.sha256, d.size, d.read_at))
            except OSError:
                custody.append((str(path), None, None, utcnow()))
        self._hasher.shutdown()
        stored = [(i, n) for i, n in self.stored_by_file.items()]
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE batch_custody "
            "(path VARCHAR, sha256 VARCHAR, size_bytes BIGINT, read_at TIMESTAMP)"
        )
        con.executemany("INSERT INTO batch_custody VALUES (?, ?, ?, ?)", custody)
        con.execute("CREATE OR REPLACE TEMP TABLE batch_stored (_file_index INTEGER, n BIGINT)")
        if stored:
            con.executemany("INSERT INTO batch_stored VALUES (?, ?)", stored)
        self.store.append(
            con,
            SOURCE_FILES.name,
            SOURCE_FILES.column_names,
            f"SELECT bf.file_id, {q(self.batch_id)}, bf.path, any_value(bf.base), "
            f"any_value(c.sha256), any_value(c.size_bytes), any_value(c.read_at), "
            f"coalesce(sum(s.n), 0)::BIGINT, NULL::VARCHAR "
            f"FROM batch_files bf LEFT JOIN batch_custody c ON c.path = bf.path "
            f"LEFT JOIN batch_stored s USING (_file_index) GROUP BY bf.file_id, bf.path",
        )

    def supersede(self, old_batch: str) -> list[str]:
        """Remove from the store what batch ``old_batch`` stored from files of the same names
        as this batch's (a corrected return replaces the return it corrects), in this batch's
        transaction; returns the names. Events left without any source go too."""
        store = self.store
        if not store.rows("SELECT count(*) FROM batches WHERE batch_id = ?", (old_batch,))[0][0]:
            raise IngestError(
                f"--supersedes {old_batch}: no such batch in the workspace "
                "(lastmile status --files lists the batches and their files)"
            )
        old = store.rows(
            "SELECT CAST(file_id AS VARCHAR), name FROM source_files "
            "WHERE batch_id = ? AND superseded_by IS NULL",
            (old_batch,),
        )
        names = {f.shown.name for f in self.files}
        matched = sorted({(fid, name) for fid, name in old if name in names})
        if not matched:
            had = ", ".join(sorted({name for _, name in old})) or "nothing left to replace"
            raise IngestError(
                f"--supersedes {old_batch}: that batch read no file of the same name as these "
                f"(it read: {had}); a corrected return replaces the file of its name"
            )
        ids = [fid for fid, _ in matched]
        marks = ", ".join("CAST(? AS UUID)" for _ in ids)
        for rt in RECORD_TYPES:
            tables = record_tables(rt)
            if rt.id_column:
                store.execute(f"DELETE FROM {rt.name} WHERE source_file_id IN ({marks})", ids)
                continue
            sources = tables[1].name
            # Events reported only by the files replaced go with them.
            store.execute(
                f"DELETE FROM {rt.name} WHERE event_key IN ("
                f"SELECT event_key FROM {sources} WHERE source_file_id IN ({marks}) EXCEPT "
                f"SELECT event_key FROM {sources} WHERE source_file_id NOT IN ({marks}) "
                f"AND event_key IN (SELECT event_key FROM {sources} "
                f"WHERE source_file_id IN ({marks})))",
                ids * 3,
            )
            store.execute(f"DELETE FROM {sources} WHERE source_file_id IN ({marks})", ids)
        store.execute(
            f"UPDATE source_files SET superseded_by = ? WHERE file_id IN ({marks})",
            [self.batch_id, *ids],
        )
        return sorted({name for _, name in matched})

    def run(self) -> None:
        for table in ("batch_rejects", "batch_reread_lines"):
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} "
                '(_file_index INTEGER, _line BIGINT, "column" VARCHAR, reason VARCHAR)'
            )
        types = [rt for rt in RECORD_TYPES if any(f.record_type is rt for f in self.files)]
        for step, rt in enumerate(types):
            self._tick(f"{rt.name}", step, len(types))
            self._load_type(rt, [f for f in self.files if f.record_type is rt])
            self.done_types.append(rt.name)
            if os.environ.get(FAULT_ENV) == rt.name:
                os._exit(70)
        self._tick("committing", len(types), len(types))

    def _stage(self, rt: RecordType, files: list[InputFile]) -> list[InputFile]:
        """Check each file's header (and bring a UTF-16 file to UTF-8); returns the files that
        can be read. A file that cannot is one reject, its rows counted."""
        counts = self.counts.setdefault(rt.name, TypeCounts())
        readable: list[InputFile] = []
        for f in files:
            counts.files += 1
            try:
                read_header(f)
                self._as_utf8(f)
                self._as_lf_endings(f)
                self._check_line_bound(f)
            except FileError as err:
                rows, note = self._count_data_rows(f)
                counts.rows += rows
                self.file_level_rows[f.index] = rows
                self._reject_sql(
                    f"SELECT {f.index}, {err.row}, {q(err.column)}, {q(err.reason + note)}"
                )
                continue
            if f.ignored_columns:
                self.ignored[str(f.shown)] = f.ignored_columns
            readable.append(f)
        return readable

    def _check_line_bound(self, f: InputFile) -> None:
        """DuckDB's reader rejects a line over MAX_LINE_BYTES, but drops one longer than its
        buffer without a word (and the line numbers below it shift). The hashing pass flags a
        file with 1 MB of bytes without a line break; only such a file is scanned line by line,
        and if a line is longer than the reader's buffer the file is rejected whole."""
        try:
            long_run = self.digests[f.shown].result().long_run
        except (OSError, KeyError):
            return
        if not long_run:
            return
        line = first_line_longer(f.path, READER_BUFFER)
        if line:
            raise FileError(
                f"line {line:,} is longer than {READER_BUFFER:,} bytes, past what the CSV "
                f"reader can skip; the file is not read (a line may take at most "
                f"{MAX_LINE_BYTES:,} bytes)"
            )

    def _as_lf_endings(self, f: InputFile) -> None:
        """A UTF-8 file whose lines end in CRLF and LF, or in a bare CR, is read from a copy
        with LF only
        (the hashing pass tells which; the custody record keeps the file as received)."""
        if f.encoding != "utf-8":
            return
        done = self.transcoded.get(f.path)
        if done is None:
            try:
                if not self.digests[f.shown].result().mixed_endings:
                    return
            except (OSError, KeyError):
                return
            done = self._copy(f, "lf", lambda out: to_lf_endings(f.path, out))
        self._read_from(f, done)

    def _as_utf8(self, f: InputFile) -> None:
        """A UTF-16 file (either byte order) is read from a UTF-8 copy in the batch's work
        folder (DuckDB's reader knows UTF-16 little-endian only); once per file."""
        if f.encoding == "utf-8":
            return
        done = self.transcoded.get(f.path)
        if done is None:
            done = self._copy(f, "utf8", lambda out: transcode_to_utf8(f.path, f.encoding, out))
        self._read_from(f, done)

    def _copy(self, f: InputFile, kind: str, write: Callable[[Path], None]) -> Path | FileError:
        """Write ``f``'s readable copy into the work folder once, remembering the copy or why it
        could not be made, so a file given twice is copied (or refused) once."""
        out = self.workdir / f"{f.index:05d}-{kind}.csv"
        done: Path | FileError
        try:
            write(out)
            done = out
        except FileError as err:
            done = err
        except OSError as exc:
            done = FileError(f"cannot be read ({exc.strerror or exc})")
        self.transcoded[f.path] = done
        return done

    @staticmethod
    def _read_from(f: InputFile, done: Path | FileError) -> None:
        """Read ``f`` from its copy from now on (its name stays the one received)."""
        if isinstance(done, FileError):
            raise done
        f.origin, f.path = f.shown, done

    def _count_data_rows(self, f: InputFile) -> tuple[int, str]:
        """The non-blank lines below the header of a file that cannot be read as a table,
        so that its rows are still counted (as rejected), and what to add to the reason.
        Streamed, whatever its size. A binary file has no rows to count: none are guessed."""
        if f.error:
            return 0, ""
        if looks_binary(f.path):
            return 0, " (not a text file: no rows counted)"
        try:
            rows = count_data_lines(f.path, f.encoding)
        except OSError:
            return 0, ""
        return rows, f" ({rows:,} row{'' if rows == 1 else 's'} not loaded)" if rows else ""

    def _load_type(self, rt: RecordType, files: list[InputFile]) -> None:
        readable = self._stage(rt, files)
        counts = self.counts[rt.name]
        name = rt.name
        if not readable:
            counts.rejected = self._rows_rejected(files)
            if rt.id_column:
                # Later types may reference this one: nothing of it was loaded in this batch.
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE good_{name} AS "
                    f"SELECT NULL::VARCHAR AS key WHERE false"
                )
            return
        model = [c.name for c in file_columns(rt)]
        present = sorted({c for f in readable for c in f.columns if c in model})
        # Every file yields the same columns: the model's, and what a mapping adds (the time
        # as written, its own errors); a column a file lacks is NULL.
        columns = model + list(mapping_extras(rt))
        union = " UNION ALL ".join(
            "SELECT "
            + ", ".join(
                [
                    ident(c) if c in f.columns else f"NULL::{extra_type(c)} AS {ident(c)}"
                    for c in columns
                ]
                + ["_file_index", "_line"]
            )
            + f" FROM ({reader_sql(f)})"
            for f in readable
        )
        con = self.con
        for f in readable:
            read_raw(con, f)
        # What every file's mapping has trimmed already is not trimmed again.
        trimmed: set[str] = set(model)
        for f in readable:
            trimmed &= trimmed_columns(f.mapping, f.params) if f.mapping else set()
        known = self._known_keys(rt, f"({union})", present)
        # One pass over the text: type and check every value, resolve references, normalize
        # selectors (maps built from the distinct values just read) and key the events.
        selector_map = self._selector_map(
            rt, f"({union})", fixed_platform="platform" not in present, files=readable
        )
        text, carried = self._with_selectors(
            rt,
            f"({union})",
            selector_map,
            fixed_platform="platform" not in present,
            trimmed=trimmed,
        )
        validated = validation_sql(
            rt,
            present,
            text,
            known,
            content_hash=bool(rt.id_column),
            carry=carried,
            narrow=not rt.id_column,
            pretrimmed=trimmed,
        )
        if not rt.id_column:
            omitted = set(model) - set(present) - set(rt.required_columns)
            validated = self._with_event_keys(rt, validated, omitted)
        con.execute(f"CREATE OR REPLACE TEMP TABLE val_{name} AS {validated}")
        self.staged = {r[0] for r in con.execute(f"DESCRIBE val_{name}").fetchall()}
        for f in readable:
            con.execute(f"DROP TABLE {raw_table(f)}")
        if selector_map:
            con.execute(f"DROP TABLE {selector_map}")
        # A mapped file read for several records has its unreadable lines reported once.
        with_rejects = []
        for f in readable:
            first_read = f.path not in self.read_paths
            self.read_paths.add(f.path)
            if collect_rejects(con, f, "batch_rejects" if first_read else "batch_reread_lines"):
                with_rejects.append(f.index)
        if with_rejects:
            # Rows below a line the reader rejected sit further down than their number says.
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE val_{name} AS "
                f"SELECT v.* REPLACE (v._line + coalesce(g.j, 0) AS _line) FROM val_{name} v "
                f"ASOF LEFT JOIN ({line_gaps_sql(REJECTED_LINES, with_rejects)}) g "
                f"ON v._file_index = g._file_index AND v._line - 1 > g.good_before"
            )
        counts.rows += self._count(f"SELECT count(*) FROM val_{name}") + self._count(
            f"SELECT count(DISTINCT (_file_index, _line)) FROM batch_rejects WHERE _line > 1 "
            f"AND _file_index IN ({', '.join(str(f.index) for f in readable)})"
        )
        self._reject_sql(
            f"SELECT _file_index, _line, e.column, e.reason FROM "
            f"(SELECT _file_index, _line, unnest(_errors) AS e FROM val_{name} "
            f"WHERE _errors IS NOT NULL)"
        )
        con.execute(f"DELETE FROM val_{name} WHERE _errors IS NOT NULL")
        if rt.id_column:
            loaded, duplicate = self._write_identified(rt, files)
        else:
            loaded, duplicate = self._write_events(rt, files)
        con.execute(f"DROP TABLE val_{name}")
        counts.loaded += loaded
        counts.duplicate += duplicate
        counts.rejected = self._rows_rejected(files)

    def _rows_rejected(self, files: list[InputFile]) -> int:
        """Rows (not errors: a row may have several) rejected in these files, plus the rows a
        file-level error stopped."""
        indexes = ", ".join(str(f.index) for f in files)
        rows = self._count(
            f"SELECT count(*) FROM (SELECT DISTINCT _file_index, _line FROM batch_rejects "
            f"WHERE _file_index IN ({indexes}) AND _line > 1)"
        )
        return rows + sum(self.file_level_rows.get(f.index, 0) for f in files)

    def _known_keys(
        self, rt: RecordType, text: str, present: Sequence[str]
    ) -> dict[str, KnownKeys]:
        """For each reference column some file has (``present``; another is NULL on every
        row, and names nothing), a staging view of the ids it may name: those of the store
        that the rows in ``text`` (as read) name, and those loaded earlier in this batch."""
        known: dict[str, KnownKeys] = {}
        con = self.con
        for col in rt.columns:
            if col.type is not ColumnType.REF or col.name not in present:
                continue
            targets = col.references.split("|")
            named = typed_sql(col, ident(col.name))
            parts = []
            for target in targets:
                trt = RECORD_TYPES_BY_NAME[target]
                into = f"known_{rt.name}_{col.name}_{target}"
                self.store.key_table(
                    con,
                    f"SELECT {named} AS key FROM {text} WHERE {named} IS NOT NULL",
                    target,
                    [trt.id_column],
                    into,
                )
                parts.append(f"SELECT {trt.id_column} AS key FROM {into}")
                if target in self.done_types:
                    parts.append(f"SELECT key FROM good_{target}")
            table = f"known_{rt.name}_{col.name}"
            con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {' UNION ALL '.join(parts)}")
            what = " or ".join(SINGULAR.get(t, t) for t in targets)
            known[col.name] = KnownKeys(table, what)
        return known

    # -- writing -------------------------------------------------------------------------
    def _selector_kind(self, col_name: str) -> str:
        """The selector kind of a column, as SQL over the row: fixed for an agency's contact,
        the record's own kind for a selector record, guessed from the value otherwise."""
        return {
            "poc_phone": q(SelectorKind.PHONE.value),
            "poc_email": q(SelectorKind.EMAIL.value),
            "value": "kind",
        }.get(col_name, q(AUTO))

    def _selector_map(
        self,
        rt: RecordType,
        text: str,
        *,
        fixed_platform: bool,
        files: Sequence[InputFile] = (),
    ) -> str | None:
        """A map (normalize.build_map) of the distinct selector values in ``text`` (the rows
        as read), all selector columns together, keyed as :meth:`_with_selectors` joins it.
        Built before validation so that normalization joins the validation pass; the values
        of rows that will be rejected for another column are normalized too, and never used.
        ``fixed_platform``: no file of the batch has a platform column (it is NULL on every
        row). ``files``: the files ``text`` reads, whose staged text the values are read from
        where a column is the text of one staged column (:func:`_raw_values_sql`)."""
        columns = [c for c in rt.columns if c.type is ColumnType.SELECTOR]
        if not columns:
            return None
        has_platform = "platform" in {c.name for c in rt.columns}
        platform_text = ident("platform") if has_platform else "NULL"
        platform = typed_sql(rt.column("platform"), ident("platform")) if has_platform else "NULL"
        by_kind: dict[str, list[str]] = {}
        for col in columns:
            by_kind.setdefault(self._selector_kind(col.name), []).append(ident(col.name))
        m = f"norm_{rt.name}"
        parts: list[str] = []
        texts: list[str] = []
        for kind, names in by_kind.items():
            kind_text = ident("kind") if kind == "kind" else "NULL"
            typed_kind = typed_sql(rt.column("kind"), ident("kind")) if kind == "kind" else kind
            # The distinct text of the columns of one kind, then trim and type only that
            # (selector columns are typed alike: trimmed text). One scan per column: a list
            # of the columns per row, unnested, cost twice as much.
            if kind != "kind" and (fixed_platform or not has_platform):
                # The kind and the platform are the same on every row (a constant, and NULL):
                # the distinct values alone, grouped on one column instead of three (half the
                # cost: 0.11-0.16 -> 0.05-0.06 CPU-s for 2M rows of two selectors).
                raw = [_raw_values_sql(f, n[1:-1].replace('""', '"')) for f in files for n in names]
                if files and all(raw):
                    # Each value as staged (trimmed below, with the rest, once distinct):
                    # a mapping's projection would trim every row's value first.
                    values = " UNION ALL ".join(sql for sql in raw if sql)
                else:
                    values = " UNION ALL ".join(f"SELECT {n} AS value FROM {text}" for n in names)
                inner = (
                    "SELECT NULL::VARCHAR AS kind, NULL::VARCHAR AS platform, value "
                    f"FROM (SELECT DISTINCT value FROM ({values}))"
                )
            else:
                inner = (
                    "SELECT DISTINCT * FROM ("
                    + " UNION ALL ".join(
                        f"SELECT {kind_text} AS kind, {platform_text} AS platform, {n} AS value "
                        f"FROM {text}"
                        for n in names
                    )
                    + ")"
                )
            # The distinct text is stored before it is typed: given the filter below over the
            # typed values, DuckDB pushed it down through the DISTINCT into the scan of every
            # row, and typed (trimmed) each of millions of values instead of each distinct one:
            # three times the cost of the whole map for a toll record (2M rows: 0.75 CPU-s,
            # 0.25 with the text stored first).
            texts.append(f"{m}_text{len(texts)}")
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {texts[-1]} AS {inner}")
            value = typed_sql(columns[0], "value")
            parts.append(f"SELECT {typed_kind}, {platform}, {value} FROM {texts[-1]}")
        # A row whose kind is missing or unknown will be rejected: nothing to normalize.
        build_map(
            self.con,
            f"SELECT DISTINCT * FROM ({' UNION ALL '.join(parts)}) d(kind, platform, raw) "
            f"WHERE raw IS NOT NULL AND kind IS NOT NULL",
            m,
        )
        for table in texts:
            self.con.execute(f"DROP TABLE {table}")
        return m

    def _with_selectors(
        self,
        rt: RecordType,
        text: str,
        m: str | None,
        *,
        fixed_platform: bool,
        trimmed: set[str] | None = None,
    ) -> tuple[str, list[str]]:
        """``text`` (the rows as read) with ``{col}_normalized``/``{col}_valid`` for each
        selector column, from the map ``m``, and the names of those columns.

        The map is joined to the text as read, keyed as :meth:`_selector_map` keyed it (the
        trimmed value, the typed kind and platform), before the rows are typed and checked:
        a join's cost grows with the width of its rows, and they are narrowest here.
        ``fixed_platform``: no file of the batch has a platform column; where the kind and
        the platform are the same on every row, the map is joined on the value alone.
        ``trimmed``: the columns whose text is trimmed already (a mapping's)."""
        if m is None:
            return text, []
        joins, extra, names = [], [], []
        has_platform = "platform" in {c.name for c in rt.columns}
        platform = "NULL"
        if has_platform and not fixed_platform:
            platform = typed_sql(rt.column("platform"), "r.platform")
        columns = [c for c in rt.columns if c.type is ColumnType.SELECTOR]
        for i, col in enumerate(columns):
            kind = self._selector_kind(col.name)
            value = typed_sql(col, f"r.{ident(col.name)}")
            if col.name in (trimmed or ()):
                value = f"r.{ident(col.name)}"
            if kind != "kind" and platform == "NULL":
                joins.append(
                    f"LEFT JOIN (SELECT raw, normalized, valid FROM {m} WHERE kind = {kind} "
                    f"AND platform IS NULL) m{i} ON m{i}.raw = {value}"
                )
            else:
                if kind == "kind":
                    kind = typed_sql(rt.column("kind"), "r.kind")
                joins.append(
                    f"LEFT JOIN {m} m{i} ON m{i}.raw = {value} AND m{i}.kind = {kind} "
                    f"AND coalesce(m{i}.platform, '') = coalesce({platform}, '')"
                )
            for part in ("normalized", "valid"):
                names.append(f"{col.name}_{part}")
                extra.append(f"m{i}.{part} AS {ident(names[-1])}")
        return f"(SELECT {', '.join(['r.*', *extra])} FROM {text} r {' '.join(joins)})", names

    def _with_event_keys(self, rt: RecordType, validated: str, omitted: set[str]) -> str:
        """``validated`` with ``_event_key``: the hash of what the event is (normalized
        selectors, time, kind...)."""
        key_parts = [
            f + "_normalized" if rt.column(f).type is ColumnType.SELECTOR else f
            for f in EVENT_COLUMNS[rt.name]
        ]
        columns = ["NULL" if k in omitted else ident(k) for k in key_parts]
        return with_content_hash_sql(validated, columns, "_event_key")

    def _staged(self, expr: str, sql_type: str) -> str:
        """``expr``, or a NULL of ``sql_type`` where it names a column the staged rows leave
        out (no file has it: validation_sql's ``narrow``)."""
        if expr.startswith('"') and expr[1:-1].replace('""', '"') not in self.staged:
            return f"CAST(NULL AS {sql_type})"
        return expr

    def _provenance(self, files: list[InputFile], *, content_hash: bool = True) -> dict[str, str]:
        """A stored record's provenance, over a staged row of one of ``files``. The file's id
        is written as a constant per file (a join to ``batch_files`` of millions of rows cost
        more than the rest of the write), or looked up when the files are many."""
        if len(files) == 1:
            file_id = f"CAST({q(str(self.file_ids[files[0].index]))} AS UUID)"
        elif len(files) <= MAX_CASE_FILES:
            arms = " ".join(
                f"WHEN {f.index} THEN CAST({q(str(self.file_ids[f.index]))} AS UUID)" for f in files
            )
            file_id = f"CASE _file_index {arms} END"
        else:
            file_id = "(SELECT bf.file_id FROM batch_files bf WHERE bf._file_index = n._file_index)"
        out = {"source_row": "_line", "source_file_id": file_id}
        return {**out, "content_hash": "_hash"} if content_hash else out

    def _write_identified(self, rt: RecordType, files: list[InputFile]) -> tuple[int, int]:
        name, key = rt.name, ident(rt.id_column)
        con = self.con
        duplicate = 0
        # The staged rows, each id once. The statements that would remove nothing are left
        # out (no id given twice in the batch, none of its ids stored yet): each copied every
        # column of every row, and the window cost more than checking a small file (for the
        # five small types of the interchange bench, a fifth of a second of one thread).
        rows = f"val_{name}"
        temps: list[str] = []
        repeated = self._count(
            f"SELECT count(*) FROM (SELECT {key} FROM val_{name} GROUP BY {key} "
            f"HAVING count(*) > 1)"
        )
        if repeated:
            rows = f"ranked_{name}"
            temps.append(rows)
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE {rows} AS
                SELECT *,
                    row_number() OVER w AS _rn,
                    first_value(_hash) OVER w AS _first_hash,
                    first_value(_file_index) OVER w AS _first_file,
                    first_value(_line) OVER w AS _first_line
                FROM val_{name} WHERE _errors IS NULL
                WINDOW w AS (PARTITION BY {key} ORDER BY _file_index, _line)
                """
            )
            self._reject_sql(
                f"SELECT _file_index, _line, {q(rt.id_column)}, "
                f"'id ''' || {key} || ''' was given other content at ' || "
                f"(SELECT path FROM batch_files bf WHERE bf._file_index = _first_file) "
                f"|| ':' || _first_line FROM {rows} WHERE _rn > 1 AND _hash <> _first_hash"
            )
            duplicate += self._count(
                f"SELECT count(*) FROM {rows} WHERE _rn > 1 AND _hash = _first_hash"
            )
            con.execute(f"DELETE FROM {rows} WHERE _rn > 1")
        self.store.lookup(
            con,
            f"SELECT {key} AS key FROM {rows}",
            name,
            rt.id_column,
            [rt.id_column, "content_hash", "source_file_id", "source_row"],
            f"stored_{name}",
        )
        if self._count(f"SELECT count(*) FROM stored_{name}"):
            stored = f"{rows} r JOIN stored_{name} s ON s.{key} = r.{key}"
            other_content = "s.content_hash <> r._hash"
            if self._count(f"SELECT count(*) FROM {stored} WHERE {other_content}"):
                # The reject names the file the stored record came from.
                self.store.lookup(
                    con,
                    f"SELECT s.source_file_id AS key FROM {stored} WHERE {other_content}",
                    "source_files",
                    "file_id",
                    ["file_id", "path"],
                    f"stored_files_{name}",
                )
                self._reject_sql(
                    f"SELECT r._file_index, r._line, {q(rt.id_column)}, 'id ''' || r.{key} || "
                    f"''' is already in the workspace with other content (from ' || "
                    f"coalesce(f.path, 'an unknown file') || ':' || s.source_row || ')' "
                    f"FROM {stored} LEFT JOIN stored_files_{name} f "
                    f"ON f.file_id = s.source_file_id WHERE {other_content}"
                )
            duplicate += self._count(f"SELECT count(*) FROM {stored} WHERE NOT ({other_content})")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE new_{name} AS SELECT * FROM {rows} r "
                f"WHERE r.{key} NOT IN (SELECT {key} FROM stored_{name})"
            )
            rows = f"new_{name}"
            temps.append(rows)
        con.execute(f"CREATE OR REPLACE TEMP TABLE good_{name} AS SELECT {key} AS key FROM {rows}")
        self._note_sources(rows)
        table = record_tables(rt)[0]
        provenance = self._provenance(files)
        exprs = [provenance.get(c, ident(c)) for c in table.column_names]
        loaded = self.store.append(
            con, name, table.column_names, f"SELECT {', '.join(exprs)} FROM {rows} n"
        )
        for temp in temps:
            con.execute(f"DROP TABLE {temp}")
        return loaded, duplicate

    def _write_events(self, rt: RecordType, files: list[InputFile]) -> tuple[int, int]:
        """Content-keyed records: one event, many sources (see store/schema.py). A source is
        one line of one file, by name, of one investigation reporting the event: the same file
        loaded again adds nothing, while two overlapping returns each add their sources."""
        name = rt.name
        con = self.con
        event_fields = EVENT_COLUMNS[name]
        duplicate = 0
        if len({f.shown.name for f in files}) < len(files):
            # Only files of the same name can repeat a source within the batch.
            duplicate += self._count(
                f"DELETE FROM val_{name} WHERE (_file_index, _line) IN (SELECT _file_index, _line "
                f"FROM val_{name} JOIN batch_files USING (_file_index) QUALIFY row_number() OVER "
                f"(PARTITION BY _event_key, investigation_id, base, _line "
                f"ORDER BY _file_index, _line) > 1)"
            )
        self.store.lookup(
            con,
            f"SELECT _event_key AS key FROM val_{name}",
            name,
            "event_key",
            ["event_key"],
            f"stored_events_{name}",
        )
        stored_any = self._count(f"SELECT count(*) FROM stored_events_{name}") > 0
        if stored_any:
            # Only an event already stored can have its source stored: on a first load of a
            # return this costs nothing.
            self.store.lookup(
                con,
                f"SELECT event_key AS key FROM stored_events_{name}",
                f"{name}_sources",
                "event_key",
                ["event_key", "investigation_id", "source_file_id", "source_row"],
                f"stored_src_{name}",
            )
            self.store.lookup(
                con,
                f"SELECT source_file_id AS key FROM stored_src_{name}",
                "source_files",
                "file_id",
                ["file_id", "name"],
                f"stored_src_files_{name}",
            )
            duplicate += self._count(
                f"DELETE FROM val_{name} WHERE (_file_index, _line) IN ("
                f"SELECT v._file_index, v._line FROM val_{name} v "
                f"JOIN batch_files bf USING (_file_index) "
                f"JOIN stored_src_{name} s ON s.event_key = v._event_key "
                f"AND s.source_row = v._line "
                f"AND s.investigation_id IS NOT DISTINCT FROM v.investigation_id "
                f"JOIN stored_src_files_{name} f ON f.file_id = s.source_file_id "
                f"AND f.name = bf.base)"
            )
        events, sources = record_tables(rt)
        # An event reported more than once in this batch is written once: its columns are
        # determined by its key (their hash), so any row of the group is the event. Only the
        # repeated keys go through the aggregate; the rest are written as they are.
        event_exprs = {"event_key": "_event_key"}
        source_exprs = {"event_key": "_event_key", "content_hash": "NULL::UUID"}
        source_exprs.update(self._provenance(files, content_hash=False))
        for f in event_fields:
            if rt.column(f).type is ColumnType.SELECTOR:
                event_exprs[f] = ident(f + "_normalized")
                source_exprs[f + "_raw"] = ident(f)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE repeated_{name} AS SELECT _event_key FROM val_{name} "
            f"GROUP BY _event_key HAVING count(*) > 1"
        )
        plain = [self._staged(event_exprs.get(c, ident(c)), t) for c, t in events.columns]
        grouped = [
            "_event_key" if c == "event_key" else f"any_value({e})"
            for c, e in zip(events.column_names, plain, strict=True)
        ]
        # Each filter is a join over every row: left out when it would remove nothing (no
        # event of the batch is stored yet, no event is reported twice in it).
        once = [f"_event_key NOT IN (SELECT event_key FROM stored_events_{name})"] * stored_any
        if self._count(f"SELECT count(*) FROM repeated_{name}"):
            repeated = f"_event_key IN (SELECT _event_key FROM repeated_{name})"
            plain_sql = _where(
                f"SELECT {', '.join(plain)} FROM val_{name}", [*once, f"NOT {repeated}"]
            )
            grouped_sql = _where(f"SELECT {', '.join(grouped)} FROM val_{name}", [*once, repeated])
            events_sql = f"{plain_sql} UNION ALL {grouped_sql} GROUP BY _event_key"
        else:
            events_sql = _where(f"SELECT {', '.join(plain)} FROM val_{name}", once)
        self.store.append(con, name, events.column_names, events_sql)
        self._note_sources(f"val_{name}")
        src_cols = [self._staged(source_exprs.get(c, ident(c)), t) for c, t in sources.columns]
        loaded = self.store.append(
            con,
            f"{name}_sources",
            sources.column_names,
            f"SELECT {', '.join(src_cols)} FROM val_{name} n",
        )
        con.execute(f"DROP TABLE repeated_{name}")
        return loaded, duplicate

    def reject_count(self) -> int:
        return self._count("SELECT count(*) FROM batch_rejects")

    @staticmethod
    def ordered_rejects(limit: int | None = None) -> str:
        return (
            'SELECT bf.path AS file, r._line AS "row", r."column", r.reason '
            "FROM batch_rejects r JOIN batch_files bf USING (_file_index) "
            'ORDER BY r._file_index, r._line, r."column"'
        ) + (f" LIMIT {limit}" if limit else "")

    def write_rejects(self, path: Path) -> list[Reject]:
        """Write the rejects file; returns the first rejects, for the terminal.

        File names and column names come from the agency's files, so the file's text cells
        follow the export rule against spreadsheet formulas (docs/exports.md)."""
        from lastmile.export.csvsafe import csv_safe_sql

        path.parent.mkdir(parents=True, exist_ok=True)
        safe = ", ".join(
            f"{csv_safe_sql(f'o.{c}')} AS {c}" for c in ("file", '"row"', '"column"', "reason")
        )
        self.con.execute(
            f"COPY (SELECT {safe} FROM ({self.ordered_rejects()}) o) "
            f"TO {q(str(path))} (HEADER, DELIMITER ',')"
        )
        return [Reject(*row) for row in self.con.execute(self.ordered_rejects(20)).fetchall()]

    def record_batch(
        self,
        paths: list[Path],
        started: datetime,
        rejects_file: Path | None,
        supersedes: str | None = None,
    ) -> None:
        counts = {k: vars(v) for k, v in self.counts.items()}
        self.store.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.batch_id,
                started.replace(tzinfo=None),
                utcnow(),
                json.dumps([str(p) for p in paths]),
                sum(c.loaded for c in self.counts.values()),
                sum(c.duplicate for c in self.counts.values()),
                sum(c.rejected for c in self.counts.values()),
                json.dumps(counts, sort_keys=True),
                str(rejects_file) if rejects_file else None,
                __version__,
                supersedes,
            ),
        )


def _raw_values_sql(f: InputFile, column: str) -> str | None:
    """A SELECT of the values of the interchange ``column`` in ``f``'s staged text
    (:func:`files.raw_table`), as written (untrimmed), where each is the text of one staged
    column: an interchange file's own column (nothing where the file lacks it), or a mapped
    column that only reads a source column (no map, constant, hash or swap of ends). None
    otherwise: the value is read from the mapping's projection."""
    if f.mapping is None:
        if column not in f.columns:
            return "SELECT NULL::VARCHAR AS value WHERE false"
        return f"SELECT {ident(column)} AS value FROM {raw_table(f)}"
    spec = f.mapping.columns.get(column)
    if f.mapping.orient is not None or spec is None or set(spec) != {"column"}:
        return None
    return f"SELECT {ident(spec['column'])} AS value FROM {raw_table(f)}"


def _where(select_sql: str, conditions: list[str]) -> str:
    return f"{select_sql} WHERE {' AND '.join(conditions)}" if conditions else select_sql


def ingest_paths(
    ws: Workspace,
    paths: list[Path],
    *,
    mapping: Mapping | None = None,
    params: dict[str, str] | None = None,
    rejects: Path | None = None,
    progress: Progress | None = None,
    supersedes: str | None = None,
) -> BatchResult:
    """Load interchange files (or folders of them), or files in another layout read through
    a ``mapping`` (ingest/mapping.py) with its ``params``, as one batch.

    ``supersedes``: the id of an earlier batch this one corrects. What that batch stored from
    files of the same names as this batch's is removed in this batch's transaction, before
    the new rows are loaded (docs/format.md, "Corrected returns").

    Raises :class:`IngestError` when the batch cannot be loaded at all (no file to read, a
    mapping without its parameters, a store failure); then nothing is written. A failure
    after the commit (the rejects file cannot be written) does not raise: the batch is
    loaded, and ``BatchResult.notes`` says where the rejects went instead.
    """
    with tempfile.TemporaryDirectory(prefix="lastmile-ingest-") as workdir:
        try:
            if mapping is None:
                files, skipped = discover(paths)
            else:
                files, skipped = discover_mapped(paths, mapping, params or {}, Path(workdir))
        except (OSError, FileError) as exc:
            raise IngestError(str(exc)) from exc
        for f in files:
            # DuckDB's readers expand glob characters in a path; read such a file by a link.
            if any(ch in str(f.path) for ch in "*?[]{}"):
                link = Path(workdir) / f"{f.index:05d}-input.csv"
                link.symlink_to(f.path.resolve())
                f.origin, f.path = f.origin or f.path, link
        if not files:
            names = ", ".join(rt.file_name for rt in RECORD_TYPES)
            what = f"files for the mapping {mapping.name!r}" if mapping else "interchange files"
            expected = f" (expected {names})" if mapping is None else ""
            raise IngestError(f"no {what} in {', '.join(map(str, paths))}{expected}")
        batch = _Batch(ws, files, progress, Path(workdir))
        try:
            return _run_batch(batch, skipped, paths, rejects, supersedes)
        finally:
            batch._hasher.shutdown(wait=True)


def _run_batch(
    batch: _Batch,
    skipped: list[Skipped],
    paths: list[Path],
    rejects: Path | None,
    supersedes: str | None,
) -> BatchResult:
    # What stops a batch: the database (a lost connection, a failed COPY) or the file system.
    fatal: tuple[type[Exception], ...] = (*driver_errors(), OSError)
    ws = batch.ws
    started = datetime.now(UTC)
    rejects_file = rejects or Path("lastmile-rejects") / f"{batch.batch_id}.csv"
    superseded: list[str] = []
    try:
        with ws.store.transaction():
            batch.stage_files()
            if supersedes:
                superseded = batch.supersede(supersedes)
            batch.run()
            batch.record_source_files()
            total = batch.reject_count()
            batch.record_batch(paths, started, rejects_file if total else None, supersedes)
    except fatal as exc:
        # Drivers add paragraphs of advice; the first line says what happened.
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, duckdb.OutOfMemoryException):
            limit = os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT
            reason += f" (the bound is {MEMORY_ENV}={limit}; raise it)"
        raise IngestError(f"the batch was not loaded: {reason}") from exc
    # The batch is committed: from here on nothing may say it was not loaded. Only a
    # committed batch has a rejects file (the staging tables outlive the commit).
    notes: list[str] = []
    first: list[Reject] = []
    written: Path | None = None
    if total:
        first, written, notes = _write_rejects(batch, rejects_file, fatal)
    return BatchResult(
        batch.batch_id,
        batch.counts,
        rejects_total=total,
        first_rejects=first,
        rejects_file=written,
        skipped=skipped,
        ignored_columns=batch.ignored,
        notes=notes,
        supersedes=supersedes,
        superseded_files=superseded,
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _write_rejects(
    batch: _Batch, rejects_file: Path, fatal: tuple[type[Exception], ...]
) -> tuple[list[Reject], Path | None, list[str]]:
    """Write the rejects file of a committed batch: where asked, else in a fresh temporary
    folder, else nowhere (the first rejects are still shown). Returns (first rejects, the
    file written, notes saying what happened)."""
    try:
        return batch.write_rejects(rejects_file), rejects_file, []
    except fatal as exc:
        problem = (
            f"the batch {batch.batch_id} is loaded, but its rejects file {rejects_file} could "
            f"not be written ({_first_line(exc)})"
        )
    try:
        fallback = Path(tempfile.mkdtemp(prefix="lastmile-rejects-")) / rejects_file.name
        first = batch.write_rejects(fallback)
    except fatal as exc:
        first = [Reject(*row) for row in batch.con.execute(batch.ordered_rejects(20)).fetchall()]
        return first, None, [f"{problem}; nor in a temporary folder ({_first_line(exc)})"]
    # If this fails, the batch row keeps the path asked for; the note says where the file is.
    with contextlib.suppress(*fatal):
        batch.store.execute(
            "UPDATE batches SET rejects_file = ? WHERE batch_id = ?",
            (str(fallback), batch.batch_id),
        )
    return first, fallback, [f"{problem}; the rejects were written to {fallback} instead"]
