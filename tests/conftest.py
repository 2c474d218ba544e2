"""Shared fixtures. The store suite runs on DuckDB and, when LASTMILE_TEST_POSTGRES_URL names
a server (``make test`` starts one), on PostgreSQL: each test gets its own schema there."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

# pytest-xdist's workers (`make test` runs two) set COLUMNS=80 and LINES=24, which rich reads
# once, when lastmile.cli creates its consoles, and then holds over a test's own COLUMNS. A
# serial run has neither variable, so a test sees the same terminal either way.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)

from lastmile.store import Workspace, open_workspace  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SMALL_OPERATION = FIXTURES / "small_operation"
POSTGRES_URL = os.environ.get("LASTMILE_TEST_POSTGRES_URL", "")

BACKENDS = [
    "duckdb",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL and not os.environ.get("CI"),
                reason="LASTMILE_TEST_POSTGRES_URL is not set (make test sets it)",
            ),
        ],
    ),
]


# The modules that take minutes run first. `make test` hands whole modules to two processes
# (pytest-xdist's loadscope) in the order collected; a long module handed out last keeps one
# process busy while the other has finished, which ordered first it does not.
FIRST = ("slow", "spark", "heavy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    long_modules = {
        item.nodeid.split("::")[0]
        for item in items
        if any(item.get_closest_marker(name) for name in FIRST)
    }
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in long_modules)


@pytest.fixture(params=BACKENDS)
def workspace_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty workspace on each backend."""
    if request.param == "duckdb":
        yield str(tmp_path / "test.duckdb")
        return
    if not POSTGRES_URL:
        pytest.fail("CI must run the PostgreSQL suite: LASTMILE_TEST_POSTGRES_URL is not set")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def workspace(workspace_url: str) -> Iterator[Workspace]:
    ws = open_workspace(workspace_url)
    yield ws
    ws.close()


@pytest.fixture
def small_operation() -> Path:
    return SMALL_OPERATION


def _clear_lastmile_caches() -> None:
    for name, module in list(sys.modules.items()):
        if name == "lastmile" or name.startswith("lastmile."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear) and getattr(value, "__module__", None) == name:
                    clear()


@pytest.fixture(autouse=True, scope="session")
def _fresh_caches() -> None:
    """Empty lastmile's memoized functions (the selector normalizers' lru_cache) when a test
    session starts. Mutation testing (scripts/mutation.py) forks each mutant's session from a
    process that already ran the tests: an inherited cache would hand back the unmutated
    results, and the mutant would survive without being run."""
    _clear_lastmile_caches()


@pytest.fixture(autouse=True)
def _fresh_caches_per_test_under_mutmut() -> None:
    """Under mutmut (``MUTANT_UNDER_TEST`` set), empty the caches before every test too:
    mutmut runs for a mutant only the tests that reached its function in the stats run, and
    a test whose value an earlier test had cached never reached it (a test of the exact Tron
    reason was left out that way, and its mutant survived)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        _clear_lastmile_caches()
