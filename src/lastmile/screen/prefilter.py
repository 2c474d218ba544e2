"""The cheap, vectorized prefilter: which posts could carry any evidence at all.

RE2 expressions (Arrow's ``match_substring_regex``, each run over the whole column in C++)
keep a post when it has a lexicon emoji, a word of a drug entry, a contact cue (seven or
more digits, a platform's name or profile link, three number words in a row), or text that
the Python parsers read differently from RE2 (non-ASCII letters, which NFKC may fold into
ASCII; HTML entities; leet spellings such as p3rcs). Everything it drops gets label
``none`` with no indicators. It is a superset by construction: every pattern the extractors
match without normalization is in it, and every normalization that could create a match is
a reason to keep the post.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from lastmile.screen.lexicon import DRUG_KINDS, Lexicon, lexicon_words
from lastmile.screen.text import _LABELS, _NUMBER_WORDS, LINK_CUE, TYPO_CUES, transpositions

_RE2_UNSAFE = re.compile(r"\(\?[<=!]")
SWAPPED_PER_ARM = 400


def prefilter_arms(lexicon: Lexicon) -> list[str]:
    """The prefilter's expressions; a post is kept when any of them matches. They are
    matched one by one: RE2 joined into one expression builds a far larger automaton (the
    transposed words under case folding), ten times slower than the ten passes."""
    words = [
        e.pattern
        for e in lexicon.entries
        if not e.is_emoji and e.kind in DRUG_KINDS and not _RE2_UNSAFE.search(e.pattern)
    ]
    unsafe = [e.term for e in lexicon.entries if _RE2_UNSAFE.search(e.pattern)]
    words += [re.escape(t.lower()) for t in unsafe]
    # The typo reading (text.respell) may make a word of these: a neighbour swap of a
    # lexicon word; or of a letter typed three times or a doubled first letter (TYPO_CUES).
    # A phrase broken by an emoji outside the lexicon is read so only in a post kept for
    # another reason: every post with an emoji would be a candidate.
    drug_words = {w for e in lexicon.entries if e.kind in DRUG_KINDS for w in lexicon_words(e)}
    swapped = sorted(transpositions(drug_words))
    emoji = re.escape(lexicon.emoji_chars)
    labels = "|".join(re.escape(k) for k in _LABELS if k.isascii())
    number_word = "(?:" + "|".join(_NUMBER_WORDS) + ")"
    arms = [
        f"[{emoji}\u20e3\U0001f51f]",
        r"(?i:\b(?:" + "|".join(words) + r")\b)",
        *TYPO_CUES[:2],  # a letter tripled, a first letter doubled
        # The swapped forms, in arms of SWAPPED_PER_ARM: one large alternation under case
        # folding outgrows RE2's automaton cache and runs a hundred times slower.
        *(
            r"(?i:\b(?:" + "|".join(swapped[i : i + SWAPPED_PER_ARM]) + r")\b)"
            for i in range(0, len(swapped), SWAPPED_PER_ARM)
        ),
        r"\d[\dOoLlIi\s().\-/•·]{5,}\d",
        r"(?i:\b(?:" + labels + r")\b)",
        f"(?i:{LINK_CUE})",
        rf"(?i:\b{number_word}[\s\-.,]+{number_word}[\s\-.,]+{number_word}\b)",
        # Text NFKC or the leet reading may change: non-ASCII letters and digits outside
        # Latin-1 (fancy fonts, full-width), entities, letters mixed with 0 1 3 4 5 @ $.
        # (Case-sensitive: case folding would let U+017F, the long s, match every "s".)
        "[\u0100-\u024f\u2460-\u24ff\uff00-\uffef\U0001d400-\U0001d7ff]",
        r"&#?\w+;",
        r"(?i:[a-z][0-9@$]+[a-z])",
    ]
    return arms


def candidates(texts: pa.Array | pa.ChunkedArray, lexicon: Lexicon) -> pa.Array:
    """A boolean mask: True for the posts the extractors must read."""
    mask = None
    for arm in prefilter_arms(lexicon):
        hit = pc.fill_null(pc.match_substring_regex(texts, arm), False)
        mask = hit if mask is None else pc.or_(mask, hit)
    return mask
