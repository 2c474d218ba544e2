"""The two store backends: a DuckDB file (default, embedded) and a PostgreSQL server.

Both speak the same portable SQL (parameters written ``?``) for reads. Heavy set-based work
(validation, normalization joins, aggregation for ingest) always runs in DuckDB: for a DuckDB
workspace that is the workspace itself, for PostgreSQL an in-memory DuckDB "staging"
connection whose results are streamed to the server with COPY. This keeps one ingest engine
for both stores and never loops over rows in Python.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import uuid
import warnings
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb

if TYPE_CHECKING:
    # Imported where used: a DuckDB workspace's ingest needs no pyarrow, and its import was
    # a tenth of a CPU-second of every command.
    import pyarrow as pa

STREAM_BATCH_ROWS = 200_000


def register_table(
    staging: duckdb.DuckDBPyConnection,
    table: pa.Table,
    into: str,
    uuid_columns: Sequence[str] = (),
) -> None:
    """Copy an Arrow table into staging temp table ``into``; ``uuid_columns`` arrive as text
    and are stored as UUIDs again."""
    # DuckDB refuses to register while an earlier execute() still holds a result; a fetched
    # statement settles it.
    staging.execute("SELECT 1").fetchall()
    staging.register("lastmile_arrow_in", table)
    try:
        casts = ", ".join(f"CAST({c} AS UUID) AS {c}" for c in uuid_columns)
        select = f"SELECT * REPLACE ({casts})" if casts else "SELECT *"
        staging.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS {select} FROM lastmile_arrow_in")
    finally:
        staging.unregister("lastmile_arrow_in")


# Never fetch or load a DuckDB extension behind the user's back: a workspace string such as
# "md:x" would otherwise download the MotherDuck extension. What lastmile uses (ICU for time
# zones, JSON for JSON returns) is linked into the DuckDB wheel and needs no loading; a test
# checks that it still works with autoloading off.
NO_AUTOLOAD: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def connect_duckdb(
    database: str = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with extension autoloading and autoinstalling turned off."""
    return duckdb.connect(database, read_only=read_only, config=dict(NO_AUTOLOAD))


MEMORY_ENV = "LASTMILE_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2.5GB"


def bulk_settings(con: duckdb.DuckDBPyConnection, spill_to: Path) -> None:
    """Settings for set-based work on millions of rows.

    Bound DuckDB's memory ($LASTMILE_MEMORY_LIMIT, default 2.5GB) and let it spill to disk,
    so a file larger than memory is loaded, not refused: DuckDB's own default takes 80 % of
    the machine, which on a shared analysis server is not ours to take.

    Do not keep insertion order: every query that needs an order says ORDER BY (rows carry
    their file and line), and unordered scans and writes run in parallel and buffer less
    (about a fifth of the 2M-row ingest benchmark's time, in one measurement)."""
    limit_memory(con, spill_to)
    con.execute("SET preserve_insertion_order = false")


def limit_memory(con: duckdb.DuckDBPyConnection, spill_to: Path) -> None:
    """Bound ``con``'s memory ($LASTMILE_MEMORY_LIMIT, default 2.5GB) and let it spill to
    ``spill_to`` (DuckDB's own default takes 80 % of the machine's memory)."""
    limit = os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT
    try:
        con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
    except duckdb.Error as exc:
        raise StoreError(f"${MEMORY_ENV}={limit!r} is not a memory size such as 2GB") from exc
    con.execute(f"SET temp_directory = '{str(spill_to).replace(chr(39), chr(39) * 2)}'")


def driver_errors() -> tuple[type[Exception], ...]:
    """The database drivers' own errors (DuckDB's, and psycopg's when it is loaded: only a
    PostgreSQL store loads it, and importing it for a DuckDB workspace cost most of a
    second of every command)."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (duckdb.Error,)
    return (duckdb.Error, psycopg.Error)


class StoreError(Exception):
    """A store could not be opened or used; the message is meant for the user."""


# What a step may be named: a temporary table's plain identifier.
_STEP_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Step:
    """One step of a query made of several (a WITH query's CTE): its name, its SELECT and
    whether it is written ``AS MATERIALIZED`` (computed once, when run as a CTE)."""

    name: str
    sql: str
    materialized: bool = False


def with_clause(steps: Sequence[Step]) -> str:
    """The steps as the CTEs of a WITH query (without the ``WITH``)."""
    return ",\n".join(
        f"{s.name} AS {'MATERIALIZED ' if s.materialized else ''}({s.sql})" for s in steps
    )


class Store(ABC):
    kind: ClassVar[str]
    url: str

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table: ...

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""

    def query_steps(
        self, steps: Sequence[Step], select: str, stage: Collection[str] | None = None
    ) -> pa.Table:
        """``WITH steps select``: the result of ``select`` over the steps, each step reading
        the ones before it. A store that plans a WITH query on guessed row counts
        (PostgreSQL) may run the steps named in ``stage`` (all, when None) as tables first;
        the rows are the same. DuckDB runs the one query."""
        return self.query(f"WITH {with_clause(steps)}\n{select}")

    @abstractmethod
    def staging(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection where set-based ingest work runs."""

    @abstractmethod
    def lookup(
        self,
        staging: duckdb.DuckDBPyConnection,
        keys_sql: str,
        table: str,
        key_column: str,
        columns: Sequence[str],
        into: str,
    ) -> None:
        """Create staging temp table ``into`` with ``columns`` of the store's ``table`` rows
        whose ``key_column`` is among the single-column result ``key`` of ``keys_sql`` (run on
        the staging connection). The keys need not be distinct: asking for DISTINCT would cost
        a hash table of every key even when the store's table is empty."""

    @abstractmethod
    def key_table(
        self,
        staging: duckdb.DuckDBPyConnection,
        keys_sql: str,
        table: str,
        columns: Sequence[str],
        into: str,
    ) -> None:
        """Make ``into`` on staging hold ``columns`` (the first being the id) of *at least*
        the rows of the store's ``table`` whose id is among the result ``key`` of
        ``keys_sql``: the ids a batch's references may name, checked with ``IN``."""

    @abstractmethod
    def append(
        self,
        staging: duckdb.DuckDBPyConnection,
        table: str,
        columns: Sequence[str],
        select_sql: str,
    ) -> int:
        """Append the rows of ``select_sql`` (run on staging; its columns in ``columns`` order)
        to the store's ``table``; returns the number of rows written."""

    # The SQL naming the schema lastmile's tables live in (information_schema is standard).
    schema_sql: ClassVar[str]

    def table_names(self) -> set[str]:
        rows = self.rows(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = {self.schema_sql}"
        )
        return {r[0] for r in rows}

    def table_columns(self, table: str) -> list[str]:
        rows = self.rows(
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_schema = {self.schema_sql} AND table_name = ? "
            "ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in rows]

    @contextmanager
    def transaction_if_free(self) -> Iterator[bool]:
        """A :meth:`transaction` for a write that may be skipped (a cache): yields ``False`` at
        once, instead of waiting, when another writer holds the workspace (the caller then
        writes nothing). A DuckDB file has one writer process at a time already: always free."""
        with self.transaction():
            yield True

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Held while migrations run, so that concurrent first opens migrate once. A DuckDB
        file has one writer process at a time already."""
        yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see the store as it was at the first of them: what another session
        commits meanwhile is not half seen (a stage of several queries over the
        communications, ``conflicts.load_lines``). For reads only (PostgreSQL refuses a
        transaction begun inside: its checks would read the snapshot). A DuckDB file has one
        writer process at a time, this one, whose own writes wait for the reads: nothing to
        do."""
        yield

    @abstractmethod
    def close(self) -> None: ...


class DuckDBStore(Store):
    kind = "duckdb"
    schema_sql = "'main'"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.url = str(path)
        self.path = path
        try:
            self.conn = connect_duckdb(str(path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open DuckDB workspace {path}: {exc}") from exc
        # Timestamps are stored in UTC; a timestamp with an offset is converted on ingest.
        self.conn.execute("SET TimeZone = 'UTC'")
        # lastmile shows its own progress; DuckDB's bar would write over it.
        self.conn.execute("SET enable_progress_bar = false")
        bulk_settings(self.conn, path.parent / f"{path.name}.tmp")
        self.read_only = read_only
        self._in_transaction = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, list(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.conn.sql(sql, params=list(params) or None).to_arrow_table()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        self.conn.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._in_transaction = False

    def staging(self) -> duckdb.DuckDBPyConnection:
        return self.conn

    def lookup(
        self,
        staging: duckdb.DuckDBPyConnection,
        keys_sql: str,
        table: str,
        key_column: str,
        columns: Sequence[str],
        into: str,
    ) -> None:
        cols = ", ".join(f"t.{c}" for c in columns)
        staging.execute(
            f"CREATE OR REPLACE TEMP TABLE {into} AS "
            f"SELECT {cols} FROM main.{table} t "
            f"WHERE t.{key_column} IN (SELECT key FROM ({keys_sql}))"
        )

    def key_table(
        self,
        staging: duckdb.DuckDBPyConnection,
        keys_sql: str,
        table: str,
        columns: Sequence[str],
        into: str,
    ) -> None:
        # Same database: a view of every row, nothing copied, no need to read keys_sql.
        cols = ", ".join(columns)
        staging.execute(f"CREATE OR REPLACE TEMP VIEW {into} AS SELECT {cols} FROM main.{table}")

    def append(
        self,
        staging: duckdb.DuckDBPyConnection,
        table: str,
        columns: Sequence[str],
        select_sql: str,
    ) -> int:
        cols = ", ".join(columns)
        row = staging.execute(f"INSERT INTO main.{table} ({cols}) {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()


_QMARK = re.compile(r"\?")


# The second key of the store's advisory locks: a hash of the workspace's schema (the first on
# its search_path), computed by the server.
SCHEMA_KEY = "hashtext(coalesce(current_schema(), ''))"


# The oldest PostgreSQL the store's queries run on: the conflicts stage's handovers use
# ``AS MATERIALIZED`` (PostgreSQL 12), a syntax error before it.
MIN_POSTGRES_VERSION = 120000


def check_postgres_version(server_version_num: int) -> None:
    """Refuse a server older than :data:`MIN_POSTGRES_VERSION` (its ``server_version_num``,
    e.g. 150004 for 15.4, 110022 for 11.22) in one line, when the store connects, not in
    the middle of a resolve."""
    if server_version_num < MIN_POSTGRES_VERSION:
        major, rest = divmod(server_version_num, 10000)
        # Before version 10 the number was major, minor, patch (90624 for 9.6.24).
        shown = f"{major}.{rest // 100}.{rest % 100}" if major < 10 else f"{major}.{rest}"
        need = MIN_POSTGRES_VERSION // 10000
        raise StoreError(f"PostgreSQL {need} or later is needed; the server runs {shown}")


class PostgresStore(Store):
    kind = "postgresql"
    schema_sql = "current_schema()"  # the search_path's first schema: one per test, or public

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StoreError(
                "a PostgreSQL workspace needs psycopg: pip install 'lastmile[postgres]'"
            ) from exc
        self.url = url
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {_redact(url)}: {exc}".strip()) from exc
        try:
            check_postgres_version(int(self.conn.info.server_version))
        except StoreError:
            self.conn.close()
            raise
        self.conn.execute("SET TIME ZONE 'UTC'")
        # No JIT compilation: lastmile's large reads (the conflicts stage's handovers, lines
        # passed on and returned lines) are costed high enough for the server to compile
        # and optimize them, which took seconds that sorting and hashing never won back
        # (docs/resolution.md, "On PostgreSQL at scale").
        self.conn.execute("SET jit = off")
        self._staging: duckdb.DuckDBPyConnection | None = None
        self._tx_depth = 0
        self._in_snapshot = False

    @staticmethod
    def _sql(sql: str) -> str:
        # Portable SQL uses ?; psycopg uses %s. Literal % must be doubled for psycopg.
        return _QMARK.sub("%s", sql.replace("%", "%%"))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self._sql(sql) if params else sql, list(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        import pyarrow as pa

        with self.conn.cursor() as cur:
            cur.execute(self._sql(sql) if params else sql, list(params) or None)
            names = [d.name for d in cur.description or []]
            data = cur.fetchall()
        columns: list[list[Any]] = (
            [
                [str(v) if isinstance(v, uuid.UUID) else v for v in c]
                for c in zip(*data, strict=True)
            ]
            if data
            else []
        )
        if not columns:
            columns = [[] for _ in names]
        return pa.table({n: pa.array(c) for n, c in zip(names, columns, strict=True)})

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(self._sql(sql) if params else sql, list(params) or None)
            return list(cur.fetchall())

    def _no_snapshot(self) -> None:
        # A write inside a snapshot would check for duplicates and conflicts against what
        # the snapshot saw, not what is committed, and take the ingest lock after it.
        if self._in_snapshot and not self._tx_depth:
            raise StoreError("cannot write inside a snapshot: it is for reads only")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._no_snapshot()
        self._tx_depth += 1
        try:
            with self.conn.transaction():
                if self._tx_depth == 1:
                    # One writer at a time: concurrent batches would race on the duplicate and
                    # conflict checks, which run before the insert. Per schema: workspaces in
                    # other schemas of the database do not wait.
                    self.conn.execute(
                        f"SELECT pg_advisory_xact_lock({self.INGEST_LOCK}, {SCHEMA_KEY})"
                    )
                yield
        finally:
            self._tx_depth -= 1

    def query_steps(
        self, steps: Sequence[Step], select: str, stage: Collection[str] | None = None
    ) -> pa.Table:
        """The steps named in ``stage`` (all, when None) are made temporary tables, in order,
        each analysed (``ANALYZE``) before the next is planned: the server keeps no
        statistics on a WITH query's rows and guesses them (200 lines for 147,210 on a
        million events), and misplans the joins over them (docs/resolution.md, "On
        PostgreSQL at scale"). The other steps stay CTEs of the statements that follow. It
        all runs in one transaction (a savepoint inside one of this store's), which drops
        the tables: none is left in the session, after an error either."""
        from lastmile.store.schema import expected_tables

        store_tables = {t.name for t in expected_tables()}
        for s in steps:
            # A step's name is a temporary table's: a plain identifier, and never a store
            # table's, which a step reading it could otherwise find before its own.
            if not _STEP_NAME.fullmatch(s.name) or s.name in store_tables:
                raise StoreError(f"cannot stage a step named {s.name!r}")
        staged = [s for s in steps if stage is None or s.name in stage]
        made: list[str] = []
        with self.conn.transaction():
            for step in staged:
                before = [s for s in steps[: steps.index(step)] if s not in staged]
                prefix = f"WITH {with_clause(before)}\n" if before else ""
                self.conn.execute(
                    f"CREATE TEMP TABLE {step.name} ON COMMIT DROP AS {prefix}{step.sql}"
                )
                made.append(step.name)
                self.conn.execute(f"ANALYZE {step.name}")
            rest = [s for s in steps if s not in staged]
            result = self.query(f"WITH {with_clause(rest)}\n{select}" if rest else select)
            for name in reversed(made):
                self.conn.execute(f"DROP TABLE pg_temp.{name}")
        return result

    @contextmanager
    def transaction_if_free(self) -> Iterator[bool]:
        self._no_snapshot()
        if self._tx_depth:  # inside this store's transaction, which holds the lock already
            with self.transaction():
                yield True
            return
        self._tx_depth += 1
        try:
            with self.conn.transaction():
                row = self.conn.execute(
                    f"SELECT pg_try_advisory_xact_lock({self.INGEST_LOCK}, {SCHEMA_KEY})"
                ).fetchone()
                yield bool(row and row[0])
        finally:
            self._tx_depth -= 1

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        # PostgreSQL's default READ COMMITTED gives each statement its own snapshot; a
        # REPEATABLE READ transaction gives its statements one. Inside a transaction already
        # (this store's, or a snapshot's), that one's isolation holds: it cannot change.
        from psycopg.pq import TransactionStatus

        if self._tx_depth or self.conn.info.transaction_status != TransactionStatus.IDLE:
            yield
            return
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self._in_snapshot = True
            try:
                yield
            finally:
                self._in_snapshot = False

    # Advisory lock keys (two-key form: the class, then the schema's SCHEMA_KEY, so that each
    # workspace of a database has its own): 7424 serializes ingest batches, 7423 migrations.
    INGEST_LOCK = 7424
    MIGRATION_LOCK = 7423

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        # A session lock (not a transaction's): migrations run in several transactions, and
        # the first, "CREATE TABLE IF NOT EXISTS schema_migrations", races on its own.
        self.conn.execute(f"SELECT pg_advisory_lock({self.MIGRATION_LOCK}, {SCHEMA_KEY})")
        try:
            yield
        finally:
            self.conn.execute(f"SELECT pg_advisory_unlock({self.MIGRATION_LOCK}, {SCHEMA_KEY})")

    def staging(self) -> duckdb.DuckDBPyConnection:
        if self._staging is None:
            self._staging = connect_duckdb()
            self._staging.execute("SET TimeZone = 'UTC'")
            self._staging.execute("SET enable_progress_bar = false")
            spill = Path(tempfile.gettempdir()) / f"lastmile-staging-{os.getpid()}"
            bulk_settings(self._staging, spill)
        return self._staging

    def _copy_in(
        self, staging: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], sql: str
    ) -> int:
        """Stream a staging query into a server table with COPY, in CSV blocks."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        # Arrow has no CSV form for DuckDB's UUIDs: send them as text, which PostgreSQL parses.
        described = staging.execute(f"DESCRIBE {sql}").fetchall()
        casts = [
            f'CAST("{name}" AS VARCHAR) AS "{name}"'
            for name, kind, *_ in described
            if kind == "UUID"
        ]
        if casts:
            sql = f"SELECT * REPLACE ({', '.join(casts)}) FROM ({sql})"
        with warnings.catch_warnings():
            # DuckDB warns that a DB-API result copies once more into Arrow; a relation would
            # not, but it refuses to start while an earlier statement's result is pending.
            warnings.simplefilter("ignore", UserWarning)
            reader: pa.RecordBatchReader = staging.execute(sql).to_arrow_reader(STREAM_BATCH_ROWS)
        written = 0
        options = pacsv.WriteOptions(include_header=False)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                buf = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch]), buf, options)
                copy.write(buf.getvalue())
                written += batch.num_rows
        return written

    def lookup(
        self,
        staging: duckdb.DuckDBPyConnection,
        keys_sql: str,
        table: str,
        key_column: str,
        columns: Sequence[str],
        into: str,
    ) -> None:
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS lastmile_keys (key TEXT)")
        self.conn.execute("TRUNCATE lastmile_keys")
        self._copy_in(staging, "lastmile_keys", ["key"], f"SELECT DISTINCT key FROM ({keys_sql})")
        key_type = self._column_type(table, key_column)
        found = self.query(
            f"SELECT {', '.join('t.' + c for c in columns)} FROM {table} t "
            f"JOIN lastmile_keys k ON t.{key_column} = CAST(k.key AS {key_type})"
        )
        if found.num_rows == 0:
            import pyarrow as pa

            # An empty Arrow table has no types; keep the store's names with text columns.
            found = pa.table({c: pa.array([], pa.string()) for c in columns})
        register_table(staging, found, into, self._uuid_columns(table, columns))

    def key_table(
        self,
        staging: duckdb.DuckDBPyConnection,
        keys_sql: str,
        table: str,
        columns: Sequence[str],
        into: str,
    ) -> None:
        # Only the ids the batch names: a shared store may hold millions of them.
        self.lookup(staging, keys_sql, table, columns[0], columns, into)

    def append(
        self,
        staging: duckdb.DuckDBPyConnection,
        table: str,
        columns: Sequence[str],
        select_sql: str,
    ) -> int:
        return self._copy_in(staging, table, columns, select_sql)

    def _uuid_columns(self, table: str, columns: Sequence[str]) -> list[str]:
        return [c for c in columns if self._column_type(table, c) == "uuid"]

    def _column_type(self, table: str, column: str) -> str:
        rows = self.rows(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?",
            (table, column),
        )
        return "uuid" if rows and rows[0][0] == "uuid" else "text"

    def close(self) -> None:
        if self._staging is not None:
            self._staging.close()
        self.conn.close()


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
