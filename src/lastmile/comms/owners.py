"""Names beside numbers: each selector's resolved owner, once ``lastmile resolve`` has run.

A selector's owner is the person entity its selector records' subjects resolve to, when
they resolve to exactly one person (a family phone or a business line has no single owner and
shows none). Before any resolution the tables are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from lastmile.comms._base import placeholders
from lastmile.store import Workspace


def with_owners(ws: Workspace, table: pa.Table, columns: Sequence[str]) -> pa.Table:
    """``table`` with ``{col}_owner`` (best name) and ``{col}_owner_id`` (entity id) after
    each selector column in ``columns``."""
    if table.num_rows == 0 or not ws.store.rows("SELECT 1 FROM entity_members LIMIT 1"):
        return table
    values = sorted({v for c in columns for v in table.column(c).to_pylist() if v})
    owners: dict[str, tuple[str, str]] = {}
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows = ws.store.rows(
            "SELECT s.value_normalized, min(m.entity_id), min(e.best_name) "
            "FROM selectors s JOIN entity_members m ON m.record_type = 'subjects' "
            "AND m.record_id = s.subject_id JOIN entities e ON e.entity_id = m.entity_id "
            f"WHERE s.value_normalized IN ({placeholders(len(chunk))}) "
            "GROUP BY s.value_normalized HAVING count(DISTINCT m.entity_id) = 1",
            chunk,
        )
        owners.update({str(v): (str(eid), str(name or "")) for v, eid, name in rows})
    for col in columns:
        vals = table.column(col).to_pylist()
        at = table.schema.get_field_index(col) + 1
        ids = pa.array([owners.get(v, (None, None))[0] if v else None for v in vals], pa.string())
        names = pa.array([owners.get(v, (None, None))[1] if v else None for v in vals], pa.string())
        table = table.add_column(at, f"{col}_owner", names)
        table = table.add_column(at + 1, f"{col}_owner_id", ids)
    return table


def best_names(ws: Workspace, entity_ids: Sequence[str | None]) -> dict[str, str]:
    """entity id -> best name, for the entities given that have one (None and repeats
    skipped), looked up in chunks that stay under a database's limit on bound parameters."""
    wanted = sorted({i for i in entity_ids if i is not None})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        rows = ws.store.rows(
            "SELECT entity_id, best_name FROM entities WHERE best_name IS NOT NULL "
            f"AND entity_id IN ({placeholders(len(chunk))})",
            chunk,
        )
        names.update({str(e): str(n) for e, n in rows})
    return names


def owner_of(ws: Workspace, subject_id: str | None, selectors: Sequence[str]) -> tuple[str, str]:
    """(entity id, best name) of whom a timeline is about: the subject record's person, or the
    one person owning every selector given; ("", "") when there is none."""
    if subject_id:
        rows = ws.store.rows(
            "SELECT m.entity_id, e.best_name FROM entity_members m JOIN entities e "
            "USING (entity_id) WHERE m.record_type = 'subjects' AND m.record_id = ?",
            (subject_id,),
        )
        if rows:
            return str(rows[0][0]), str(rows[0][1] or "")
    if not selectors:
        return "", ""
    table = with_owners(ws, pa.table({"s": pa.array(list(selectors), pa.string())}), ["s"])
    if "s_owner_id" not in table.column_names:
        return "", ""
    found = {
        (i, n)
        for i, n in zip(table["s_owner_id"].to_pylist(), table["s_owner"].to_pylist(), strict=True)
    }
    if len(found) != 1 or None in next(iter(found)):
        return "", ""
    eid, name = next(iter(found))
    return str(eid), str(name or "")


def resolved(ws: Workspace) -> bool:
    """Whether ``lastmile resolve`` has run on the workspace."""
    return bool(ws.store.rows("SELECT 1 FROM entity_members LIMIT 1"))
