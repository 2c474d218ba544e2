"""Versioned schema migrations, applied in order and recorded in ``schema_migrations``.

A migration is a frozen SQL file ``NNNN_name.sql`` run on every backend, with an optional
``NNNN_name.postgresql.sql`` or ``NNNN_name.duckdb.sql`` beside it for what only one backend
needs (indexes on PostgreSQL). Each migration runs in its own transaction with its record, so a
failed migration leaves the store at the previous version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from lastmile.store.backends import Store, StoreError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: dict[str, str]  # "common", "duckdb", "postgresql" -> SQL text

    def statements(self, backend: str) -> list[str]:
        text = self.sql.get("common", "") + "\n" + self.sql.get(backend, "")
        return [s.strip() for s in _strip_comments(text).split(";") if s.strip()]


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def available() -> list[Migration]:
    folder = resources.files("lastmile.store").joinpath("migrations")
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version, name = int(match.group(1)), match.group(2)
        sql = {"common": entry.read_text(encoding="utf-8")}
        for backend in ("duckdb", "postgresql"):
            extra = folder.joinpath(f"{match.group(1)}_{name}.{backend}.sql")
            if extra.is_file():
                sql[backend] = extra.read_text(encoding="utf-8")
        found[version] = Migration(version, name, sql)
    return [found[v] for v in sorted(found)]


LATEST = max(m.version for m in available())


def current_version(store: Store) -> int:
    if "schema_migrations" not in store.table_names():
        return 0
    rows = store.rows("SELECT max(version) FROM schema_migrations")
    return int(rows[0][0] or 0)


def migrate(store: Store, up_to: int = LATEST) -> list[int]:
    """Bring the store to the latest schema (or to version ``up_to``, to test a migration on
    the data of an older one); returns the versions applied.

    Runs under the store's migration lock: of several processes opening a new PostgreSQL
    workspace at once, one migrates and the others find it done."""
    with store.migration_lock():
        return _migrate(store, up_to)


def _migrate(store: Store, up_to: int) -> list[int]:
    store.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER, name TEXT, applied_at TIMESTAMP)"
    )
    have = current_version(store)
    if have > LATEST:
        raise StoreError(
            f"the workspace has schema version {have}, newer than this lastmile ({LATEST}); "
            "upgrade lastmile"
        )
    applied: list[int] = []
    for migration in available():
        if migration.version <= have or migration.version > up_to:
            continue
        with store.transaction():
            for statement in migration.statements(store.kind):
                store.execute(statement)
            store.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, CURRENT_TIMESTAMP)",
                (migration.version, migration.name),
            )
        applied.append(migration.version)
    return applied
