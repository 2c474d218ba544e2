"""Screening a table of posts: prefilter, extract, score, label (a table in, a table out)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lastmile.screen.extract import Extractor, label_of, with_drug_gate
from lastmile.screen.lexicon import Lexicon, load_lexicon
from lastmile.screen.model import TextModel
from lastmile.screen.prefilter import candidates

METHODS = ("lexicon", "combined")

RESULT_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("label", pa.string()),
        ("score", pa.float64()),
        ("indicators", pa.list_(pa.string())),
        ("drugs", pa.list_(pa.string())),
        ("selectors", pa.list_(pa.string())),
    ]
)


class Screener:
    """Screens posts with a lexicon: the prefilter over every post, the extractors over the
    candidates it keeps, and the lexicon score."""

    def __init__(self, lexicon: Lexicon | None = None, method: str = "lexicon") -> None:
        """``method``: ``lexicon`` (the lexicon score) or ``combined`` (its mean with a small
        text model trained at run time on synthetic posts; needs scikit-learn)."""
        if method not in METHODS:
            raise ValueError(f"unknown screening method {method!r} ({', '.join(METHODS)})")
        self.lexicon = lexicon or load_lexicon()
        self.extractor = Extractor(self.lexicon)
        self.model: TextModel | None = None
        if method == "combined":
            self.model = TextModel(self.extractor)

    def screen(self, post_ids: pa.Array, texts: pa.Array) -> pa.Table:
        """One result row per post, in order (see RESULT_SCHEMA)."""
        n = len(texts)
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        if isinstance(post_ids, pa.ChunkedArray):
            post_ids = post_ids.combine_chunks()
        mask = np.asarray(candidates(texts, self.lexicon).to_numpy(zero_copy_only=False), bool)
        idx = np.flatnonzero(mask)
        found = self.extractor.find(texts.take(pa.array(idx, pa.int64())))
        sc = with_drug_gate(
            found.score if self.model is None else self.model.score(found), found.drug
        )
        score = np.zeros(n)
        score[idx] = np.round(sc, 4)
        labels = np.full(n, "none", dtype=object)
        labels[idx] = [label_of(s) for s in sc]
        pos = np.full(n, -1, dtype=np.int64)
        pos[idx] = np.arange(len(idx))
        # Rows the prefilter dropped take the empty list at the end of each candidate column.
        take = pa.array(np.where(pos >= 0, pos, len(idx)), pa.int64())

        def spread(values: pa.Array) -> pa.Array:
            padded = pa.concat_arrays([values, pa.array([[]], values.type)])
            return padded.take(take)

        keys = pa.array([[c.key for c in cs] for cs in found.contacts], pa.list_(pa.string()))
        return pa.table(
            [
                post_ids.cast(pa.string()),
                pa.array(labels, pa.string()),
                pa.array(score, pa.float64()),
                spread(self.extractor.indicators(found)),
                spread(self.extractor.drugs_of(found)),
                spread(keys),
            ],
            schema=RESULT_SCHEMA,
        )


def screen_texts(texts: list[str | None], lexicon: Lexicon | None = None) -> pa.Table:
    """Screen a list of texts (post ids are their 1-based positions); for tests and notebooks.
    Broken surrogate pairs are mended or replaced first (Arrow holds valid UTF-8 only)."""
    from lastmile.screen.text import mend

    ids = pa.array([str(i) for i in range(1, len(texts) + 1)])
    return Screener(lexicon).screen(ids, pa.array([mend(t) for t in texts], pa.string()))
