"""Social-media sales screening (issue 12; docs/methodology.md, "Screening").

``screen_posts`` takes a table of posts and returns one row per post: its ``post_id`` (or row
number), ``label`` (sale, possible, none), ``score``, the ``indicators`` that fired, the
``drugs`` implied and the contact ``selectors`` it carries. The lexicon is data
(``lexicon.yaml``); the extractors are set-based (``extract.py``) after a vectorized
prefilter (``prefilter.py``); contact parsing is in ``text.py``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lastmile.screen.core import RESULT_SCHEMA, Screener, screen_texts
from lastmile.screen.lexicon import Lexicon, LexiconError, load_lexicon

__all__ = [
    "RESULT_SCHEMA",
    "Lexicon",
    "LexiconError",
    "Screener",
    "load_lexicon",
    "screen_posts",
    "screen_texts",
]


def screen_posts(
    posts: pa.Table, lexicon: Lexicon | None = None, method: str = "lexicon"
) -> pa.Table:
    """Screen a table with ``text`` (and optionally ``post_id``, ``row``); a post without a
    post_id is named by its row number (``row``, else its position). ``method``: lexicon or
    combined (core.Screener)."""
    n = posts.num_rows
    if "row" in posts.column_names:
        rows = posts["row"].cast(pa.string())
    else:
        rows = pa.array([str(i) for i in range(1, n + 1)], pa.string())
    if "post_id" in posts.column_names:
        ids = pc.coalesce(posts["post_id"].cast(pa.string()), rows)
    else:
        ids = rows
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    texts = posts["text"].cast(pa.string())
    return Screener(lexicon, method).screen(ids, texts)
