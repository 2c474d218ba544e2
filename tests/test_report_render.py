"""The report renderers: Markdown, HTML and JSON from a report dict.

The report dict is computed elsewhere; these tests build it by hand, once like the May 2023
announcement of Operation Last Mile, once small, and once for an empty operation.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from lastmile.report.charts import compact_number, text_bars
from lastmile.report.render import (
    fmt_count,
    fmt_lb,
    fmt_usd,
    in_words,
    render_html,
    render_json,
    render_markdown,
)

HOSTILE = "<script>alert(1)</script>"


def _seizures(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fentanyl_pills": 0,
        "fentanyl_powder_lb": 0.0,
        "methamphetamine_lb": 0.0,
        "cocaine_lb": 0.0,
        "heroin_lb": 0.0,
        "cannabis_lb": 0.0,
        "other_drugs_lb": 0.0,
        "firearms": 0,
        "currency_usd": 0.0,
        "currency_other": [],
    }
    base.update(values)
    return base


def _row(name: str, inv: int, arrests: int, doses: float, **seized: float) -> dict[str, Any]:
    return {
        "name": name,
        "investigations": inv,
        "arrests": arrests,
        "seizures": _seizures(**seized),
        "deadly_doses": doses,
        "platform_cases": {"any": inv // 2, "social_media": inv // 3, "encrypted": inv // 4},
    }


def make_report(**overrides: Any) -> dict[str, Any]:
    """A small operation report, shaped like the one report compute produces."""
    report: dict[str, Any] = {
        "title": "Operation report",
        "generated_at": "2026-11-27T22:00:00Z",
        "command": "lastmile report --format html",
        "filters": {"from": "2022-05-01", "to": "2023-05-01", "division": None},
        "investigations": 14,
        "arrests": 33,
        "seizures": _seizures(
            fentanyl_pills=4400,
            fentanyl_powder_lb=6.5,
            methamphetamine_lb=1910.25,
            cocaine_lb=12.04,
            firearms=84,
            currency_usd=1_234_567.0,
            currency_other=[{"currency": "MXN", "amount": 5000.0}],
        ),
        "deadly_doses": 169_181.0,
        "dose_method": {
            "lethal_dose_mg": 2.0,
            "pill_lethal_share": 0.6,
            "powder_purity": 0.113,
            "pill_doses": 2640.0,
            "powder_doses": 166_541.0,
        },
        "platform_cases": {
            "any": 11,
            "social_media": 7,
            "encrypted": 6,
            "by_platform": {"Snapchat": 4, "Facebook": 3, "WhatsApp": 3, "Telegram": 2, "Kik": 1},
            "social_media_platforms": ["Facebook", "Instagram", "Snapchat", "TikTok"],
            "encrypted_platforms": ["Signal", "Telegram", "WhatsApp", "Wickr", "Wire"],
        },
        "by_division": [
            _row("Rocky Mountain", 8, 20, 100_000.0, fentanyl_pills=4000, fentanyl_powder_lb=3.0),
            _row("Phoenix", 6, 13, 69_181.0, fentanyl_pills=400, fentanyl_powder_lb=3.5),
        ],
        "by_state": [
            _row("CO", 8, 20, 100_000.0, fentanyl_pills=4000, fentanyl_powder_lb=3.0),
            _row("AZ", 6, 13, 69_181.0, fentanyl_pills=400, fentanyl_powder_lb=3.5),
        ],
        "by_cartel": [
            _row("Sinaloa", 9, 25, 150_000.0, fentanyl_pills=4400, heroin_lb=2.25),
            _row("Unattributed", 5, 8, 19_181.0, fentanyl_powder_lb=6.5),
        ],
        "by_month": [
            {
                "month": "2022-05",
                "investigations_opened": 9,
                "arrests": 20,
                "drug_seizures": 30,
                "deadly_doses": 150_000.0,
            },
            {
                "month": "2022-06",
                "investigations_opened": 5,
                "arrests": 13,
                "drug_seizures": 12,
                "deadly_doses": 19_181.0,
            },
        ],
        "provenance": {
            "batches": 3,
            "records": {"investigations": 14, "subjects": 90, "seizures": 42},
            "rejected_rows": 12,
            "store": "duckdb",
        },
    }
    report.update(overrides)
    return report


def make_last_mile() -> dict[str, Any]:
    """The national figures of the announcement (as in the design notes)."""
    return make_report(
        investigations=1436,
        arrests=3337,
        seizures=_seizures(
            fentanyl_pills=44_000_000,
            fentanyl_powder_lb=6500.0,
            methamphetamine_lb=91_000.0,
            cocaine_lb=1200.5,
            heroin_lb=300.2,
            firearms=8497,
            currency_usd=100_000_000.0,
            currency_other=[{"currency": "MXN", "amount": 5000.0}],
        ),
        deadly_doses=192_981_123.0,
        dose_method={
            "lethal_dose_mg": 2.0,
            "pill_lethal_share": 0.6,
            "powder_purity": 0.113,
            "pill_doses": 26_400_000.0,
            "powder_doses": 166_581_123.0,
        },
        platform_cases={
            "any": 1100,
            "social_media": 700,
            "encrypted": 600,
            "by_platform": {
                "Facebook": 300,
                "Instagram": 250,
                "TikTok": 100,
                "Snapchat": 400,
                "WhatsApp": 350,
                "Telegram": 200,
                "Signal": 150,
                "Wire": 20,
                "Wickr": 30,
                "Kik": 3,
            },
            "social_media_platforms": ["Facebook", "Instagram", "Snapchat", "TikTok"],
            "encrypted_platforms": ["Signal", "Telegram", "WhatsApp", "Wickr", "Wire"],
        },
    )


def make_empty() -> dict[str, Any]:
    """An operation with nothing in it: zeros and empty lists everywhere."""
    return {
        "title": "Operation report",
        "generated_at": "2026-11-27T22:00:00Z",
        "filters": {"from": None, "to": None, "division": None},
        "investigations": 0,
        "arrests": 0,
        "seizures": _seizures(),
        "deadly_doses": 0.0,
        "dose_method": {
            "lethal_dose_mg": 2.0,
            "pill_lethal_share": 0.6,
            "powder_purity": 0.113,
            "pill_doses": 0.0,
            "powder_doses": 0.0,
        },
        "platform_cases": {
            "any": 0,
            "social_media": 0,
            "encrypted": 0,
            "by_platform": {},
            "social_media_platforms": [],
            "encrypted_platforms": [],
        },
        "by_division": [],
        "by_state": [],
        "by_cartel": [],
        "by_month": [],
        "provenance": {"batches": 0, "records": {}, "rejected_rows": 0, "store": "duckdb"},
    }


def make_hostile() -> dict[str, Any]:
    row = _row(HOSTILE, 3, 2, 10.0, fentanyl_pills=10)
    pipe = _row("Gulf|Cartel", 1, 1, 1.0, fentanyl_pills=1)
    return make_report(
        title=f"Report {HOSTILE}",
        command=f"lastmile report --division '{HOSTILE}'",
        filters={"from": None, "to": None, "division": HOSTILE},
        by_division=[row],
        by_state=[row],
        by_cartel=[row, pipe],
        by_month=[
            {
                "month": HOSTILE,
                "investigations_opened": 1,
                "arrests": 1,
                "drug_seizures": 1,
                "deadly_doses": 1.0,
            }
        ],
    )


class StrictParser(HTMLParser):
    """Collects tags and checks that every non-void element is closed in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "source", "wbr", "area"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))  # self-closing (SVG): nothing to close

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


# ---------------------------------------------------------------------------------------
# Number formatting


def test_number_formats() -> None:
    assert fmt_count(1436) == "1,436"
    assert fmt_count(192_981_123.0) == "192,981,123"
    assert fmt_count(0) == "0"
    # Pounds: one rule for every list and every size (issue 8, item 21): one decimal, half up.
    assert fmt_lb(6500.0) == "6,500.0"
    assert fmt_lb(1200.55) == "1,200.6"
    assert fmt_lb(420) == "420.0"
    assert fmt_lb(91_000.091) == "91,000.1"
    assert fmt_lb(2.25) == "2.3"
    assert fmt_count(2.5) == "3"
    assert fmt_lb(300.24) == "300.2"
    assert fmt_lb(0.0) == "0.0"
    assert fmt_lb(-0.01) == "0.0"
    assert fmt_usd(100_000_000.0) == "$100,000,000"
    assert fmt_usd(12.5) == "$12.50"
    assert fmt_usd(0) == "$0"
    assert in_words(192_981_123.0) == "193.0 million"
    assert in_words(44_000_000) == "44.0 million"
    assert in_words(999_960_000) == "1.0 billion"
    assert in_words(865_699.0) == "865,699"
    assert in_words(None) == "0"
    assert fmt_count(1e30).startswith("1,000,000,000,000,000,0")  # no Decimal overflow
    assert compact_number(50_000_000) == "50M"
    assert compact_number(0) == "0"


def test_text_bars_scale_and_survive_zeros() -> None:
    chart = text_bars([("A", 10.0), ("Bee", 5.0), ("C", 0.0)], width=10)
    lines = chart.splitlines()
    assert lines[0].startswith("A    ██████████")
    assert "█████ " in lines[1] and lines[1].endswith(" 5")
    assert lines[2] == "C" + " " * 17 + "0"
    assert text_bars([("A", 0.0)], width=4) == "A        0"
    assert text_bars([]) == ""


# ---------------------------------------------------------------------------------------
# Markdown


def test_markdown_headline_reads_like_the_announcement() -> None:
    report = make_last_mile()
    del report["platform_cases"]["by_platform"]["Kik"]  # every platform seen is listed
    md = render_markdown(report)
    summary = md.split("## Summary", 1)[1].split("## Results", 1)[0]
    assert (
        "Between May 1, 2022 and May 1, 2023, the operation ran 1,436 investigations, "
        "resulting in 3,337 arrests and the seizure of 44.0 million fentanyl pills, "
        "6,500.0 pounds of fentanyl powder, 91,000.0 pounds of methamphetamine, "
        "1,200.5 pounds of cocaine, 300.2 pounds of heroin, 8,497 firearms and "
        "$100.0 million in US currency (plus MXN 5,000, not converted)." in summary
    )
    assert "These seizures represent 193.0 million deadly doses of fentanyl." in summary
    assert (
        "1,100 of the investigations (76.6%) involved social media or encrypted platforms: "
        "700 investigations involved social media and 600 involved encrypted messaging apps; "
        "some involved both." in summary
    )
    # "any" counts social media or encrypted only; a platform in neither list (Kik) does not
    # change the headline's wording.
    other = render_markdown(make_last_mile())
    assert "(76.6%) involved social media or encrypted platforms: 700" in other
    # The headline comes before every table.
    assert md.index("193.0 million deadly doses") < md.index("| Division |")


def test_markdown_partner_clause_only_when_the_report_says_so() -> None:
    md = render_markdown(make_report(agency_kinds=["federal", "state", "local"]))
    assert "ran 14 investigations with federal, state and local partners, resulting in" in md
    assert "partners" not in render_markdown(make_report())


def test_markdown_tables_hold_the_rows() -> None:
    md = render_markdown(make_report())
    assert "| Division | Investigations | Arrests | Fentanyl pills |" in md
    assert "| Rocky Mountain | 8 | 20 | 4,000 | 3.0 |" in md
    assert "| CO | 8 | 20 |" in md and "| AZ | 6 | 13 |" in md
    # Heroin shows in the cartel table, where a row has some; not in the division table.
    cartel = md.split("### By cartel", 1)[1].split("###", 1)[0]
    assert "Heroin (lb)" in cartel and "| Sinaloa | 9 | 25 | 4,400 | 0.0 | 2.3 |" in cartel
    assert "Heroin" not in md.split("### By division", 1)[1].split("###", 1)[0]
    assert "| Methamphetamine | 1,910.3 | lb |" in md
    assert "| Cocaine | 12.0 | lb |" in md
    assert "| US currency | $1,234,567 | USD |" in md
    assert "| Other currency (MXN) | 5,000 | MXN |" in md
    assert "| Snapchat | Social media | 4 | 28.6% |" in md
    assert "| Telegram | Encrypted messaging | 2 | 14.3% |" in md
    assert "| Kik | Other | 1 | 7.1% |" in md
    assert "| 2022-05 | 9 | 20 | 30 | 150,000 |" in md
    # Numeric columns are right-aligned.
    assert "|:---|---:|---:|" in md


def test_markdown_methods_and_provenance() -> None:
    md = render_markdown(make_last_mile())
    methods = md.split("## Methods", 1)[1].split("## Provenance", 1)[0]
    assert "**Lethal dose** (`lethal_dose_mg`): 2 mg." in methods
    assert "**Pill lethal share** (`pill_lethal_share`): 0.6 (60%)." in methods
    assert "**Powder purity** (`powder_purity`): 0.113 (11.3%)." in methods
    assert "pill doses   = fentanyl pills × pill_lethal_share" in methods
    assert "453,592.37 mg/lb × powder_purity ÷ lethal_dose_mg" in methods
    assert "= 26,400,000 pill doses" in methods and "= 166,581,123 powder doses" in methods
    assert "192,981,123 deadly doses in all" in methods
    for rule in ("Investigations", "Arrests and seizures", "Platform involvement", "Currency"):
        assert f"- **{rule}.**" in methods
    assert "overlaps the date window: opened on or before the window's end" in methods
    assert "- **Social media:** Facebook, Instagram, Snapchat, TikTok" in methods
    assert "- **Encrypted messaging:** Signal, Telegram, WhatsApp, Wickr, Wire" in methods
    provenance = md.split("## Provenance", 1)[1]
    assert "- **Batches:** 3" in provenance
    assert "- **Rejected rows:** 12" in provenance
    assert "- **Generated:** 2026-11-27T22:00:00Z" in provenance
    assert "- **Filter: from:** 2022-05-01" in provenance
    assert "- **Command:** `lastmile report --format html`" in provenance
    assert "| Subjects | 90 |" in provenance


def test_markdown_text_charts() -> None:
    md = render_markdown(make_last_mile())
    charts = md.split("## Charts", 1)[1].split("## Methods", 1)[0]
    blocks = re.findall(r"```text\n(.*?)\n```", charts, flags=re.DOTALL)
    assert len(blocks) == 3
    division, doses, platforms = blocks
    assert division.splitlines()[0].startswith("Rocky Mountain  " + "█" * 40)
    assert doses.splitlines()[0].endswith("100,000")
    assert re.match(r"Snapchat +█{40}  400$", platforms.splitlines()[0])
    assert platforms.splitlines()[-1].startswith("Kik")


def test_markdown_escapes_hostile_names() -> None:
    md = render_markdown(make_hostile())
    # Code blocks and code spans show their content literally; everything else is escaped.
    outside_code = re.sub(r"```text\n.*?\n```", "", md, flags=re.DOTALL)
    outside_code = re.sub(r"(`+).*?\1", "", outside_code)
    assert "<script>" not in outside_code
    assert r"\<script\>alert(1)\</script\>" in md
    assert r"| Gulf\|Cartel | 1 |" in md
    assert r"In the \<script\>alert(1)\</script\> division, the operation ran" in md
    # Each table row has exactly as many unescaped pipes as its header.
    for block in md.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        counts = {len(re.findall(r"(?<!\\)\|", ln)) for ln in lines}
        assert len(counts) <= 1, block


def test_markdown_empty_operation() -> None:
    md = render_markdown(make_empty())
    assert "The operation ran no investigations, resulting in no arrests; nothing was seized." in md
    assert "deadly doses of fentanyl." not in md.split("## Results", 1)[0]
    assert md.count("_No records in this report._") >= 5
    assert md.count("_No data to chart._") == 3
    assert "| Social media or encrypted platforms | 0 | – |" in md
    assert "**Window:** all dates" in md


# ---------------------------------------------------------------------------------------
# HTML


def _assert_offline(page: str, parser: StrictParser) -> None:
    assert not re.search(r"https?://", page)
    assert "@import" not in page and "url(http" not in page
    for tag, attrs in parser.tags:
        assert tag not in ("script", "link", "iframe", "img", "object", "embed"), tag
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)


def test_html_is_well_formed_self_contained_and_has_charts() -> None:
    page = render_html(make_last_mile())
    parser = parse(page)
    _assert_offline(page, parser)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 4
    assert "<style>" in page
    text = " ".join(" ".join(parser.text).split())
    assert "These seizures represent 193.0 million deadly doses of fentanyl." in text
    assert "the seizure of 44.0 million fentanyl pills, 6,500.0 pounds of fentanyl powder" in text
    assert "Rocky Mountain" in text and "Sinaloa" in text and "Snapchat" in text
    assert "lethal_dose_mg" in text and "pill_lethal_share" in text and "powder_purity" in text
    assert "lastmile report --format html" in text
    # Headline first: summary, then tables, then charts, methods, provenance.
    order = [page.index(s) for s in ('id="summary"', 'id="results"', 'id="charts"')]
    order += [page.index(s) for s in ('id="methods"', 'id="provenance"')]
    assert order == sorted(order)


def test_html_svg_ids_do_not_clash() -> None:
    page = render_html(make_last_mile())
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_html_is_deterministic() -> None:
    assert render_html(make_report()) == render_html(make_report())


def test_html_escapes_hostile_names() -> None:
    page = render_html(make_hostile())
    parser = parse(page)
    _assert_offline(page, parser)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE in " ".join(parser.text)  # shown to the reader as text


def test_html_empty_operation() -> None:
    page = render_html(make_empty())
    parser = parse(page)
    _assert_offline(page, parser)
    assert "<svg" not in page
    assert page.count("No data to chart.") == 4
    assert "The operation ran no investigations, resulting in no arrests" in page


@pytest.mark.parametrize("make", [make_report, make_last_mile, make_empty, make_hostile])
def test_render_json_round_trips(make: Any) -> None:
    report = make()
    text = render_json(report)
    assert text.endswith("}\n")
    assert json.loads(text) == report
    assert list(json.loads(text)) == list(report)  # key order kept


def test_render_json_keeps_unicode() -> None:
    assert '"Ciudad Juárez"' in render_json({"name": "Ciudad Juárez"})


def test_missing_keys_do_not_crash() -> None:
    """A report with only some keys (say, from an older version) still renders."""
    for partial in ({}, {"title": "Partial", "by_division": [{"name": "X"}]}):
        assert "# " in render_markdown(partial)
        parse(render_html(partial))


def test_month_table_follows_the_keys_the_report_carries() -> None:
    """compute_report gives pills and powder per month rather than seizure events."""
    months = [
        {
            "month": "2022-05",
            "investigations_opened": 3,
            "arrests": 7,
            "fentanyl_pills": 1200,
            "fentanyl_powder_lb": 2.5,
            "deadly_doses": 128_774.0,
        }
    ]
    md = render_markdown(make_report(by_month=months))
    table = md.split("### By month", 1)[1].split("## Charts", 1)[0]
    assert (
        "| Month | Investigations opened | Arrests | Fentanyl pills | Fentanyl powder (lb) "
        "| Deadly doses |" in table
    )
    assert "| 2022-05 | 3 | 7 | 1,200 | 2.5 | 128,774 |" in table
    assert "Drug seizures" not in table
    page = render_html(make_report(by_month=months))
    parse(page)
    assert 'id="chart-month_activity"' in page and "Top: arrests, by the month" in page
