"""The workspace: one schema on a DuckDB file (default) or a PostgreSQL server.

``open_workspace`` is the one way in: it checks the workspace string (a DuckDB file path or a
``postgresql://`` URL, nothing else), picks the backend, applies pending migrations (unless
opened ``read_only``) and returns a :class:`Workspace`.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lastmile.store.backends import DuckDBStore, PostgresStore, Store, StoreError, _redact
from lastmile.store.migrations import LATEST, current_version, migrate
from lastmile.store.schema import SERVER_TABLES, expected_tables

DEFAULT_WORKSPACE = "lastmile.duckdb"
WORKSPACE_ENV = "LASTMILE_WORKSPACE"

__all__ = [
    "DEFAULT_WORKSPACE",
    "WORKSPACE_ENV",
    "Store",
    "StoreError",
    "Workspace",
    "check_workspace",
    "discard_new_workspace",
    "open_workspace",
    "resolve_workspace",
    "workspace_exists",
]

# "scheme:" at the start of a workspace string: a URL (s3://, https://, md:...), which DuckDB
# would hand to an extension. One letter followed by ":\" or ":/" is a Windows drive.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def resolve_workspace(spec: str | Path | None) -> str:
    """The workspace named on the command line, else $LASTMILE_WORKSPACE, else the default."""
    if spec:
        return str(spec)
    return os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE


def _is_postgres(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def check_workspace(name: str) -> None:
    """Accept a DuckDB file path or a PostgreSQL URL; refuse anything else in one line."""
    if _is_postgres(name):
        return
    scheme = _SCHEME.match(name)
    if (scheme and not _DRIVE.match(name)) or name.startswith(":") or not name.strip():
        what = f"a {scheme.group(1)}: location" if scheme else "not a file path"
        raise StoreError(
            f"workspace {_redact(name)!r} is {what}: give a DuckDB file path or a "
            "postgresql:// URL (write ./NAME for a file whose name has a colon)"
        )


@dataclass
class Workspace:
    store: Store
    read_only: bool = False
    migrated: list[int] = field(default_factory=list)  # versions applied when opened

    @property
    def kind(self) -> str:
        return self.store.kind

    @property
    def schema_version(self) -> int:
        return current_version(self.store)

    def record_counts(self) -> dict[str, int]:
        """Rows per store table (records, events and their sources, batches)."""
        return {
            t.name: int(self.store.rows(f"SELECT count(*) FROM {t.name}")[0][0])
            for t in expected_tables()
            if t not in SERVER_TABLES
        }

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MIGRATE_COMMAND = "lastmile migrate"


def open_workspace(
    spec: str | Path | None = None, *, create: bool = True, read_only: bool = False
) -> Workspace:
    """Open a workspace.

    - by default, create it if need be and bring its schema to the latest version;
    - ``create=False``: it must exist (it is still migrated: for commands that write);
    - ``read_only=True`` (for commands that only read: report, status, contacts...): it must
      exist and be at the latest schema version, and is opened without writing anything (a
      DuckDB file read-only, so that several readers and an archived, read-only file work).
      An older schema is a :class:`StoreError` naming ``lastmile migrate``.
    """
    name = resolve_workspace(spec)
    check_workspace(name)
    store: Store
    if _is_postgres(name):
        store = PostgresStore(name)
    else:
        path = Path(name)
        if (read_only or not create) and not path.exists():
            raise StoreError(f"no workspace at {path}; run 'lastmile ingest' first")
        if not read_only and path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        store = DuckDBStore(path, read_only=read_only)
    try:
        if read_only:
            _check_readable(store, name)
            return Workspace(store, read_only=True)
        applied = migrate(store) if create or current_version(store) < LATEST else []
    except Exception:
        store.close()
        raise
    return Workspace(store, migrated=applied)


def _check_readable(store: Store, name: str) -> None:
    have = current_version(store)
    if have == LATEST:
        return
    if have > LATEST:
        raise StoreError(
            f"the workspace has schema version {have}, newer than this lastmile ({LATEST}); "
            "upgrade lastmile"
        )
    if have == 0:
        raise StoreError(f"{_redact(name)} is not a lastmile workspace (no schema)")
    raise StoreError(
        f"the workspace has schema version {have}, older than this lastmile's {LATEST}: run "
        f"'{MIGRATE_COMMAND} --workspace {shlex.quote(_redact(name))}' to upgrade it, "
        "then try again"
    )


def workspace_exists(spec: str | Path | None) -> bool:
    """Whether the workspace is there already (a PostgreSQL one is taken to be)."""
    name = resolve_workspace(spec)
    return _is_postgres(name) or Path(name).exists()


def discard_new_workspace(spec: str | Path | None) -> None:
    """Remove a DuckDB workspace that a failed first command created, if it holds no batch
    (its write-ahead log and spill folder too). Anything else is left alone."""
    name = resolve_workspace(spec)
    if _is_postgres(name):
        return
    path = Path(name)
    try:
        with open_workspace(path, read_only=True) as ws:
            if ws.store.rows("SELECT count(*) FROM batches")[0][0]:
                return
    except (StoreError, OSError, duckdb.Error):
        return
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    spill = path.with_name(path.name + ".tmp")
    if spill.is_dir() and not any(spill.iterdir()):
        spill.rmdir()
