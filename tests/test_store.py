"""The workspace store: one schema, two backends, versioned migrations."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lastmile.ingest import ingest_paths
from lastmile.store import StoreError, Workspace, backends, open_workspace
from lastmile.store.backends import DuckDBStore, PostgresStore, check_postgres_version
from lastmile.store.migrations import LATEST, available, migrate
from lastmile.store.schema import digest, digest_sql, expected_tables

from .conftest import SMALL_OPERATION


def test_new_workspace_is_at_latest_schema_version(workspace_url: str) -> None:
    with open_workspace(workspace_url) as ws:
        assert ws.schema_version == LATEST
        assert all(v == 0 for v in ws.record_counts().values())


def test_migrated_schema_matches_the_model(workspace_url: str) -> None:
    """The frozen migrations and the schema derived from model.py must agree."""
    with open_workspace(workspace_url) as ws:
        for table in expected_tables():
            assert ws.store.table_columns(table.name) == list(table.column_names), table.name


def test_reopening_applies_nothing_twice(workspace_url: str) -> None:
    with open_workspace(workspace_url) as ws:
        assert migrate(ws.store) == []
        rows = ws.store.rows("SELECT count(*) FROM schema_migrations")
        assert rows[0][0] == len(available())
    with open_workspace(workspace_url) as ws:
        assert ws.schema_version == LATEST


def test_a_newer_store_is_refused(workspace_url: str) -> None:
    with open_workspace(workspace_url) as ws:
        ws.store.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, CURRENT_TIMESTAMP)", (LATEST + 1, "future")
        )
    with pytest.raises(StoreError, match="newer than this lastmile"):
        open_workspace(workspace_url)


def test_transaction_rolls_back_on_error(workspace_url: str) -> None:
    with open_workspace(workspace_url) as ws:
        with pytest.raises(RuntimeError), ws.store.transaction():
            ws.store.execute(
                "INSERT INTO agencies (agency_id, name, kind) VALUES (?, ?, ?)",
                ("X", "X agency", "local"),
            )
            raise RuntimeError("boom")
        assert ws.record_counts()["agencies"] == 0


def test_a_postgresql_session_runs_without_jit(workspace_url: str) -> None:
    """The store turns PostgreSQL's JIT compilation off in its sessions: it compiled the
    conflicts stage's large reads for seconds that they never won back (docs/resolution.md,
    "On PostgreSQL at scale")."""
    with open_workspace(workspace_url) as ws:
        if ws.kind != "postgresql":
            pytest.skip("a PostgreSQL session setting")
        assert ws.store.rows("SHOW jit") == [("off",)]


@pytest.mark.parametrize(("number", "shown"), [(110022, "11.22"), (90624, "9.6.24")])
def test_a_postgresql_before_12_is_refused_in_one_line(number: int, shown: str) -> None:
    """``AS MATERIALIZED`` (the conflicts stage's handovers) is a syntax error before
    PostgreSQL 12: the store says so when it connects, not in the middle of a resolve."""
    with pytest.raises(
        StoreError, match=rf"^PostgreSQL 12 or later is needed; the server runs {shown}$"
    ):
        check_postgres_version(number)
    check_postgres_version(120000)
    check_postgres_version(170002)


def test_a_postgresql_store_checks_its_server_version(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test server passes the check; the same server refused when the minimum is above
    it shows the check is made on connecting."""
    if not workspace_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server's version")
    with open_workspace(workspace_url) as ws:
        number = int(ws.store.rows("SHOW server_version_num")[0][0])
    assert number >= backends.MIN_POSTGRES_VERSION
    monkeypatch.setattr(backends, "MIN_POSTGRES_VERSION", (number // 10000 + 1) * 10000)
    with pytest.raises(StoreError, match=r"^PostgreSQL \d+ or later is needed; the server runs "):
        open_workspace(workspace_url)


def test_missing_duckdb_workspace_is_not_created_for_readers(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no workspace"):
        open_workspace(tmp_path / "absent.duckdb", create=False)
    assert not (tmp_path / "absent.duckdb").exists()


def test_unreachable_postgres_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match=r"cannot connect to postgresql://u:\*\*\*@127.0.0.1:1/db"):
        open_workspace("postgresql://u:secret@127.0.0.1:1/db")


_digest_con = duckdb.connect()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_digest_in_sql_is_the_documented_md5(text: str) -> None:
    # Keys computed by DuckDB during ingest must be reproducible outside it, and must never
    # change: a store's duplicate detection compares them with the keys of new rows.
    row = _digest_con.execute(f"SELECT {digest_sql('t')} FROM (SELECT ? AS t)", [text]).fetchone()
    assert row is not None
    assert row[0] == digest(text) == uuid.UUID(hashlib.md5(text.encode()).hexdigest())


def store_at_version_1(workspace_url: str) -> DuckDBStore | PostgresStore:
    """The empty store as lastmile's first schema made it, to test later migrations on."""
    store = (
        PostgresStore(workspace_url)
        if workspace_url.startswith("postgresql")
        else DuckDBStore(Path(workspace_url))
    )
    assert migrate(store, up_to=1) == [1]
    return store


def test_migration_2_keeps_every_records_file_and_batch(workspace_url: str) -> None:
    """Version 1 repeated the file, batch and agency on every row; version 2 names a row of
    source_files instead. A store written by version 1 keeps where each record came from."""
    store = store_at_version_1(workspace_url)
    v1_rows = [
        ("P-1", "/cases/denver/selectors.csv", 2, "batch-1"),
        ("P-2", "/cases/denver/selectors.csv", 3, "batch-1"),
        ("P-3", "/cases/denver/selectors.csv", 2, "batch-2"),  # the same path, loaded again
        ("P-4", "/cases/boston/selectors.csv", 2, "batch-2"),
        ("P-5", "/cases/new\nline/selectors.csv", 2, "batch-2"),  # a hostile folder name
    ]
    for selector_id, path, row, batch in v1_rows:
        store.execute(
            "INSERT INTO selectors (selector_id, investigation_id, kind, value, source_agency, "
            "source_file, source_row, content_hash, batch_id) "
            "VALUES (?, 'INV-1', 'phone', '(303) 555-0187', 'DEA', ?, ?, ?, ?)",
            (selector_id, path, row, uuid.uuid4(), batch),
        )
    store.execute(
        "INSERT INTO communications_sources (source_key, event_key, investigation_id, "
        "source_agency, source_file, source_row, content_hash, batch_id) "
        "VALUES (?, ?, 'INV-1', 'DEA', '/cases/denver/return.csv', 7, ?, 'batch-1')",
        (uuid.uuid4(), uuid.uuid4(), uuid.uuid4()),
    )
    store.close()
    with open_workspace(workspace_url) as ws:
        assert ws.schema_version == LATEST
        rows = ws.store.rows(
            "SELECT s.selector_id, f.path, f.name, s.source_row, f.batch_id FROM selectors s "
            "JOIN source_files f ON f.file_id = s.source_file_id ORDER BY 1"
        )
        assert rows == [
            (sid, path, Path(path).name, row, batch) for sid, path, row, batch in v1_rows
        ]
        assert ws.store.rows(
            "SELECT f.path, s.source_row, f.batch_id FROM communications_sources s "
            "JOIN source_files f ON f.file_id = s.source_file_id"
        ) == [("/cases/denver/return.csv", 7, "batch-1")]
        # One row per file per batch, shared by every record read from it.
        assert ws.store.rows("SELECT count(*) FROM source_files") == [(5,)]


def test_a_store_migrated_from_version_1_knows_the_files_it_already_holds(
    workspace_url: str, tmp_path: Path
) -> None:
    """Ingest identifies a stored source by its file's name, which migration 2 derives from
    the path version 1 kept: loading the same files again after the upgrade adds nothing."""
    # Version 1's rows, as version 1 wrote them: what the current code stores, with the file's
    # path and batch on each row (and a source_key for each source of an event).
    v1 = store_at_version_1(str(tmp_path / "v1.duckdb"))
    v1_columns = {t: v1.table_columns(t) for t in v1.table_names()}
    v1.close()
    with open_workspace(tmp_path / "donor.duckdb") as donor:
        ingest_paths(donor, [SMALL_OPERATION], rejects=tmp_path / "rej.csv")
        copies: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {}
        for table in expected_tables():
            if table.name in ("source_files", "batches") or table.name not in v1_columns:
                continue
            # Columns later migrations added (subjects.identifiers) were not in version 1.
            own = [
                c
                for c in table.column_names
                if c != "source_file_id" and c in v1_columns[table.name]
            ]
            if "source_file_id" not in table.column_names:  # events: no provenance
                events = donor.store.rows(f"SELECT {', '.join(own)} FROM {table.name}")
                copies[table.name] = (own, events)
                continue
            key = ", gen_random_uuid() AS source_key" if table.name.endswith("_sources") else ""
            rows = donor.store.rows(
                f"SELECT {', '.join('t.' + c for c in own)}, 'DEA', f.path, f.batch_id{key} "
                f"FROM {table.name} t JOIN source_files f ON f.file_id = t.source_file_id"
            )
            extra = ["source_agency", "source_file", "batch_id"] + (["source_key"] if key else [])
            copies[table.name] = (own + extra, rows)
        before = donor.record_counts()
    store = store_at_version_1(workspace_url)
    for name, (columns, rows) in copies.items():
        marks = ", ".join("?" for _ in columns)
        for row in rows:
            store.execute(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", row)
    store.close()
    with open_workspace(workspace_url) as ws:
        again = ingest_paths(ws, [SMALL_OPERATION], rejects=tmp_path / "rej2.csv")
        assert (again.loaded, again.rejected) == (0, 0)
        assert again.counts["communications"].duplicate == again.counts["communications"].rows
        after = ws.record_counts()
    # The second batch and the files it read are recorded (chain of custody); no record is.
    bookkeeping = ("batches", "source_files")
    assert {k: v for k, v in after.items() if k not in bookkeeping} == {
        k: v for k, v in before.items() if k not in bookkeeping
    }


def test_digest_in_sql_keeps_the_digests_byte_order() -> None:
    """The MD5 of 'abc' is 900150983cd24fb0d6963f7d28e17f72 (RFC 1321): the stored UUID has
    its bytes in that order, whichever way DuckDB computes it."""
    row = _digest_con.execute(f"SELECT {digest_sql('t')} FROM (SELECT 'abc' AS t)").fetchone()
    assert row == (uuid.UUID("90015098-3cd2-4fb0-d696-3f7d28e17f72"),)


def test_digest_without_the_uuid_cast_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DuckDB that cannot cast a UHUGEINT to a UUID computes the same digest the old way."""
    from lastmile.store import schema

    sql = f"SELECT {digest_sql('t')} FROM (SELECT 'abc' AS t)"
    monkeypatch.setattr(schema, "_number_to_uuid", lambda: False)
    assert "unhex" in schema.digest_sql("t")
    old = f"SELECT {schema.digest_sql('t')} FROM (SELECT 'abc' AS t)"
    assert _digest_con.execute(sql).fetchone() == _digest_con.execute(old).fetchone()


def test_number_to_uuid_is_what_the_database_says() -> None:
    """Whether the digest takes the UHUGEINT-to-UUID cast is told by DuckDB's version where
    it can be; that answer is what a query of this DuckDB gives."""
    from lastmile.store import schema

    try:
        _digest_con.execute("SELECT CAST(1::UHUGEINT AS UUID)")
        casts = True
    except duckdb.Error:
        casts = False
    schema._number_to_uuid.cache_clear()
    assert schema._number_to_uuid() is casts
    assert schema._version("2.0.1") == (2, 0, 1)
    assert schema._version("1.5.0-dev42") is None


# Three steps over the agencies: every agency, those not named "B agency", and the first
# joined to the second (``Store.query_steps``).
AGENCY_STEPS = [
    backends.Step("named", "SELECT agency_id, name FROM agencies"),
    backends.Step("kept", "SELECT agency_id FROM named WHERE name <> 'B agency'"),
    backends.Step("joined", "SELECT n.agency_id, n.name FROM named n JOIN kept USING (agency_id)"),
]


def _own_temp_tables(ws: Workspace) -> set[str]:
    """The temporary tables of the store's own session (PostgreSQL); none on DuckDB."""
    if ws.kind != "postgresql":
        return set()
    return {
        str(r[0])
        for r in ws.store.rows(
            "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
            " AND relkind = 'r'"
        )
    }


def test_steps_give_the_rows_of_one_query_and_leave_no_table(workspace_url: str) -> None:
    """A query in steps (``Store.query_steps``) gives the rows of the one WITH query, whichever
    steps a PostgreSQL store runs as temporary tables first; the tables are gone after it,
    inside a transaction too (twice in one), and after a step that fails."""
    with open_workspace(workspace_url) as ws:
        for agency in ("A", "B", "C"):
            ws.store.execute(
                "INSERT INTO agencies (agency_id, name, kind) VALUES (?, ?, ?)",
                (agency, f"{agency} agency", "local"),
            )
        before = _own_temp_tables(ws)
        select = "SELECT agency_id, name FROM joined"
        one = sorted(ws.store.rows(f"WITH {backends.with_clause(AGENCY_STEPS)} {select}"))
        assert one == [("A", "A agency"), ("C", "C agency")]
        for stage in (None, set(), {"named"}, {"kept"}, {"named", "joined"}):
            table = ws.store.query_steps(AGENCY_STEPS, select, stage)
            assert sorted(tuple(r.values()) for r in table.to_pylist()) == one, stage
            assert _own_temp_tables(ws) == before
        with ws.store.transaction():
            for _ in range(2):
                table = ws.store.query_steps(AGENCY_STEPS, select)
                assert sorted(tuple(r.values()) for r in table.to_pylist()) == one
            assert _own_temp_tables(ws) == before
        failing = [
            *AGENCY_STEPS,
            backends.Step("bad", "SELECT CAST(name AS INTEGER) AS x FROM joined"),
        ]
        with pytest.raises(backends.driver_errors()):
            ws.store.query_steps(failing, "SELECT x FROM bad")
        assert _own_temp_tables(ws) == before
        table = ws.store.query_steps(AGENCY_STEPS, select)
        assert sorted(tuple(r.values()) for r in table.to_pylist()) == one


def test_a_snapshot_does_not_see_what_another_session_commits_meanwhile(
    workspace_url: str,
) -> None:
    """Reads inside ``Store.snapshot`` see the store as it was at the first of them
    (``conflicts.load_lines`` reads the communications in several queries): an agency that
    another session adds meanwhile is seen after the snapshot only, by ``query_steps``'
    staged steps too, and a write inside it is refused. Inside one of the store's
    transactions a snapshot takes that one's isolation, which cannot change once it has
    read."""
    with open_workspace(workspace_url) as ws:
        if ws.kind != "postgresql":
            pytest.skip("a DuckDB file has one writer process: no other session commits")
        insert = "INSERT INTO agencies (agency_id, name, kind) VALUES (?, ?, ?)"
        ws.store.execute(insert, ("A", "A agency", "local"))
        count = "SELECT count(*) FROM agencies"
        with open_workspace(workspace_url) as other:
            with ws.store.snapshot():
                assert ws.store.rows(count) == [(1,)]
                other.store.execute(insert, ("B", "B agency", "local"))
                assert other.store.rows(count) == [(2,)]
                assert ws.store.rows(count) == [(1,)]
                table = ws.store.query_steps(AGENCY_STEPS, "SELECT count(*) AS n FROM named")
                assert table.to_pylist() == [{"n": 1}]
                # For reads only: a write would check against the snapshot, not the store.
                with pytest.raises(StoreError, match="inside a snapshot"), ws.store.transaction():
                    pass
            assert ws.store.rows(count) == [(2,)]
            with ws.store.transaction():
                assert ws.store.rows(count) == [(2,)]
                with ws.store.snapshot():
                    assert ws.store.rows(count) == [(2,)]


def test_a_step_is_never_staged_under_a_store_table_s_name_or_an_odd_one(
    workspace_url: str,
) -> None:
    """A staged step named like a store table would be read instead of it, or it instead of
    the step, depending on the search path; a name that is not a plain identifier would be
    spliced into SQL. Both are refused with one line, before anything runs."""
    with open_workspace(workspace_url) as ws:
        if ws.kind != "postgresql":
            pytest.skip("DuckDB runs the steps as one WITH query: nothing is staged")
        for name in ("agencies", "x; DROP TABLE agencies", "Named"):
            steps = [backends.Step(name, "SELECT agency_id FROM agencies")]
            with pytest.raises(StoreError, match="cannot stage a step named"):
                ws.store.query_steps(steps, "SELECT 1")
        assert ws.store.query_steps(AGENCY_STEPS, "SELECT count(*) AS n FROM joined").num_rows == 1
