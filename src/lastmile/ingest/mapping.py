"""Mapped ingest: a YAML mapping says how the columns of someone else's file become lastmile
records, in the spirit of followthemoney's mappings.

A mapping is turned into one SQL projection over the source file (all columns read as text),
whose output has the interchange columns of a record type. From there the file goes through
exactly the same validation, duplicate checks and provenance as an interchange file, so a
carrier's toll record is checked as strictly as a case file.

```yaml
name: carrier_cdr
description: one row per event, as carriers export call detail records
format: csv                         # csv, xlsx or json
params: [investigation]             # values given on the command line (--investigation)
records:
  - record_type: communications
    columns:                        # interchange column: how to fill it
      investigation_id: {param: investigation}
      from_selector: orig_number    # a source column (case-insensitive)
      to_selector: {column: term_number}
      time: {column: start_time, formats: ["%m/%d/%Y %H:%M:%S"], timezone: UTC}
      kind: {column: event_type, map: {VOICE: call, SMS: text}}
      duration_s: {column: duration_sec}
      platform: {value: WhatsApp}   # a constant
      selector_id: {hash: [handle]} # a stable id: md5 of the investigation and these columns
      # in a relationship, {hash: [handle], as: selectors} names that same selector
    when_present: handle            # rows with this column blank are not this record
    orient:                         # target-centric rows: swap from/to for incoming events
      column: direction
      outgoing: [OUT, MO]
      incoming: [IN, MT]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lastmile.ingest.validate import ident, q, text_sql
from lastmile.model import RECORD_TYPES_BY_NAME, ColumnType, RecordType

FORMATS = ("csv", "xlsx", "json")

# Spellings tried in order when a mapping names no formats for a time column: the ones
# carriers and platforms write, then ISO 8601 (which the interchange validator reads).
# Two-digit years come first: "%Y" would read "22" as the year 22.
DEFAULT_TIME_FORMATS = (
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%b-%Y %H:%M:%S",
)


class MappingError(ValueError):
    """The mapping itself is wrong; the message names the mapping and the place."""


@dataclass(frozen=True)
class Orient:
    column: str
    outgoing: tuple[str, ...]
    incoming: tuple[str, ...]


@dataclass(frozen=True)
class RecordMapping:
    record_type: RecordType
    columns: dict[str, dict[str, Any]]
    when_present: str = ""
    orient: Orient | None = None

    def source_columns(self) -> set[str]:
        needed: set[str] = set()
        for spec in self.columns.values():
            if "column" in spec:
                needed.add(spec["column"])
            needed.update(spec.get("hash", []))
        if self.when_present:
            needed.add(self.when_present)
        if self.orient:
            needed.add(self.orient.column)
        return needed


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    format: str
    records: tuple[RecordMapping, ...]
    params: tuple[str, ...] = ()
    source: str = ""  # where the mapping came from, for messages
    example: str = ""  # a documented example file, for presets


def _spec(mapping: str, record: str, column: str, raw: Any) -> dict[str, Any]:
    where = f"mapping {mapping!r}, {record}.{column}"
    if isinstance(raw, str):
        return {"column": raw.strip().lower()}
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected a column name or a table, got {raw!r}")
    spec = dict(raw)
    kinds = [k for k in ("column", "value", "param", "hash") if k in spec]
    if len(kinds) != 1:
        raise MappingError(f"{where}: give exactly one of column, value, param or hash")
    if "column" in spec:
        spec["column"] = str(spec["column"]).strip().lower()
    if "hash" in spec:
        if not isinstance(spec["hash"], list) or not spec["hash"]:
            raise MappingError(f"{where}: hash takes a list of source columns")
        spec["hash"] = [str(c).strip().lower() for c in spec["hash"]]
    if "map" in spec and not isinstance(spec["map"], dict):
        raise MappingError(f"{where}: map takes a table of source value: lastmile value")
    if "as" in spec and str(spec["as"]) not in RECORD_TYPES_BY_NAME:
        raise MappingError(f"{where}: as names a record type, not {spec['as']!r}")
    unknown = set(spec) - {"column", "value", "param", "hash", "as", "map", "formats", "timezone"}
    if unknown:
        raise MappingError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return spec


def parse_mapping(data: Any, source: str) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(f"{source}: a mapping is a YAML table")
    name = str(data.get("name") or Path(source).stem)
    fmt = str(data.get("format", "csv")).lower()
    if fmt not in FORMATS:
        raise MappingError(f"mapping {name!r}: format must be one of {', '.join(FORMATS)}")
    records = []
    raw_records = data.get("records") or []
    if not isinstance(raw_records, list):
        raise MappingError(f"mapping {name!r}: records is a list of tables")
    for i, rec in enumerate(raw_records):
        if not isinstance(rec, dict) or not isinstance(rec.get("columns") or {}, dict):
            raise MappingError(
                f"mapping {name!r}, record {i + 1}: a table with record_type and columns"
            )
        rt_name = rec.get("record_type")
        if rt_name not in RECORD_TYPES_BY_NAME:
            raise MappingError(f"mapping {name!r}, record {i + 1}: unknown record_type {rt_name!r}")
        rt = RECORD_TYPES_BY_NAME[rt_name]
        model = {c.name for c in rt.columns}
        columns = {}
        for col, raw in (rec.get("columns") or {}).items():
            if col not in model and col not in ("source_reliability", "info_credibility"):
                raise MappingError(f"mapping {name!r}: {rt_name} has no column {col!r}")
            columns[col] = _spec(name, rt_name, col, raw)
        missing = [c for c in rt.required_columns if c not in columns]
        if missing:
            raise MappingError(
                f"mapping {name!r}: {rt_name} needs {', '.join(missing)}, which it does not fill"
            )
        orient = None
        if rec.get("orient"):
            o = rec["orient"]
            if (
                not isinstance(o, dict)
                or not o.get("column")
                or not isinstance(o.get("outgoing"), list)
                or not isinstance(o.get("incoming"), list)
                or not o["outgoing"]
                or not o["incoming"]
            ):
                raise MappingError(
                    f"mapping {name!r}, record {i + 1}: orient needs a column and non-empty "
                    "outgoing and incoming lists"
                )
            orient = Orient(
                str(o["column"]).strip().lower(),
                tuple(str(v) for v in o.get("outgoing", [])),
                tuple(str(v) for v in o.get("incoming", [])),
            )
        records.append(
            RecordMapping(rt, columns, str(rec.get("when_present") or "").strip().lower(), orient)
        )
    if not records:
        raise MappingError(f"mapping {name!r}: no records")
    params = tuple(str(p) for p in data.get("params") or [])
    for rec in records:
        for spec in rec.columns.values():
            if "param" in spec and spec["param"] not in params:
                raise MappingError(f"mapping {name!r}: param {spec['param']!r} is not declared")
    return Mapping(
        name,
        str(data.get("description", "")),
        fmt,
        tuple(records),
        params,
        source,
        str(data.get("example", "")),
    )


def presets() -> dict[str, Mapping]:
    """The mappings shipped with lastmile (``lastmile/ingest/presets/*.yaml``)."""
    folder = resources.files("lastmile.ingest").joinpath("presets")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            m = parse_mapping(yaml.safe_load(entry.read_text(encoding="utf-8")), entry.name)
            found[m.name] = m
    return dict(sorted(found.items()))


def load_mapping(preset_or_file: str) -> Mapping:
    """A preset by name, or a mapping file."""
    known = presets()
    if preset_or_file in known:
        return known[preset_or_file]
    path = Path(preset_or_file)
    if not path.is_file():
        raise MappingError(
            f"no mapping {preset_or_file!r}: not a preset ({', '.join(known)}) nor a file"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not YAML ({exc})") from exc
    return parse_mapping(data, str(path))


# -- the projection --------------------------------------------------------------------------


def _text(column: str) -> str:
    return text_sql(ident(column))


def _value_sql(
    spec: dict[str, Any], col_type: ColumnType, params: dict[str, str], namespace: str = ""
) -> str:
    if "value" in spec:
        base = q(str(spec["value"]))
    elif "param" in spec:
        base = q(params[spec["param"]])
    elif "hash" in spec:
        # The same values give the same id in every row and file of the investigation, so a
        # relationship can name a selector made by another record of the mapping (``as``).
        parts = " || chr(31) || ".join(f"coalesce({_text(c)}, '')" for c in spec["hash"])
        scope = f"{params.get('investigation', '')}|{spec.get('as', namespace)}"
        base = f"'M' || md5({q(scope)} || chr(31) || {parts})"
    else:
        base = _text(spec["column"])
    if "map" in spec:
        arms = " ".join(
            f"WHEN {q(str(k).strip().lower())} THEN {q(str(v))}" for k, v in spec["map"].items()
        )
        base = f"coalesce(CASE lower({base}) {arms} END, {base})"
    if col_type is ColumnType.TIMESTAMP:
        tz = spec.get("timezone", "UTC")
        if spec.get("formats"):
            fmts = "[" + ", ".join(q(f) for f in spec["formats"]) + "]"
            parsed = f"try_strptime({base}, {fmts})"
        else:
            parsed = _default_time_sql(base)
        # A time read by a format is local to the mapping's time zone; it is passed to the
        # validator in UTC, to the second, beside the text as written (a time no format reads
        # is read there: ISO 8601 with an offset; anything else is rejected with the text
        # quoted). Written out as text and read again, it cost a tenth of a toll record's
        # ingest.
        if str(tz).upper() != "UTC":
            parsed = f"timezone('UTC', timezone({q(tz)}, {parsed}))"
        return f"CAST(date_trunc('second', {parsed}) AS TIMESTAMP)"
    if col_type is ColumnType.DATE and spec.get("formats"):
        fmts = "[" + ", ".join(q(f) for f in spec["formats"]) + "]"
        return f"coalesce(strftime(try_strptime({base}, {fmts}), '%Y-%m-%d'), {base})"
    return base


def _default_time_sql(text: str) -> str:
    """Read a time in any of DEFAULT_TIME_FORMATS. Trying a list of formats costs about ten
    times one format, so the two shapes of nearly every toll record (ISO and US with a
    four-digit year, told apart by a LIKE) are read directly and only the rest go through the
    list; the result is the same."""
    fmts = "[" + ", ".join(q(f) for f in DEFAULT_TIME_FORMATS) + "]"
    return (
        f"CASE WHEN {text} LIKE '____-__-__ __:__:__' OR {text} LIKE '____-__-__T__:__:__' "
        f"THEN TRY_CAST({text} AS TIMESTAMP) "
        f"WHEN {text} LIKE '__/__/____ __:__:__' "
        f"THEN try_strptime({text}, '%m/%d/%Y %H:%M:%S') "
        f"ELSE try_strptime({text}, {fmts}) END"
    )


def projection(rec: RecordMapping, params: dict[str, str]) -> tuple[list[str], list[str]]:
    """(select expressions, output column names) turning source columns into the record's
    interchange columns, with ``{ts}__original`` for times (as written) and ``{ts}__parsed``
    (the time read by the mapping's formats, in UTC, or NULL), and the mapping's own errors in
    ``_map_error_column`` and ``_map_error_reason``."""
    rt = rec.record_type
    exprs: dict[str, str] = {}
    for name, spec in rec.columns.items():
        col_type = rt.column(name).type if name in {c.name for c in rt.columns} else ColumnType.ENUM
        exprs[name] = _value_sql(spec, col_type, params, rt.name)
        if col_type is ColumnType.TIMESTAMP:
            written = _value_sql(
                {k: v for k, v in spec.items() if k not in ("formats", "timezone")},
                ColumnType.TEXT,
                params,
            )
            exprs[f"{name}__parsed"] = exprs[name]
            exprs[name] = written
            exprs[f"{name}__original"] = written
    error_column, error_reason = "NULL::VARCHAR", "NULL::VARCHAR"
    if rec.orient:
        o = rec.orient
        d = f"lower({_text(o.column)})"
        out_list = ", ".join(q(v.lower()) for v in o.outgoing)
        in_list = ", ".join(q(v.lower()) for v in o.incoming)
        allowed = ", ".join([*o.outgoing, *o.incoming])
        incoming = f"{d} IN ({in_list})"
        frm, to = exprs["from_selector"], exprs["to_selector"]
        exprs["from_selector"] = f"CASE WHEN {incoming} THEN {to} ELSE {frm} END"
        exprs["to_selector"] = f"CASE WHEN {incoming} THEN {frm} ELSE {to} END"
        known = f"{d} IN ({out_list}, {in_list})"
        error_column = f"CASE WHEN NOT coalesce({known}, false) THEN {q(o.column)} END"
        error_reason = (
            f"CASE WHEN {d} IS NULL THEN {q('blank direction (expected ' + allowed + ')')} "
            f"WHEN NOT {known} THEN 'unknown direction ''' || {_text(o.column)} || "
            f"''' (expected {allowed.replace(chr(39), chr(39) * 2)})' END"
        )
    exprs["_map_error_column"] = error_column
    exprs["_map_error_reason"] = error_reason
    names = list(exprs)
    return [f"{exprs[n]} AS {ident(n)}" for n in names], names


def _plain(text: str) -> bool:
    """``text`` is what :func:`text_sql` makes of it: ASCII, not empty, no space at either
    end (text_sql keeps such a value as it is)."""
    return text.isascii() and text != "" and text[0] != " " and text[-1] != " "


def trimmed_columns(rec: RecordMapping, params: dict[str, str]) -> set[str]:
    """The interchange columns of ``rec``'s projection whose text is already trimmed as the
    validator trims it (:func:`text_sql` applied: a source column, a hash, a plain constant,
    a map to plain values), so that validation need not trim it a second time (the second
    trim of every value of a toll record cost a tenth of its validation pass)."""
    out = set()
    for name, spec in rec.columns.items():
        if "value" in spec:
            base = _plain(str(spec["value"]))
        elif "param" in spec:
            base = _plain(params.get(spec["param"], ""))
        else:
            base = "hash" in spec or "column" in spec
        if base and all(_plain(str(v)) for v in (spec.get("map") or {}).values()):
            out.add(name)
    if rec.orient and not {"from_selector", "to_selector"} <= out:
        # Oriented rows swap the two: each is trimmed only if both are.
        out -= {"from_selector", "to_selector"}
    return out


def filter_sql(rec: RecordMapping) -> str:
    return f"{_text(rec.when_present)} IS NOT NULL" if rec.when_present else "true"
