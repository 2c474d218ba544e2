"""Likely burner replacements ("handovers"): one selector goes silent and a new one starts
within days, talking to the same people.

The method (docs/comms.md has it in full, with its measured precision and recall):

1. **Activity.** For every selector in the events: its first and last event day and its
   *degree* (how many distinct selectors it talks to).
2. **Contact sets.** The *tail* of a selector: the contacts it had in its last
   ``window_days`` days; its *head*: the contacts it had in its first ``window_days``.
3. **Candidates.** An *old* selector (silent before the last day of the data) and a *new* one
   (first seen after the first day of the data) that share at least one contact between the
   old one's tail and the new one's head, where the new one starts at most ``max_gap_days``
   after the old one's last event (and at most ``max_overlap_days`` before it). Contacts
   with a degree above ``hub_degree`` (switchboards, a supplier who talks to everyone) do not
   generate candidates: a hub would pair every selector it talks to with every other.
4. **Similarity.** For each candidate, the Jaccard index of the old tail and the new head,
   over *all* their contacts (hubs included): shared / (old + new - shared).
5. **Filter and match.** Keep candidates with at least ``min_shared`` shared contacts, at
   least ``min_contacts`` contacts on each side and a Jaccard of at least
   ``min_similarity``; then keep a pair only when the new selector is the old one's best
   successor and the old selector is the new one's best predecessor (score, then the
   smaller gap, then the selector, decide). A chain a -> b -> c comes out as two pairs.

Two phones used at once (a second phone, a family phone) overlap in time and never qualify;
a hub's contacts rarely look alike, and one old selector yields at most one new one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lastmile.comms._base import CommsError, run
from lastmile.comms.owners import with_owners
from lastmile.store import Workspace
from lastmile.store.backends import Step, with_clause

HANDOVERS_SCHEMA = pa.schema(
    [
        ("old_selector", pa.string()),
        ("new_selector", pa.string()),
        ("date", pa.date32()),
        ("score", pa.float64()),
        ("shared_contacts", pa.int64()),
        ("old_contacts", pa.int64()),
        ("new_contacts", pa.int64()),
        ("gap_days", pa.int64()),
        ("old_last", pa.date32()),
        ("evidence", pa.string()),
    ]
)


@dataclass(frozen=True)
class HandoverParams:
    """The knobs of the method (defaults measured on the synthetic national operation)."""

    window_days: int = 30
    max_gap_days: int = 14
    max_overlap_days: int = 1
    min_contacts: int = 2
    min_shared: int = 2
    min_similarity: float = 0.2
    hub_degree: int = 100

    def __post_init__(self) -> None:
        for name in ("window_days", "min_contacts", "min_shared", "hub_degree"):
            if int(getattr(self, name)) < 1:
                raise CommsError(f"{name} must be at least 1")
        if self.max_gap_days < 0 or self.max_overlap_days < 0:
            raise CommsError("max_gap_days and max_overlap_days cannot be negative")
        if not 0.0 <= self.min_similarity <= 1.0:
            raise CommsError("min_similarity must be between 0 and 1")


# Both queries' events (each communication from both ends, by day), each selector's contacts
# with the first and last day it talked to each (``links``: a selector's contacts in a window
# at the start or the end of its activity are read off these, not off every event), and each
# selector's span and degree: steps ``ev``, ``links`` and ``span``. The span is aggregated from
# ``links`` by hashing: a COUNT(DISTINCT) over the events sorts them all on PostgreSQL.
_EVENTS = [
    Step(
        "ev",
        """
    SELECT from_selector AS sel, to_selector AS contact, CAST(time AS DATE) AS day
    FROM communications WHERE from_selector <> to_selector
    UNION ALL
    SELECT to_selector AS sel, from_selector AS contact, CAST(time AS DATE) AS day
    FROM communications WHERE from_selector <> to_selector
""",
    ),
    Step(
        "links",
        """
    SELECT sel, contact, MIN(day) AS first_day, MAX(day) AS last_day FROM ev
    GROUP BY sel, contact
""",
    ),
    Step(
        "span",
        """
    SELECT sel, MIN(first_day) AS first_day, MAX(last_day) AS last_day, COUNT(*) AS degree
    FROM links GROUP BY sel
""",
    ),
]


def _head_step(name: str, news: str, window: int) -> Step:
    """A new line's head: the contacts that talked to a selector of ``news`` in its first
    ``window`` days (the handovers' and the passings' alike)."""
    return Step(
        name,
        f"""
    SELECT l.sel, l.contact, n.first_day
    FROM links l JOIN {news} n ON n.sel = l.sel
    WHERE l.first_day <= n.first_day + {window}
""",
    )


def _handover_steps(p: HandoverParams) -> list[Step]:
    """The handovers' steps after :data:`_EVENTS`; :data:`_HANDOVERS_SELECT` reads them."""
    window, gap, overlap = int(p.window_days), int(p.max_gap_days), int(p.max_overlap_days)
    return [
        Step("bounds", "SELECT MIN(first_day) AS data_first, MAX(last_day) AS data_last FROM span"),
        Step(
            "olds", "SELECT s.sel, s.last_day FROM span s, bounds b WHERE s.last_day < b.data_last"
        ),
        Step(
            "news",
            "SELECT s.sel, s.first_day FROM span s, bounds b WHERE s.first_day > b.data_first",
        ),
        # A contact is in a line's tail when it talked to it in the last window_days (its
        # last day with it is in them), in its head when in the first.
        Step(
            "tail",
            f"""
    SELECT l.sel, l.contact, o.last_day
    FROM links l JOIN olds o ON o.sel = l.sel
    WHERE l.last_day >= o.last_day - {window}
""",
        ),
        _head_step("head", "news", window),
        Step("tail_n", "SELECT sel, COUNT(*) AS n FROM tail GROUP BY sel"),
        Step("head_n", "SELECT sel, COUNT(*) AS n FROM head GROUP BY sel"),
        Step(
            "candidates",
            f"""
    SELECT DISTINCT t.sel AS old_sel, h.sel AS new_sel
    FROM tail t
    JOIN head h ON h.contact = t.contact AND h.sel <> t.sel
    JOIN span c ON c.sel = t.contact
    WHERE c.degree <= {int(p.hub_degree)}
      AND h.first_day - t.last_day <= {gap}
      AND h.first_day - t.last_day >= -{overlap}
""",
        ),
        # Each candidate's shared contacts (hubs counted), from the candidate's old tail to
        # its new head: materialized, so that PostgreSQL does not join every tail to every
        # head through the hubs first (millions of rows on a million events).
        Step(
            "candidate_tail",
            """
    SELECT k.old_sel, k.new_sel, t.contact
    FROM candidates k JOIN tail t ON t.sel = k.old_sel
""",
            materialized=True,
        ),
        Step(
            "shared",
            """
    SELECT k.old_sel, k.new_sel, COUNT(*) AS shared
    FROM candidate_tail k
    JOIN head h ON h.sel = k.new_sel AND h.contact = k.contact
    GROUP BY k.old_sel, k.new_sel
""",
        ),
        Step(
            "scored",
            f"""
    SELECT
        s.old_sel, s.new_sel, s.shared, tn.n AS old_n, hn.n AS new_n,
        CAST(s.shared AS DOUBLE PRECISION) / (tn.n + hn.n - s.shared) AS score,
        o.last_day AS old_last, n.first_day AS new_first,
        n.first_day - o.last_day AS gap_days
    FROM shared s
    JOIN tail_n tn ON tn.sel = s.old_sel
    JOIN head_n hn ON hn.sel = s.new_sel
    JOIN olds o ON o.sel = s.old_sel
    JOIN news n ON n.sel = s.new_sel
    WHERE s.shared >= {int(p.min_shared)}
      AND tn.n >= {int(p.min_contacts)} AND hn.n >= {int(p.min_contacts)}
""",
        ),
        # Ties go to the selector first in byte order (COLLATE "C", DuckDB's default): not to
        # the PostgreSQL database's collation, which may order punctuation and case otherwise.
        Step(
            "ranked",
            f"""
    SELECT scored.*,
        ROW_NUMBER() OVER (
            PARTITION BY old_sel ORDER BY score DESC, ABS(gap_days), new_sel COLLATE "C"
        ) AS old_rank,
        ROW_NUMBER() OVER (
            PARTITION BY new_sel ORDER BY score DESC, ABS(gap_days), old_sel COLLATE "C"
        ) AS new_rank
    FROM scored
    WHERE score >= {float(p.min_similarity)!r}
""",
        ),
    ]


_HANDOVERS_SELECT = """
SELECT
    old_sel AS old_selector, new_sel AS new_selector, new_first AS date, score,
    CAST(shared AS BIGINT) AS shared_contacts, CAST(old_n AS BIGINT) AS old_contacts,
    CAST(new_n AS BIGINT) AS new_contacts, CAST(gap_days AS BIGINT) AS gap_days,
    old_last, '' AS evidence
FROM ranked
WHERE old_rank = 1 AND new_rank = 1
"""


def handovers_sql(p: HandoverParams) -> str:
    """The one portable query of the method (the parameters are validated numbers)."""
    order = 'ORDER BY new_first, old_sel COLLATE "C"\n'
    return f"WITH {with_clause([*_EVENTS, *_handover_steps(p)])}{_HANDOVERS_SELECT}{order}"


def _evidence(row: dict[str, object]) -> str:
    union = int(str(row["old_contacts"])) + int(str(row["new_contacts"]))
    union -= int(str(row["shared_contacts"]))
    return (
        f"old silent after {row['old_last']}; new first seen {row['date']} "
        f"({row['gap_days']} days); {row['shared_contacts']} of {union} contacts shared "
        f"(Jaccard {float(str(row['score'])):.2f})"
    )


def handovers(
    ws: Workspace,
    *,
    max_gap_days: int = HandoverParams.max_gap_days,
    min_similarity: float = HandoverParams.min_similarity,
    window_days: int = HandoverParams.window_days,
    max_overlap_days: int = HandoverParams.max_overlap_days,
    min_contacts: int = HandoverParams.min_contacts,
    min_shared: int = HandoverParams.min_shared,
    hub_degree: int = HandoverParams.hub_degree,
) -> pa.Table:
    """Likely burner replacements in the workspace's events, oldest first.

    Columns: old_selector, new_selector, date (the new selector's first event day, UTC),
    score (the Jaccard index of the old selector's last contacts and the new one's first,
    0..1), shared_contacts, old_contacts, new_contacts, gap_days (days from the old one's
    last event to the new one's first; negative when they overlap), old_last (the old one's
    last event day) and evidence (the same in words).
    """
    p = HandoverParams(
        window_days=window_days,
        max_gap_days=max_gap_days,
        max_overlap_days=max_overlap_days,
        min_contacts=min_contacts,
        min_shared=min_shared,
        min_similarity=min_similarity,
        hub_degree=hub_degree,
    )
    table = run(ws, handovers_sql(p), (), HANDOVERS_SCHEMA)
    evidence = pa.array([_evidence(r) for r in table.to_pylist()], pa.string())
    table = table.set_column(table.schema.get_field_index("evidence"), "evidence", evidence)
    return with_owners(ws, table, ["old_selector", "new_selector"])


def passings_sql(p: HandoverParams) -> str:
    """Lines passed on to another user: the last line of a burner chain that does not go
    silent when its user moves on.

    A handover (:func:`handovers_sql`) needs the old line silent. A phone handed down to a
    crew-mate is not: its first user starts a new line that talks to his contacts, while the
    old line carries on with its new user's. So for each line that ends a chain (the new
    line of a handover, and the old line of none), a *successor* is a line first seen on a
    later day D that is the new line of no handover, whose head (its contacts in its first
    ``window_days``) shares with the old line's contacts in the ``window_days`` before D a
    contact that is not a hub and at least ``min_shared`` contacts in all (hubs counted,
    as in the Jaccard; ``min_contacts`` on each side, a Jaccard of ``min_similarity``, the
    old line active within ``max_gap_days`` before D: the handover's own test), while the
    old line carries on after D (an event more than ``max_overlap_days`` after it) and its
    contacts in the ``window_days`` from its first event on or after D (a line silent for a
    while after D is read when it resumes) are less like its contacts before D than the
    successor's are (the counterpart set changes wholesale: its user left with them). One
    row per line and successor: ``selector`` (the old line), ``successor`` and ``date`` (D:
    from then on the old line has another user). The handovers it reads are found in the
    same query (:func:`lines_ctes`)."""
    return f"WITH {lines_ctes(p)} SELECT * FROM passings{_PASSINGS_ORDER}"


def passings(ws: Workspace, p: HandoverParams) -> list[tuple[object, ...]]:
    """The rows of :func:`passings_sql`, run step by step where the store plans better so
    (``Store.query_steps``)."""
    table = ws.store.query_steps(line_steps(p), f"SELECT * FROM passings{_PASSINGS_ORDER}")
    return [tuple(r.values()) for r in table.to_pylist()]


def line_steps(p: HandoverParams) -> list[Step]:
    """The steps of one query that finds the handovers and the lines passed on, reading the
    events once: ``found_pairs`` (the rows of :func:`handovers_sql`) and ``passings`` (those
    of :func:`passings_sql`), with ``ev``, ``links`` and ``span`` (each selector's contacts,
    first and last day and degree) and the steps of both. ``Store.query_steps`` runs them
    (on PostgreSQL as temporary tables, analysed)."""
    return [
        *_EVENTS,
        *_handover_steps(p),
        Step("found_pairs", _HANDOVERS_SELECT),
        *_passing_steps(p, "found_pairs"),
        Step("passings", _passings_select(p)),
    ]


def lines_ctes(p: HandoverParams) -> str:
    """:func:`line_steps` as the CTEs of one WITH query (without the ``WITH``)."""
    return with_clause(line_steps(p))


def _passing_steps(p: HandoverParams, pairs: str) -> list[Step]:
    """The passings' steps after :data:`_EVENTS`, over the handovers in ``pairs``;
    :func:`_passings_select` reads them (named apart from the handovers' steps)."""
    window, overlap, hub = int(p.window_days), int(p.max_overlap_days), int(p.hub_degree)
    return [
        # NOT IN, not NOT EXISTS: PostgreSQL hashes the handovers once for NOT IN, while it
        # estimates a CTE's rows so low that it runs NOT EXISTS as a nested loop (minutes).
        Step(
            "ends",
            f"""
    SELECT DISTINCT new_selector AS sel FROM {pairs}
    WHERE new_selector NOT IN (SELECT old_selector FROM {pairs})
""",
        ),
        Step(
            "old_ev",
            "SELECT DISTINCT e.sel, e.contact, e.day FROM ev e JOIN ends o ON o.sel = e.sel",
        ),
        Step(
            "p_news",
            f"""
    SELECT s.sel, s.first_day FROM span s
    WHERE s.first_day > (SELECT MIN(first_day) FROM span)
      AND s.sel NOT IN (SELECT new_selector FROM {pairs})
""",
        ),
        _head_step("p_head", "p_news", window),
        Step("p_head_n", "SELECT sel, COUNT(*) AS n FROM p_head GROUP BY sel"),
        Step(
            "p_candidates",
            f"""
    SELECT DISTINCT h.sel AS new_sel, e.sel AS old_sel, h.first_day
    FROM p_head h
    JOIN span c ON c.sel = h.contact
    JOIN old_ev e ON e.contact = h.contact AND e.sel <> h.sel
    JOIN span o ON o.sel = e.sel
    WHERE c.degree <= {hub}
      AND e.day >= h.first_day - {window} AND e.day < h.first_day
      AND o.last_day > h.first_day + {overlap}
""",
        ),
        Step(
            "before",
            f"""
    SELECT k.new_sel, k.old_sel, e.contact, MAX(e.day) AS day
    FROM p_candidates k JOIN old_ev e ON e.sel = k.old_sel
    WHERE e.day >= k.first_day - {window} AND e.day < k.first_day
    GROUP BY k.new_sel, k.old_sel, e.contact
""",
        ),
        # The old line's contacts after D: in the window_days from its first event on or
        # after D (a line silent for a while after D is compared on what it does when it
        # resumes).
        Step(
            "resumed",
            """
    SELECT k.new_sel, k.old_sel, MIN(e.day) AS day
    FROM p_candidates k JOIN old_ev e ON e.sel = k.old_sel
    WHERE e.day >= k.first_day
    GROUP BY k.new_sel, k.old_sel
""",
        ),
        Step(
            "after",
            f"""
    SELECT DISTINCT k.new_sel, k.old_sel, e.contact
    FROM resumed k JOIN old_ev e ON e.sel = k.old_sel
    WHERE e.day >= k.day AND e.day <= k.day + {window}
""",
        ),
        # Each candidate's counts, aggregated once and joined (correlated subqueries per
        # candidate are not decorrelated by PostgreSQL: minutes on a division's events).
        Step(
            "b_agg",
            """
    SELECT new_sel, old_sel, COUNT(*) AS before_n, MAX(day) AS last_before
    FROM before GROUP BY new_sel, old_sel
""",
        ),
        Step(
            "shared_n",
            """
    SELECT b.new_sel, b.old_sel, COUNT(*) AS shared
    FROM before b JOIN p_head h ON h.sel = b.new_sel AND h.contact = b.contact
    GROUP BY b.new_sel, b.old_sel
""",
        ),
        Step(
            "a_agg",
            """
    SELECT a.new_sel, a.old_sel, COUNT(*) AS after_n, COUNT(b.contact) AS kept
    FROM after a LEFT JOIN before b ON b.new_sel = a.new_sel AND b.old_sel = a.old_sel
        AND b.contact = a.contact
    GROUP BY a.new_sel, a.old_sel
""",
        ),
        Step(
            "p_scored",
            """
    SELECT k.new_sel, k.old_sel, k.first_day, b.before_n, b.last_before,
        COALESCE(sh.shared, 0) AS shared, COALESCE(a.after_n, 0) AS after_n,
        COALESCE(a.kept, 0) AS kept
    FROM p_candidates k
    JOIN b_agg b ON b.new_sel = k.new_sel AND b.old_sel = k.old_sel
    LEFT JOIN shared_n sh ON sh.new_sel = k.new_sel AND sh.old_sel = k.old_sel
    LEFT JOIN a_agg a ON a.new_sel = k.new_sel AND a.old_sel = k.old_sel
""",
        ),
    ]


def _passings_select(p: HandoverParams) -> str:
    """The passings' rows (selector, successor, date), unordered, from :func:`_passing_steps`."""
    gap = int(p.max_gap_days)
    return f"""
SELECT s.old_sel AS selector, s.new_sel AS successor, s.first_day AS date
FROM p_scored s JOIN p_head_n hn ON hn.sel = s.new_sel
WHERE s.shared >= {int(p.min_shared)}
  AND s.before_n >= {int(p.min_contacts)} AND hn.n >= {int(p.min_contacts)}
  AND s.first_day - s.last_before <= {gap}
  AND CAST(s.shared AS DOUBLE PRECISION) / (s.before_n + hn.n - s.shared)
      >= {float(p.min_similarity)!r}
  AND CAST(s.kept AS DOUBLE PRECISION) / (s.before_n + s.after_n - s.kept)
      < CAST(s.shared AS DOUBLE PRECISION) / (s.before_n + hn.n - s.shared)
"""


# By date, then selector and successor in byte order on both stores ("date" is a keyword, so
# its position; COLLATE "C" as for the handovers' ties, above).
_PASSINGS_ORDER = '\nORDER BY 3, selector COLLATE "C", successor COLLATE "C"\n'
