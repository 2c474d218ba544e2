"""The main job end to end: the synthetic operation, ingested and reported by lastmile,
reproduces the published figures (issue 3's calibration, checked through the report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.pipeline import DemoResult, run_demo


def within(value: float, target: float, tolerance: float = 0.02) -> bool:
    return abs(value - target) <= tolerance * target


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("national")
    return run_demo(out, scale="national", communications=150_000)


@pytest.fixture(scope="module")
def division(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("division")
    return run_demo(out, scale="division", communications=50_000)


def by_name(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in rows if r["name"] == name)


@pytest.mark.slow
def test_national_report_matches_the_operation(national: DemoResult) -> None:
    r = national.report
    assert national.batch.rejected == 0
    assert r["investigations"] == 1_436
    assert r["arrests"] == 3_337
    s = r["seizures"]
    assert within(s["fentanyl_pills"], 44_000_000)
    assert within(s["fentanyl_powder_lb"], 6_500)
    assert within(s["methamphetamine_lb"], 91_000)
    assert within(s["firearms"], 8_497)
    assert within(s["currency_usd"], 100_000_000)
    assert within(r["deadly_doses"], 193_000_000)
    assert within(r["platform_cases"]["any"], 1_100)
    assert national.html.read_text().count("<svg") >= 3


@pytest.mark.slow
def test_published_divisions_inside_the_national_operation(national: DemoResult) -> None:
    divisions = national.report["by_division"]
    assert len(divisions) == 23
    louisville = by_name(divisions, "Louisville")
    assert (louisville["investigations"], louisville["arrests"]) == (28, 137)
    assert within(louisville["deadly_doses"], 1_762_240)
    assert within(louisville["seizures"]["methamphetamine_lb"], 544)
    assert louisville["seizures"]["firearms"] == 621
    assert louisville["seizures"]["currency_usd"] > 4_000_000
    omaha = by_name(divisions, "Omaha")
    assert (omaha["investigations"], omaha["arrests"], omaha["seizures"]["firearms"]) == (
        26,
        87,
        60,
    )
    detroit = by_name(divisions, "Detroit")
    assert detroit["deadly_doses"] > 3_800_000
    assert within(detroit["seizures"]["methamphetamine_lb"], 201)


def assert_rocky_mountain(row: dict[str, Any]) -> None:
    assert (row["investigations"], row["arrests"]) == (72, 65)
    s = row["seizures"]
    assert within(s["fentanyl_pills"], 375_000)
    assert within(s["fentanyl_powder_lb"], 25)
    assert within(s["methamphetamine_lb"], 126)
    assert within(s["firearms"], 100)
    assert within(s["currency_usd"], 1_800_000)
    assert row["deadly_doses"] > 865_000
    assert (row["platform_cases"]["social_media"], row["platform_cases"]["encrypted"]) == (17, 25)


@pytest.mark.slow
def test_rocky_mountain_inside_the_national_operation(national: DemoResult) -> None:
    assert_rocky_mountain(by_name(national.report["by_division"], "Rocky Mountain"))


def test_division_scale_is_the_rocky_mountain_division(division: DemoResult) -> None:
    r = division.report
    assert [d["name"] for d in r["by_division"]] == ["Rocky Mountain"]
    assert_rocky_mountain({**r, "name": "Rocky Mountain"})
    cartels = {row["name"]: row["investigations"] for row in r["by_cartel"]}
    assert cartels == {"Sinaloa": 60, "Jalisco": 12}
    # after the demo's network analysis: every counted investigation is in one class
    labels = r["cartel_labels"]
    parts = ("agree", "disagree", "unattributed", "no_label", "upstream", "not_in_network")
    assert sum(labels[k] for k in parts) == labels["investigations"] == 72
    assert r["networks"]["mapped"] > 0 and labels["agree"] > labels["disagree"]
    attributed = sum(row["investigations"] for row in r["by_attributed_cartel"])
    assert attributed == r["investigations"]


def test_demo_command_on_the_tiny_operation(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["demo", "--scale", "tiny", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "deadly doses" in res.stdout
    assert "subject records into" in res.stdout and "conflicts" in res.stdout
    for name in ("report.html", "report.json", "report.md", "lastmile.duckdb"):
        assert (tmp_path / name).exists()
    # the demo analyzes the networks, stores them, and prints the report's networks section
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["networks"]["analysis"]["fresh"]
    assert f"  networks mapped     {report['networks']['mapped']:>14,}" in res.stdout
    assert f"  labels agree        {report['cartel_labels']['agree']:>14,}" in res.stdout
    assert "key players of the largest networks:" in res.stdout
    assert "## Networks" in (tmp_path / "report.md").read_text(encoding="utf-8")
