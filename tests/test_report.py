"""The operation report on a hand-made operation, against totals computed by hand."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.model import DIVISIONS
from lastmile.report import ReportError, ReportOptions, compute_report, render_report
from lastmile.report.compute import Tally
from lastmile.store import Workspace, open_workspace
from lastmile.units import DoseMethod

from .conftest import SMALL_OPERATION

LB = 453.59237
OZ = 28.349523125
WINDOW = ReportOptions(date_from=date(2022, 5, 1), date_to=date(2023, 5, 1))


@pytest.fixture(scope="module")
def small_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small operation ingested once per module into a DuckDB file, copied per test (the
    ingest is what costs; mutation testing runs this module once per mutant)."""
    folder = tmp_path_factory.mktemp("small")
    path = folder / "small.duckdb"
    ws = open_workspace(str(path))
    try:
        assert ingest_paths(ws, [SMALL_OPERATION], rejects=folder / "rej.csv").rejected == 0
    finally:
        ws.close()
    return path


@pytest.fixture
def loaded(workspace_url: str, small_duckdb: Path, tmp_path: Path) -> Iterator[Workspace]:
    if workspace_url.endswith(".duckdb"):
        shutil.copyfile(small_duckdb, workspace_url)
        ws = open_workspace(workspace_url)
    else:
        ws = open_workspace(workspace_url)
        assert ingest_paths(ws, [SMALL_OPERATION], rejects=tmp_path / "rej.csv").rejected == 0
    yield ws
    ws.close()


def test_operation_totals_match_hand_count(loaded: Workspace) -> None:
    r = compute_report(loaded, WINDOW)
    # INV-4 closed in 2021, before the window; INV-1..3 overlap it.
    assert r["investigations"] == 3
    # A-1..A-5; A-6 (2023-06-01) is after the window and A-7 (2021) before it.
    assert r["arrests"] == 5
    s = r["seizures"]
    assert s["fentanyl_pills"] == 10_000 + 5_000  # D-9 (2021) is outside
    powder_g = 2_000 + 1 * LB  # D-2 2 kg, D-6 1 lb
    # Pounds carry one decimal, the figure the Markdown and HTML show (issue 8, item 21);
    # the exact mass of fentanyl powder the doses use is given in milligrams.
    assert s["fentanyl_powder_lb"] == 5.4  # 5.409
    assert r["dose_method"]["fentanyl_powder_mg"] == round(powder_g * 1000)
    assert s["methamphetamine_lb"] == 41.3  # 41.25 rounds half up
    assert s["cocaine_lb"] == 6.6  # 6.614
    assert s["heroin_lb"] == 1.1  # 1.102
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


def test_division_filter_takes_the_word_division_and_names_the_divisions(
    loaded: Workspace,
) -> None:
    r = compute_report(loaded, ReportOptions(division="  New England DIVISION "))
    assert r["filters"]["division"] == "New England"
    assert r["investigations"] == 1
    with pytest.raises(ReportError) as error:
        compute_report(loaded, ReportOptions(division="Gotham Division"))
    assert str(error.value) == (
        f"unknown division 'Gotham Division'; DEA's divisions are: {', '.join(DIVISIONS)}"
    )


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ReportError) as error:
        ReportOptions(date_from=date(2023, 1, 2), date_to=date(2023, 1, 1))
    assert str(error.value) == "--from 2023-01-02 is after --to 2023-01-01"


@pytest.mark.parametrize(
    "counters",
    [
        {"investigations": 1},
        {"arrests": 1},
        {"fentanyl_pills": 1.0},
        {"firearms": 1},
        {"currency_usd": 1.0},
    ],
)
def test_a_group_with_any_one_figure_is_reported(counters: dict[str, float]) -> None:
    """A group stays in the breakdowns when it has anything at all to report."""
    assert not Tally()
    assert Tally(**counters)  # type: ignore[arg-type]
    other = Tally()
    other.other_pills["methamphetamine"] = 5
    assert other
    seized = Tally()
    seized.grams["cocaine"] = 1.0
    assert seized
    foreign = Tally()
    foreign.currency_other["EUR"] = 10.0
    assert foreign


def test_seizure_figures_carry_every_drug_and_round_money_to_cents(loaded: Workspace) -> None:
    s = compute_report(loaded, WINDOW)["seizures"]
    assert set(s) == {
        "fentanyl_pills",
        "fentanyl_powder_lb",
        "methamphetamine_lb",
        "cocaine_lb",
        "heroin_lb",
        "cannabis_lb",
        "other_drugs_lb",
        "other_pills",
        "other_pills_by_drug",
        "firearms",
        "currency_usd",
        "currency_other",
    }
    assert s["cannabis_lb"] == 0
    cents = Tally(currency_usd=1_234.5678)
    cents.currency_other["EUR"] = 10.0049
    assert cents.seizures()["currency_usd"] == 1_234.57
    assert cents.seizures()["currency_other"] == [{"currency": "EUR", "amount": 10.0}]


def test_provenance_names_the_store_batches_and_records(loaded: Workspace) -> None:
    p = compute_report(loaded)["provenance"]
    assert (p["store"], p["schema_version"]) == (loaded.kind, loaded.schema_version)
    assert (p["batches"], p["source_files"], p["rejected_rows"]) == (1, 11, 0)
    assert "batches" not in p["records"] and "source_files" not in p["records"]
    assert (p["records"]["arrests"], p["records"]["drug_seizures"]) == (7, 9)
    # the agencies of the counted investigations, in a fixed order
    assert compute_report(loaded)["agency_kinds"] == ["federal", "state", "local"]


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
    assert set(months["2022-06"]) == {
        "month",
        "investigations_opened",
        "arrests",
        "drug_seizures",
        "fentanyl_pills",
        "fentanyl_powder_lb",
        "deadly_doses",
    }
    assert sum(m["fentanyl_powder_lb"] for m in months.values()) == pytest.approx(5.4, abs=0.1)


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


def test_an_investigation_closed_on_the_first_day_counts(loaded: Workspace) -> None:
    """Issue 8, item 26: INV-4 closed on 2021-12-31; the window is inclusive."""
    on = compute_report(loaded, ReportOptions(date_from=date(2021, 12, 31)))
    after = compute_report(loaded, ReportOptions(date_from=date(2022, 1, 1)))
    assert on["investigations"] == after["investigations"] + 1 == 4
    # Opened on the last day counts too (INV-2 opened 2022-08-01).
    assert compute_report(loaded, ReportOptions(date_to=date(2022, 8, 1)))["investigations"] == 4
    assert compute_report(loaded, ReportOptions(date_to=date(2022, 7, 31)))["investigations"] == 3
    # Seizures on either edge day count (D-9 on 2021-05-01).
    edge = ReportOptions(date_from=date(2021, 5, 1), date_to=date(2021, 5, 1))
    assert compute_report(loaded, edge)["seizures"]["fentanyl_pills"] == 999


def test_pills_of_other_drugs_are_counted(loaded: Workspace, tmp_path: Path) -> None:
    """Issue 8, item 20: methamphetamine pills were neither weighed nor counted."""
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "drug_seizures.csv").write_text(
        "seizure_id,investigation_id,date,drug,form,quantity,unit\n"
        "M-1,INV-1,2022-07-01,methamphetamine,pill,1200,count\n"
        "M-2,INV-3,2022-07-02,other,pill,30,count\n"
        "M-3,INV-3,2022-07-03,methamphetamine,pill,5,count\n"
        "M-4,INV-3,2022-08-04,methamphetamine,pill,7,count\n",  # INV-3's second month
        encoding="utf-8",
    )
    assert ingest_paths(loaded, [extra], rejects=tmp_path / "r2.csv").loaded == 4
    r = compute_report(loaded, WINDOW)
    s = r["seizures"]
    assert s["fentanyl_pills"] == 15_000  # unchanged: only fentanyl pills make doses
    assert s["other_pills"] == 1_242
    assert s["other_pills_by_drug"] == [
        {"drug": "methamphetamine", "pills": 1_212},
        {"drug": "other", "pills": 30},
    ]
    sinaloa = next(c for c in r["by_cartel"] if c["name"] == "Sinaloa")
    assert sinaloa["seizures"]["other_pills"] == 1_242
    md = render_report(r, "md")
    assert "| Pills of other drugs | 1,242 | pills |" in md
    assert "| Pills of other drugs: methamphetamine | 1,212 | pills |" in md
    assert "1,242 pills of other drugs" in md


def test_worked_dose_arithmetic_reproduces_on_a_calculator(loaded: Workspace) -> None:
    """Issue 8, item 17: the figures shown are the figures used."""
    r = compute_report(loaded, WINDOW)
    md = render_report(r, "md")
    worked = " ".join(md.split("### Deadly doses", 1)[1].split("### Counting", 1)[0].split())
    m = re.search(
        r"([\d,]+) pills × ([\d.]+) = ([\d,]+) pill doses\. [\d,.]+ lb of powder = ([\d,]+) mg "
        r".*?; \4 mg × ([\d.]+) ÷ ([\d.]+) mg = ([\d,]+) powder doses\. \3 \+ \7 = ([\d,]+) "
        "deadly doses",
        worked,
    )
    assert m, worked
    pills, share, pill_doses, mg, purity, lethal, powder_doses, total = (
        Decimal(g.replace(",", "")) for g in m.groups()
    )
    assert pills * share == pill_doses  # 15,000 x 0.6
    assert (mg * purity / lethal).quantize(Decimal(1), ROUND_HALF_UP) == powder_doses
    assert pill_doses + powder_doses == total == r["deadly_doses"]
    assert mg == round((2_000 + LB) * 1000)
    assert "Rounding happens in two places only" in worked


def test_the_report_says_purity_is_fitted_not_measured(loaded: Workspace) -> None:
    """Issue 8, item 18: purity is the value fitted to the published figure."""
    for fmt in ("md", "html"):
        page = render_report(compute_report(loaded, WINDOW), fmt)
        text = " ".join(html.unescape(page).split())
        assert "It is not a laboratory measurement" in text
        assert "fitted so that the method reproduces the operation's published figure" in text
        assert "laboratory purity recorded with an exhibit is not used" in text


def test_platforms_count_investigations_and_agency_kinds_are_listed_in_order(
    loaded: Workspace, tmp_path: Path
) -> None:
    """A platform counts every counted investigation that used it (INV-1 now has an
    Instagram account too, as INV-3 has), in alphabetical order whatever the case; a tribal
    agency's investigation adds ``tribal`` after the others; the title and window are
    echoed."""
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "agencies.csv").write_text(
        "agency_id,name,kind\nTPD,Example Tribal Police,tribal\n", encoding="utf-8"
    )
    (extra / "investigations.csv").write_text(
        "investigation_id,agency_id,division,opened\nINV-9,TPD,Rocky Mountain,2022-06-01\n",
        encoding="utf-8",
    )
    (extra / "selectors.csv").write_text(
        "selector_id,investigation_id,kind,value,platform\n"
        "P-9,INV-1,account,@another.example,Instagram\n"
        "P-10,INV-2,account,+1 303 555 0111,iMessage\n",
        encoding="utf-8",
    )
    assert ingest_paths(loaded, [extra], rejects=tmp_path / "r2.csv").rejected == 0
    r = compute_report(loaded, replace(WINDOW, title="Operation Example"))
    by_platform = r["platform_cases"]["by_platform"]
    assert by_platform == {
        "iMessage": 1,
        "Instagram": 2,
        "Snapchat": 1,
        "Telegram": 1,
        "WhatsApp": 1,
    }
    assert list(by_platform) == ["iMessage", "Instagram", "Snapchat", "Telegram", "WhatsApp"]
    assert r["agency_kinds"] == ["federal", "local", "tribal"]
    assert r["title"] == "Operation Example"
    assert r["filters"] == {"from": "2022-05-01", "to": "2023-05-01", "division": None}
