"""The operation report on a hand-made operation, against totals computed by hand."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.report import ReportError, ReportOptions, compute_report
from lastmile.store import Workspace
from lastmile.units import DoseMethod

from .conftest import SMALL_OPERATION

LB = 453.59237
OZ = 28.349523125
WINDOW = ReportOptions(date_from=date(2022, 5, 1), date_to=date(2023, 5, 1))


@pytest.fixture
def loaded(workspace: Workspace, tmp_path: Path) -> Workspace:
    result = ingest_paths(workspace, [SMALL_OPERATION], rejects=tmp_path / "rej.csv")
    assert result.rejected == 0
    return workspace


def test_operation_totals_match_hand_count(loaded: Workspace) -> None:
    r = compute_report(loaded, WINDOW)
    # INV-4 closed in 2021, before the window; INV-1..3 overlap it.
    assert r["investigations"] == 3
    # A-1..A-5; A-6 (2023-06-01) is after the window and A-7 (2021) before it.
    assert r["arrests"] == 5
    s = r["seizures"]
    assert s["fentanyl_pills"] == 10_000 + 5_000  # D-9 (2021) is outside
    powder_g = 2_000 + 1 * LB  # D-2 2 kg, D-6 1 lb
    assert s["fentanyl_powder_lb"] == pytest.approx(powder_g / LB, abs=1e-3)
    assert s["methamphetamine_lb"] == pytest.approx(10 + 500 * OZ / LB, abs=1e-3)  # 41.25
    assert s["cocaine_lb"] == pytest.approx(3_000 / LB, abs=1e-3)
    assert s["heroin_lb"] == pytest.approx(500 / LB, abs=1e-3)
    assert s["firearms"] == 3 + 2
    # M-1 $25,000; M-2 MXN with its stated $500; M-3 blank currency is USD; M-4 EUR unstated.
    assert s["currency_usd"] == 25_000 + 500 + 5_000
    assert s["currency_other"] == [{"currency": "EUR", "amount": 2_000}]
    doses = 15_000 * 0.6 + powder_g * 1_000 * 0.113 / 2
    assert r["deadly_doses"] == round(doses)
    assert r["dose_method"]["lethal_dose_mg"] == 2.0
    assert r["dose_method"]["pill_lethal_share"] == 0.6
    assert r["dose_method"]["powder_purity"] == 0.113


def test_platform_cases_follow_the_counting_rule(loaded: Workspace) -> None:
    pc = compute_report(loaded, WINDOW)["platform_cases"]
    # INV-1: Snapchat account. INV-2: WhatsApp phone and message. INV-3: Instagram account
    # and a Telegram message.
    assert pc["by_platform"] == {"Instagram": 1, "Snapchat": 1, "Telegram": 1, "WhatsApp": 1}
    assert (pc["any"], pc["social_media"], pc["encrypted"]) == (3, 2, 2)


def test_breakdowns_by_division_state_and_cartel(loaded: Workspace) -> None:
    r = compute_report(loaded, WINDOW)
    by_division = {row["name"]: row for row in r["by_division"]}
    assert set(by_division) == {"Rocky Mountain", "New England"}
    rm = by_division["Rocky Mountain"]
    assert (rm["investigations"], rm["arrests"]) == (2, 3)
    assert rm["seizures"]["fentanyl_pills"] == 15_000
    assert rm["deadly_doses"] == round(15_000 * 0.6 + 2_000_000 * 0.113 / 2)
    assert rm["platform_cases"] == {"any": 2, "social_media": 1, "encrypted": 1}
    by_cartel = {row["name"]: row["investigations"] for row in r["by_cartel"]}
    assert by_cartel == {"Sinaloa": 2, "Jalisco": 1}  # "Sinaloa Cartel" and "CJNG" canonical
    by_state = {row["name"]: row["investigations"] for row in r["by_state"]}
    assert by_state == {"CO": 2, "MA": 1}
    for key in ("investigations", "arrests", "deadly_doses"):
        assert sum(row[key] for row in r["by_division"]) == r[key]


def test_division_filter_is_case_insensitive(loaded: Workspace) -> None:
    r = compute_report(loaded, ReportOptions(division="rocky mountain"))
    assert r["filters"]["division"] == "Rocky Mountain"
    assert r["investigations"] == 2
    with pytest.raises(ReportError, match="unknown division"):
        compute_report(loaded, ReportOptions(division="Gotham"))


def test_without_a_window_everything_counts(loaded: Workspace) -> None:
    r = compute_report(loaded)
    assert r["investigations"] == 4
    assert r["arrests"] == 7
    assert r["seizures"]["fentanyl_pills"] == 15_999


def test_dose_parameters_are_applied_and_printed(loaded: Workspace) -> None:
    method = DoseMethod(lethal_dose_mg=2.0, pill_lethal_share=1.0, powder_purity=0.05)
    r = compute_report(
        loaded,
        ReportOptions(date_from=date(2022, 5, 1), date_to=date(2023, 5, 1), dose_method=method),
    )
    assert r["dose_method"]["pill_lethal_share"] == 1.0
    assert r["deadly_doses"] == round(15_000 + (2_000 + LB) * 1_000 * 0.05 / 2)


def test_by_month(loaded: Workspace) -> None:
    months = {m["month"]: m for m in compute_report(loaded, WINDOW)["by_month"]}
    assert months["2022-06"]["arrests"] == 1
    assert months["2022-06"]["fentanyl_pills"] == 10_000
    assert months["2023-01"]["arrests"] == 2
    assert sum(m["investigations_opened"] for m in months.values()) == 3


def test_cli_ingest_then_report(workspace_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "ingest",
            str(SMALL_OPERATION),
            "-w",
            workspace_url,
            "--format",
            "json",
            "--rejects",
            str(tmp_path / "r.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["loaded"] == 48
    out = tmp_path / "report.json"
    res = runner.invoke(
        app,
        [
            "report",
            "-w",
            workspace_url,
            "--from",
            "2022-05-01",
            "--to",
            "2023-05-01",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    for key in (
        "investigations",
        "arrests",
        "seizures",
        "deadly_doses",
        "dose_method",
        "platform_cases",
        "by_division",
        "by_state",
        "by_cartel",
    ):
        assert key in report
    assert report["investigations"] == 3
    for fmt, marker in (("md", "## Methods"), ("html", "<svg")):
        res = runner.invoke(app, ["report", "-w", workspace_url, "--format", fmt])
        assert res.exit_code == 0 and marker in res.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["report", "-w", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 1
    assert res.stderr.strip().count("\n") == 0
    assert "no workspace" in res.stderr
    res = runner.invoke(
        app, ["ingest", str(tmp_path / "missing"), "-w", str(tmp_path / "w.duckdb")]
    )
    assert res.exit_code == 1 and "no such file" in res.stderr
