"""Row validation as SQL: one SELECT per record type turns raw text columns into typed,
canonical columns plus a list of errors, so millions of rows are checked in DuckDB at once.

Each column yields a typed expression and an error expression (NULL when the value is fine);
cross-column rules (a pill is counted, powder is weighed...) are listed in ``ROW_RULES``. The
error list is ``[{column, reason}]``; a row with any error is rejected whole.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lastmile.model import GRADE_COLUMNS, Column, ColumnType, RecordType
from lastmile.store.schema import (
    CANONICAL_TIME_FORMAT,
    digest_from_number_sql,
    digest_number_sql,
)

MAX_ID_LENGTH = 200

# A date or time later than the day of ingest (UTC) plus this many days is rejected: records
# describe what happened. One day covers every time zone's "today".
FUTURE_MARGIN_DAYS = 1

# Plausible maxima for one record (docs/format.md, "Plausible maxima"). Far above any
# seizure ever reported (the largest are tons and millions of pills), they catch typing
# slips and garbage such as 1.7e308 pills, which would otherwise win as the first row and
# overflow the report's sums. A mass: at most 1,000 metric tons, in each unit.
MAX_PILLS = 100_000_000
MAX_MASS = {"g": 1e9, "kg": 1e6, "oz": 35_273_962, "lb": 2_204_623}
MAX_FIREARMS = 100_000
MAX_AMOUNT = 1e13  # in the currency given (a billion dollars in the weakest currencies)
MAX_AMOUNT_USD = 1e10
MAX_DURATION_S = 7 * 86_400

# Text columns whose values are codes written in capitals (ISO 4217): read case-insensitively.
UPPER_CASE_COLUMNS = frozenset({"currency"})


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RowRule:
    """A rule across columns: ``bad_sql`` (over typed columns) is true for a bad row."""

    column: str
    bad_sql: str
    reason: str


ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "investigations": (RowRule("closed", "closed < opened", "closed before it was opened"),),
    "selectors": (
        RowRule(
            "platform", "kind = 'account' AND platform IS NULL", "an account needs its platform"
        ),
    ),
    "communications": (
        RowRule(
            "platform",
            "kind IN ('app_message', 'app_call') AND platform IS NULL",
            "an app message or app call needs its platform",
        ),
    ),
    "relationships": (RowRule("until", "until < since", "ends before it begins"),),
    "drug_seizures": (
        RowRule("unit", "form = 'pill' AND unit <> 'count'", "pills are counted: use unit count"),
        RowRule(
            "unit",
            "form <> 'pill' AND unit = 'count'",
            "only pills are counted; weigh the other forms (g, kg, oz, lb)",
        ),
        RowRule(
            "quantity",
            f"unit = 'count' AND quantity > {MAX_PILLS}",
            f"implausible: more than {MAX_PILLS:,} pills in one exhibit",
        ),
        *(
            RowRule(
                "quantity",
                f"unit = '{unit}' AND quantity > {limit:.0f}",
                f"implausible: more than {limit:,.0f} {unit} (1,000 metric tons) in one exhibit",
            )
            for unit, limit in MAX_MASS.items()
        ),
    ),
    "firearm_seizures": (
        RowRule(
            "count",
            f"count > {MAX_FIREARMS}",
            f"implausible: more than {MAX_FIREARMS:,} firearms in one seizure",
        ),
    ),
    "currency_seizures": (
        RowRule(
            "currency",
            "currency IS NOT NULL AND NOT regexp_full_match(currency, '[A-Z]{3}')",
            "not an ISO 4217 currency code",
        ),
        RowRule(
            "amount",
            f"amount > {MAX_AMOUNT:.0f}",
            f"implausible: more than {MAX_AMOUNT:,.0f} in one seizure",
        ),
        RowRule(
            "amount_usd",
            f"amount_usd > {MAX_AMOUNT_USD:.0f}",
            f"implausible: more than {MAX_AMOUNT_USD:,.0f} US dollars in one seizure",
        ),
    ),
}
ROW_RULES["communications"] += (
    RowRule(
        "duration_s",
        f"duration_s > {MAX_DURATION_S}",
        f"implausible: a call longer than {MAX_DURATION_S:,} seconds (7 days)",
    ),
)


def mapping_extras(rt: RecordType) -> tuple[str, ...]:
    """Columns a mapped file adds to the model's: each time as written and as read by the
    mapping, and the mapping's own error (ingest/mapping.py); NULL for interchange files."""
    times = [c.name for c in rt.columns if c.type is ColumnType.TIMESTAMP]
    extras = [f"{t}__{part}" for t in times for part in ("original", "parsed")]
    return (*extras, "_map_error_column", "_map_error_reason")


def extra_type(name: str) -> str:
    """The SQL type of a column of :func:`mapping_extras` (what a file without it reads as
    NULL)."""
    return "TIMESTAMP" if name.endswith("__parsed") else "VARCHAR"


def file_columns(rt: RecordType) -> tuple[Column, ...]:
    """Every column a file of this type may carry: the record's own and the grades."""
    return rt.columns + GRADE_COLUMNS


def text_sql(value: str) -> str:
    """The value of a text field as lastmile reads it: spaces (Unicode's too) trimmed from
    both ends, and NULL when nothing is left. Most values have no space to trim and are pure
    ASCII; for them the value is kept as it is, because ``trim`` copies every string and that
    copy was a tenth of the validation pass."""
    return (
        f"CASE WHEN strlen({value}) = length({value}) AND NOT prefix({value}, ' ') "
        f"AND NOT suffix({value}, ' ') THEN NULLIF({value}, '') ELSE NULLIF(trim({value}), '') END"
    )


def _enum_case(col: Column, v: str) -> str:
    whens = {value.lower(): value for value in col.values}
    whens.update({k.lower(): v2 for k, v2 in col.synonyms.items()})
    arms = " ".join(f"WHEN {q(k)} THEN {q(val)}" for k, val in sorted(whens.items()))
    return f"CASE lower({v}) {arms} END"


def _allowed(col: Column) -> str:
    if len(col.values) > 30:
        return f"{len(col.values)} allowed values, see docs/format.md"
    return ", ".join(col.values)


def _latest_day() -> str:
    """The last day a date may name: the day of ingest (UTC) plus the margin."""
    return f"(current_date + {FUTURE_MARGIN_DAYS})"


def _future(shown: str) -> str:
    return (
        f"'in the future: ''' || {shown} || ''' is after ' || "
        f"CAST({_latest_day()} AS VARCHAR) || ' (the day of ingest, UTC, plus "
        f"{FUTURE_MARGIN_DAYS} day)'"
    )


def _typed_and_error(col: Column, v: str, t: str) -> tuple[str, str]:
    """(typed expression over ``v``, error expression over ``v`` and ``t``) for one column:
    ``v`` names the trimmed text and ``t`` the typed value, computed once a level below."""
    shown = f"left({v}, 60)"
    kind = col.type
    if kind is ColumnType.ENUM:
        typed = _enum_case(col, v)
        err = (
            f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN "
            f"'unknown ' || {q(col.name)} || ' ''' || {shown} || ''' (allowed: ' || "
            f"{q(_allowed(col))} || ')' END"
        )
        return typed, err
    if kind is ColumnType.DATE:
        typed = (
            f"CASE WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
            f"THEN TRY_CAST({v} AS DATE) END"
        )
        err = (
            f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN "
            f"'unparseable date ''' || {shown} || ''' (expected YYYY-MM-DD)' "
            + (
                f"WHEN year({t}) NOT BETWEEN 1900 AND 2100 THEN "
                f"'implausible date ''' || {shown} || '''' "
                f"WHEN {t} > {_latest_day()} THEN {_future(shown)} "
                if col.implausible_rejected
                else ""
            )
            + "END"
        )
        return typed, err
    if kind is ColumnType.TIMESTAMP:
        # Without an offset (or with Z) the plain cast is exact and much cheaper than the
        # time-zone-aware one, which the rest (a +/- offset after the date, or a zone name
        # such as America/Denver) needs.
        typed = (
            f"CASE WHEN NOT (contains(substr({v}, 11), '+') OR contains(substr({v}, 11), '-') "
            f"OR contains({v}, '/')) "
            f"THEN TRY_CAST({v} AS TIMESTAMP) "
            f"ELSE TRY_CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS TIMESTAMP) END"
        )
        err = (
            f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN "
            f"'unparseable time ''' || {shown} || ''' (expected ISO 8601, "
            f"e.g. 2022-07-04T21:15:09-06:00)' "
            f"WHEN year({t}) NOT BETWEEN 1900 AND 2100 THEN "
            f"'implausible time ''' || {shown} || '''' "
            f"WHEN {t} >= CAST({_latest_day()} + 1 AS TIMESTAMP) THEN {_future(shown)} END"
        )
        return typed, err
    if kind in (ColumnType.DECIMAL, ColumnType.FRACTION):
        typed = f"TRY_CAST({v} AS DOUBLE)"
        above_range = (
            f"WHEN {t} > 1 THEN 'out of range ' || {shown} || ' (expected 0 to 1)' "
            if kind is ColumnType.FRACTION
            else ""
        )
        err = (
            f"CASE WHEN {v} IS NULL THEN NULL "
            f"WHEN {t} IS NULL OR isnan({t}) THEN 'not a number ''' || {shown} || '''' "
            f"WHEN isinf({t}) THEN 'not a finite number ' || {shown} "
            f"WHEN {t} < 0 THEN 'negative value ' || {shown} "
            f"{above_range}END"
        )
        return typed, err
    if kind is ColumnType.INTEGER:
        typed = f"CASE WHEN regexp_full_match({v}, '\\d{{1,18}}') THEN TRY_CAST({v} AS BIGINT) END"
        err = (
            # A value that typed is fine: the regular expression runs on the others only.
            f"CASE WHEN {v} IS NULL OR {t} IS NOT NULL THEN NULL "
            f"WHEN regexp_full_match({v}, '-\\d+') THEN 'negative value ' || {shown} "
            f"WHEN {t} IS NULL THEN 'not a whole number ''' || {shown} || '''' END"
        )
        return typed, err
    if kind is ColumnType.ID:
        err = (
            f"CASE WHEN length({v}) > {MAX_ID_LENGTH} THEN 'id longer than "
            f"{MAX_ID_LENGTH} characters' "
            f"WHEN regexp_matches({v}, '[\\x00-\\x1f]') THEN 'id contains control characters' END"
        )
        return v, err
    if kind is ColumnType.LIST:
        typed = (
            f"NULLIF(array_to_string(list_filter(list_transform(string_split({v}, '|'), "
            f"lambda x: trim(x)), lambda x: x <> ''), '|'), '')"
        )
        return typed, _nul_check(v)
    if col.name in UPPER_CASE_COLUMNS:
        return f"upper({v})", _nul_check(v)
    # TEXT, REF (checked against the store later), SELECTOR (normalized later)
    return v, _nul_check(v)


def typed_sql(col: Column, text: str) -> str:
    """The typed value of ``col`` from ``text`` as read, trimmed as :func:`validation_sql`
    trims it; NULL where the value is not valid."""
    return _typed_and_error(col, text_sql(text), "NULL")[0]


def original_sql(written: str, typed: str) -> str:
    """``{ts}_original``: the text as written, or NULL where it is exactly the canonical text
    of the stored time (``CANONICAL_TIME_FORMAT``), which gives it back:
    ``coalesce(time_original, strftime(time, '%Y-%m-%dT%H:%M:%SZ'))`` is always the text as
    written (``lastmile.store.schema.time_as_written_sql``). Most returns write their times
    so, and every stored copy of that unique text cost DuckDB's compression more than any
    other column of an event's source (docs/format.md, "Times")."""
    return (
        f"CASE WHEN strlen({written}) = 20 AND {written} = "
        f"strftime({typed}, {q(CANONICAL_TIME_FORMAT)}) THEN NULL ELSE {written} END"
    )


def _nul_check(v: str) -> str:
    # A NUL byte is legal UTF-8 but no text field holds one, and PostgreSQL cannot store it:
    # reject the row on both stores alike.
    return f"CASE WHEN contains({v}, chr(0)) THEN 'contains a NUL character' END"


@dataclass(frozen=True)
class KnownKeys:
    """A staging table of the ids a reference column may name (column ``key``)."""

    table: str
    what: str  # "investigation", "subject or organization or selector"


def _hash_text_sql(columns: Sequence[str]) -> str:
    parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in columns)
    return f"concat_ws(chr(31), {parts})"


def with_content_hash_sql(select_sql: str, columns: Sequence[str], name: str) -> str:
    """``select_sql``'s rows with column ``name``: the digest of the values of ``columns``
    (expressions over its columns; NULL and empty alike, fields separated by \\x1f:
    store/schema.py, HASH). The digest is computed a level below its byte order
    (store/schema.py, :func:`digest_number_sql`), so the SQL names the columns once."""
    number = ident("_digest_" + name)
    return (
        f"SELECT * EXCLUDE ({number}), {digest_from_number_sql(number)} AS {ident(name)} "
        f"FROM (SELECT *, {digest_number_sql(_hash_text_sql(columns))} AS {number} "
        f"FROM ({select_sql}))"
    )


def _error_list(errors: Sequence[tuple[str, str]], prior: str = "") -> str:
    """NULL when every reason is NULL (most rows: nothing is allocated for them), else the
    list of {column, reason} that are not NULL, after the ``prior`` list if any. Both parts of
    each error are SQL expressions."""
    if not errors:
        return prior or "NULL"
    conditions = [f"({reason}) IS NULL" for _, reason in errors]
    items = "[" + ", ".join(f"{{'column': {c}, 'reason': {r}}}" for c, r in errors) + "]"
    listed = f"list_concat(coalesce({prior}, []), {items})" if prior else items
    if prior:
        conditions.insert(0, f"{prior} IS NULL")
    return (
        f"CASE WHEN {' AND '.join(conditions)} THEN NULL "
        f"ELSE list_filter({listed}, lambda e: e.reason IS NOT NULL) END"
    )


def validation_sql(
    rt: RecordType,
    present: Sequence[str],
    source: str,
    known: dict[str, KnownKeys] | None = None,
    *,
    content_hash: bool = True,
    carry: Sequence[str] = (),
    narrow: bool = False,
    pretrimmed: Collection[str] = (),
) -> str:
    """One SELECT over ``source`` (raw text columns ``present`` with ``_file_index`` and
    ``_line``) giving the typed columns named as the model, ``{ts}_original`` for timestamps,
    ``_errors`` (every problem of the row, references included) and ``_hash`` (the content
    hash; NULL without ``content_hash``). Columns ``carry`` of ``source`` are passed through
    as they are. With ``narrow``, the model's columns that no file has (``present``) and
    that are not required are left out of the result. Columns ``pretrimmed`` of ``source`` are
    trimmed already (:func:`text_sql`: a mapping's projection trims what it reads), and are
    not trimmed again. One pass over the rows does all of it."""
    known = known or {}
    # Three levels, each computed once per row: the trimmed text (_raw_x), the typed value
    # (x), then each column's error from both. DuckDB pipelines them without materializing.
    carried = [ident(c) for c in carry]
    trimmed: list[str] = ["_file_index", "_line", "_map_error_column", "_map_error_reason"]
    trimmed += carried
    typed_level: list[str] = ["*"]
    inner: list[str] = ["_file_index", "_line", "_map_error_column", "_map_error_reason"]
    inner += carried
    errors: list[tuple[str, str]] = []
    originals: list[str] = []
    for col in file_columns(rt):
        raw = ident(f"_raw_{col.name}")
        name = ident(col.name)
        text = "NULL::VARCHAR"
        if col.name in present:
            text = name if col.name in pretrimmed else text_sql(name)
        trimmed.append(f"{text} AS {raw}")
        typed, err = _typed_and_error(col, raw, name)
        if col.name not in present and col.type is not ColumnType.TIMESTAMP:
            # No file has the column: its typed value is NULL on every row (of the type the
            # expression would have), and DuckDB need not bind and plan the expression: for
            # a record type of many columns in a small file, planning cost more than
            # checking the rows. (A mapping may still pass a time typed.)
            typed = f"NULL::{col.sql_type}"
        if col.type is ColumnType.TIMESTAMP:
            # A mapping that read the time passes it typed; only the rest is parsed here.
            parsed = ident(col.name + "__parsed")
            trimmed += [ident(col.name + "__original"), parsed]
            typed = f"CASE WHEN {parsed} IS NOT NULL THEN {parsed} ELSE {typed} END"
        typed_level.append(f"{typed} AS {name}")
        inner.append(name)
        if col.type is ColumnType.TIMESTAMP:
            written = f"coalesce({ident(col.name + '__original')}, {raw})"
            inner.append(f"{original_sql(written, name)} AS {ident(col.name + '_original')}")
            originals.append(col.name + "_original")
        if col.required:
            err = f"CASE WHEN {raw} IS NULL THEN 'required value is missing' ELSE {err} END"
        elif col.name not in present and col.type is not ColumnType.TIMESTAMP:
            # No file has the column: its text is NULL on every row, and so is its error
            # (a mapping may still pass a time typed, which is checked).
            err = "NULL"
        if err != "NULL":
            errors.append((q(col.name), err))
    levels = f"(SELECT {', '.join(typed_level)} FROM (SELECT {', '.join(trimmed)} FROM {source}))"
    # Each column's reason is a column of its own, a level below the list that names it
    # twice (whether any is set, then which): the SQL holds each reason once, which halved
    # the time DuckDB took to bind it (fixed, whatever the rows: a tenth of a second for a
    # small file of a record type with many columns).
    if errors:
        reasons = [f"{err} AS {ident(f'_reason_{i}')}" for i, (_, err) in enumerate(errors)]
        levels = f"(SELECT *, {', '.join(reasons)} FROM {levels})"
        errors = [(col, ident(f"_reason_{i}")) for i, (col, _) in enumerate(errors)]
    inner_sql = f"SELECT {', '.join(inner)}, {_error_list(errors)} AS _col_errors FROM {levels}"
    rules = [("_map_error_column", "_map_error_reason")]
    rules += [
        (q(r.column), f"CASE WHEN {r.bad_sql} THEN {q(r.reason)} END")
        for r in ROW_RULES.get(rt.name, ())
    ]
    # Each reference is looked up once per row, a level below the error list (which names
    # each reason twice: whether any is set, then which): one join to the known keys, not two.
    lookups = []
    for name, keys in known.items():
        c = f"v.{ident(name)}"
        found = ident(f"_known_{name}")
        lookups.append(f"{c} IN (SELECT key FROM {keys.table}) AS {found}")
        unknown = f"'unknown {keys.what} ''' || {c} || ''''"
        rules.append((q(name), f"CASE WHEN {c} IS NOT NULL AND NOT {found} THEN {unknown} END"))
    if lookups:
        inner_sql = f"SELECT v.*, {', '.join(lookups)} FROM ({inner_sql}) v"
    all_errors = _error_list(rules, prior="_col_errors")
    model = [c.name for c in file_columns(rt)]
    # A column no file has is NULL on every row: it is left out of the result (a staged
    # column of millions of NULLs still costs its write), unless required (then every row is
    # rejected, and the statements that follow may name it).
    required = set(rt.required_columns)
    kept = [c for c in model if c in present or c in required] if narrow else model
    cols = ", ".join(
        ["v._file_index", "v._line"]
        + [f"v.{ident(c)}" for c in kept]
        + [f"v.{ident(c)}" for c in originals]
        + [f"v.{c}" for c in carried]
    )
    # A content-keyed record (an event's source) has no content hash of its own: its event
    # is keyed by the digest of its canonical values, and a source by its file and line.
    if not content_hash:
        return f"SELECT {cols}, {all_errors} AS _errors FROM ({inner_sql}) v"
    # The hash is over every model column, computed in the level below the errors.
    number = ident("_digest")
    hashed = f"SELECT v.*, {digest_number_sql(_hash_text_sql(['v.' + ident(c) for c in model]))} "
    hashed += f"AS {number} FROM ({inner_sql}) v"
    digest = digest_from_number_sql(f"v.{number}")
    return f"SELECT {cols}, {all_errors} AS _errors, {digest} AS _hash FROM ({hashed}) v"
