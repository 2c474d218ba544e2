"""Top contacts of one selector, the first table an analyst reads from a toll return.

For a selector, every other selector it exchanged events with (either direction), ranked by
the number of events, with the mix of calls, texts and app messages, the direction, the first
and last contact, the total call time and the platforms. The same layout as PenLink's
"frequency" report.
"""

from __future__ import annotations

import pyarrow as pa

from lastmile.comms._base import CommsError, normalize_selector, run
from lastmile.comms.owners import with_owners
from lastmile.store import Workspace

CONTACTS_SCHEMA = pa.schema(
    [
        ("contact", pa.string()),
        ("events", pa.int64()),
        ("calls", pa.int64()),
        ("texts", pa.int64()),
        ("app_messages", pa.int64()),
        ("outgoing", pa.int64()),
        ("incoming", pa.int64()),
        ("first_contact", pa.timestamp("us")),
        ("last_contact", pa.timestamp("us")),
        ("total_duration_s", pa.int64()),
        ("platforms", pa.string()),
    ]
)

# Calls are voice calls on the network or in an app; texts are SMS/MMS; app_messages are
# messages on a platform. The three add up to ``events``.
KIND_COUNTS = """
    CAST(SUM(CASE WHEN kind IN ('call', 'app_call') THEN 1 ELSE 0 END) AS BIGINT) AS calls,
    CAST(SUM(CASE WHEN kind = 'text' THEN 1 ELSE 0 END) AS BIGINT) AS texts,
    CAST(SUM(CASE WHEN kind = 'app_message' THEN 1 ELSE 0 END) AS BIGINT) AS app_messages"""

_SQL = f"""
WITH e AS (
    SELECT to_selector AS contact, 1 AS outgoing, time, kind, platform, duration_s
    FROM communications
    WHERE from_selector = ? AND to_selector <> from_selector
    UNION ALL
    SELECT from_selector AS contact, 0 AS outgoing, time, kind, platform, duration_s
    FROM communications
    WHERE to_selector = ? AND to_selector <> from_selector
)
SELECT
    contact,
    COUNT(*) AS events,{KIND_COUNTS},
    CAST(SUM(outgoing) AS BIGINT) AS outgoing,
    CAST(SUM(1 - outgoing) AS BIGINT) AS incoming,
    MIN(time) AS first_contact,
    MAX(time) AS last_contact,
    CAST(COALESCE(SUM(duration_s), 0) AS BIGINT) AS total_duration_s,
    COALESCE(STRING_AGG(DISTINCT platform, '|' ORDER BY platform), '') AS platforms
FROM e
GROUP BY contact
ORDER BY events DESC, contact
LIMIT ?
"""


def contacts(ws: Workspace, selector: str, *, limit: int = 25) -> pa.Table:
    """The top ``limit`` contacts of ``selector`` (written any way), by events, then contact.

    Columns: contact, events, calls (network and app calls), texts, app_messages, outgoing,
    incoming, first_contact, last_contact (UTC), total_duration_s, platforms ("|"-joined,
    sorted; empty for network calls and texts only).
    """
    if limit < 1:
        raise CommsError(f"limit must be at least 1, not {limit}")
    value = normalize_selector(selector)
    return with_owners(ws, run(ws, _SQL, (value, value, limit), CONTACTS_SCHEMA), ["contact"])
