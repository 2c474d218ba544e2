"""A small trained text model that rescores the posts with lexicon evidence.

Logistic regression (scikit-learn, the ``screen`` extra) over the lexicon's own evidence
(D, C, N, min(D, C) and one column per lexicon entry) and hashed character 2-4-grams of the
normalized text, trained at run time on synthetic posts the repository makes
(``lastmile.synth.posts``, seed TRAIN_SEED, never the seeds the figures use). The combined
score is the mean of the lexicon score and the model's probability, so the documented lexicon
keeps half of every decision; a model trained on synthetic phrasing alone (character n-grams
only) reached recall 0.99 on synthetic posts and 0.69 on the hand-written ones, which is why
the model never decides alone (docs/methodology.md, "Screening").

Only posts whose lexicon score is at least MIN_LEXICON are rescored: the others carry almost
no evidence, and reading character n-grams of every post would cost most of the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from lastmile.screen.extract import Extractor, Found

TRAIN_SEED = 11
TRAIN_POSTS = 20_000
MIN_LEXICON = 0.05


class ModelUnavailable(RuntimeError):
    """scikit-learn is not installed."""


def _sklearn() -> tuple[Any, Any, Any]:
    try:
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise ModelUnavailable(
            "the combined method needs scikit-learn: pip install 'lastmile[screen]' "
            "(or use --method lexicon)"
        ) from None
    return sp, HashingVectorizer, LogisticRegression


class TextModel:
    def __init__(self, extractor: Extractor, seed: int = TRAIN_SEED, n: int = TRAIN_POSTS) -> None:
        from lastmile.synth.posts import generate

        sp, hashing, logistic = _sklearn()
        self._sp = sp
        self.extractor = extractor
        self.hasher = hashing(
            analyzer="char_wb",
            ngram_range=(2, 4),
            n_features=2**18,
            alternate_sign=False,
            norm="l2",
        )
        posts, truth = generate(seed, n)
        found = extractor.find(posts["text"].combine_chunks())
        keep = found.score >= MIN_LEXICON
        y = np.asarray(truth["label"].to_pylist(), dtype=object)[keep] == "sale"
        x = self._features(found, keep)
        self.model = logistic(max_iter=2000, C=1.0).fit(x, y)
        self.trained_on = int(keep.sum())

    def _features(self, found: Found, rows: np.ndarray) -> Any:
        lex = np.column_stack([found.d, found.c, found.n, np.minimum(found.d, found.c)])[rows]
        dense = np.hstack([lex, found.matrix[rows].astype(np.float64)])
        texts = found.texts.filter(pa.array(rows)).to_pylist()
        return self._sp.hstack([self._sp.csr_matrix(dense), self.hasher.transform(texts)]).tocsr()

    def score(self, found: Found) -> np.ndarray:
        """The combined score of each post of ``found`` (the lexicon's where it is low)."""
        lexicon = found.score
        rows = lexicon >= MIN_LEXICON
        out = lexicon.copy()
        if rows.any():
            prob = self.model.predict_proba(self._features(found, rows))[:, 1]
            out[rows] = (lexicon[rows] + prob) / 2.0
        return out
