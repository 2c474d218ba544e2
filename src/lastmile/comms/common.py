"""Common-call analysis: who do several targets all talk to?

Given a handful of targets (selectors written any way), the numbers and accounts that at least
``min_targets`` of them exchanged events with, excluding the targets themselves. One grouped
query over the events whose either end is a target: on DuckDB a filtered scan of the two
selector columns (no index needed), on PostgreSQL two index look-ups.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from lastmile.comms._base import CommsError, normalize_selectors, placeholders, run
from lastmile.comms.owners import with_owners
from lastmile.store import Workspace

COMMON_SCHEMA = pa.schema(
    [
        ("contact", pa.string()),
        ("targets", pa.int64()),
        ("target_list", pa.string()),
        ("events", pa.int64()),
        ("first_contact", pa.timestamp("us")),
        ("last_contact", pa.timestamp("us")),
    ]
)


def common_sql(n_targets: int) -> str:
    """The query for ``n_targets`` targets; parameters: the targets three times over, then
    ``min_targets`` and ``limit``."""
    marks = placeholders(n_targets)
    return f"""
WITH e AS (
    SELECT from_selector AS target, to_selector AS contact, time
    FROM communications
    WHERE from_selector IN ({marks})
    UNION ALL
    SELECT to_selector AS target, from_selector AS contact, time
    FROM communications
    WHERE to_selector IN ({marks})
)
SELECT
    contact,
    COUNT(DISTINCT target) AS targets,
    STRING_AGG(DISTINCT target, '|' ORDER BY target) AS target_list,
    COUNT(*) AS events,
    MIN(time) AS first_contact,
    MAX(time) AS last_contact
FROM e
WHERE contact NOT IN ({marks})
GROUP BY contact
HAVING COUNT(DISTINCT target) >= ?
ORDER BY targets DESC, events DESC, contact
LIMIT ?
"""


def common(
    ws: Workspace, selectors: Sequence[str], *, min_targets: int = 2, limit: int = 100
) -> pa.Table:
    """Contacts shared by at least ``min_targets`` of ``selectors``.

    Columns: contact, targets (how many of the targets it talks to), target_list (those
    targets, normalized, "|"-joined and sorted), events (with all of them), first_contact,
    last_contact (UTC). Ranked by targets, then events (both descending), then contact.
    """
    targets = normalize_selectors(selectors)
    if not targets:
        raise CommsError("give at least one target selector")
    if min_targets < 1:
        raise CommsError(f"min_targets must be at least 1, not {min_targets}")
    if limit < 1:
        raise CommsError(f"limit must be at least 1, not {limit}")
    params = [*targets, *targets, *targets, min_targets, limit]
    return with_owners(ws, run(ws, common_sql(len(targets)), params, COMMON_SCHEMA), ["contact"])
