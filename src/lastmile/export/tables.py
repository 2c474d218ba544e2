"""Result tables for people and for pipes: the terminal layout and tab-separated values.

The communications commands (``contacts``, ``common``, ``handovers``, ``timeline``) print a
``pyarrow.Table``. On a terminal it is a table fitted to the terminal's width; when standard
output is a pipe or a file, tab-separated values (as ``gh`` and ``kubectl`` do), unless a
``--format`` is given (docs/exports.md).

- **Terminal**: short headers; scores rounded to 2 decimals, counts with thousands
  separators, times to the minute; selectors (phone numbers, handles) never broken across
  lines. When the columns do not fit, long text columns (evidence, lists) fold first, then
  the least important columns are dropped, and a note under the table names them.
- **TSV**: one header line of the full column names, then one line per row, values as
  stored (full precision, ISO dates); tab, newline, carriage return and backslash inside a
  value are written ``\\t``, ``\\n``, ``\\r`` and ``\\\\``; text cells follow the CSV rule
  against formulas (``lastmile.export.csvsafe``), since spreadsheets open TSV too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from rich.table import Table
from rich.text import Text

from lastmile.export.csvsafe import safe_cell
from lastmile.terminal import visible

_PAD = 3  # rich's default column padding and separator


@dataclass(frozen=True)
class Col:
    """How one column shows on a terminal."""

    header: str
    priority: int  # lower is dropped first when the table is too wide; 9 never is
    kind: str = "text"  # text | key | count | score | time | fold

    @property
    def numeric(self) -> bool:
        return self.kind in ("count", "score")


# Full column name -> how it shows. Columns not listed show under their own name.
COLUMNS: dict[str, Col] = {
    "contact": Col("contact", 9, "key"),
    "old_selector": Col("old", 9, "key"),
    "new_selector": Col("new", 9, "key"),
    "events": Col("events", 8, "count"),
    "targets": Col("tgts", 8, "count"),
    "target_list": Col("targets", 3, "fold"),
    "calls": Col("calls", 5, "count"),
    "texts": Col("texts", 5, "count"),
    "app_messages": Col("app", 4, "count"),
    "outgoing": Col("out", 3, "count"),
    "incoming": Col("in", 3, "count"),
    "first_contact": Col("first", 6, "time"),
    "last_contact": Col("last", 7, "time"),
    "total_duration_s": Col("call s", 2, "count"),
    "platforms": Col("platforms", 4, "fold"),
    "date": Col("date", 8, "time"),
    "score": Col("score", 8, "score"),
    "shared_contacts": Col("shared", 7, "count"),
    "old_contacts": Col("old n", 4, "count"),
    "new_contacts": Col("new n", 4, "count"),
    "gap_days": Col("gap d", 6, "count"),
    "old_last": Col("old last", 3, "time"),
    "evidence": Col("evidence", 1, "fold"),
    "day": Col("day", 9, "time"),
    "hour": Col("hour", 9, "count"),
    # Key players and links: the explanation is the point of the command, so it folds,
    # never drops; so does a name beside an id.
    "why": Col("why", 8, "fold"),
    "name": Col("name", 7, "fold"),
    # Distribution networks (``lastmile networks``): size and places before the counts.
    "network_id": Col("network", 9, "key"),
    "people": Col("people", 8, "count"),
    "cities": Col("cities", 7, "fold"),
    "multi_city": Col("multi-city", 7),
    "investigations": Col("cases", 6, "count"),
    "agencies": Col("agencies", 5, "fold"),
    "arrests": Col("arrests", 5, "count"),
    "seizures": Col("seizures", 5, "count"),
    "organizations": Col("orgs", 4, "count"),
    "upstream": Col("upstream", 3),
    "divisions": Col("divisions", 3, "fold"),
    "states": Col("states", 2),
    "communities": Col("comms", 2, "count"),
    # Disruption (``lastmile disrupt``)
    "step": Col("step", 9, "count"),
    "removed": Col("removed", 9, "key"),
    "removed_name": Col("name", 7, "fold"),
    "largest_component": Col("largest", 8, "count"),
    "largest_component_fraction": Col("share", 8, "score"),
    "components": Col("components", 7, "count"),
    "efficiency": Col("efficiency", 7, "score"),
    # Likely ties (``lastmile links``): who, the learned probability and why first; the
    # classic scores are kept in the other formats.
    "source": Col("source", 9, "key"),
    "target": Col("target", 9, "key"),
    "source_name": Col("source name", 8, "fold"),
    "learned": Col("p", 8, "score"),
    "common_neighbours": Col("cn", 4, "count"),
    "adamic_adar": Col("aa", 3, "score"),
    "resource_allocation": Col("ra", 3, "score"),
    "katz": Col("katz", 2, "score"),
    # Conflicts (``lastmile conflicts``): whose target, and whom to call (the other side's
    # phone, then its point of contact), before the rest; the other agency's full name
    # repeats its id; the basis (how the conflict was found: a subject record ... a burner
    # chain) says how far to trust it. With --agency the command hides the asking agency's
    # own columns.
    "agency_id": Col("agency", 8, "key"),
    "target_id": Col("target", 9, "key"),
    "target_name": Col("target name", 8, "fold"),  # also of likely ties
    "other_agency_id": Col("other", 9, "key"),
    "poc_phone": Col("phone", 9, "key"),
    "poc_name": Col("contact", 7, "fold"),
    "other_division": Col("other div", 6),
    "basis": Col("basis", 6),
    "division": Col("division", 4),
    "poc_email": Col("email", 5, "key"),
    "first_seen": Col("first seen", 4, "time"),
    "confirmed_since": Col("confirmed since", 4, "time"),
    # Since when every resolution has found it (first seen, or found again).
    "current_since": Col("current since", 3, "time"),
    # Whether the latest resolution finds it, and when it last did (all true, and the
    # latest run's time, unless --all).
    "last_seen": Col("last seen", 3, "time"),
    "is_current": Col("current", 3),
    "other_agency": Col("other agency name", 2, "fold"),
}


def _col(name: str) -> Col:
    return COLUMNS.get(name, Col(name, 5))


def display_cell(value: Any, kind: str) -> str:
    """One value as the terminal shows it."""
    if value is None:
        return ""
    if kind == "score" and isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fit_table(
    data: pa.Table, width: int, title: str, layout: Mapping[str, Col] | None = None
) -> tuple[Table, list[str]]:
    """A rich table of ``data`` that fits ``width`` columns, and the columns it dropped;
    ``layout`` overrides :data:`COLUMNS` for this table."""
    names = data.column_names
    cols = {n: (layout or {}).get(n) or _col(n) for n in names}
    rows = data.to_pylist()
    cells = {n: [visible(display_cell(r[n], cols[n].kind)) for r in rows] for n in names}
    natural = {n: max([len(cols[n].header), *(len(c) for c in cells[n])]) for n in names}
    # A folding column needs only a little width; it takes what is left.
    least = {n: min(natural[n], 16) if cols[n].kind == "fold" else natural[n] for n in names}

    def need(kept: list[str], sizes: dict[str, int]) -> int:
        return sum(sizes[n] + _PAD for n in kept) + 1

    kept = list(names)
    dropped: list[str] = []
    while need(kept, least) > width:
        droppable = [n for n in kept if cols[n].priority < 9]
        if not droppable:
            break
        victim = min(droppable, key=lambda n: (cols[n].priority, -names.index(n)))
        kept.remove(victim)
        dropped.append(victim)

    table = Table(title=Text(title), title_justify="left")
    for n in kept:
        col = cols[n]
        table.add_column(
            col.header,
            justify="right" if col.numeric else "left",
            no_wrap=col.kind != "fold",
            overflow="fold",
            min_width=least[n] if col.kind != "fold" else None,
        )
    for i in range(len(rows)):
        table.add_row(*(Text(cells[n][i]) for n in kept))
    return table, dropped


def _tsv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = str(value)
    safe = safe_cell(text)
    assert isinstance(safe, str)
    return safe.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def to_tsv(data: pa.Table, cell: Callable[[Any], str] = _tsv_cell) -> str:
    """``data`` as tab-separated values with a header line (see the module doc)."""
    lines = ["\t".join(_tsv_cell(n) for n in data.column_names)]
    for row in data.to_pylist():
        lines.append("\t".join(cell(v) for v in row.values()))
    return "\n".join(lines) + "\n"
