"""Issue 8: ingest hardening. Each test names a defect found by trying lastmile as a new user
would, and fails if it comes back."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import IngestError, ingest_paths
from lastmile.ingest.batch import FAULT_ENV
from lastmile.report import ReportOptions, compute_report
from lastmile.store import StoreError, Workspace, open_workspace
from lastmile.store.migrations import LATEST, migrate

from .conftest import POSTGRES_URL, SMALL_OPERATION

runner = CliRunner()


def operation(tmp_path: Path) -> Path:
    folder = tmp_path / "op"
    shutil.copytree(SMALL_OPERATION, folder)
    return folder


def rejects(path: Path | None) -> list[dict[str, str]]:
    assert path is not None
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- 1. a failure after the commit ------------------------------------------------------------


def test_a_rejects_file_that_cannot_be_written_does_not_unsay_the_commit(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    with (folder / "arrests.csv").open("a") as fh:
        fh.write("A-90,INV-1,,not a date,,,\n")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the rejects folder should be")
    result = ingest_paths(workspace, [folder], rejects=blocker / "r.csv")
    assert result.loaded > 0 and workspace.record_counts()["batches"] == 1
    (note,) = result.notes
    assert f"the batch {result.batch_id} is loaded" in note
    assert result.rejects_file is not None and result.rejects_file.exists()
    assert str(result.rejects_file) in note
    assert [r["row"] for r in rejects(result.rejects_file)] == ["9"]


def test_cli_says_the_batch_is_loaded_when_its_rejects_cannot_be_written(tmp_path: Path) -> None:
    folder = operation(tmp_path)
    with (folder / "arrests.csv").open("a") as fh:
        fh.write("A-90,INV-1,,not a date,,,\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    code, _, err = cli(
        "ingest", str(folder), "-w", str(tmp_path / "w.duckdb"), "--rejects", str(blocker / "r")
    )
    assert code == 0
    assert "is loaded" in err and "was not loaded" not in err
    assert "written to" in err


# -- 2. untrusted text on the terminal --------------------------------------------------------


def test_markup_and_escapes_in_data_print_as_plain_visible_text(tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").unlink()
    (folder / "arrests-[ab].csv").write_text(
        "arrest_id,investigation_id,date\nA-1,INV-1,[/yellow]\nA-2,INV-1,\x1b[31mred\n"
    )
    code, _, err = cli(
        "ingest", str(folder), "-w", str(tmp_path / "w.duckdb"), "--rejects", str(tmp_path / "r")
    )
    assert code == 0, err
    assert "[/yellow]" in err  # shown, not taken as markup
    assert "\x1b" not in err and "\\x1b[31mred" in err  # the escape is visible, not run
    assert "arrests-[ab].csv" in err


def test_markup_in_an_argument_is_one_plain_error_line(tmp_path: Path) -> None:
    ingest_paths(open_workspace(tmp_path / "w.duckdb"), [SMALL_OPERATION], rejects=tmp_path / "r")
    code, _, err = cli("report", "-w", str(tmp_path / "w.duckdb"), "--division", "[/red]x\x1b")
    assert code == 1
    assert err.startswith("error: unknown division '[/red]x\\x1b'")
    assert "Traceback" not in err


# -- 3 and 6. bounds -------------------------------------------------------------------------


def test_a_header_without_a_line_break_is_bounded(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_bytes(b"arrest_id," + b"x" * (3 << 20))
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    (reject,) = [r for r in rejects(result.rejects_file) if "arrests" in r["file"]]
    assert reject["reason"].startswith("header row longer than the maximum (1,048,576 bytes)")
    assert result.counts["drug_seizures"].loaded == 9


def test_a_header_of_forty_thousand_columns_names_every_extra_one(
    workspace: Workspace, tmp_path: Path
) -> None:
    # The header check was quadratic in its columns (36 s here); it is a set lookup now. Its
    # time is not asserted (tests never assert wall-clock times): a regression shows as a
    # slow test, and what is asserted is that every extra column is named once.
    from lastmile.ingest.files import InputFile, read_header
    from lastmile.model import RECORD_TYPES_BY_NAME

    names = ",".join(f"extra_{i}" for i in range(40_000))
    path = tmp_path / "firearm_seizures.csv"
    path.write_text(
        f"seizure_id,investigation_id,date,count,{names}\nF-9,INV-1,2022-06-01,2{',' * 40_000}\n"
    )
    f = InputFile(path, RECORD_TYPES_BY_NAME["firearm_seizures"])
    read_header(f)
    assert f.ignored_columns == [f"extra_{i}" for i in range(40_000)]
    assert f.columns == ["seizure_id", "investigation_id", "date", "count"]
    # A line the reader rejects in such a file is named by its column, as the header says.
    with path.open("a") as fh:
        fh.write("F-10,INV-1,2022-06-01,2," + ",".join("x" for _ in range(40_001)) + "\n")
    folder = operation(tmp_path)
    shutil.copy(path, folder / "firearm_seizures.csv")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["firearm_seizures"].loaded == 1
    (reject,) = [r for r in rejects(result.rejects_file) if "firearm" in r["file"]]
    assert reject["reason"] == "more fields than the header has"


def test_a_line_over_the_limit_is_rejected_with_a_reason(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_text(
        "arrest_id,investigation_id,date,city\n"
        f"A-1,INV-1,2022-06-01,{'x' * 2_100_000}\nA-2,INV-1,2022-06-01,Denver\n"
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert (result.counts["arrests"].loaded, result.counts["arrests"].rejected) == (1, 1)
    (reject,) = [r for r in rejects(result.rejects_file) if "arrests" in r["file"]]
    assert reject["reason"] == "line longer than the maximum (2,000,000 bytes)"


def test_a_line_longer_than_the_readers_buffer_is_not_dropped_silently(
    workspace: Workspace, tmp_path: Path
) -> None:
    # DuckDB's reader drops a line longer than its buffer (32 MB here) without a reject.
    folder = operation(tmp_path)
    with (folder / "arrests.csv").open("w") as fh:
        fh.write("arrest_id,investigation_id,date,city\nA-1,INV-1,2022-06-01,")
        fh.write("x" * 33_000_000)
        fh.write("\nA-2,INV-1,2022-06-01,Denver\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert (result.counts["arrests"].rows, result.counts["arrests"].rejected) == (2, 2)
    (reject,) = [r for r in rejects(result.rejects_file) if "arrests" in r["file"]]
    assert reject["reason"].startswith("line 2 is longer than 32,000,000 bytes")


# -- 4. regular files only ---------------------------------------------------------------------


def test_what_is_not_a_regular_file_is_listed_with_the_reason(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    os.mkfifo(folder / "subjects-fifo.csv")
    (folder / "selectors-broken.csv").symlink_to(tmp_path / "nowhere.csv")
    (folder / "loop-a.csv").symlink_to(folder / "loop-b.csv")
    (folder / "loop-b.csv").symlink_to(folder / "loop-a.csv")
    (folder / "arrests-device.csv").symlink_to("/dev/null")
    (folder / "older").mkdir()
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    reasons = {p.path.name: p.reason for p in result.skipped}
    assert reasons == {
        "subjects-fifo.csv": "a FIFO (named pipe)",
        "selectors-broken.csv": "a broken link",
        "loop-a.csv": "a link loop",
        "loop-b.csv": "a link loop",
        "arrests-device.csv": "a device",
        "older": "a folder (folders are read one level deep)",
    }
    assert result.counts["subjects"].loaded == 5


@pytest.mark.parametrize("path", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_given_is_refused(workspace: Workspace, tmp_path: Path, path: str) -> None:
    given = Path(path)
    if path == "fifo":
        given = tmp_path / "arrests.csv"
        os.mkfifo(given)
    with pytest.raises(IngestError, match="regular files only"):
        ingest_paths(workspace, [given], rejects=tmp_path / "r.csv")


# -- 5. UTF-16 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_utf16_with_either_byte_order_is_read(
    workspace: Workspace, tmp_path: Path, encoding: str
) -> None:
    folder = operation(tmp_path)
    text = "arrest_id,investigation_id,date,city\nA-1,INV-1,2022-06-01,Bogotá\n"
    bom = "\ufeff".encode(encoding)
    (folder / "arrests.csv").write_bytes(bom + text.encode(encoding))
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["arrests"].loaded == 1
    assert workspace.store.rows("SELECT city FROM arrests") == [("Bogotá",)]


# -- 7. plausible maxima and dates in the future ------------------------------------------------


def test_implausible_quantities_and_future_dates_are_rejected(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    with (folder / "drug_seizures.csv").open("a") as fh:
        fh.write("D-90,INV-1,2022-06-01,,,fentanyl,pill,1.7e308,count,\n")
        fh.write("D-91,INV-1,2022-06-01,,,fentanyl,pill,1.7e308,count,\n")
        fh.write("D-92,INV-1,2022-06-01,,,methamphetamine,crystal,2000,t,\n")
        fh.write("D-93,INV-1,2022-06-01,,,methamphetamine,crystal,2500000,lb,\n")
        fh.write(f"D-94,INV-1,{soon},,,fentanyl,pill,10,count,\n")
        fh.write("D-95,INV-1,2022-06-01,,,fentanyl,pill,100000000,count,\n")  # at the bound
    with (folder / "firearm_seizures.csv").open("a") as fh:
        fh.write("F-90,INV-1,2022-06-01,,,1000000,\n")
    with (folder / "communications.csv").open("a") as fh:
        fh.write(f"C-90,INV-1,{soon}T10:00:00Z,3035550187,7205550150,call,,10\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    reasons = {(r["row"], r["column"]): r["reason"] for r in rejects(result.rejects_file)}
    assert reasons[("11", "quantity")] == "implausible: more than 100,000,000 pills in one exhibit"
    assert reasons[("12", "quantity")].startswith("implausible")
    assert reasons[("14", "quantity")].startswith("implausible: more than 2,204,623 lb")
    assert reasons[("15", "date")].startswith(f"in the future: '{soon}' is after ")
    assert reasons[("4", "count")].startswith("implausible")
    assert reasons[("6", "time")].startswith("in the future")
    assert ("16", "quantity") not in reasons
    # The report sums what is left without overflowing.
    compute_report(workspace, ReportOptions(date_from=date(2022, 1, 1), date_to=date(2024, 1, 1)))


def test_an_implausible_date_of_birth_keeps_the_person_and_what_names_them(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A mistyped year of birth is not an event in the future: rejecting it would also reject
    the selectors, arrests and relationships that name the subject."""
    folder = operation(tmp_path)
    with (folder / "subjects.csv").open("a") as fh:
        fh.write("S-9,INV-1,Future Born,Future,,Born,,,2031-05-22,M,,dealer\n")
        fh.write("S-8,INV-1,Early Born,Early,,Born,,,1889-05-22,M,,dealer\n")
    with (folder / "selectors.csv").open("a") as fh:
        fh.write("P-9,INV-1,S-9,phone,(303) 555-0199,\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.rejected == 0, rejects(result.rejects_file)
    dob = workspace.store.rows("SELECT dob FROM subjects WHERE subject_id = 'S-9'")
    assert str(dob[0][0]) == "2031-05-22"


# -- 8 and 10. columns and enumerations ---------------------------------------------------------


def test_a_duplicated_unknown_column_is_ignored_but_a_known_one_is_not(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_text(
        "arrest_id,investigation_id,date,note,note\nA-1,INV-1,2022-06-01,x,y\n"
    )
    (folder / "firearm_seizures.csv").write_text(
        "seizure_id,investigation_id,date,count,count\nF-1,INV-1,2022-06-01,1,2\n"
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["arrests"].loaded == 1
    assert next(v for k, v in result.ignored_columns.items() if "arrests" in k) == ["note"]
    (reject,) = [r for r in rejects(result.rejects_file) if "firearm" in r["file"]]
    assert reject["reason"] == "column 'count' appears twice in the header (1 row not loaded)"


def test_currency_codes_are_case_insensitive(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "currency_seizures.csv").write_text(
        "seizure_id,investigation_id,date,amount,currency\n"
        "M-1,INV-1,2022-06-01,100,usd\nM-2,INV-1,2022-06-01,100,Eur\nM-3,INV-1,2022-06-01,1,us\n"
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["currency_seizures"].loaded == 2
    rows = workspace.store.rows("SELECT seizure_id, currency FROM currency_seizures ORDER BY 1")
    assert rows == [("M-1", "USD"), ("M-2", "EUR")]


# -- 9. corrected returns -------------------------------------------------------------------------

RETURN = (
    "investigation_id,time,from_selector,to_selector,kind,duration_s\n"
    "INV-1,2022-07-04T21:15:09Z,3035550187,7205550150,call,30\n"
    "INV-1,2022-07-04T22:00:00Z,3035550187,7205550111,call,40\n"
)


def _load_base(ws: Workspace, tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    for name in ("agencies.csv", "investigations.csv"):
        shutil.copy(SMALL_OPERATION / name, base / name)
    ingest_paths(ws, [base], rejects=tmp_path / "r0.csv")


def test_a_corrected_return_replaces_the_return_it_corrects(
    workspace: Workspace, tmp_path: Path
) -> None:
    _load_base(workspace, tmp_path)
    first = tmp_path / "v1" / "communications-return.csv"
    first.parent.mkdir()
    first.write_text(RETURN)
    old = ingest_paths(workspace, [first], rejects=tmp_path / "r1.csv")
    corrected = tmp_path / "v2" / "communications-return.csv"
    corrected.parent.mkdir()
    corrected.write_text(RETURN.replace("21:15:09", "21:15:10"))  # one call moved by 1 s
    # Without --supersedes the corrected call is a second event (and would be counted twice).
    result = ingest_paths(
        workspace, [corrected], rejects=tmp_path / "r2.csv", supersedes=old.batch_id
    )
    assert result.superseded_files == ["communications-return.csv"]
    assert workspace.store.rows("SELECT CAST(time AS VARCHAR) FROM communications ORDER BY 1") == [
        ("2022-07-04 21:15:10",),
        ("2022-07-04 22:00:00",),
    ]
    sources = workspace.store.rows(
        "SELECT f.batch_id, count(*) FROM communications_sources s "
        "JOIN source_files f ON f.file_id = s.source_file_id GROUP BY 1"
    )
    assert sources == [(result.batch_id, 2)]
    marked = workspace.store.rows(
        "SELECT superseded_by FROM source_files WHERE batch_id = ?", (old.batch_id,)
    )
    assert marked == [(result.batch_id,)]
    assert workspace.store.rows(
        "SELECT supersedes FROM batches WHERE batch_id = ?", (result.batch_id,)
    ) == [(old.batch_id,)]


def test_supersedes_keeps_events_other_returns_report_and_replaces_records(
    workspace: Workspace, tmp_path: Path
) -> None:
    _load_base(workspace, tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "communications.csv").write_text(RETURN)
    (a / "arrests.csv").write_text("arrest_id,investigation_id,date\nA-1,INV-1,2022-06-01\n")
    (b / "communications-other.csv").write_text(RETURN)  # another return, same two calls
    old = ingest_paths(workspace, [a], rejects=tmp_path / "r1.csv")
    ingest_paths(workspace, [b], rejects=tmp_path / "r2.csv")
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "arrests.csv").write_text("arrest_id,investigation_id,date\nA-1,INV-1,2022-06-02\n")
    (fixed / "communications.csv").write_text(RETURN.splitlines()[0] + "\n")  # no calls now
    result = ingest_paths(workspace, [fixed], rejects=tmp_path / "r3.csv", supersedes=old.batch_id)
    assert result.rejected == 0
    assert workspace.store.rows("SELECT CAST(date AS VARCHAR) FROM arrests") == [("2022-06-02",)]
    # The calls stay: the other return still reports them, once each.
    assert workspace.record_counts()["communications"] == 2
    assert workspace.record_counts()["communications_sources"] == 2


def test_supersedes_an_unknown_batch_or_no_file_of_that_name_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    _load_base(workspace, tmp_path)
    path = tmp_path / "communications.csv"
    path.write_text(RETURN)
    with pytest.raises(IngestError, match="no such batch"):
        ingest_paths(workspace, [path], supersedes="20990101T000000-00000000")
    old = ingest_paths(workspace, [path], rejects=tmp_path / "r1.csv")
    other = tmp_path / "communications-2.csv"
    other.write_text(RETURN)
    with pytest.raises(IngestError, match=r"it read: communications\.csv"):
        ingest_paths(workspace, [other], supersedes=old.batch_id)
    assert workspace.record_counts()["communications_sources"] == 2


def test_a_crash_while_superseding_leaves_the_store_as_it_was(
    workspace_url: str, tmp_path: Path
) -> None:
    with open_workspace(workspace_url) as ws:
        _load_base(ws, tmp_path)
        path = tmp_path / "communications.csv"
        path.write_text(RETURN)
        old = ingest_paths(ws, [path], rejects=tmp_path / "r1.csv")
        before = ws.record_counts()
    path.write_text(RETURN.replace("21:15:09", "21:15:10"))
    script = (
        "import sys; from pathlib import Path; from lastmile.store import open_workspace; "
        "from lastmile.ingest import ingest_paths; "
        "ws = open_workspace(sys.argv[1]); "
        "ingest_paths(ws, [Path(sys.argv[2])], supersedes=sys.argv[3])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, workspace_url, str(path), old.batch_id],
        env={**os.environ, FAULT_ENV: "communications"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 70, proc.stderr
    with open_workspace(workspace_url) as ws:
        assert ws.record_counts() == before
        assert ws.store.rows(
            "SELECT count(*) FROM source_files WHERE superseded_by IS NOT NULL"
        ) == [(0,)]


# -- 11. concurrent first opens on PostgreSQL -------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LASTMILE_TEST_POSTGRES_URL is not set")
def test_three_first_opens_at_once_migrate_once() -> None:
    from urllib.parse import quote

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def first_open() -> None:
        try:
            start.wait()
            with open_workspace(url) as ws:
                assert ws.schema_version == LATEST
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=first_open) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        with open_workspace(url) as ws:
            assert ws.store.rows("SELECT count(*) FROM schema_migrations") == [(LATEST,)]
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


# -- 12. workspace strings and DuckDB extensions ------------------------------------------------


@pytest.mark.parametrize(
    "spec", ["md:x", "s3://bucket/x.duckdb", "https://example.com/x", "http://x", ":memory:"]
)
def test_a_workspace_string_must_be_a_path_or_a_postgres_url(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="give a DuckDB file path or a postgresql:// URL"):
        open_workspace(spec)
    assert list(tmp_path.iterdir()) == []  # no s3:/ folder, no file
    code, _, err = cli("status", "-w", spec)
    assert code == 1 and len(err.strip().splitlines()) == 1


def test_duckdb_extensions_are_not_autoloaded_and_time_zones_still_work(
    tmp_path: Path,
) -> None:
    with open_workspace(tmp_path / "w.duckdb") as ws:
        settings = ws.store.rows(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoload_known_extensions', 'autoinstall_known_extensions') ORDER BY 1"
        )
        assert settings == [
            ("autoinstall_known_extensions", "false"),
            ("autoload_known_extensions", "false"),
        ]
        folder = operation(tmp_path)
        (folder / "communications.csv").write_text(
            "investigation_id,time,from_selector,to_selector,kind\n"
            "INV-1,2022-07-04 21:15:09 America/Denver,3035550187,7205550150,call\n"
        )
        ingest_paths(ws, [folder], rejects=tmp_path / "r.csv")
        assert ws.store.rows("SELECT CAST(time AS VARCHAR) FROM communications") == [
            ("2022-07-05 03:15:09",)
        ]


# -- 13. reading commands read ----------------------------------------------------------------


def test_reading_commands_open_read_only(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [SMALL_OPERATION], rejects=tmp_path / "r.csv")
    with open_workspace(path, read_only=True) as ws:
        assert ws.read_only
        with pytest.raises(Exception, match="read-only"):
            ws.store.execute("CREATE TABLE x (i INTEGER)")
    # Two readers at once, from two processes: a read-write open would take the file's lock.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from lastmile.store import open_workspace; "
            "ws = open_workspace(sys.argv[1], read_only=True); print('open', flush=True); "
            "time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        code, out, err = cli("status", "-w", str(path))
        assert code == 0, err
        assert json.loads(out)["tables"]["investigations"] == 4
        code, _, err = cli("report", "-w", str(path), "-o", str(tmp_path / "r.json"))
        assert code == 0, err
    finally:
        holder.kill()
        holder.wait()


def test_a_reading_command_on_an_older_schema_names_the_migrate_command(tmp_path: Path) -> None:
    from lastmile.store.backends import DuckDBStore

    path = tmp_path / "old.duckdb"
    store = DuckDBStore(path)
    migrate(store, up_to=LATEST - 1)
    store.close()
    code, _, err = cli("status", "-w", str(path))
    assert code == 1
    assert f"schema version {LATEST - 1}" in err and "lastmile migrate --workspace" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli("migrate", "-w", str(path))
    assert code == 0 and f"schema version {LATEST}" in err
    code, out, err = cli("status", "-w", str(path))
    assert code == 0, err
    assert json.loads(out)["schema_version"] == LATEST


# -- 14 and 15. small things --------------------------------------------------------------------


def test_a_failed_ingest_of_an_empty_folder_creates_no_workspace(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = cli("ingest", str(tmp_path / "empty"), "-w", str(tmp_path / "w.duckdb"))
    assert code == 1 and "no interchange files" in err
    assert not (tmp_path / "w.duckdb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_unknown_references_are_named_in_the_singular(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    with (folder / "investigations.csv").open("a") as fh:
        fh.write("INV-9,NOPE,X,Omaha,NE,Omaha,2022-01-01,,open,,,\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    reasons = [r["reason"] for r in rejects(result.rejects_file)]
    assert "unknown agency 'NOPE'" in reasons


def test_a_binary_file_gets_no_guessed_row_count(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_bytes(bytes(range(256)) * 64 + b"\n\n\n\x00\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert (result.counts["arrests"].rows, result.counts["arrests"].rejected) == (0, 0)
    (reject,) = [r for r in rejects(result.rejects_file) if "arrests" in r["file"]]
    assert reject["reason"].endswith("(not a text file: no rows counted)")
    assert "rows not loaded" not in reject["reason"]


# -- 23. chain of custody ----------------------------------------------------------------------


def test_every_file_read_is_recorded_with_its_hash(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_text("arrest_id\nA-1\n")  # stores nothing: a file reject
    ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    again = ingest_paths(workspace, [folder], rejects=tmp_path / "r2.csv")  # all duplicates
    rows = workspace.store.rows(
        "SELECT name, sha256, size_bytes, read_at, records FROM source_files WHERE batch_id = ?",
        (again.batch_id,),
    )
    assert sorted(r[0] for r in rows) == sorted(p.name for p in folder.iterdir())
    for name, sha, size, read_at, records in rows:
        data = (folder / name).read_bytes()
        assert (sha, size, records) == (hashlib.sha256(data).hexdigest(), len(data), 0)
        assert abs(read_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=5)
    first = dict(
        workspace.store.rows(
            "SELECT name, records FROM source_files WHERE batch_id <> ?", (again.batch_id,)
        )
    )
    assert first["arrests.csv"] == 0 and first["subjects.csv"] == 5


def test_status_lists_files_and_verify_tells_what_still_matches(tmp_path: Path) -> None:
    folder = operation(tmp_path)
    ws_path = str(tmp_path / "w.duckdb")
    code, _, err = cli("ingest", str(folder), "-w", ws_path, "--rejects", str(tmp_path / "r"))
    assert code == 0, err
    code, out, _ = cli("status", "--files", "-w", ws_path)
    listed = json.loads(out)["files"]
    assert len(listed) == 11 and all(len(f["sha256"]) == 64 for f in listed)
    with (folder / "arrests.csv").open("a") as fh:
        fh.write("A-99,INV-1,2022-06-01,,,\n")
    (folder / "subjects.csv").unlink()
    (folder / "notes.txt").write_text("new")
    code, out, _ = cli("verify", str(folder), "-w", ws_path, "--format", "json")
    assert code == 1  # something changed or went missing
    status = {Path(r["path"]).name: r["status"] for r in json.loads(out)}
    assert status["arrests.csv"] == "changed"
    assert status["subjects.csv"] == "missing"
    assert status["notes.txt"] == "not ingested"
    assert status["agencies.csv"] == "matched"
    assert list(status.values()).count("matched") == 9


# -- 16 (outputs). the rejects file is a CSV export too ----------------------------------------


def test_the_rejects_file_neutralizes_formulas_from_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder named like a formula must not become a live formula in the rejects file."""
    monkeypatch.chdir(tmp_path)
    folder = Path("=HYPERLINK(1)")
    shutil.copytree(SMALL_OPERATION, folder)
    with (folder / "subjects.csv").open("a", encoding="utf-8") as fh:
        fh.write("S-9,INV-1,Bad Date,,,,,,not-a-date,M,,dealer\n")
    with open_workspace(tmp_path / "w.duckdb") as ws:
        result = ingest_paths(ws, [folder], rejects=tmp_path / "rejects.csv")
    rows = rejects(result.rejects_file)
    assert rows, "the bad date must be rejected"
    assert all(r["file"].startswith("'=HYPERLINK(1)") for r in rows), rows


# -- 24 (found by the fuzz test). mixed line endings --------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"A-9,INV-1,S-1,2022-06-02\r\nA-10,INV-1,S-1,2022-06-03\r\n",  # CRLF under an LF header
        b"A-9,INV-1,S-1,2022-06-02\rA-10,INV-1,S-1,2022-06-03\n",  # a bare CR ends a line
    ],
)
def test_mixed_line_endings_load_instead_of_stopping_the_batch(
    workspace: Workspace, tmp_path: Path, body: bytes
) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_bytes(b"arrest_id,investigation_id,subject_id,date\n" + body)
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["arrests"].loaded == 2, rejects(result.rejects_file)
    rows = workspace.store.rows("SELECT arrest_id, source_row FROM arrests ORDER BY source_row")
    assert rows == [("A-9", 2), ("A-10", 3)]
