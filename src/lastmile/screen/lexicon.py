"""The screening lexicon: a documented data file (``lexicon.yaml``) turned into matchers.

Every entry names its source; ``load_lexicon`` checks the file and compiles one regular
expression per entry. Users extend the shipped file or pass their own (``--lexicon``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

KINDS = (
    "emoji",
    "slang",
    "drug",
    "plug",
    "potency",
    "quantity",
    "price",
    "cta",
    "menu",
    "innocent",
)
DRUG_KINDS = frozenset({"emoji", "slang", "drug", "plug", "potency"})
OFFER_KINDS = frozenset({"quantity", "price", "cta", "menu"})


class LexiconError(ValueError):
    """The lexicon file is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    term: str
    kind: str
    drugs: tuple[str, ...]
    weight: float
    meaning: str
    source: str
    pattern: str  # the regular expression matched (from ``pattern`` or the escaped term)
    is_emoji: bool  # matched anywhere (no word boundaries)


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    sources: dict[str, str]
    origin: str

    @property
    def emoji_chars(self) -> str:
        """Every character of every emoji term (for the prefilter's character class)."""
        return "".join(sorted({c for e in self.entries if e.is_emoji for c in e.term}))


_PLAIN = re.compile(r"(?:[a-z]\??)+")


def lexicon_words(entry: Entry) -> list[str]:
    """The plain words among an entry's alternatives, optional letters both ways ("percs?"
    gives perc and percs, "fett?y" fetty and fety), for the typo reading (text.respell)."""
    if entry.is_emoji:
        return []
    out: list[str] = []
    for alt in entry.pattern.split("|"):
        if not _PLAIN.fullmatch(alt):
            continue
        forms = [""]
        for letter, optional in re.findall(r"([a-z])(\??)", alt):
            forms = [f + letter for f in forms] + (forms if optional else [])
        out += forms
    return out


def _is_emoji(term: str) -> bool:
    return all(ord(c) > 0x2000 for c in term)


def parse_lexicon(data: Any, origin: str) -> Lexicon:
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise LexiconError(f"{origin}: a lexicon is a YAML table with a list of entries")
    sources = data.get("sources") or {}
    if not isinstance(sources, dict):
        raise LexiconError(f"{origin}: sources is a table of key: citation")
    entries: list[Entry] = []
    for i, raw in enumerate(data["entries"], start=1):
        where = f"{origin}, entry {i}"
        if not isinstance(raw, dict) or not raw.get("term"):
            raise LexiconError(f"{where}: an entry is a table with at least a term")
        term = str(raw["term"])
        kind = str(raw.get("kind", ""))
        if kind not in KINDS:
            raise LexiconError(f"{where} ({term}): kind must be one of {', '.join(KINDS)}")
        source = str(raw.get("source", ""))
        if source not in sources:
            raise LexiconError(f"{where} ({term}): source {source!r} is not in sources")
        try:
            weight = float(raw.get("weight", 1.0))
        except (TypeError, ValueError):
            raise LexiconError(f"{where} ({term}): weight must be a number") from None
        if not 0 <= weight <= 5:
            raise LexiconError(f"{where} ({term}): weight must be from 0 to 5")
        emoji = _is_emoji(term) and not raw.get("pattern")
        pattern = str(raw["pattern"]) if raw.get("pattern") else re.escape(term.lower())
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LexiconError(f"{where} ({term}): bad pattern ({exc})") from None
        drugs = raw.get("drugs") or []
        if not isinstance(drugs, list):
            raise LexiconError(f"{where} ({term}): drugs is a list")
        entries.append(
            Entry(
                term,
                kind,
                tuple(str(d) for d in drugs),
                weight,
                str(raw.get("meaning", "")),
                source,
                pattern,
                emoji,
            )
        )
    if not entries:
        raise LexiconError(f"{origin}: no entries")
    return Lexicon(tuple(entries), {str(k): str(v) for k, v in sources.items()}, origin)


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """The shipped lexicon, or the file at ``path``."""
    if path is None:
        text = resources.files("lastmile.screen").joinpath("lexicon.yaml").read_text("utf-8")
        origin = "lexicon.yaml"
    else:
        p = Path(path)
        if not p.is_file():
            raise LexiconError(f"no lexicon file {p}")
        text, origin = p.read_text(encoding="utf-8"), str(p)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LexiconError(f"{origin}: not YAML ({exc})") from None
    return parse_lexicon(data, origin)
