"""The workspace: one schema on a DuckDB file (default) or a PostgreSQL server.

``open_workspace`` is the one way in: it picks the backend from the workspace string, applies
pending migrations and returns a :class:`Workspace`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lastmile.store.backends import DuckDBStore, PostgresStore, Store, StoreError
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
    "open_workspace",
    "resolve_workspace",
]


def resolve_workspace(spec: str | Path | None) -> str:
    """The workspace named on the command line, else $LASTMILE_WORKSPACE, else the default."""
    if spec:
        return str(spec)
    return os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE


def _is_postgres(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


@dataclass
class Workspace:
    store: Store

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


def open_workspace(spec: str | Path | None = None, *, create: bool = True) -> Workspace:
    """Open (and, unless ``create`` is false, create and migrate) a workspace."""
    name = resolve_workspace(spec)
    store: Store
    if _is_postgres(name):
        store = PostgresStore(name)
    else:
        path = Path(name)
        if not create and not path.exists():
            raise StoreError(f"no workspace at {path}; run 'lastmile ingest' first")
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        store = DuckDBStore(path)
    try:
        if create or current_version(store) < LATEST:
            migrate(store)
    except Exception:
        store.close()
        raise
    return Workspace(store)
