"""Selector normalization for a staged table, set-based.

phonenumbers and the other normalizers are Python libraries, so they are run once per
*distinct* value (a national operation has millions of events between a few tens of thousands
of phones), and the result is joined back in DuckDB. North American numbers written in the
usual ways — most of any toll record — are normalized in SQL instead (``FAST_PHONE_SQL``); a
test checks that it gives exactly what ``lastmile.selectors`` gives for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from lastmile.model import SelectorKind
from lastmile.store.backends import register_table

if TYPE_CHECKING:
    import pyarrow as pa

AUTO = "auto"  # guess the kind from the value (communication endpoints)

# (303) 555-0187, 303.555.0187, +1 303 555 0187, 13035550187, 1-303-555-0187 ... -> E.164.
# Area code and exchange start with 2-9 (NANP), which is also selectors.py's validity rule.
NANP_PATTERN = r"(\+?1[ .-]?)?\(?[2-9][0-9]{2}\)?[ .-]?[2-9][0-9]{2}[ .-]?[0-9]{4}"


# The columns of a map (build_map), typed whatever the values and whichever path made them:
# where every platform is NULL (a file without a platform column) the column is still text,
# not DuckDB's NULL type. The
# values the fast path does not take are built in Arrow in this order (the UNION ALL below
# reads them by position); a key that does not name a column here is an error. A function:
# pyarrow is imported only when a value needs the slow path (most toll records need none).
def map_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("kind", pa.string()),
            ("platform", pa.string()),
            ("raw", pa.string()),
            ("normalized", pa.string()),
            ("valid", pa.bool_()),
        ]
    )


def fast_phone_sql(raw: str) -> str:
    return (
        f"CASE WHEN regexp_full_match({raw}, '{NANP_PATTERN}') "
        f"THEN '+1' || right(regexp_replace({raw}, '[^0-9]', '', 'g'), 10) END"
    )


def build_map(con: duckdb.DuckDBPyConnection, distinct_sql: str, into: str) -> None:
    """``distinct_sql`` yields distinct (kind, platform, raw); creates temp table ``into``
    with (kind, platform, raw, normalized, valid), typed as ``MAP_SCHEMA``."""
    phone_like = f"kind IN ('{SelectorKind.PHONE.value}', '{AUTO}')"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {into}_all AS "
        f"SELECT kind, platform, raw, CASE WHEN {phone_like} THEN {fast_phone_sql('raw')} END "
        f"AS fast FROM ({distinct_sql}) d(kind, platform, raw)"
    )
    rows = con.execute(f"SELECT kind, platform, raw FROM {into}_all WHERE fast IS NULL").fetchall()
    fast = (
        f"SELECT CAST(kind AS VARCHAR) AS kind, CAST(platform AS VARCHAR) AS platform, "
        f"CAST(raw AS VARCHAR) AS raw, CAST(fast AS VARCHAR) AS normalized, true AS valid "
        f"FROM {into}_all WHERE fast IS NOT NULL"
    )
    if not rows:
        # Every value took the SQL fast path (most toll records). No Arrow table then:
        # pyarrow imports pandas to build one from Python lists, which cost a CLI ingest
        # about half a CPU-second.
        con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS {fast}")
        con.execute(f"DROP TABLE {into}_all")
        return
    # Imported here: phonenumbers is needed only for the values the fast path does not take
    # (none in most toll records), and its import cost every `lastmile ingest` a tenth of a
    # CPU-second.
    from lastmile import selectors

    kinds, platforms, raws, values, valids = [], [], [], [], []
    for kind_hint, platform, raw in rows:
        kind = selectors.guess_kind(raw, platform) if kind_hint == AUTO else kind_hint
        result = selectors.normalize(SelectorKind(kind), raw, platform=platform)
        kinds.append(kind_hint)
        platforms.append(platform)
        raws.append(raw)
        values.append(result.value)
        valids.append(result.valid)
    import pyarrow as pa

    table = pa.table(
        {"kind": kinds, "platform": platforms, "raw": raws, "normalized": values, "valid": valids},
        schema=map_schema(),
    )
    register_table(con, table, f"{into}_slow")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {into} AS {fast} UNION ALL SELECT * FROM {into}_slow"
    )
    con.execute(f"DROP TABLE {into}_all")
    con.execute(f"DROP TABLE {into}_slow")
