"""CSV cells a spreadsheet will not run as formulas (CSV / formula injection).

A value from a hostile file (a name, a handle, a rejected cell) such as ``=cmd|' /C calc'!A0``
becomes a live formula when an analyst opens the CSV in Excel, LibreOffice or Google Sheets.
The rule, OWASP's (https://owasp.org/www-community/attacks/CSV_Injection), applied to every
CSV lastmile writes (docs/exports.md):

- a **text** cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets a single quote (``'``) in front, which spreadsheets read as "this is text";
- except a text cell that is a plain **number** (``-12``, ``+3.5``, ``1e6``: a spreadsheet
  reads it as that number, never as a formula) or a valid **E.164 phone** (``+`` and 1-15
  digits, not starting with 0: ``+13035550187``), so that exports stay joinable on the
  normalized selectors;
- numeric, date and timestamp columns are written as they are (they cannot hold text).

The rule has two implementations that tests hold equal: ``safe_cell`` for one Python
string, ``safe_table`` for a whole Arrow table (vectorized, no Python loop over rows), and
``csv_safe_sql`` for a DuckDB ``COPY (...) TO`` query, so that set-based writers (such as the
ingest rejects file) apply the same rule in SQL.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"

# Kept to the syntax RE2 (Arrow), Python's re and DuckDB's regexp_matches all read alike.
_STARTS = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_E164 = r"^\+[1-9][0-9]{0,14}$"
_STARTS_RE, _NUMBER_RE, _E164_RE = (re.compile(p) for p in (_STARTS, _NUMBER, _E164))


def needs_quote(text: str) -> bool:
    """Whether ``text`` would be read by a spreadsheet as a formula (see the module doc)."""
    return bool(_STARTS_RE.match(text) and not _NUMBER_RE.match(text) and not _E164_RE.match(text))


def safe_cell(value: object) -> object:
    """The value to write in a CSV cell: text that starts a formula gets a leading quote;
    anything else (numbers, dates, None, safe text) is returned as it is."""
    if isinstance(value, str) and needs_quote(value):
        return QUOTE + value
    return value


def read_cell(text: str) -> str:
    """The value ``safe_cell`` wrote as ``text``: a leading quote that it put in front of a
    formula is taken off again, so that a CSV lastmile wrote reads back as its values."""
    if text.startswith(QUOTE) and needs_quote(text[1:]):
        return text[1:]
    return text


def _safe_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
    risky = pc.and_(
        pc.match_substring_regex(text, _STARTS),
        pc.invert(
            pc.or_(pc.match_substring_regex(text, _NUMBER), pc.match_substring_regex(text, _E164))
        ),
    )
    quoted = pc.binary_join_element_wise(pa.scalar(QUOTE), text, "")
    return pc.if_else(pc.fill_null(risky, False), quoted, text)


def safe_table(table: pa.Table) -> pa.Table:
    """``table`` with every text cell made safe by the rule (other columns untouched)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = _safe_column(table.column(i))
            table = table.set_column(i, field.name, column.cast(field.type))
    return table


def write_csv(table: pa.Table, sink: Path | str | IO[bytes] | None = None) -> str | None:
    """Write ``table`` as CSV (header, comma, UTF-8) with every text cell made safe.

    With no ``sink``, return the CSV text; otherwise write it to the path or binary file."""
    safe = safe_table(table)
    if sink is None:
        buf = io.BytesIO()
        pacsv.write_csv(safe, buf)
        return buf.getvalue().decode("utf-8")
    pacsv.write_csv(safe, str(sink) if isinstance(sink, Path) else sink)
    return None


def csv_safe_sql(expression: str) -> str:
    """A DuckDB SQL expression that applies the rule to the text ``expression`` (NULL stays
    NULL), for writers that ``COPY (SELECT ...) TO 'file.csv'`` without passing rows
    through Python."""
    e = f"CAST({expression} AS VARCHAR)"
    return (
        f"CASE WHEN regexp_matches({e}, '{_STARTS}') "
        f"AND NOT regexp_matches({e}, '{_NUMBER}') "
        f"AND NOT regexp_matches({e}, '{_E164}') "
        f"THEN '{QUOTE}{QUOTE}' || {e} ELSE {e} END"
    )
