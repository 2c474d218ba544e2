"""Render the operation report (a plain dict, computed elsewhere) as JSON, Markdown or HTML.

The renderers only format: every figure comes from the report dict as it is. The page reads
like the operation's public announcement: the headline figures first, in plain sentences,
then the tables, the charts, the method and the provenance.

- Markdown: GitHub-flavoured tables; charts as Unicode bars in code blocks. Every string
  that comes from the data (names, filters, the command) is escaped, so a name such as
  ``<script>`` or ``a|b`` can neither inject HTML nor break a table.
- HTML: one self-contained page (Jinja2 with autoescape; CSS inline; charts as inline SVG
  drawn by matplotlib); no script, no stylesheet link, no image fetched from anywhere.
- JSON: the dict itself, indented.

Number formats: counts with thousands separators; pounds always with one decimal, half up
(the JSON report carries the same one-decimal figure); dollars without cents from $1,000;
in the headline sentences, numbers of a million or more as "193.0 million" (rounded to one
decimal, never "nearly" or "more than").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from lastmile.report import charts

__all__ = [
    "COUNTING_RULES",
    "MG_PER_LB",
    "fmt_count",
    "fmt_lb",
    "fmt_usd",
    "in_words",
    "render_html",
    "render_json",
    "render_markdown",
]

MG_PER_LB = 453_592.37  # milligrams in one avoirdupois pound

# The counting rules, as stated in the report's Methods section. They describe what the
# report computation does; change them together with it.
COUNTING_RULES: tuple[tuple[str, str], ...] = (
    (
        "Investigations",
        "An investigation is counted when it overlaps the date window: opened on or before "
        "the window's end and not closed before its start. Without a window, every "
        "investigation is counted.",
    ),
    (
        "Arrests and seizures",
        "Arrests and seizures are counted by their own date, within the window: one made "
        "inside the window counts even if its investigation was opened before it; one made "
        "outside it does not.",
    ),
    (
        "Breakdowns",
        "Each investigation, with its arrests and seizures, is counted under its own division, "
        'state and cartel; investigations with no cartel attribution are listed as "Unattributed". '
        "Rows with no investigations, arrests or deadly doses in the window are left out.",
    ),
    (
        "Platform involvement",
        "An investigation involves a platform when any of its selector records (such as an app "
        "account) or communications is on that platform; it counts for platform figures when "
        "it is counted at all. The headline figure counts investigations on a social-media or "
        "an encrypted platform; other platforms (Kik, Cash App...) appear only per platform. "
        "An investigation counts once per platform and once per class, so the per-platform "
        "counts add up to more than the total.",
    ),
    (
        "Currency",
        "US dollars count as seized. Another currency counts at the US dollar value its record "
        "states; without one, it is listed apart in its own currency rather than converted at "
        "a guessed rate.",
    ),
)


def _platform_phrase(pc: Mapping[str, Any]) -> str:
    """What ``platform_cases.any`` counts, in words: investigations on a social-media or an
    encrypted platform (the operation's published figure); other platforms show only in the
    per-platform table."""
    del pc
    return "social media or encrypted platforms"


# Seizure keys in display order: key -> (label, unit kind, headline noun phrase).
# Unit kinds: "count" (pills, firearms), "lb", "usd".
_SEIZURES: dict[str, tuple[str, str, str]] = {
    "fentanyl_pills": ("Fentanyl pills", "count", "fentanyl pills"),
    "fentanyl_powder_lb": ("Fentanyl powder", "lb", "fentanyl powder"),
    "methamphetamine_lb": ("Methamphetamine", "lb", "methamphetamine"),
    "cocaine_lb": ("Cocaine", "lb", "cocaine"),
    "heroin_lb": ("Heroin", "lb", "heroin"),
    "cannabis_lb": ("Cannabis", "lb", "cannabis"),
    "other_drugs_lb": ("Other drugs", "lb", "other drugs"),
    "other_pills": ("Pills of other drugs", "count", "pills of other drugs"),
    "firearms": ("Firearms", "count", "firearms"),
    "currency_usd": ("US currency", "usd", "in US currency"),
}
_SHORT = {"methamphetamine_lb": "Meth"}  # column headers in the wide breakdown tables
_ALWAYS_IN_TABLES = ("fentanyl_pills", "fentanyl_powder_lb", "firearms", "currency_usd")


# ---------------------------------------------------------------------------------------
# Numbers


def _num(value: Any) -> float:
    """A number from the report, or 0 for anything missing, non-numeric or not finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _half_up(value: float, places: int = 0) -> Decimal:
    """Round half away from zero, as people do (Python's round() rounds half to even)."""
    try:
        return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # beyond Decimal's precision: no halves left to round
        return Decimal(round(value, places))


def fmt_count(value: Any) -> str:
    """1436 -> '1,436'; 192981123.0 -> '192,981,123'."""
    return f"{_half_up(_num(value)):,}"


def fmt_lb(value: Any) -> str:
    """Pounds, one rule everywhere: one decimal, half up: '0.0', '420.0', '6,500.0',
    '91,000.1' (the JSON report holds the same figure, 91000.1)."""
    v = _half_up(_num(value), 1)
    return f"{v + 0:,.1f}"  # + 0 turns a negative zero into 0.0


def _exact(value: Any) -> str:
    """A parameter exactly as the computation used it: '0.113', '2', '0.6'."""
    text = repr(_num(value))
    return text[:-2] if text.endswith(".0") else text


def fmt_usd(value: Any) -> str:
    """Dollars: '$100,000,000', '$12.50', '$0'."""
    v = _num(value)
    if abs(v) >= 1000 or v == round(v):
        return f"${round(v):,}"
    return f"${v:,.2f}"


def _fmt_amount(value: Any) -> str:
    v = _num(value)
    return f"{round(v):,}" if abs(v) >= 1000 or v == round(v) else f"{v:,.2f}"


def in_words(value: Any) -> str:
    """Headline wording: '193.0 million', '1.2 billion'; below a million, '865,699'."""
    v = _num(value)
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if abs(v) >= scale:
            scaled = round(v / scale, 1)
            if word == "million" and abs(scaled) >= 1000:
                return f"{round(v / 1e9, 1):,.1f} billion"
            return f"{scaled:,.1f} {word}"
    return fmt_count(v)


def _pct(part: Any, whole: Any) -> str:
    w = _num(whole)
    return f"{_num(part) / w * 100:.1f}%" if w > 0 else "–"


def _param(value: Any) -> str:
    return f"{_num(value):g}"


def _share(value: Any) -> str:
    return f"{_num(value):g} ({_num(value) * 100:.4g}%)"


def _quantity(kind: str, value: Any) -> str:
    if kind == "lb":
        return fmt_lb(value)
    if kind == "usd":
        return fmt_usd(value)
    return fmt_count(value)


def _counted(value: Any, singular: str, plural: str | None = None) -> str:
    """'no arrests', '1 arrest', '3,337 arrests'."""
    v = round(_num(value))
    if v == 0:
        return f"no {plural or singular + 's'}"
    return f"{v:,} {singular if v == 1 else (plural or singular + 's')}"


def _join_and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _humanize_key(key: str) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _text(value: Any) -> str:
    """Any value as one line of text (None as empty)."""
    return "" if value is None else " ".join(str(value).split())


def _date_words(value: str) -> str:
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{d:%B} {d.day}, {d.year}"


# ---------------------------------------------------------------------------------------
# The view model, shared by the Markdown and HTML renderers. All strings are plain text;
# each renderer escapes them for its own format.


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = True


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[str]]
    intro: str = ""
    empty: str = "No records in this report."


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    caption: str
    rows: list[tuple[str, float]]  # for the Markdown text chart
    svg: str | None  # for the HTML page
    value_format: Callable[[float], str] = fmt_count


@dataclass(frozen=True)
class Card:
    value: str
    label: str


@dataclass
class View:
    title: str
    subtitle: list[tuple[str, str]]
    headline: list[str]
    cards: list[Card]
    seizures: Table
    breakdowns: list[Table]
    platforms: list[Table]
    months: Table
    charts: list[Chart]
    dose_params: list[tuple[str, str, str, str]]  # label, value, key, meaning
    dose_formula: list[str]
    dose_worked: str
    rules: list[tuple[str, str]]
    platform_lists: list[tuple[str, str]]
    provenance: list[tuple[str, str]]
    records: Table
    command: str
    networks: list[str] = field(default_factory=list)  # sentences; empty before networks
    network_tables: list[Table] = field(default_factory=list)


def _seizures_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("seizures")
    return value if isinstance(value, Mapping) else {}


def _list_of_maps(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _seizure_keys(seizures: Mapping[str, Any]) -> list[str]:
    """Known keys in display order, then any unknown numeric keys the report carries."""
    extra = [
        k
        for k, v in seizures.items()
        if k not in _SEIZURES and k != "currency_other" and isinstance(v, int | float)
    ]
    return [*_SEIZURES, *sorted(extra)]


def _seizure_meta(key: str) -> tuple[str, str, str]:
    if key in _SEIZURES:
        return _SEIZURES[key]
    if key.endswith("_lb"):
        name = _humanize_key(key[:-3])
        return name, "lb", name.lower()
    name = _humanize_key(key)
    return name, "count", name.lower()


def _other_currency(seizures: Mapping[str, Any]) -> list[tuple[str, float]]:
    out = []
    for item in _list_of_maps(seizures.get("currency_other")):
        code = _text(item.get("currency")) or "unknown currency"
        amount = _num(item.get("amount"))
        if amount:
            out.append((code, amount))
    return out


def _scope(filters: Mapping[str, Any]) -> str:
    start, end = _text(filters.get("from")), _text(filters.get("to"))
    division = _text(filters.get("division"))
    parts = []
    if start and end:
        parts.append(f"between {_date_words(start)} and {_date_words(end)}")
    elif start:
        parts.append(f"since {_date_words(start)}")
    elif end:
        parts.append(f"through {_date_words(end)}")
    if division:
        parts.append(f"in the {division} division")
    return ", ".join(parts)


def _headline(report: Mapping[str, Any]) -> list[str]:
    filters = report.get("filters") if isinstance(report.get("filters"), Mapping) else {}
    assert isinstance(filters, Mapping)
    seizures = _seizures_of(report)
    investigations = _num(report.get("investigations"))

    items = []
    for key in _seizure_keys(seizures):
        value = _num(seizures.get(key))
        if value <= 0:
            continue
        _label, kind, noun = _seizure_meta(key)
        if kind == "usd":
            figure = f"${in_words(value)}" if value >= 1e6 else fmt_usd(value)
            items.append(f"{figure} {noun}")
        elif kind == "lb":
            figure = in_words(value) if value >= 1e6 else fmt_lb(value)
            items.append(f"{figure} {'pound' if figure == '1.0' else 'pounds'} of {noun}")
        else:
            items.append(f"{in_words(value)} {noun}")
    foreign = [f"{code} {_fmt_amount(amount)}" for code, amount in _other_currency(seizures)]
    if foreign and _num(seizures.get("currency_usd")) > 0:
        items[-1] += f" (plus {_join_and(foreign)}, not converted)"
    elif foreign:
        items.append(f"{_join_and(foreign)} in foreign currency")

    scope = _scope(filters)
    opening = f"{scope[0].upper()}{scope[1:]}, the operation" if scope else "The operation"
    kinds = [_text(k) for k in report.get("agency_kinds") or [] if _text(k)]
    partners = f" with {_join_and(kinds)} partners" if kinds else ""
    first = (
        f"{opening} ran {_counted(investigations, 'investigation')}{partners}, "
        f"resulting in {_counted(report.get('arrests'), 'arrest')}"
    )
    first += f" and the seizure of {_join_and(items)}." if items else "; nothing was seized."
    sentences = [first]
    sentences += _resolution_sentences(report)

    doses = _num(report.get("deadly_doses"))
    if doses > 0:
        noun = "deadly dose" if round(doses) == 1 else "deadly doses"
        sentences.append(f"These seizures represent {in_words(doses)} {noun} of fentanyl.")
    elif investigations > 0:
        sentences.append("No deadly doses of fentanyl were counted.")

    pc = report.get("platform_cases") if isinstance(report.get("platform_cases"), Mapping) else {}
    assert isinstance(pc, Mapping)
    any_, social, encrypted = (_num(pc.get(k)) for k in ("any", "social_media", "encrypted"))
    if any_ > 0:
        text = (
            f"{fmt_count(any_)} of the investigations ({_pct(any_, investigations)}) "
            f"involved {_platform_phrase(pc)}: {_counted(social, 'investigation')} "
            f"involved social media and {fmt_count(encrypted)} involved encrypted "
            "messaging apps"
        )
        text += "; some involved both." if social + encrypted > any_ else "."
        sentences.append(text)
    elif investigations > 0:
        sentences.append(f"None of the investigations involved {_platform_phrase(pc)}.")
    return sentences


def _resolution_sentences(report: Mapping[str, Any]) -> list[str]:
    """After resolution: distinct people arrested and joint records counted once."""
    persons = report.get("distinct_persons_arrested")
    if persons is None:
        return []
    joint = report.get("joint_records") or {}
    text = (
        f"The arrests name {_counted(persons, 'distinct person')} once records are resolved; "
        f"{fmt_count(joint.get('arrests') or 0)} joint arrest and "
        f"{fmt_count(joint.get('drug_seizures') or 0)} joint drug seizure records, reported "
        "by two agencies, are counted once (docs/methodology.md)."
    )
    return [text]


def _cards(report: Mapping[str, Any]) -> list[Card]:
    seizures = _seizures_of(report)
    cards = [
        Card(fmt_count(report.get("investigations")), "investigations"),
        Card(fmt_count(report.get("arrests")), "arrests"),
    ]
    for key in _seizure_keys(seizures):
        value = _num(seizures.get(key))
        if value <= 0:
            continue
        label, kind, _noun = _seizure_meta(key)
        if kind == "usd":
            shown = f"${in_words(value)}" if value >= 1e6 else fmt_usd(value)
        elif kind == "lb":
            shown = (in_words(value) if value >= 1e6 else fmt_lb(value)) + " lb"
        else:
            shown = in_words(value)
        cards.append(Card(shown, label.lower() if kind != "usd" else "US currency"))
    cards.append(Card(in_words(report.get("deadly_doses")), "deadly doses of fentanyl"))
    pc = report.get("platform_cases") if isinstance(report.get("platform_cases"), Mapping) else {}
    assert isinstance(pc, Mapping)
    cards.append(Card(fmt_count(pc.get("any")), f"investigations on {_platform_phrase(pc)}"))
    return cards


def _seizure_table(report: Mapping[str, Any]) -> Table:
    seizures = _seizures_of(report)
    rows = []
    for key in _seizure_keys(seizures):
        label, kind, _noun = _seizure_meta(key)
        unit = {"lb": "lb", "usd": "USD"}.get(kind, "pills" if key.endswith("_pills") else "")
        rows.append([label, _quantity(kind, seizures.get(key)), unit])
    for code, amount in _other_currency(seizures):
        rows.append([f"Other currency ({code})", _fmt_amount(amount), code])
    for item in _list_of_maps(seizures.get("other_pills_by_drug")):
        drug = _text(item.get("drug")) or "unknown drug"
        rows.append([f"Pills of other drugs: {drug}", fmt_count(item.get("pills")), "pills"])
    return Table(
        key="seizures",
        title="Seizures",
        columns=[Column("Item", numeric=False), Column("Quantity"), Column("Unit", numeric=False)],
        rows=rows,
    )


def _breakdown_table(key: str, title: str, label: str, items: list[Mapping[str, Any]]) -> Table:
    keys: list[str] = []
    for skey in _seizure_keys(_seizures_of(items[0]) if items else {}):
        if skey in _ALWAYS_IN_TABLES or any(_num(_seizures_of(i).get(skey)) for i in items):
            keys.append(skey)
    columns = [Column(label, numeric=False), Column("Investigations"), Column("Arrests")]
    for skey in keys:
        name, kind, _noun = _seizure_meta(skey)
        name = _SHORT.get(skey, name)
        columns.append(Column(f"{name} (lb)" if kind == "lb" else name))
    columns += [Column("Deadly doses"), Column("Platform cases")]
    rows = []
    for item in items:
        seizures = _seizures_of(item)
        pc = item.get("platform_cases")
        any_ = pc.get("any") if isinstance(pc, Mapping) else None
        row = [
            _text(item.get("name")) or "(none)",
            fmt_count(item.get("investigations")),
            fmt_count(item.get("arrests")),
        ]
        row += [_quantity(_seizure_meta(k)[1], seizures.get(k)) for k in keys]
        row += [fmt_count(item.get("deadly_doses")), fmt_count(any_)]
        rows.append(row)
    return Table(key=key, title=title, columns=columns, rows=rows)


def _platform_tables(report: Mapping[str, Any]) -> tuple[list[Table], list[tuple[str, float]]]:
    pc = report.get("platform_cases") if isinstance(report.get("platform_cases"), Mapping) else {}
    assert isinstance(pc, Mapping)
    investigations = report.get("investigations")
    social = [_text(p) for p in pc.get("social_media_platforms") or []]
    encrypted = [_text(p) for p in pc.get("encrypted_platforms") or []]
    summary = Table(
        key="platform_summary",
        title="Platform involvement",
        columns=[
            Column("Investigations involving", numeric=False),
            Column("Investigations"),
            Column("Share of all investigations"),
        ],
        rows=[
            [name, fmt_count(pc.get(k)), _pct(pc.get(k), investigations)]
            for name, k in (
                (_platform_phrase(pc).capitalize(), "any"),
                ("Social media", "social_media"),
                ("Encrypted messaging", "encrypted"),
            )
        ],
    )
    by = pc.get("by_platform") if isinstance(pc.get("by_platform"), Mapping) else {}
    assert isinstance(by, Mapping)
    counts = sorted(((_text(k), _num(v)) for k, v in by.items()), key=lambda kv: (-kv[1], kv[0]))

    def kind(name: str) -> str:
        if name in social:
            return "Social media"
        return "Encrypted messaging" if name in encrypted else "Other"

    detail = Table(
        key="by_platform",
        title="By platform",
        columns=[
            Column("Platform", numeric=False),
            Column("Class", numeric=False),
            Column("Investigations"),
            Column("Share of all investigations"),
        ],
        rows=[[n, kind(n), fmt_count(v), _pct(v, investigations)] for n, v in counts],
        intro="An investigation that involved several platforms is counted under each of them.",
    )
    return [summary, detail], counts


# Monthly keys in display order: key -> (label, unit kind). Columns for the optional keys
# appear only when the report carries them; unknown numeric keys follow, as they come.
_MONTH_KEYS: dict[str, tuple[str, str]] = {
    "investigations_opened": ("Investigations opened", "count"),
    "arrests": ("Arrests", "count"),
    "drug_seizures": ("Drug seizures", "count"),
    "fentanyl_pills": ("Fentanyl pills", "count"),
    "fentanyl_powder_lb": ("Fentanyl powder (lb)", "lb"),
    "deadly_doses": ("Deadly doses", "count"),
}
_MONTH_ALWAYS = ("investigations_opened", "arrests", "deadly_doses")


def _month_table(months: list[Mapping[str, Any]]) -> Table:
    present = {k for m in months for k, v in m.items() if isinstance(v, int | float)}
    keys = [k for k in _MONTH_KEYS if k in _MONTH_ALWAYS or k in present]
    keys += sorted(present - set(_MONTH_KEYS) - {"month"})
    meta = {
        k: _MONTH_KEYS.get(
            k,
            (_humanize_key(k[:-3]) + " (lb)", "lb")
            if k.endswith("_lb")
            else (_humanize_key(k), "count"),
        )
        for k in keys
    }
    return Table(
        key="by_month",
        title="By month",
        columns=[Column("Month", numeric=False), *(Column(meta[k][0]) for k in keys)],
        rows=[
            [_text(m.get("month")), *(_quantity(meta[k][1], m.get(k)) for k in keys)]
            for m in months
        ],
        intro="Investigations by the month they were opened; arrests and seizures by the "
        "month they were made.",
    )


def _charts(
    report: Mapping[str, Any], counts: list[tuple[str, float]], *, svg: bool
) -> list[Chart]:
    divisions = _list_of_maps(report.get("by_division"))
    months = _list_of_maps(report.get("by_month"))
    pc = report.get("platform_cases") if isinstance(report.get("platform_cases"), Mapping) else {}
    assert isinstance(pc, Mapping)
    social = {_text(p) for p in pc.get("social_media_platforms") or []}
    encrypted = {_text(p) for p in pc.get("encrypted_platforms") or []}

    names = [_text(d.get("name")) or "(none)" for d in divisions]
    inv = [_num(d.get("investigations")) for d in divisions]
    doses = [_num(d.get("deadly_doses")) for d in divisions]
    colours = [
        charts.PALETTE["social_media"]
        if n in social
        else charts.PALETTE["encrypted"]
        if n in encrypted
        else charts.PALETTE["other"]
        for n, _ in counts
    ]
    month_names = [_text(m.get("month")) for m in months]
    arrests = [_num(m.get("arrests")) for m in months]
    has_events = any("drug_seizures" in m for m in months)
    seized = [_num(m.get("drug_seizures")) for m in months]
    month_doses = [_num(m.get("deadly_doses")) for m in months]
    counts_panel: list[charts.Series] = [("Arrests", arrests, charts.PALETTE["arrests"])]
    if has_events:
        counts_panel.append(("Drug seizures", seized, charts.PALETTE["seizures"]))
    cut = f" (first {charts.MAX_BARS} shown)"
    return [
        Chart(
            key="division_investigations",
            title="Investigations by division",
            caption="Investigations counted in the window, per division"
            + (cut if len(names) > charts.MAX_BARS else "")
            + ".",
            rows=list(zip(names, inv, strict=True)),
            svg=charts.hbar_svg(
                names,
                inv,
                key="division_investigations",
                aria_label="Bar chart: investigations by division",
                colors=charts.PALETTE["investigations"],
                value_format=fmt_count,
            )
            if svg
            else None,
        ),
        Chart(
            key="division_doses",
            title="Deadly doses by division",
            caption="Deadly doses of fentanyl seized, per division (see Methods)"
            + (cut if len(names) > charts.MAX_BARS else "")
            + ".",
            rows=list(zip(names, doses, strict=True)),
            svg=charts.hbar_svg(
                names,
                doses,
                key="division_doses",
                aria_label="Bar chart: deadly doses of fentanyl by division",
                colors=charts.PALETTE["doses"],
                value_format=in_words,
            )
            if svg
            else None,
            value_format=in_words,
        ),
        Chart(
            key="platform_cases",
            title="Investigations by platform",
            caption="Investigations involving each platform, coloured by class; an "
            "investigation on several platforms counts under each.",
            rows=counts,
            svg=charts.hbar_svg(
                [n for n, _ in counts],
                [v for _, v in counts],
                key="platform_cases",
                aria_label="Bar chart: investigations by platform",
                colors=colours,
                value_format=fmt_count,
                legend=[
                    (label, charts.PALETTE[k])
                    for label, k in (
                        ("Social media", "social_media"),
                        ("Encrypted messaging", "encrypted"),
                        ("Other", "other"),
                    )
                    if any(c == charts.PALETTE[k] for c in colours)
                ],
            )
            if svg
            else None,
        ),
        Chart(
            key="month_activity",
            title="Arrests and seizures by month",
            caption=("Top: arrests and drug seizure events" if has_events else "Top: arrests")
            + ", by the month they were made. Bottom: fentanyl seized in the month, "
            "in deadly doses.",
            rows=list(zip(month_names, arrests, strict=True)),
            svg=charts.grouped_bars_svg(
                month_names,
                [
                    counts_panel,
                    [("Deadly doses of fentanyl seized", month_doses, charts.PALETTE["doses"])],
                ],
                key="month_activity",
                aria_label="Bar charts: arrests and seizures by month",
            )
            if svg
            else None,
        ),
    ]


def _view(report: Mapping[str, Any], *, svg: bool) -> View:
    filters_raw = report.get("filters")
    filters: Mapping[str, Any] = filters_raw if isinstance(filters_raw, Mapping) else {}
    method_raw = report.get("dose_method")
    method: Mapping[str, Any] = method_raw if isinstance(method_raw, Mapping) else {}
    prov_raw = report.get("provenance")
    prov: Mapping[str, Any] = prov_raw if isinstance(prov_raw, Mapping) else {}
    pc_raw = report.get("platform_cases")
    pc: Mapping[str, Any] = pc_raw if isinstance(pc_raw, Mapping) else {}
    seizures = _seizures_of(report)

    window = (
        f"{_text(filters.get('from')) or 'start'} to {_text(filters.get('to')) or 'end'}"
        if filters.get("from") or filters.get("to")
        else "all dates"
    )
    subtitle = [
        ("Generated", _text(report.get("generated_at")) or "unknown"),
        ("Window", window),
        ("Division", _text(filters.get("division")) or "all divisions"),
    ]

    platform_tables, counts = _platform_tables(report)
    network_sentences, network_tables = _networks_view(report)
    lethal, share, purity = (
        method.get(k) for k in ("lethal_dose_mg", "pill_lethal_share", "powder_purity")
    )
    dose_params = [
        (
            "Lethal dose",
            f"{_param(lethal)} mg",
            "lethal_dose_mg",
            "The amount of fentanyl taken as one potentially deadly dose.",
        ),
        (
            "Pill lethal share",
            _share(share),
            "pill_lethal_share",
            "The share of fentanyl pills that contain a potentially deadly dose; each such "
            "pill counts as one deadly dose.",
        ),
        (
            "Powder purity",
            _share(purity),
            "powder_purity",
            "The fentanyl content assumed for seized fentanyl powder, by weight. It is not a "
            "laboratory measurement: it is the value fitted so that the method reproduces "
            "the operation's published figure (nearly 193 million deadly doses from 44 "
            "million pills and 6,500 lb of powder). The laboratory purity recorded with an "
            "exhibit is not used, so that every report follows the published method.",
        ),
    ]
    dose_formula = [
        "deadly doses = pill doses + powder doses",
        "pill doses   = fentanyl pills × pill_lethal_share",
        f"powder doses = fentanyl powder (lb) × {MG_PER_LB:,.2f} mg/lb × powder_purity"
        " ÷ lethal_dose_mg",
    ]
    powder_mg = method.get("fentanyl_powder_mg")
    powder = (
        f"{fmt_lb(seizures.get('fentanyl_powder_lb'))} lb of powder "
        f"= {fmt_count(powder_mg)} mg (exact conversion, rounded to the milligram); "
        f"{fmt_count(powder_mg)} mg"
        if powder_mg is not None
        else f"{fmt_lb(seizures.get('fentanyl_powder_lb'))} lb of powder × {MG_PER_LB:,.2f} mg/lb"
    )
    dose_worked = (
        f"In this report: {fmt_count(seizures.get('fentanyl_pills'))} pills × {_exact(share)} "
        f"= {fmt_count(method.get('pill_doses'))} pill doses. "
        f"{powder} × {_exact(purity)} ÷ {_exact(lethal)} mg "
        f"= {fmt_count(method.get('powder_doses'))} powder doses. "
        f"{fmt_count(method.get('pill_doses'))} + {fmt_count(method.get('powder_doses'))} "
        f"= {fmt_count(report.get('deadly_doses'))} deadly doses in all. "
        "Rounding happens in two places only: the powder's mass to whole milligrams, and "
        "each part to whole doses (half up); the total is the sum of the two rounded parts, "
        "so these figures reproduce on a calculator."
    )
    platform_lists = [
        ("Social media", ", ".join(_text(p) for p in pc.get("social_media_platforms") or [])),
        ("Encrypted messaging", ", ".join(_text(p) for p in pc.get("encrypted_platforms") or [])),
    ]
    platform_lists = [(k, v or "(none listed)") for k, v in platform_lists]

    provenance = [
        ("Generated", _text(report.get("generated_at")) or "unknown"),
        ("Store", _text(prov.get("store")) or "unknown"),
        ("Batches", fmt_count(prov.get("batches"))),
        ("Rejected rows", fmt_count(prov.get("rejected_rows"))),
        ("Filter: from", _text(filters.get("from")) or "none"),
        ("Filter: to", _text(filters.get("to")) or "none"),
        ("Filter: division", _text(filters.get("division")) or "none"),
    ]
    for k, v in filters.items():
        if k not in ("from", "to", "division"):
            provenance.append((f"Filter: {_text(k)}", _text(v) or "none"))
    for k, v in prov.items():
        if k not in ("batches", "records", "rejected_rows", "store"):
            shown = json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else _text(v)
            provenance.append((_humanize_key(k), shown))
    rec_raw = prov.get("records")
    records: Mapping[str, Any] = rec_raw if isinstance(rec_raw, Mapping) else {}
    records_table = Table(
        key="records",
        title="Records in the store",
        columns=[Column("Record type", numeric=False), Column("Records")],
        rows=[[_humanize_key(k), fmt_count(v)] for k, v in records.items()],
    )

    return View(
        title=_text(report.get("title")) or "Operation report",
        subtitle=subtitle,
        headline=_headline(report),
        cards=_cards(report),
        seizures=_seizure_table(report),
        breakdowns=[
            _breakdown_table(
                "by_division",
                "By division",
                "Division",
                _list_of_maps(report.get("by_division")),
            ),
            _breakdown_table(
                "by_state", "By state", "State", _list_of_maps(report.get("by_state"))
            ),
            _breakdown_table(
                "by_cartel", "By cartel", "Cartel", _list_of_maps(report.get("by_cartel"))
            ),
        ],
        platforms=platform_tables,
        months=_month_table(_list_of_maps(report.get("by_month"))),
        charts=_charts(report, counts, svg=svg),
        dose_params=dose_params,
        dose_formula=dose_formula,
        dose_worked=dose_worked,
        rules=list(COUNTING_RULES),
        platform_lists=platform_lists,
        provenance=provenance,
        records=records_table,
        command=_text(report.get("command")),
        networks=network_sentences,
        network_tables=network_tables,
    )


MULTI_CITY_SHOWN = 10


def _network_detail(raw: Mapping[str, Any]) -> list[Table]:
    """The multi-city networks and the key players of the largest networks."""
    tables: list[Table] = []
    multi = _list_of_maps(raw.get("multi_city_networks"))
    tables.append(
        Table(
            key="multi_city_networks",
            title="Multi-city networks",
            intro=(
                f"{fmt_count(len(multi))} in all; the {MULTI_CITY_SHOWN} largest shown."
                if len(multi) > MULTI_CITY_SHOWN
                else ""
            ),
            columns=[
                Column("Network", numeric=False),
                Column("People"),
                Column("Cities", numeric=False),
            ],
            rows=[
                [
                    _text(r.get("network_id")),
                    fmt_count(r.get("people")),
                    "; ".join(_text(c) for c in r.get("cities") or []),
                ]
                for r in multi[:MULTI_CITY_SHOWN]
            ],
            empty="No network spans two cities.",
        )
    )
    rows = []
    for n in _list_of_maps(raw.get("largest")):
        for k in _list_of_maps(n.get("key_players")):
            rows.append(
                [
                    _text(n.get("network_id")),
                    fmt_count(n.get("people")),
                    _text(n.get("cartel")),
                    fmt_count(k.get("rank")),
                    _text(k.get("name")) or "(no name)",
                    _text(k.get("entity_id")),
                    f"{_num(k.get('score')):.3f}",
                ]
            )
    tables.append(
        Table(
            key="key_players",
            title="Key players of the largest networks",
            columns=[
                Column("Network", numeric=False),
                Column("People"),
                Column("Cartel", numeric=False),
                Column("Rank"),
                Column("Name", numeric=False),
                Column("Entity", numeric=False),
                Column("Fragmentation"),
            ],
            rows=rows,
            empty="No key players.",
        )
    )
    return tables


def _networks_view(report: Mapping[str, Any]) -> tuple[list[str], list[Table]]:
    """The networks section: sentences and tables (nothing for a report without the key)."""
    raw = report.get("networks")
    if not isinstance(raw, Mapping):
        return [], []
    if "mapped" not in raw:
        return [_text(raw.get("note"))], []
    sentences = [
        f"{_counted(raw.get('mapped'), 'distribution network')} mapped, with "
        f"{_counted(raw.get('people'), 'person', 'people')}; "
        f"{_counted(raw.get('upstream'), 'upstream network')} (hubs and cartels) are evidence "
        f"for attribution, not networks of their own. "
        f"{fmt_count(raw.get('multi_city'))} span two or more cities.",
        f"{_counted(raw.get('attributed'), 'network')} tied to a cartel, "
        f"{fmt_count(raw.get('unattributed'))} unattributed (the evidence is too weak).",
    ]
    labels = report.get("cartel_labels")
    if isinstance(labels, Mapping):
        outside = _num(labels.get("not_in_network")) + _num(labels.get("upstream"))
        sentences.append(
            f"Of the {_counted(labels.get('investigations'), 'investigation')} in this report, "
            f"{fmt_count(labels.get('agree'))} agree with their agency's cartel label and "
            f"{fmt_count(labels.get('disagree'))} do not; "
            f"{fmt_count(labels.get('unattributed'))} are in unattributed networks, "
            f"{fmt_count(labels.get('no_label'))} have no label and {fmt_count(outside)} are in "
            "no local network."
        )
    sentences.append(_text(raw.get("note")))
    sentences = [t[:1].upper() + t[1:] for t in sentences]
    tables = [
        Table(
            key="networks_by_cartel",
            title="Networks by cartel",
            columns=[Column("Cartel", numeric=False), Column("Networks"), Column("People")],
            rows=[
                [_text(r.get("cartel")), fmt_count(r.get("networks")), fmt_count(r.get("people"))]
                for r in _list_of_maps(raw.get("by_cartel"))
            ],
        )
    ]
    if "largest" in raw:  # per-network detail (ReportOptions.network_detail)
        tables += _network_detail(raw)
    tables.append(
        _breakdown_table(
            "by_attributed_cartel",
            "By attributed cartel",
            "Cartel",
            _list_of_maps(report.get("by_attributed_cartel")),
        )
    )
    if isinstance(labels, Mapping):
        tables.append(
            Table(
                key="cartel_labels",
                title="Agency cartel labels against attribution",
                columns=[
                    Column("Agency label", numeric=False),
                    Column("Attributed", numeric=False),
                    Column("Investigations"),
                ],
                rows=[
                    [
                        _text(r.get("label")),
                        _text(r.get("attributed")),
                        fmt_count(r.get("investigations")),
                    ]
                    for r in _list_of_maps(labels.get("by_label"))
                ],
                empty="No labelled investigation in an attributed network.",
            )
        )
    return sentences, tables


def networks_text(report: Mapping[str, Any], largest: int = 3) -> list[str]:
    """The networks section as plain text lines, with the key players of the ``largest``
    networks (lastmile demo prints them; the report has more)."""
    raw = report.get("networks")
    if not isinstance(raw, Mapping):
        return []
    if "mapped" not in raw:
        return [_text(raw.get("note"))]

    def line(label: str, value: Any, note: str = "") -> str:
        return f"  {label:<20}{fmt_count(value):>14}" + (f"  {note}" if note else "")

    lines = [
        "Networks (lastmile analyze; docs/networks.md)",
        line("networks mapped", raw.get("mapped"), f"{fmt_count(raw.get('people'))} people"),
        line("upstream", raw.get("upstream"), "hubs and cartels: evidence, not networks"),
        line("multi-city", raw.get("multi_city")),
    ]
    for r in _list_of_maps(raw.get("by_cartel")):
        cartel = _text(r.get("cartel"))
        # 'Unattributed' is the absence of a cartel, not one the networks are tied to
        label = "unattributed" if cartel == "Unattributed" else f"tied to {cartel}"
        lines.append(line(label, r.get("networks")))
    labels = report.get("cartel_labels")
    if isinstance(labels, Mapping):
        lines.append(
            line("labels agree", labels.get("agree"), "investigations labelled as attributed")
        )
        lines.append(
            line(
                "labels disagree", labels.get("disagree"), "investigations labelled another cartel"
            )
        )
    lines.append("  key players of the largest networks:")
    for n in _list_of_maps(raw.get("largest"))[:largest]:
        lines.append(
            f"    {_text(n.get('network_id'))} ({fmt_count(n.get('people'))} people, "
            f"{_text(n.get('cartel'))})"
        )
        for k in _list_of_maps(n.get("key_players")):
            name = _text(k.get("name")) or "(no name)"
            lines.append(f"      {fmt_count(k.get('rank'))}. {name} ({_text(k.get('entity_id'))})")
    return lines


# ---------------------------------------------------------------------------------------
# JSON


def render_json(report: dict[str, Any]) -> str:
    """The report as indented JSON (keys in their given order), ending with a newline."""
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# ---------------------------------------------------------------------------------------
# Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def _md(text: str) -> str:
    """Escape data text for Markdown: no HTML, no emphasis or links, no table breaks."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_code(text: str) -> str:
    """An inline code span that holds any text (fence longer than any backtick run)."""
    one = " ".join(text.split())
    run = max((len(m) for m in re.findall(r"`+", one)), default=0)
    fence = "`" * (run + 1)
    pad = " " if one.startswith("`") or one.endswith("`") else ""
    return f"{fence}{pad}{one}{pad}{fence}"


def _md_block(body: str) -> list[str]:
    run = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, run + 1)
    return [fence + "text", body, fence]


def _md_table(table: Table, level: str = "###") -> list[str]:
    out = [f"{level} {_md(table.title)}", ""]
    if table.intro:
        out += [_md(table.intro), ""]
    if not table.rows:
        return [*out, f"_{_md(table.empty)}_", ""]
    out.append("| " + " | ".join(_md(c.label) for c in table.columns) + " |")
    out.append("|" + "|".join("---:" if c.numeric else ":---" for c in table.columns) + "|")
    for row in table.rows:
        out.append("| " + " | ".join(_md(cell) for cell in row) + " |")
    return [*out, ""]


def render_markdown(report: dict[str, Any]) -> str:
    """The report as GitHub-flavoured Markdown."""
    view = _view(report, svg=False)
    out = [f"# {_md(view.title)}", ""]
    out += [" · ".join(f"**{k}:** {_md(v)}" for k, v in view.subtitle), ""]

    out += ["## Summary", ""]
    for sentence in view.headline:
        out += [_md(sentence), ""]

    out += ["## Results", ""]
    out += _md_table(view.seizures)
    for table in view.breakdowns:
        out += _md_table(table)
    for table in view.platforms:
        out += _md_table(table)
    out += _md_table(view.months)

    if view.networks:
        out += ["## Networks", ""]
        for sentence in view.networks:
            out += [_md(sentence), ""]
        for table in view.network_tables:
            out += _md_table(table)

    out += ["## Charts", ""]
    for chart in view.charts[:3]:
        out += [f"### {_md(chart.title)}", ""]
        rows = chart.rows[: charts.MAX_BARS]
        if not rows or max((v for _, v in rows), default=0.0) <= 0:
            out += ["_No data to chart._", ""]
            continue
        body = charts.text_bars(rows, value_format=chart.value_format)
        out += [*_md_block(body), "", _md(chart.caption), ""]

    out += ["## Methods", "", "### Deadly doses", ""]
    out += [
        "A deadly dose is counted from fentanyl seizures only, with three parameters:",
        "",
    ]
    for label, value, key, meaning in view.dose_params:
        out.append(f"- **{label}** (`{key}`): {_md(value)}. {_md(meaning)}")
    out += ["", *_md_block("\n".join(view.dose_formula)), "", _md(view.dose_worked), ""]
    out += ["### Counting rules", ""]
    for title, text in view.rules:
        out.append(f"- **{_md(title)}.** {_md(text)}")
    out += ["", "### Platform classes", ""]
    for label, names in view.platform_lists:
        out.append(f"- **{_md(label)}:** {_md(names)}")
    out.append("")

    out += ["## Provenance", ""]
    for label, value in view.provenance:
        out.append(f"- **{_md(label)}:** {_md(value)}")
    if view.command:
        out.append(f"- **Command:** {_md_code(view.command)}")
    out.append("")
    out += _md_table(view.records)
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------
# HTML


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _safe_svgs(chart_list: Iterable[Chart]) -> dict[str, Markup | None]:
    # matplotlib's SVG writer escapes all text, and charts.py removes every URL; the markup
    # is therefore trusted as it stands.
    return {c.key: (Markup(c.svg) if c.svg else None) for c in chart_list}


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; no scripts)."""
    view = _view(report, svg=True)
    template = _environment().get_template("report.html.j2")
    return template.render(view=view, svgs=_safe_svgs(view.charts))
