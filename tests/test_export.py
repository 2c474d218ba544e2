"""Exports: CSV cells safe from formula injection, and the comms commands' output for a
terminal and for a pipe (issue 8, items 16 and 27)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.export import csv_safe_sql, safe_cell, safe_table, write_csv
from lastmile.export.tables import fit_table, to_tsv
from lastmile.ingest import ingest_paths
from lastmile.store import open_workspace

ATTACK = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (ATTACK, "'" + ATTACK),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("+1303555|+52331", "'+1303555|+52331"),  # a list of phones is not one phone
        ("+13035550187", "+13035550187"),  # E.164: joinable, and a spreadsheet's number
        ("+442079460958", "+442079460958"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("1e6", "1e6"),
        ("el.guero", "el.guero"),
        ("a=b", "a=b"),
        ("", ""),
        (None, None),
        (12, 12),
    ],
)
def test_safe_cell_follows_owasp(value: object, written: object) -> None:
    assert safe_cell(value) == written


text = st.text(alphabet=st.sampled_from(list("=+-@\t\r0123456789.eE|'a ")), max_size=12)


@settings(max_examples=300, deadline=None)
@given(text)
@example("+0123")
@example("+1234567890123456")  # 16 digits: not E.164
@example("-.5")
def test_the_three_implementations_agree(value: str) -> None:
    """Python, Arrow and DuckDB SQL apply one rule."""
    arrow = safe_table(pa.table({"v": [value]})).column("v")[0].as_py()
    query = f"SELECT {csv_safe_sql('v')} FROM (SELECT ? AS v)"
    (sql,) = duckdb.connect().execute(query, [value]).fetchone()  # type: ignore[misc]
    assert safe_cell(value) == arrow == sql
    if value[:1] in ("=", "@", "\t", "\r"):
        assert str(safe_cell(value)).startswith("'")


@given(text)
@example("'=1+1")  # a value that itself begins with a quote before a formula
@example("'")
def test_a_cell_written_safe_reads_back_as_itself(value: str) -> None:
    """What lastmile reads back from its own CSV (lastmile judge --from a review file)."""
    from lastmile.export.csvsafe import read_cell

    written = safe_cell(value)
    assert isinstance(written, str)
    if written == value:
        # Never quoted: read back as written, unless it looks like a quote put in front.
        assert read_cell(written) in (value, value[1:])
    else:
        assert read_cell(written) == value


def test_write_csv_quotes_text_and_keeps_numbers() -> None:
    table = pa.table({"contact": [ATTACK, "+13035550187"], "events": [3, -4]})
    rows = list(csv.reader(io.StringIO(write_csv(table) or "")))
    assert rows == [["contact", "events"], ["'" + ATTACK, "3"], ["+13035550187", "-4"]]


# -- the comms commands ------------------------------------------------------------------

EVENTS = [
    ("2022-03-01T10:00:00Z", "(303) 555-0101", "+526645550015", "call", "", "60"),
    ("2022-03-02T10:00:00Z", "+526645550015", "303.555.0101", "text", "", ""),
    ("2022-03-03T10:00:00Z", "303 555 0101", "@evil", "app_message", "Instagram", ""),
]


@pytest.fixture
def ws_path(tmp_path: Path) -> str:
    op = tmp_path / "op"
    op.mkdir()
    (op / "agencies.csv").write_text("agency_id,name,kind\nDEA,DEA,federal\n", encoding="utf-8")
    (op / "investigations.csv").write_text(
        "investigation_id,agency_id,division,opened\nINV-1,DEA,Rocky Mountain,2022-01-01\n",
        encoding="utf-8",
    )
    lines = ["communication_id,investigation_id,time,from_selector,to_selector,kind,platform,"]
    lines[0] += "duration_s"
    lines += [f"E-{i},INV-1,{','.join(e)}" for i, e in enumerate(EVENTS)]
    # An account handle that is a formula, as a hostile return could carry.
    lines.append('E-9,INV-1,2022-03-04T10:00:00Z,303 555 0101,"=HYPERLINK(1)",app_message,Kik,')
    (op / "communications.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [op], rejects=tmp_path / "rejects.csv")
    return str(path)


def test_piped_output_is_tsv_with_full_values(ws_path: str) -> None:
    res = CliRunner().invoke(app, ["contacts", "303-555-0101", "-w", ws_path])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["contact", "events", "calls"]
    contacts = {line.split("\t")[0] for line in lines[1:]}
    assert "+526645550015" in contacts  # whole, on one line
    assert any(c.startswith("'=") for c in contacts)  # the formula is neutralized


def test_csv_output_is_neutralized(ws_path: str) -> None:
    res = CliRunner().invoke(app, ["contacts", "303-555-0101", "-w", ws_path, "-f", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    cells = [v for row in rows for v in row.values()]
    assert not any(v.startswith(("=", "@")) for v in cells)
    assert "+526645550015" in cells


def test_a_table_fits_80_columns_and_keeps_phones_whole() -> None:
    data = pa.table(
        {
            "old_selector": ["+526645550015"],
            "new_selector": ["+526645550016"],
            "score": [4 / 9],
            "shared_contacts": [4],
            "old_contacts": [6],
            "new_contacts": [7],
            "gap_days": [3],
            "evidence": ["old silent after 2022-03-10; new first seen 2022-03-12 " * 2],
        }
    )
    table, dropped = fit_table(data, 80, "likely handovers")
    buf = io.StringIO()
    Console(file=buf, width=80).print(table)
    out = buf.getvalue()
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "+526645550015" in out and "+526645550016" in out
    assert "0.44" in out and "0.4444" not in out
    assert "score" in out and "old_selector" not in out  # short headers
    _narrow, dropped_narrow = fit_table(data, 50, "t")
    assert dropped_narrow and "old_selector" not in dropped_narrow
    assert len(dropped_narrow) > len(dropped)


def test_a_conflict_at_80_columns_keeps_whom_to_call() -> None:
    """The point of a conflict is the other side's point of contact: at 80 columns the
    table gives up the asking agency's own columns and the other agency's long name first."""
    data = pa.table(
        {
            "agency_id": ["OK-OKLAHOMACITY-PD"],
            "division": ["Seattle"],
            "target_id": ["P-13bc6d95f020"],
            "target_name": ["Verónica Íngrid Hernández-Vásquez"],
            "other_agency_id": ["CA-DPS"],
            "other_agency": ["California Department of Public Safety"],
            "other_division": ["San Diego"],
            "poc_name": ["Inv. David Glover"],
            "poc_phone": ["+12135550101"],
            "poc_email": ["poc@example.gov"],
            "first_seen": ["2026-11-30 12:00"],
        }
    )
    table, dropped = fit_table(data, 80, "conflicts of AK-DPS (1 rows)")
    buf = io.StringIO()
    Console(file=buf, width=80).print(table)
    out = buf.getvalue()
    assert max(len(line) for line in out.splitlines()) <= 80
    for shown in ("OK-OKLAHOMACITY-PD", "P-13bc6d95f020", "CA-DPS", "+12135550101"):
        assert shown in out
    assert "other_agency" in dropped and "poc_phone" not in dropped


def test_networks_at_80_columns_keep_size_and_places() -> None:
    data = pa.table(
        {
            "network_id": ["N-O-0cc783dc3df9"],
            "upstream": [False],
            "people": [105],
            "organizations": [10],
            "investigations": [8],
            "agencies": ["DEA|FBI|NM-NNPD|USMS"],
            "cities": ["El Paso, TX|Salt Lake City, UT"],
            "states": ["TX|UT"],
            "divisions": ["El Paso|Rocky Mountain"],
            "multi_city": [True],
            "arrests": [4],
            "seizures": [27],
            "communities": [12],
        }
    )
    table, dropped = fit_table(data, 80, "distribution networks (1 rows)")
    buf = io.StringIO()
    Console(file=buf, width=80).print(table)
    out = buf.getvalue()
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "N-O-0cc783dc3df9" in out and "105" in out and "multi-city" in out
    assert "Salt Lake" in out and "cities" not in dropped
    assert {"communities", "states", "upstream"} <= set(dropped)


def test_tsv_escapes_tabs_and_newlines() -> None:
    out = to_tsv(pa.table({"a": ["x\ty\nz", "@x"], "n": [1, 2]}))
    assert out == "a\tn\nx\\ty\\nz\t1\n'@x\t2\n"


def test_markup_in_a_selector_cannot_break_the_table(ws_path: str) -> None:
    res = CliRunner().invoke(app, ["contacts", "[/red]x", "-w", ws_path, "-f", "table"])
    assert res.exit_code == 0, res.output
    assert "[/red]x" in res.stdout
