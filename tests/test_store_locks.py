"""PostgreSQL's advisory locks are per workspace: a batch being written in one schema holds up
another batch of the same schema, never a workspace in another schema of the same database."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from lastmile.store import open_workspace

from .conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="LASTMILE_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
def two_schemas() -> Iterator[tuple[str, str]]:
    import psycopg

    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    sep = "&" if "?" in POSTGRES_URL else "?"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f"CREATE SCHEMA {name}")
    yield (
        f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={names[0]}')}",
        f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={names[1]}')}",
    )
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def _write_in(url: str, done: threading.Event) -> threading.Thread:
    def run() -> None:
        with open_workspace(url, create=False) as ws, ws.store.transaction():
            ws.store.execute("INSERT INTO server_settings VALUES ('probe', 'x')")
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_batch_in_one_schema_does_not_wait_for_another_schema(
    two_schemas: tuple[str, str],
) -> None:
    a, b = two_schemas
    open_workspace(b).close()  # migrated before the lock is taken
    with open_workspace(a) as holder, holder.store.transaction():
        other, same = threading.Event(), threading.Event()
        _write_in(b, other)
        t_same = _write_in(a, same)
        assert other.wait(20), "a batch in another schema waited for this one"
        time.sleep(1.0)
        assert not same.is_set(), "two batches in one schema ran at once"
    assert same.wait(20)
    t_same.join(20)
