"""Selector normalization for a staged table, set-based.

phonenumbers and the other normalizers are Python libraries, so they are run once per
*distinct* value (a national operation has millions of events between a few tens of thousands
of phones), and the result is joined back in DuckDB.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from lastmile import selectors
from lastmile.model import SelectorKind
from lastmile.store.backends import register_table

AUTO = "auto"  # guess the kind from the value (communication endpoints)


def build_map(con: duckdb.DuckDBPyConnection, distinct_sql: str, into: str) -> None:
    """``distinct_sql`` yields distinct (kind, platform, raw); creates temp table ``into``
    with (kind, platform, raw, normalized, valid, reason)."""
    rows = con.execute(distinct_sql).fetchall()
    kinds, platforms, raws, values, valids, reasons = [], [], [], [], [], []
    for kind_hint, platform, raw in rows:
        kind = selectors.guess_kind(raw, platform) if kind_hint == AUTO else kind_hint
        result = selectors.normalize(SelectorKind(kind), raw, platform=platform)
        kinds.append(kind_hint)
        platforms.append(platform)
        raws.append(raw)
        values.append(result.value)
        valids.append(result.valid)
        reasons.append(result.reason)
    table = pa.table(
        {
            "kind": pa.array(kinds, pa.string()),
            "platform": pa.array(platforms, pa.string()),
            "raw": pa.array(raws, pa.string()),
            "normalized": pa.array(values, pa.string()),
            "valid": pa.array(valids, pa.bool_()),
            "reason": pa.array(reasons, pa.string()),
        }
    )
    register_table(con, table, into)
