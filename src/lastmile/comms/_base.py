"""What the communications analyses share: reading a selector as an analyst writes it, the
SQL placeholders for a list of values, and typing a result table the same on both backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from lastmile import selectors
from lastmile.model import SelectorKind
from lastmile.store import Workspace


class CommsError(ValueError):
    """An analysis cannot run as asked; the message is meant for the user."""


def normalize_selector(raw: str) -> str:
    """The stored (normalized) form of a selector written any way: a phone in any layout
    becomes E.164, a handle loses its "@" and case. A value that does not normalize as the
    kind its text suggests is tried as an account handle, then kept as written (stripped)."""
    text = str(raw).strip()
    if not text:
        raise CommsError("empty selector")
    result = selectors.normalize(selectors.guess_kind(text), text)
    if result.valid:
        return result.value
    account = selectors.normalize(SelectorKind.ACCOUNT, text)
    if account.valid:
        return account.value
    return text


def normalize_selectors(raws: Sequence[str]) -> list[str]:
    """``normalize_selector`` over several values, first occurrence order, without repeats."""
    out: list[str] = []
    for raw in raws:
        value = normalize_selector(raw)
        if value not in out:
            out.append(value)
    return out


def placeholders(n: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``n`` values."""
    return ", ".join("?" for _ in range(n))


def run(ws: Workspace, sql: str, params: Sequence[Any], schema: pa.Schema) -> pa.Table:
    """Run a portable query and give its result the analysis's schema (PostgreSQL returns
    Python values whose Arrow types are guessed; an empty result has no types at all)."""
    table = ws.store.query(sql, params)
    if table.num_rows == 0:
        return schema.empty_table()
    return table.select(schema.names).cast(schema)


def to_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of a result table as dicts (dates and timestamps as Python objects)."""
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
