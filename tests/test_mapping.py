"""Mapped ingest: toll records and platform returns in their own layouts, through the presets."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lastmile.ingest import BatchResult, IngestError, ingest_paths
from lastmile.ingest.mapping import (
    DEFAULT_TIME_FORMATS,
    Mapping,
    MappingError,
    load_mapping,
    parse_mapping,
    presets,
    projection,
    trimmed_columns,
)
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import MEMORY_ENV

from .conftest import SMALL_OPERATION

EXAMPLES = Path(__file__).parent.parent / "src/lastmile/ingest/presets/examples"


@pytest.fixture
def ws(workspace: Workspace, tmp_path: Path) -> Workspace:
    """A workspace holding the small operation (investigations INV-1..INV-4)."""
    ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "base.csv")
    return workspace


def ingest_return(
    ws: Workspace,
    paths: list[Path],
    tmp_path: Path,
    mapping: str | Mapping = "carrier_cdr",
    rejects: str = "r.csv",
) -> BatchResult:
    """Ingest files of a return for INV-1 through a preset (by name) or a mapping."""
    return ingest_paths(
        ws,
        paths,
        mapping=load_mapping(mapping) if isinstance(mapping, str) else mapping,
        params={"investigation": "INV-1"},
        rejects=tmp_path / rejects,
    )


def rejects(path: Path | None) -> list[tuple[int, str, str]]:
    assert path is not None
    with path.open(encoding="utf-8") as fh:
        return [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(fh)]


def sources_of(ws: Workspace, name: str) -> list[tuple[object, ...]]:
    return ws.store.rows(
        "SELECT CAST(c.time AS VARCHAR), c.from_selector, c.to_selector, c.kind, c.duration_s, "
        "s.time_original, s.source_row FROM communications c "
        "JOIN communications_sources s ON s.event_key = c.event_key "
        "JOIN source_files f ON f.file_id = s.source_file_id "
        "WHERE f.path LIKE ? ORDER BY s.source_row",
        (f"%{name}",),
    )


def test_every_preset_documents_an_example_that_exists() -> None:
    assert set(presets()) == {"carrier_cdr", "target_toll", "app_return", "account_return"}
    for mapping in presets().values():
        assert mapping.description
        assert (EXAMPLES.parent / mapping.example).is_file(), mapping.name


def test_carrier_cdr(ws: Workspace, tmp_path: Path) -> None:
    result = ingest_return(ws, [EXAMPLES / "carrier_cdr.csv"], tmp_path)
    c = result.counts["communications"]
    assert (c.rows, c.loaded, c.rejected) == (10, 7, 3)
    assert rejects(result.rejects_file) == [
        (
            9,
            "time",
            "unparseable time 'not a time' (expected ISO 8601, e.g. 2022-07-04T21:15:09-06:00)",
        ),
        (10, "duration_s", "negative value -5"),
        (11, "kind", "unknown kind 'FAX' (allowed: call, text, app_message, app_call)"),
    ]
    rows = sources_of(ws, "carrier_cdr.csv")
    # Mixed date formats in one file, all read as UTC; the text as written is kept.
    assert rows[0][:6] == (
        "2022-07-04 21:15:09",
        "+13035550187",
        "+523355550123",
        "call",
        74,
        "07/04/2022 21:15:09",
    )
    assert rows[2][0] == "2022-07-05 08:02:13" and rows[2][5] == "2022-07-05 08:02:13"
    assert rows[4][0] == "2022-07-05 09:01:55" and rows[4][5] == "7/5/22 09:01:55"
    # An extension is dropped from the number; a vanity number's letters are read.
    assert rows[5][1] == "+13035550187"
    assert rows[6][1] == "+18005550199"


def test_target_centric_rows_are_turned_around(ws: Workspace, tmp_path: Path) -> None:
    result = ingest_return(ws, [EXAMPLES / "target_toll.csv"], tmp_path, "target_toll")
    rows = sources_of(ws, "target_toll.csv")
    assert [(r[1], r[2]) for r in rows] == [
        ("+13035550187", "+17205550150"),  # OUT
        ("+523355550123", "+13035550187"),  # IN: from the other party to the target
        ("+13035550187", "+17205550150"),  # "out", any case
    ]
    found = rejects(result.rejects_file)
    assert [(row, col) for row, col, _ in found] == [(5, "direction"), (6, "direction")]
    assert found[0][2].startswith("blank direction (expected OUT")
    assert found[1][2].startswith("unknown direction 'SIDEWAYS'")


def test_app_return_json(ws: Workspace, tmp_path: Path) -> None:
    result = ingest_paths(
        ws,
        [EXAMPLES / "app_return.json"],
        mapping=load_mapping("app_return"),
        params={"investigation": "INV-2", "platform": "whatsapp"},
        rejects=tmp_path / "r.csv",
    )
    assert result.rejected == 0
    assert result.counts["communications"].loaded == 4
    # Two addresses, one of them in two messages; a message without one makes no selector.
    assert (result.counts["selectors"].loaded, result.counts["selectors"].duplicate) == (2, 1)
    rows = ws.store.rows(
        "SELECT kind, platform, CAST(time AS VARCHAR) FROM communications c "
        "JOIN communications_sources s USING (event_key) "
        "JOIN source_files f ON f.file_id = s.source_file_id WHERE f.path LIKE '%.json' "
        "ORDER BY time"
    )
    assert rows[0] == ("app_message", "WhatsApp", "2022-07-04 21:15:09")
    assert ("app_call", "WhatsApp", "2022-07-04 21:40:00") in rows
    assert ("app_message", "WhatsApp", "2022-07-05 07:02:03") in rows  # -06:00 to UTC
    files = ws.store.rows(
        "SELECT DISTINCT f.path FROM selectors s "
        "JOIN source_files f ON f.file_id = s.source_file_id WHERE s.kind = 'ip'"
    )
    assert files == [(str(EXAMPLES / "app_return.json"),)]  # the file as given, not a copy


def test_account_return(ws: Workspace, tmp_path: Path) -> None:
    result = ingest_paths(
        ws,
        [EXAMPLES / "account_return.csv"],
        mapping=load_mapping("account_return"),
        params={"investigation": "INV-3"},
        rejects=tmp_path / "r.csv",
    )
    assert result.rejected == 0
    accounts = ws.store.rows(
        "SELECT s.platform, s.value_normalized FROM selectors s "
        "JOIN source_files f ON f.file_id = s.source_file_id "
        "WHERE s.kind = 'account' AND f.name = 'account_return.csv' ORDER BY 1, 2"
    )
    assert accounts == [
        ("Instagram", "ana.sells"),
        ("Instagram", "el.guero.example"),
        ("Snapchat", "ana.sells"),
        ("Snapchat", "buyer.one"),
        ("Snapchat", "buyer_two"),
    ]
    links = ws.store.rows(
        "SELECT r.kind, a.value_normalized, b.value_normalized FROM relationships r "
        "JOIN selectors a ON a.selector_id = r.from_id JOIN selectors b ON b.selector_id = r.to_id "
        "JOIN source_files f ON f.file_id = r.source_file_id "
        "WHERE f.name = 'account_return.csv' ORDER BY 1, 2, 3"
    )
    assert links == [
        ("contact_of", "ana.sells", "el.guero.example"),
        ("contact_of", "buyer.one", "ana.sells"),
        ("contact_of", "buyer_two", "ana.sells"),
        ("linked_to", "ana.sells", "+13035550187"),
        ("linked_to", "ana.sells", "ana.sells.example@example.com"),
        ("linked_to", "el.guero.example", "+523355550123"),
    ]
    again = ingest_paths(
        ws,
        [EXAMPLES / "account_return.csv"],
        mapping=load_mapping("account_return"),
        params={"investigation": "INV-3"},
        rejects=tmp_path / "r2.csv",
    )
    assert again.loaded == 0


def test_overlapping_returns_store_each_event_once(ws: Workspace, tmp_path: Path) -> None:
    lines = (EXAMPLES / "carrier_cdr.csv").read_text().splitlines()
    first = tmp_path / "return-1.csv"
    second = tmp_path / "return-2.csv"
    first.write_text("\n".join(lines[:6]) + "\n")
    second.write_text("\n".join([lines[0], *lines[3:8]]) + "\n")  # rows 3-5 are in both
    result = ingest_return(ws, [first, second], tmp_path)
    assert result.counts["communications"].loaded == 10
    events = ws.store.rows(
        "SELECT count(DISTINCT c.event_key), count(*) FROM communications c "
        "JOIN communications_sources s USING (event_key) "
        "JOIN source_files f ON f.file_id = s.source_file_id WHERE f.name LIKE 'return-%'"
    )
    assert events == [(7, 10)]


def test_utf16_xlsx_and_a_truncated_last_line(ws: Workspace, tmp_path: Path) -> None:
    import openpyxl

    text = (EXAMPLES / "carrier_cdr.csv").read_text().splitlines()[:3]
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(("\r\n".join(text) + "\r\n").encode("utf-16"))
    truncated = tmp_path / "truncated.csv"
    truncated.write_text("\n".join(text) + "\n3035550187,72055")
    for path in (utf16, truncated):
        result = ingest_return(ws, [path], tmp_path)
        assert (
            result.counts["communications"].loaded + result.counts["communications"].duplicate == 2
        ), path
    assert rejects(result.rejects_file) == [(4, "start_time", "fewer fields than the header has")]

    mapping = parse_mapping({**_carrier_dict(), "format": "xlsx"}, "xlsx test")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["orig_number", "term_number", "start_time", "duration_sec", "direction", "event_type"]
    )
    sheet.append([3035550187, 7205550150, datetime(2022, 8, 1, 12, 0, 0), 61, "MO", "VOICE"])
    sheet.append([3035550187, None, datetime(2022, 8, 1, 12, 5, 0), 5, "MO", "VOICE"])
    book.save(tmp_path / "cdr.xlsx")
    result = ingest_return(ws, [tmp_path / "cdr.xlsx"], tmp_path, mapping, rejects="x.csv")
    assert result.counts["communications"].loaded == 1
    assert rejects(result.rejects_file) == [(3, "to_selector", "required value is missing")]


def _carrier_dict() -> dict[str, object]:
    import yaml

    return yaml.safe_load((EXAMPLES.parent / "carrier_cdr.yaml").read_text())  # type: ignore[no-any-return]


def test_time_zone_of_a_mapping(ws: Workspace, tmp_path: Path) -> None:
    data = _carrier_dict()
    data["records"][0]["columns"]["time"]["timezone"] = "America/Denver"  # type: ignore[index]
    path = tmp_path / "denver.csv"
    shutil.copy(EXAMPLES / "carrier_cdr.csv", path)
    ingest_return(ws, [path], tmp_path, parse_mapping(data, "denver"))
    first = sources_of(ws, "denver.csv")[0]
    assert first[0] == "2022-07-05 03:15:09"  # 21:15:09 MDT is 03:15:09 UTC
    assert first[5] == "07/04/2022 21:15:09"


def test_mapping_errors_are_clear(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="needs --investigation"):
        ingest_paths(ws, [EXAMPLES / "carrier_cdr.csv"], mapping=load_mapping("carrier_cdr"))
    with pytest.raises(MappingError, match="no mapping 'nope'"):
        load_mapping("nope")
    with pytest.raises(MappingError, match="communications needs"):
        parse_mapping({"records": [{"record_type": "communications", "columns": {}}]}, "x")
    bad = tmp_path / "cdr.csv"
    bad.write_text("orig,term\n1,2\n")
    result = ingest_return(ws, [bad], tmp_path)
    assert rejects(result.rejects_file)[0][:2] == (1, "duration_sec")


@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)),
    fmt=st.sampled_from(DEFAULT_TIME_FORMATS),
)
def test_every_default_time_format_reads_back_to_the_same_utc_time(
    moment: datetime, fmt: str
) -> None:
    moment = moment.replace(microsecond=0)
    if "%S" not in fmt:
        moment = moment.replace(second=0)
    written = moment.strftime(fmt)
    rec = load_mapping("carrier_cdr").records[0]
    exprs, names = projection(rec, {"investigation": "X"})
    # The mapping passes the time it read, in UTC, typed (the text as written beside it).
    time_expr = exprs[names.index("time__parsed")]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    (value,) = con.execute(
        f"SELECT {time_expr} FROM (SELECT ? AS start_time, '' AS orig_number, "
        f"'' AS term_number, '' AS event_type, '' AS duration_sec, '' AS direction)",
        [written],
    ).fetchone()  # type: ignore[misc]
    assert value.replace(tzinfo=UTC) == moment.replace(tzinfo=UTC)


def test_cli_mapped_ingest_and_analyses(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from lastmile.cli import app

    runner = CliRunner()
    w = ["--workspace", str(tmp_path / "w.duckdb")]
    assert runner.invoke(app, ["ingest", str(SMALL_OPERATION), *w]).exit_code == 0
    res = runner.invoke(
        app,
        [
            "ingest",
            str(EXAMPLES / "carrier_cdr.csv"),
            "--mapping",
            "carrier_cdr",
            "--investigation",
            "INV-1",
            "--rejects",
            str(tmp_path / "r.csv"),
            *w,
        ],
    )
    assert res.exit_code == 0, res.output
    assert "rejected" in res.stderr and "carrier_cdr.csv:9" in res.stderr
    res = runner.invoke(app, ["contacts", "(303) 555-0187", "--format", "json", *w])
    top = json.loads(res.stdout)[0]
    assert (top["contact"], top["events"]) == ("+17205550150", 4)  # carrier rows 4-7
    res = runner.invoke(app, ["common", "3035550187", "+523312345678", "--format", "csv", *w])
    assert res.exit_code == 0 and res.stdout.startswith('"contact","targets"')
    res = runner.invoke(app, ["timeline", "S-1", "--format", "json", *w])
    assert sum(row["events"] for row in json.loads(res.stdout)) > 0
    res = runner.invoke(app, ["handovers", "--format", "json", *w])
    assert res.exit_code == 0 and json.loads(res.stdout) == []
    res = runner.invoke(
        app, ["ingest", str(EXAMPLES / "carrier_cdr.csv"), "--investigation", "INV-1", *w]
    )
    assert res.exit_code == 1 and "go with --mapping" in res.stderr
    res = runner.invoke(app, ["mappings"])
    assert "lastmile ingest --mapping carrier_cdr --investigation ID" in res.stdout


def _write_cdr(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (SELECT '303555' || lpad(CAST(i % 9000 + 1000 AS VARCHAR), 4, '0') AS orig_number,
                     '720555' || lpad(CAST((i * 7) % 9000 + 1000 AS VARCHAR), 4, '0')
                         AS term_number,
                     strftime(TIMESTAMP '2022-05-01' + to_seconds(i * 11), '%m/%d/%Y %H:%M:%S')
                         AS start_time,
                     i % 600 AS duration_sec, 'MO' AS direction, 'VOICE' AS event_type
              FROM range({rows}) t(i))
        TO '{path}' (HEADER)
        """
    )
    con.close()


def _ingest_cdr(tmp_path: Path, path: Path) -> tuple[Workspace, BatchResult]:
    small = open_workspace(tmp_path / "small-memory.duckdb")
    base = [SMALL_OPERATION / "agencies.csv", SMALL_OPERATION / "investigations.csv"]
    ingest_paths(small, base, rejects=tmp_path / "r0.csv")
    result = ingest_return(small, [path], tmp_path)
    return small, result


def test_a_return_larger_than_the_memory_bound_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The text read, the checked rows and the events of this file take several times the
    # bound: DuckDB must spill them to disk rather than fail, and lose no row.
    monkeypatch.setenv(MEMORY_ENV, "40MB")
    rows = 300_000
    _write_cdr(tmp_path / "cdr.csv", rows)
    small, result = _ingest_cdr(tmp_path, tmp_path / "cdr.csv")
    with small:
        assert (result.loaded, result.rejected) == (rows, 0)
        assert small.record_counts()["communications"] == rows
        # Spilled or not, each row keeps its own line: row i of the file was written at
        # i * 11 seconds past the start.
        misplaced = small.store.rows(
            "SELECT count(*) FROM communications_sources WHERE strptime(time_original, "
            "'%m/%d/%Y %H:%M:%S') <> TIMESTAMP '2022-05-01' + to_seconds((source_row - 2) * 11)"
        )
        assert misplaced == [(0,)]


def test_a_bound_too_small_to_work_in_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MEMORY_ENV, "4MB")
    _write_cdr(tmp_path / "cdr.csv", 300_000)
    with pytest.raises(IngestError) as err:
        _ingest_cdr(tmp_path, tmp_path / "cdr.csv")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("the batch was not loaded: Out of Memory")
    assert message.endswith("(the bound is LASTMILE_MEMORY_LIMIT=4MB; raise it)")


def test_constants_with_spaces_are_trimmed_as_source_cells_are(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Validation skips its trim where the mapping trimmed already (trimmed_columns): a
    constant or a mapped value with spaces at either end is still trimmed, as a cell is."""
    ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "base.csv")
    data = _carrier_dict()
    records = data["records"]
    assert isinstance(records, list)
    columns = records[0]["columns"]
    columns["kind"] = {"column": "event_type", "map": {"VOICE": " call ", "SMS": "text"}}
    mapping = parse_mapping(data, "spaces")
    assert trimmed_columns(mapping.records[0], {"investigation": " INV-1"}) == {
        "time",
        "from_selector",
        "to_selector",
        "duration_s",
    }
    assert "investigation_id" in trimmed_columns(mapping.records[0], {"investigation": "INV-1"})
    path = tmp_path / "cdr.csv"
    path.write_text(
        "orig_number,term_number,start_time,duration_sec,direction,event_type\n"
        " 3035550187 ,3035550188,2022-07-04 21:15:09,60,MO,VOICE\n"
        "3035550188,3035550187,2022-07-04 21:16:09, 0 ,MT,SMS\n",
        encoding="utf-8",
    )
    result = ingest_paths(
        workspace,
        [path],
        mapping=mapping,
        params={"investigation": " INV-1 "},
        rejects=tmp_path / "r.csv",
    )
    assert (result.loaded, result.rejected) == (2, 0)
    rows = workspace.store.rows(
        "SELECT s.investigation_id, c.kind, c.from_selector, s.from_selector_raw, c.duration_s "
        "FROM communications c JOIN communications_sources s USING (event_key) "
        "JOIN source_files f ON f.file_id = s.source_file_id WHERE f.name = 'cdr.csv' "
        "ORDER BY s.source_row"
    )
    assert rows == [
        ("INV-1", "call", "+13035550187", "3035550187", 60),
        ("INV-1", "text", "+13035550188", "3035550188", 0),
    ]


def test_a_column_the_mapping_does_not_read_still_counts_its_fields(
    ws: Workspace, tmp_path: Path
) -> None:
    """Only the columns a mapping reads are staged, but every line is still split on the
    whole header: a line with a field too many or too few is rejected where it is, whatever
    the unread column (direction) holds, and the rows below keep their own line numbers."""
    path = tmp_path / "cdr.csv"
    path.write_text(
        "orig_number,term_number,start_time,duration_sec,direction,event_type\n"
        "3035550187,3035550188,2022-07-04 21:15:09,60,anything at all,VOICE\n"
        "3035550188,3035550187,2022-07-04 21:16:09,0,MO,extra,SMS\n"
        "3035550188,3035550187,2022-07-04 21:17:09,5,VOICE\n"
        "3035550189,3035550187,2022-07-04 21:18:09,7,,VOICE\n",
        encoding="utf-8",
    )
    result = ingest_return(ws, [path], tmp_path)
    assert (result.loaded, result.rejected) == (2, 2)
    assert [(row, reason) for row, _, reason in rejects(result.rejects_file)] == [
        (3, "more fields than the header has"),
        (4, "fewer fields than the header has"),
    ]
    assert [(r[1], r[4], r[6]) for r in sources_of(ws, "cdr.csv")] == [
        ("+13035550187", 60, 2),
        ("+13035550189", 7, 5),
    ]
