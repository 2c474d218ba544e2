"""Hostile inputs found in review: each once broke a whole batch or stored a wrong value."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from lastmile.ingest import ingest_paths
from lastmile.ingest.mapping import load_mapping
from lastmile.ingest.validate import text_sql
from lastmile.report import ReportOptions, compute_report
from lastmile.store import Workspace
from lastmile.store.schema import time_as_written_sql

from .conftest import SMALL_OPERATION


def operation(tmp_path: Path) -> Path:
    folder = tmp_path / "op"
    shutil.copytree(SMALL_OPERATION, folder)
    return folder


def rejects(path: Path | None) -> list[dict[str, str]]:
    assert path is not None
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_an_unreadable_file_of_a_referenced_type_is_one_reject(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    text = (
        (folder / "subjects.csv").read_text().replace("subject_id,investigation_id", "subject_id")
    )
    (folder / "subjects.csv").write_text(text)
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["subjects"].rejected == result.counts["subjects"].rows == 5
    assert result.counts["drug_seizures"].loaded == 9  # the rest of the batch loads
    # Arrests naming those subjects are rejected for it, one by one.
    reasons = {r["reason"] for r in rejects(result.rejects_file) if "arrests" in r["file"]}
    assert "unknown subject 'S-1'" in reasons


def test_blank_quoted_and_internal_header_names(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "firearm_seizures.csv").write_text(
        'seizure_id,investigation_id,date,count,_line,"a""b",,\nF-9,INV-1,2022-06-01,2,x,y,,\n'
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["firearm_seizures"].loaded == 1
    ignored = next(v for k, v in result.ignored_columns.items() if "firearm" in k)
    assert ignored == ["_line", 'a"b']
    assert workspace.store.rows("SELECT source_row FROM firearm_seizures") == [(2,)]


def test_glob_characters_in_a_file_name(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").unlink()
    (folder / "arrests-1.csv").write_text("arrest_id,investigation_id,date\nA1,INV-1,2022-06-01\n")
    (folder / "arrests-?.csv").write_text("arrest_id,investigation_id,date\nA2,INV-1,2022-06-02\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert (result.counts["arrests"].rows, result.counts["arrests"].loaded) == (2, 2)
    rows = workspace.store.rows(
        "SELECT a.arrest_id, f.path, a.source_row FROM arrests a "
        "JOIN source_files f ON f.file_id = a.source_file_id ORDER BY 1"
    )
    assert [(a, Path(f).name, r) for a, f, r in rows] == [
        ("A1", "arrests-1.csv", 2),
        ("A2", "arrests-?.csv", 2),
    ]


def test_a_nul_byte_rejects_its_row_on_both_stores(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_bytes(
        b"arrest_id,investigation_id,date,city\nA1,INV-1,2022-06-01,Den\x00ver\n"
        b"A2,INV-1,2022-06-01,Denver\n"
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert (result.counts["arrests"].loaded, result.counts["arrests"].rejected) == (1, 1)
    (reject,) = rejects(result.rejects_file)
    assert (reject["row"], reject["column"], reject["reason"]) == (
        "2",
        "city",
        "contains a NUL character",
    )


def test_a_header_that_is_not_utf8_still_counts_its_rows(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    (folder / "arrests.csv").write_bytes(
        b"arrest_id,investigation_id,date,ci\xfft\nA1,INV-1,2022-06-01,x\nA2,INV-1,2022-06-01,y\n"
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert (result.counts["arrests"].rows, result.counts["arrests"].rejected) == (2, 2)


def test_times_with_a_short_offset_keep_it(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    (folder / "communications.csv").write_text(
        "investigation_id,time,from_selector,to_selector,kind\n"
        "INV-1,2022-07-04 21:15-06,3035550187,7205550150,call\n"
    )
    ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert workspace.store.rows("SELECT CAST(time AS VARCHAR) FROM communications") == [
        ("2022-07-05 03:15:00",)
    ]


def test_broken_and_mixed_type_json_returns(workspace: Workspace, tmp_path: Path) -> None:
    ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "base.csv")
    folder = tmp_path / "returns"
    folder.mkdir()
    good = [
        {
            "timestamp": "2022-07-04T21:15:09Z",
            "sender": "+13035550187",
            "recipient": "+13035550111",
            "message_type": "text",
            "ip_address": "203.0.113.5",
        },
        {
            "timestamp": "2022-07-04T21:16:09Z",
            "sender": "+13035550111",
            "recipient": "+13035550187",
            "message_type": "text",
            "ip_address": 5,
        },
    ]
    (folder / "a.json").write_text(json.dumps(good))
    (folder / "b.json").write_text('[{"timestamp": "2022-07-04T2')
    result = ingest_paths(
        workspace,
        [folder],
        mapping=load_mapping("app_return"),
        params={"investigation": "INV-2", "platform": "WhatsApp"},
        rejects=tmp_path / "r.csv",
    )
    assert result.counts["communications"].loaded == 2
    assert any(
        "b.json" in r["file"] and "JSON" in r["reason"] for r in rejects(result.rejects_file)
    )
    values = workspace.store.rows("SELECT value FROM selectors WHERE kind = 'ip' ORDER BY 1")
    assert values == [("203.0.113.5",), ("5",)]  # text as written, no JSON quotes
    written = time_as_written_sql("c.time", "s.time_original", workspace.store.kind)
    originals = workspace.store.rows(
        f"SELECT {written} FROM communications_sources s "
        "JOIN communications c ON c.event_key = s.event_key "
        "JOIN source_files f ON f.file_id = s.source_file_id WHERE f.name = 'a.json' ORDER BY 1"
    )
    assert originals == [("2022-07-04T21:15:09Z",), ("2022-07-04T21:16:09Z",)]


def test_breakdowns_add_up_to_the_totals(workspace: Workspace, tmp_path: Path) -> None:
    folder = operation(tmp_path)
    with (folder / "investigations.csv").open("a") as fh:
        fh.write("INV-5,CSP,X-5,Omaha,NE,Omaha,2021-01-01,2022-03-01,closed,,,\n")
    with (folder / "drug_seizures.csv").open("a") as fh:
        fh.write("D-10,INV-5,2022-06-01,Omaha,NE,meth,crystal,100,lb,\n")
    ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    r = compute_report(
        workspace, ReportOptions(date_from=date(2022, 5, 1), date_to=date(2023, 5, 1))
    )
    total = r["seizures"]["methamphetamine_lb"]
    for key in ("by_division", "by_state", "by_cartel"):
        assert sum(g["seizures"]["methamphetamine_lb"] for g in r[key]) == total, key


def test_an_unknown_selector_kind_rejects_its_row(workspace: Workspace, tmp_path: Path) -> None:
    # Selector values are normalized before their rows are checked: a row whose kind is
    # blank or unknown must still be a reject, not stop the batch.
    folder = operation(tmp_path)
    with (folder / "selectors.csv").open("a", encoding="utf-8") as fh:
        fh.write("P-90,INV-1,S-1,fax,abc123,\nP-91,INV-1,S-1,,abc124,\n")
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["selectors"].rejected == 2
    assert result.counts["selectors"].loaded == result.counts["selectors"].rows - 2
    reasons = [r["reason"] for r in rejects(result.rejects_file) if r["column"] == "kind"]
    assert reasons[0].startswith("unknown kind 'fax'")
    assert reasons[1] == "required value is missing"


def test_a_file_that_cannot_be_decoded_is_rejected_alone_with_its_name(
    workspace: Workspace, tmp_path: Path
) -> None:
    folder = operation(tmp_path)
    good = "arrest_id,investigation_id,date\nA1,INV-1,2022-06-01\n".encode("utf-16")
    (folder / "arrests.csv").write_bytes(good + b"A")  # an odd byte: not UTF-16 after all
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert workspace.record_counts()["arrests"] == 0
    # Its rows are counted as rejected (the odd byte reads as a line of its own).
    assert result.counts["arrests"].rejected == result.counts["arrests"].rows >= 1
    assert result.counts["drug_seizures"].loaded == 9  # the rest of the batch loads
    (reject,) = [r for r in rejects(result.rejects_file) if "arrests" in r["file"]]
    assert reject["file"].endswith("arrests.csv")
    assert "not valid UTF-16" in reject["reason"] and "middle of a character" in reject["reason"]


_SPACES = " \t\u00a0\u2003\u3000"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(_SPACES) + list("aZ9-é😀\x1f"))) | st.text())
def test_reading_a_field_trims_exactly_as_trim_does(value: str) -> None:
    # The fast path of text_sql skips trim for most values; it must never change one.
    con = duckdb.connect()
    got, want = con.execute(
        f"SELECT {text_sql('$v')}, NULLIF(trim($v), '')", {"v": value}
    ).fetchone() or (None, None)
    assert got == want
