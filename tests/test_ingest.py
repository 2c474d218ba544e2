"""Interchange ingest: every good row lands in one transaction, every bad row is named."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lastmile.ingest import IngestError, ingest_paths
from lastmile.ingest.batch import FAULT_ENV
from lastmile.store import Workspace, open_workspace

from .conftest import SMALL_OPERATION

BASE = ["agencies.csv", "investigations.csv", "subjects.csv"]


def base_folder(tmp_path: Path, files: list[str] = BASE) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name in files:
        shutil.copy(SMALL_OPERATION / name, folder / name)
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rejects_of(result_file: Path | None) -> list[dict[str, str]]:
    assert result_file is not None, "expected a rejects file"
    with result_file.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_small_operation_loads_every_row(workspace: Workspace, tmp_path: Path) -> None:
    result = ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "rej.csv")
    assert result.rejected == 0
    assert result.rejects_file is None
    counts = workspace.record_counts()
    for name, c in result.counts.items():
        assert c.rows == c.loaded, name
        assert counts[name] == c.loaded, name
    assert counts["investigations"] == 4
    assert counts["communications"] == 4
    assert counts["batches"] == 1


def test_loading_the_same_files_twice_adds_nothing(workspace: Workspace, tmp_path: Path) -> None:
    ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "rej.csv")
    before = workspace.record_counts()
    again = ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "rej2.csv")
    assert again.loaded == 0
    assert again.rejected == 0
    assert again.duplicate == sum(c.rows for c in again.counts.values())
    after = workspace.record_counts()
    # The second batch and the files it read are recorded (chain of custody); no record is.
    bookkeeping = ("batches", "source_files")
    assert {k: v for k, v in after.items() if k not in bookkeeping} == {
        k: v for k, v in before.items() if k not in bookkeeping
    }
    assert after["source_files"] == 2 * before["source_files"]


def test_provenance_and_normalized_selectors_are_kept(workspace: Workspace, tmp_path: Path) -> None:
    ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "rej.csv")
    rows = workspace.store.rows(
        "SELECT s.value, s.value_normalized, s.value_valid, i.agency_id, f.path, f.name, "
        "s.source_row, length(CAST(s.content_hash AS VARCHAR)), b.batch_id FROM selectors s "
        "JOIN source_files f ON f.file_id = s.source_file_id "
        "JOIN batches b ON b.batch_id = f.batch_id "
        "JOIN investigations i ON i.investigation_id = s.investigation_id "
        "WHERE s.selector_id = ?",
        ("P-1",),
    )
    value, normalized, valid, agency, path, name, source_row, hash_len, batch = rows[0]
    assert (value, normalized, valid, agency) == ("(303) 555-0187", "+13035550187", True, "DEA")
    assert path == str(SMALL_OPERATION / "selectors.csv") and name == "selectors.csv"
    assert source_row == 2
    assert hash_len == 36 and batch  # an MD5 digest, stored as a UUID
    grades = workspace.store.rows(
        "SELECT source_reliability, info_credibility FROM investigations "
        "WHERE investigation_id IN ('INV-1', 'INV-3') ORDER BY investigation_id"
    )
    assert grades == [("A", "1"), (None, None)]


def test_one_event_in_two_returns_is_stored_once_with_both_sources(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = base_folder(tmp_path, [*BASE])
    header = "investigation_id,time,from_selector,to_selector,kind,platform,duration_s\n"
    write(
        folder,
        "communications-a.csv",
        header + "INV-1,2022-07-04T21:15:09-06:00,(303) 555-0187,+52 33 1234 5678,call,,74\n",
    )
    write(
        folder,
        "communications-b.csv",
        header + "INV-1,2022-07-05 03:15:09,3035550187,00523312345678,call,,74\n",
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    assert result.counts["communications"].loaded == 2
    assert workspace.record_counts()["communications"] == 1
    assert workspace.record_counts()["communications_sources"] == 2
    (time_, from_, to_) = workspace.store.rows(
        "SELECT CAST(time AS VARCHAR), from_selector, to_selector FROM communications"
    )[0]
    assert time_.startswith("2022-07-05 03:15:09")
    assert (from_, to_) == ("+13035550187", "+523312345678")


@pytest.mark.parametrize(
    ("file", "text", "row", "column", "reason"),
    [
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,2022-06-01,krokodil,powder,1,g\n",
            3,
            "drug",
            "unknown drug 'krokodil'",
        ),
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,2022-06-01,fentanyl,gel,1,g\n",
            3,
            "form",
            "unknown form 'gel'",
        ),
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,2022-06-01,fentanyl,powder,1,stone\n",
            3,
            "unit",
            "unknown unit 'stone'",
        ),
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,2022-06-01,fentanyl,powder,-3,g\n",
            3,
            "quantity",
            "negative value -3",
        ),
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,2022-06-01,fentanyl,powder,lots,g\n",
            3,
            "quantity",
            "not a number 'lots'",
        ),
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,06/31/2022,fentanyl,powder,1,g\n",
            3,
            "date",
            "unparseable date '06/31/2022'",
        ),
        (
            "drug_seizures.csv",
            "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
            "D1,INV-1,2022-06-01,fentanyl,pill,10,count\n"
            "D2,INV-1,2022-06-01,fentanyl,pill,2,kg\n",
            3,
            "unit",
            "pills are counted",
        ),
        (
            "selectors.csv",
            "selector_id,investigation_id,kind,value,platform\n"
            "P1,INV-1,phone,303-555-0100,\n"
            "P2,INV-1,account,someone,MySpace2\n",
            3,
            "platform",
            "unknown platform 'MySpace2'",
        ),
        (
            "arrests.csv",
            "arrest_id,investigation_id,subject_id,date\n"
            "A1,INV-1,S-1,2022-06-01\n"
            "A2,INV-404,,2022-06-01\n",
            3,
            "investigation_id",
            "unknown investigation 'INV-404'",
        ),
        (
            "arrests.csv",
            "arrest_id,investigation_id,subject_id,date\n"
            "A1,INV-1,S-1,2022-06-01\n"
            "A2,INV-1,S-404,2022-06-01\n",
            3,
            "subject_id",
            "unknown subject 'S-404'",
        ),
        (
            "arrests.csv",
            "arrest_id,investigation_id,subject_id,date\n"
            "A1,INV-1,S-1,2022-06-01\n"
            "A1,INV-1,S-2,2022-06-02\n",
            3,
            "arrest_id",
            "id 'A1' was given other content at",
        ),
        (
            "arrests.csv",
            "arrest_id,investigation_id,subject_id,date\nA1,INV-1,S-1,2022-06-01\nA2,INV-1,,\n",
            3,
            "date",
            "required value is missing",
        ),
        (
            "arrests.csv",
            "arrest_id,investigation_id,subject_id,date\n"
            "A1,INV-1,S-1,2022-06-01\n"
            "A2,INV-1,S-1,2022-06-01,extra\n",
            3,
            "",
            "more fields than the header has",
        ),
    ],
)
def test_a_bad_row_is_named_and_good_rows_are_kept(
    workspace: Workspace, tmp_path: Path, file: str, text: str, row: int, column: str, reason: str
) -> None:
    folder = base_folder(tmp_path)
    write(folder, file, text)
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    name = file.removesuffix(".csv")
    assert result.counts[name].rows == 2
    assert result.counts[name].loaded == 1
    assert result.counts[name].rejected == 1
    rejects = rejects_of(result.rejects_file)
    assert {(Path(r["file"]).name, int(r["row"])) for r in rejects} == {(file, row)}
    assert any(r["column"] == column and reason in r["reason"] for r in rejects), rejects
    assert workspace.record_counts()[name] == 1


def test_same_id_with_other_content_in_a_later_batch_is_rejected(
    workspace: Workspace, tmp_path: Path
) -> None:
    ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "rej.csv")
    folder = tmp_path / "later"
    folder.mkdir()
    write(folder, "arrests.csv", "arrest_id,investigation_id,date\nA-1,INV-1,2022-12-25\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej2.csv")
    (reject,) = rejects_of(result.rejects_file)
    assert "already in the workspace with other content" in reject["reason"]
    # It names where the stored record came from: the first batch's file, not this one.
    assert f"(from {SMALL_OPERATION / 'arrests.csv'}:2)" in reject["reason"]


def test_ids_repeated_in_a_batch_and_ids_already_stored_are_told_apart(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Each path of the identified records' write: an id given twice in one batch with the
    same content is one record and one duplicate; with other content the later row is
    rejected; an id already stored is a duplicate (same content) or rejected (other), and a
    new id beside them is loaded. Optional columns no file has are stored NULL."""
    folder = base_folder(tmp_path)
    write(
        folder,
        "arrests.csv",
        "arrest_id,investigation_id,subject_id,date\n"
        "A1,INV-1,S-1,2022-06-01\n"
        "A1,INV-1,S-1,2022-06-01\n"
        "A2,INV-1,S-1,2022-06-02\n"
        "A2,INV-1,S-1,2022-06-03\n",
    )
    first = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    counts = first.counts["arrests"]
    assert (counts.rows, counts.loaded, counts.duplicate, counts.rejected) == (4, 2, 1, 1)
    (reject,) = rejects_of(first.rejects_file)
    assert (reject["row"], reject["column"]) == ("5", "arrest_id")
    assert "id 'A2' was given other content at" in reject["reason"]
    assert workspace.store.rows(
        "SELECT arrest_id, CAST(date AS VARCHAR), city, charges FROM arrests ORDER BY 1"
    ) == [("A1", "2022-06-01", None, None), ("A2", "2022-06-02", None, None)]
    later = tmp_path / "later"
    later.mkdir()
    write(
        later,
        "arrests.csv",
        "arrest_id,investigation_id,subject_id,date\n"
        "A1,INV-1,S-1,2022-06-01\n"
        "A2,INV-1,S-1,2022-06-09\n"
        "A3,INV-1,S-1,2022-06-04\n",
    )
    second = ingest_paths(workspace, [later], rejects=tmp_path / "rej2.csv")
    counts = second.counts["arrests"]
    assert (counts.rows, counts.loaded, counts.duplicate, counts.rejected) == (3, 1, 1, 1)
    (reject,) = rejects_of(second.rejects_file)
    assert reject["row"] == "3"
    assert "already in the workspace with other content" in reject["reason"]
    assert [r[0] for r in workspace.store.rows("SELECT arrest_id FROM arrests ORDER BY 1")] == [
        "A1",
        "A2",
        "A3",
    ]


def test_a_missing_required_column_rejects_the_file_and_counts_its_rows(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = base_folder(tmp_path)
    write(folder, "arrests.csv", "arrest_id,investigation_id\nA1,INV-1\nA2,INV-1\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    assert result.counts["arrests"].rejected == 2
    assert result.counts["subjects"].loaded == 5  # other files are untouched
    (reject,) = rejects_of(result.rejects_file)
    assert (reject["row"], reject["column"]) == ("1", "date")
    assert "missing required column" in reject["reason"]


def test_empty_and_non_utf8_files(workspace: Workspace, tmp_path: Path) -> None:
    folder = base_folder(tmp_path)
    (folder / "firearm_seizures.csv").write_bytes(b"")
    (folder / "arrests.csv").write_bytes(
        b"arrest_id,investigation_id,date,city\n"
        b"A1,INV-1,2022-06-01,Denver\n"
        b"A2,INV-1,2022-06-01,Espa\xf1ola\n"
        b"A3,INV-1,2022-06-02,Pueblo\n"
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    assert result.counts["arrests"].loaded == 2
    assert result.counts["arrests"].rejected == 1
    rejects = {(Path(r["file"]).name, r["row"]): r for r in rejects_of(result.rejects_file)}
    assert "not valid UTF-8" in rejects[("arrests.csv", "3")]["reason"]
    assert rejects[("firearm_seizures.csv", "0")]["reason"] == "empty file"


def test_utf16_export_is_read(workspace: Workspace, tmp_path: Path) -> None:
    folder = base_folder(tmp_path)
    text = "arrest_id,investigation_id,date,city\nA1,INV-1,2022-06-01,Española\n"
    (folder / "arrests.csv").write_bytes(text.encode("utf-16"))
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    assert result.counts["arrests"].loaded == 1
    assert workspace.store.rows("SELECT city FROM arrests") == [("Española",)]


def test_no_interchange_file_is_an_error(workspace: Workspace, tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "nothing here")
    with pytest.raises(IngestError, match="no interchange files"):
        ingest_paths(workspace, [tmp_path])


def test_a_large_file_streams_and_keeps_line_numbers(workspace: Workspace, tmp_path: Path) -> None:
    # Large enough (about 20 MB, several row groups) that DuckDB reads it on several threads:
    # line numbers must still follow the file.
    folder = base_folder(tmp_path)
    n = 300_000
    lines = ["arrest_id,investigation_id,date,city,charges"]
    for i in range(2, n + 2):
        date = "2022-06-01" if i % 49_999 else "2022-13-01"
        lines.append(f"A{i},INV-1,{date},Fictional Springs,possession with intent {i}")
    write(folder, "arrests.csv", "\n".join(lines) + "\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    bad = [i for i in range(2, n + 2) if i % 49_999 == 0]
    assert result.counts["arrests"].rejected == len(bad)
    assert [int(r["row"]) for r in rejects_of(result.rejects_file)] == bad
    assert workspace.store.rows(
        "SELECT count(*) FROM arrests WHERE source_row = CAST(substr(arrest_id, 2) AS BIGINT)"
    ) == [(n - len(bad),)]


def test_a_crash_in_the_middle_of_a_batch_leaves_the_store_unchanged(
    workspace_url: str, tmp_path: Path
) -> None:
    with open_workspace(workspace_url) as ws:
        ingest_paths(ws, [SMALL_OPERATION / "agencies.csv"], rejects=tmp_path / "r.csv")
        before = ws.record_counts()
    script = (
        "import sys; from pathlib import Path; from lastmile.store import open_workspace; "
        "from lastmile.ingest import ingest_paths; "
        "ws = open_workspace(sys.argv[1]); ingest_paths(ws, [Path(sys.argv[2])])"
    )
    env = {**os.environ, FAULT_ENV: "selectors"}
    proc = subprocess.run(
        [sys.executable, "-c", script, workspace_url, str(SMALL_OPERATION)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 70, proc.stderr  # died after writing subjects and selectors
    with open_workspace(workspace_url) as ws:
        assert ws.record_counts() == before


def test_selectors_off_the_fast_path_keep_their_normal_form_and_validity(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Values the SQL fast path does not take go through lastmile.selectors one by one: the
    normal form and the validity it gives are stored (a mutation survivor: nothing read them)."""
    folder = base_folder(tmp_path)
    write(
        folder,
        "selectors.csv",
        "selector_id,investigation_id,kind,value,platform\n"
        "P1,INV-1,phone,303-555-0100,\n"
        "P2,INV-1,email,x@@y.com,\n"
        "P3,INV-1,account,@El.Guero,Instagram\n"
        "P4,INV-1,imei,49-015420-323751-8,\n",
    )
    assert ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv").rejected == 0
    rows = workspace.store.rows(
        "SELECT selector_id, value_normalized, value_valid FROM selectors ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [
        ("P1", "+13035550100", True),
        ("P2", "x@@y.com", False),
        ("P3", "el.guero", True),
        ("P4", "490154203237518", True),  # its kind as written, not guessed (a phone)
    ]


def test_an_ingest_whose_selectors_take_the_sql_fast_path_imports_no_pandas_nor_pyarrow(
    tmp_path: Path,
) -> None:
    """Building the selector map's Arrow table from Python lists makes pyarrow import pandas
    (half a CPU-second of every CLI ingest); when every value took the SQL fast path (North
    American numbers, most toll records) no such table is built, and neither pyarrow nor
    phonenumbers is imported at all (a tenth of a CPU-second each)."""
    script = f"""
import sys
from pathlib import Path
from lastmile.ingest import ingest_paths
from lastmile.store import open_workspace
with open_workspace(Path({str(tmp_path / "ws.duckdb")!r})) as ws:
    result = ingest_paths(ws, [Path({str(SMALL_OPERATION)!r})],
                          rejects=Path({str(tmp_path / "r.csv")!r}))
print(result.counts["communications"].loaded, "pandas" in sys.modules,
      "pyarrow" in sys.modules, "phonenumbers" in sys.modules)
"""
    # The small operation's endpoints include numbers outside North America: ingest them
    # first, then a file whose endpoints are all North American.
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 0
    folder = tmp_path / "nanp"
    folder.mkdir()
    (folder / "communications.csv").write_text(
        "investigation_id,time,from_selector,to_selector,kind\n"
        "INV-1,2022-03-01T10:00:00Z,(303) 555-0101,303.555.0102,call\n"
        "INV-1,2022-03-01T10:01:00Z,+1 303 555 0102,13035550101,text\n",
        encoding="utf-8",
    )
    script = script.replace(repr(str(SMALL_OPERATION)), repr(str(folder)))
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["2", "False", "False", "False"]


def test_endpoints_with_a_platform_are_accounts_in_that_platforms_form(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A communication's endpoints are guessed with the row's platform: ``@el.guero`` on
    Instagram is an account (without the platform it would be an invalid phone), and a Cash
    App handle loses its ``$`` (without the platform it keeps it)."""
    folder = base_folder(tmp_path)
    write(
        folder,
        "communications.csv",
        "investigation_id,time,from_selector,to_selector,kind,platform,duration_s\n"
        "INV-1,2022-07-04T21:15:09Z,@El.Guero,@la.flaca,app_message,Instagram,\n"
        "INV-1,2022-07-05T21:15:09Z,$ElJefe,$LaFlaca,app_message,Cash App,\n",
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "rej.csv")
    assert result.rejected == 0
    rows = workspace.store.rows(
        "SELECT from_selector, to_selector FROM communications ORDER BY from_selector"
    )
    assert [tuple(r) for r in rows] == [("el.guero", "la.flaca"), ("eljefe", "laflaca")]


def test_the_selector_map_is_typed_even_where_every_value_is_null() -> None:
    """build_map's table has text and boolean columns whatever its values: a file without a
    platform column gives a platform of NULLs (DuckDB's NULL type), which the map keeps as
    text; phones go the SQL fast path, other values lastmile.selectors."""
    import duckdb

    from lastmile.ingest.normalize import AUTO, build_map

    con = duckdb.connect()
    build_map(
        con,
        f"SELECT * FROM (VALUES ('{AUTO}', NULL, '(303) 555-0187'), ('email', NULL, "
        "'X@Example.COM'), ('email', NULL, 'x@@y.com')) v(kind, platform, raw)",
        "m",
    )
    types = {name: kind for name, kind, *_ in con.execute("DESCRIBE m").fetchall()}
    assert types == {
        "kind": "VARCHAR",
        "platform": "VARCHAR",
        "raw": "VARCHAR",
        "normalized": "VARCHAR",
        "valid": "BOOLEAN",
    }
    assert sorted(con.execute("SELECT * FROM m").fetchall()) == [
        (AUTO, None, "(303) 555-0187", "+13035550187", True),
        ("email", None, "X@Example.COM", "x@example.com", True),
        ("email", None, "x@@y.com", "x@@y.com", False),
    ]
    # Only the map is left behind.
    assert con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'm%'"
    ).fetchall() == [("m",)]
    # The same types when every value took the fast path (no Arrow table is built then).
    build_map(con, f"SELECT * FROM (VALUES ('{AUTO}', NULL, '303.555.0101')) v(k, p, r)", "p")
    assert {name: kind for name, kind, *_ in con.execute("DESCRIBE p").fetchall()} == types
    assert con.execute("SELECT * FROM p").fetchall() == [
        (AUTO, None, "303.555.0101", "+13035550101", True)
    ]
