"""The indicator extractors and the lexicon score, over a whole column of posts at once.

A post's evidence falls in three groups (docs/methodology.md, "Screening"):

- D, that it is about a drug: emoji codes, slang, drug names, "plug", potency emojis;
- C, that it offers something: prices, quantities, calls to action (DM, tap in, link in
  bio, delivery), menus (a menu word, or three prices in one post), and contact selectors
  for another platform;
- N, context that makes the innocent reading likely (baking, snow days, launches, sports,
  prescriptions, prevention and news).

Each lexicon entry counts once per post with its weight; the groups are capped so that a
long post cannot pile up evidence. The lexicon score is a logistic function of the three,
in which an offer without a drug, or a drug without an offer, stays low.

Everything but contact parsing is set-based: each lexicon entry is one RE2 pass over the
column (Arrow compute, in C++, the entries spread over the cores); only posts with a contact
cue go through the Python parsers of :mod:`lastmile.screen.text` (phonenumbers).
"""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lastmile.screen.lexicon import DRUG_KINDS, OFFER_KINDS, Lexicon, lexicon_words
from lastmile.screen.prefilter import SWAPPED_PER_ARM
from lastmile.screen.text import (
    _LABELS,
    _NUMBER_WORDS,
    LINK_CUE,
    TYPO_CUES,
    Contact,
    contacts,
    respell,
    transpositions,
)

# Caps of the evidence groups and the coefficients of the lexicon score. They are set by
# reasoning, not fitted: one specific slang term (weight 2.5-3) with one offer cue, or two
# ambiguous emojis with a price and a contact, reach "sale"; any number of emojis without an
# offer does not. docs/methodology.md shows worked examples.
CAP_D, CAP_C, CAP_N = 3.5, 4.0, 4.0
REPEAT = 3
BIAS, W_D, W_C, W_BOTH, W_N = -5.0, 1.3, 1.2, 1.0, 1.6
CONTACT_WEIGHT = 1.5  # a contact selector for another platform is an offer cue
MENU_WEIGHT = 1.5
MENU_PRICES = 3  # three prices or more in one post read as a menu
SALE, POSSIBLE = 0.5, 0.25
MIN_DRUG, NO_DRUG_MAX = 0.4, 0.2
MAX_CHARS = 20_000  # longer posts are screened on their first MAX_CHARS characters
THREADS = 2

_STRIP_RE2 = (
    "[\ufe0e\ufe0f\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad"
    "\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
)
_LEET_CUE = r"[a-z][0-9@$]+[a-z]|(?:^|[^a-z0-9])[0-9@$]+[a-z]{2,}|[a-z]{2,}[@$]"
_CONTACT_CUE = (
    r"\d[\dol\s().\-/+•·]{5,}\d|"
    + "(?:^|[^a-z0-9])(?:"
    + "|".join(re.escape(k) for k in _LABELS if k.isascii())
    + r")(?:$|[^a-z0-9])|"
    + "|".join(re.escape(k) for k in _LABELS if not k.isascii())
    + "|"
    + LINK_CUE
    + "|(?:"
    + "|".join(_NUMBER_WORDS)
    + r")[\s\-.,]+(?:"
    + "|".join(_NUMBER_WORDS)
    + ")"
)


def with_drug_gate(score: np.ndarray, d: np.ndarray) -> np.ndarray:
    """No drug, no sale: a post whose evidence of a drug (``Found.drug``: drug words and drug
    emojis, not "plug" or potency) is under MIN_DRUG scores at most NO_DRUG_MAX, whatever
    its offer and whatever a trained model says. Puppies, cars and chargers are offered
    with prices, phones, "DM me" and a "🔥"."""
    out: np.ndarray = np.where(d >= MIN_DRUG, score, np.minimum(score, NO_DRUG_MAX))
    return out


def label_of(score: float) -> str:
    return "sale" if score >= SALE else "possible" if score >= POSSIBLE else "none"


def lexicon_score(d: np.ndarray, c: np.ndarray, n: np.ndarray) -> np.ndarray:
    z = BIAS + W_D * d + W_C * c + W_BOTH * np.minimum(d, c) - W_N * n
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def normalize_column(texts: pa.Array) -> pa.Array:
    """The vectorized form of :func:`lastmile.screen.text.clean` (same result): entities
    decoded (in Python, for the posts that have one), NFKC, variation selectors, skin tones
    and invisible characters removed, ZWJ as a space, keycaps as digits, lower case."""
    texts = pc.fill_null(texts, "")
    entity = pc.match_substring_regex(texts, r"&#?\w+;").to_numpy(zero_copy_only=False)
    if entity.any():
        values = texts.to_pylist()
        for i in np.flatnonzero(entity):
            values[i] = html.unescape(values[i])
        texts = pa.array(values, pa.string())
    ascii_ = pc.string_is_ascii(texts).to_numpy(zero_copy_only=False)
    if not ascii_.all():
        texts = pc.utf8_normalize(texts, "NFKC")
        texts = pc.replace_substring_regex(texts, _STRIP_RE2, "")
        texts = pc.replace_substring(texts, "\u200d", " ")
        texts = pc.replace_substring_regex(texts, "([0-9#*])\u20e3", r"\1")
        texts = pc.replace_substring(texts, "\U0001f51f", "10")
    return pc.utf8_lower(texts)


@dataclass
class Found:
    """What the extractors found in each of n posts."""

    matrix: np.ndarray  # n x entries, bool
    menu_prices: np.ndarray  # n, bool: three prices or more
    contacts: list[list[Contact]]
    truncated: np.ndarray  # n, bool
    texts: pa.Array  # normalized
    d: np.ndarray
    c: np.ndarray
    n: np.ndarray
    drug: np.ndarray  # the drug evidence the gate reads (with_drug_gate)

    @property
    def score(self) -> np.ndarray:
        return lexicon_score(self.d, self.c, self.n)


class Extractor:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.entries = lexicon.entries
        self.patterns: list[tuple[bool, str]] = []
        for e in self.entries:
            if e.is_emoji:
                self.patterns.append((False, e.term))
            else:
                self.patterns.append((True, f"(?:^|[^a-z0-9])(?:{e.pattern})(?:$|[^a-z0-9])"))
        emoji = "".join(sorted({c for e in self.entries if e.is_emoji for c in e.term}))
        self.not_emoji = f"[^{re.escape(emoji)}]+" if emoji else ".+"
        self.weights = np.array([e.weight for e in self.entries])
        kinds = np.array([e.kind for e in self.entries])
        self.is_d = np.isin(kinds, list(DRUG_KINDS))
        self.is_c = np.isin(kinds, list(OFFER_KINDS))
        self.is_n = kinds == "innocent"
        self.is_plug_or_potency = np.isin(kinds, ["plug", "potency"])
        self.is_emoji = np.array([e.is_emoji for e in self.entries], dtype=bool)
        self.swaps = transpositions({w for e in self.entries for w in lexicon_words(e)})
        swapped = sorted(self.swaps)
        self.respell_cues = [
            _LEET_CUE,
            *TYPO_CUES,
            *(  # in arms, as the prefilter's (prefilter.SWAPPED_PER_ARM says why)
                r"\b(?:" + "|".join(swapped[i : i + SWAPPED_PER_ARM]) + r")\b"
                for i in range(0, len(swapped), SWAPPED_PER_ARM)
            ),
        ]
        self.has_menu = kinds == "menu"
        self.price = [i for i, e in enumerate(self.entries) if e.kind == "price"]
        self.drugs = sorted({d for e in self.entries for d in e.drugs})
        self.incidence = np.zeros((len(self.entries), len(self.drugs)), dtype=np.float64)
        for i, e in enumerate(self.entries):
            for d in e.drugs:
                self.incidence[i, self.drugs.index(d)] = 1.0

    def _match(self, texts: pa.Array, emojis: pa.Array, j: int) -> np.ndarray:
        regex, pattern = self.patterns[j]
        if regex:
            m = pc.match_substring_regex(texts, pattern)
        else:
            m = pc.match_substring(emojis, pattern)
        return np.asarray(m.to_numpy(zero_copy_only=False), dtype=bool)

    def _matrix(self, texts: pa.Array) -> np.ndarray:
        # Emoji entries are searched in the posts' emojis only (a few characters a post).
        emojis = pc.replace_substring_regex(texts, self.not_emoji, "")
        with ThreadPoolExecutor(THREADS) as pool:
            cols = list(pool.map(lambda j: self._match(texts, emojis, j), range(len(self.entries))))
        return np.column_stack(cols) if cols else np.zeros((len(texts), 0), dtype=bool)

    def _may_respell(self, texts: pa.Array) -> np.ndarray:
        """Which posts text.respell may change (RE2 passes, each cheap: see prefilter)."""
        out = np.zeros(len(texts), dtype=bool)
        for cue in self.respell_cues:
            out |= np.asarray(
                pc.match_substring_regex(texts, cue).to_numpy(zero_copy_only=False), dtype=bool
            )
        return out

    def _repeated(self, texts: pa.Array, matrix: np.ndarray, which: np.ndarray) -> np.ndarray:
        """The entries ``which`` by their weights times their matches, at most REPEAT each: a
        news story says "sentenced", "prosecutors" and "killed"; a dealer writes "tina",
        "shards" and "glass"; a baker mentions the oven once."""
        n = np.zeros(len(texts))
        for j in np.flatnonzero(which):
            rows = np.flatnonzero(matrix[:, j])
            if not len(rows):
                continue
            counts = pc.count_substring_regex(texts.take(pa.array(rows)), self.patterns[j][1])
            times = np.minimum(REPEAT, counts.to_numpy(zero_copy_only=False))
            n[rows] += self.weights[j] * np.maximum(times, 1)
        return n

    def find(self, raw: pa.Array) -> Found:
        n = len(raw)
        raw = pc.fill_null(raw, "")
        lengths = pc.utf8_length(raw).to_numpy(zero_copy_only=False)
        truncated = lengths > MAX_CHARS
        if truncated.any():
            raw = pc.utf8_slice_codeunits(raw, 0, MAX_CHARS)
        texts = normalize_column(raw)
        matrix = self._matrix(texts)
        contact_cue = pc.match_substring_regex(texts, _CONTACT_CUE).to_numpy(zero_copy_only=False)
        # Misspelled drug words (p3rcs, x@nax, bluesss, mloly): the posts with a leet spelling
        # or an offer are read a second time (text.respell); a post with neither cannot
        # become a sale by it, and reading every post so would cost most of the run.
        leet = pc.match_substring_regex(texts, _LEET_CUE).to_numpy(zero_copy_only=False)
        again = np.flatnonzero(leet | contact_cue | matrix[:, self.is_c].any(axis=1))
        if len(again):
            again = again[self._may_respell(texts.take(pa.array(again)))]
        if len(again):
            sub = [respell(t, self.swaps) for t in texts.take(pa.array(again)).to_pylist()]
            matrix[again] |= self._matrix(pa.array(sub, pa.string()))
        prices = np.zeros(n, dtype=np.int64)
        for j in self.price:
            prices += np.asarray(
                pc.count_substring_regex(texts, self.patterns[j][1]).to_numpy(zero_copy_only=False),
                dtype=np.int64,
            )
        menu_prices = (prices >= MENU_PRICES) & ~(matrix[:, self.has_menu].any(axis=1))
        found: list[list[Contact]] = [[] for _ in range(n)]
        cue = np.flatnonzero(contact_cue)
        if len(cue):
            for i, t in zip(cue, texts.take(pa.array(cue)).to_pylist(), strict=True):
                found[i] = contacts(t)
        has_contact = np.array([bool(x) for x in found], dtype=bool)
        w = matrix * self.weights
        d = np.minimum(
            CAP_D,
            w[:, self.is_d & self.is_emoji].sum(axis=1)
            + self._repeated(texts, matrix, self.is_d & ~self.is_emoji),
        )
        # What names a drug, for the gate: drug emojis and words, not "plug" or potency
        # ("🔌", "💣": DEA's codes for a dealer and for strength name no drug).
        drug = w[:, self.is_d & ~self.is_plug_or_potency].sum(axis=1)
        c = np.minimum(
            CAP_C,
            w[:, self.is_c].sum(axis=1) + MENU_WEIGHT * menu_prices + CONTACT_WEIGHT * has_contact,
        )
        nn = np.minimum(CAP_N, self._repeated(texts, matrix, self.is_n))
        return Found(matrix, menu_prices, found, truncated, texts, d, c, nn, drug)

    def indicators(self, f: Found) -> pa.Array:
        """Per post: ``kind:term`` of each entry that fired, then menu/contact/truncated."""
        names = [f"{e.kind}:{e.term}" for e in self.entries]
        extra = np.column_stack(
            [
                f.menu_prices,
                np.array([any(c.kind == "phone" for c in cs) for cs in f.contacts], dtype=bool),
                np.array([any(c.kind == "account" for c in cs) for cs in f.contacts], dtype=bool),
                f.truncated,
            ]
        )
        full = np.concatenate([f.matrix, extra], axis=1)
        names += ["menu:prices", "contact:phone", "contact:account", "truncated"]
        return _lists(full, names)

    def drugs_of(self, f: Found) -> pa.Array:
        implied = (f.matrix.astype(np.float64) @ self.incidence) > 0
        return _lists(implied, self.drugs)


def _lists(mask: np.ndarray, names: list[str]) -> pa.Array:
    rows, cols = np.nonzero(mask)
    offsets = np.zeros(mask.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=mask.shape[0]), out=offsets[1:])
    values = pa.array(names, pa.string()).take(pa.array(cols, pa.int64()))
    return pa.ListArray.from_arrays(pa.array(offsets), values)
