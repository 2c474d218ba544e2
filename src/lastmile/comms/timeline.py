"""Activity of a selector, or of every selector of a subject, by day and hour.

One row per (day, hour) with at least one event, ready for a calendar heat map or a stacked
bar chart. Days and hours are UTC, as the store keeps time.
"""

from __future__ import annotations

import pyarrow as pa

from lastmile.comms._base import CommsError, normalize_selector, placeholders, run
from lastmile.comms.contacts import KIND_COUNTS
from lastmile.comms.owners import owner_of, resolved
from lastmile.store import Workspace

TIMELINE_SCHEMA = pa.schema(
    [
        ("day", pa.date32()),
        ("hour", pa.int32()),
        ("events", pa.int64()),
        ("calls", pa.int64()),
        ("texts", pa.int64()),
        ("app_messages", pa.int64()),
    ]
)


def subject_selectors(ws: Workspace, subject_id: str) -> list[str]:
    """The normalized values of the selector records that name ``subject_id``."""
    rows = ws.store.rows(
        "SELECT DISTINCT value_normalized FROM selectors "
        "WHERE subject_id = ? AND value_normalized IS NOT NULL ORDER BY value_normalized",
        (subject_id.strip(),),
    )
    return [str(r[0]) for r in rows]


def timeline_selectors(ws: Workspace, selector_or_subject: str) -> list[str]:
    """What ``timeline`` counts: the selectors of the subject when the text is a subject_id
    with selector records, else the one selector it names."""
    text = selector_or_subject.strip()
    if not text:
        raise CommsError("give a selector or a subject_id")
    return subject_selectors(ws, text) or [normalize_selector(text)]


def timeline(ws: Workspace, selector_or_subject: str) -> pa.Table:
    """Events of a selector (written any way) or a subject (by subject_id: all the selectors
    its selector records name) per UTC day and hour.

    Columns: day, hour (0-23), events, calls (network and app calls), texts, app_messages;
    once resolution has run, also ``owner`` and ``owner_id``: the person the subject record
    resolves to, or the one person owning the selector (none for a family phone). An event
    between two of the subject's own selectors counts once.
    """
    sels = timeline_selectors(ws, selector_or_subject)
    subject = selector_or_subject.strip() if subject_selectors(ws, selector_or_subject) else None
    marks = placeholders(len(sels))
    sql = f"""
SELECT
    CAST(time AS DATE) AS day,
    CAST(EXTRACT(HOUR FROM time) AS INTEGER) AS hour,
    COUNT(*) AS events,{KIND_COUNTS}
FROM communications
WHERE from_selector IN ({marks}) OR to_selector IN ({marks})
GROUP BY CAST(time AS DATE), CAST(EXTRACT(HOUR FROM time) AS INTEGER)
ORDER BY day, hour
"""
    table = run(ws, sql, [*sels, *sels], TIMELINE_SCHEMA)
    if table.num_rows == 0 or not resolved(ws):
        return table
    # Once resolution has run: whom the events are about (the same on every row).
    eid, name = owner_of(ws, subject, sels)
    n = table.num_rows
    table = table.append_column("owner", pa.array([name or None] * n, pa.string()))
    return table.append_column("owner_id", pa.array([eid or None] * n, pa.string()))
