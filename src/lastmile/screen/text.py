"""Text normalization and contact-selector extraction for screened posts.

``clean`` makes one canonical form of a post: broken surrogate pairs replaced, HTML entities
decoded, NFKC (fancy-font letters and full-width or circled digits become ASCII), variation
selectors, zero-width joiners and skin-tone modifiers removed (so ``❄️`` and ``❄`` match the
same entry, and a ZWJ sequence matches its parts), keycap digits (``3️⃣``) made digits, and
everything lower-cased.

``contacts`` finds the contact selectors a post carries: phone numbers written any way
(separators, spaces between digits, number words such as "five five five", keycap digits,
the letter o for zero) normalized by :mod:`lastmile.selectors` (phonenumbers), and handles
for other platforms introduced by the platform's name or logo ("sc: name", "tele @name",
"snap -> name", "👻 name").
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from lastmile.model import Platform
from lastmile.selectors import normalize, selector_key

# Characters that change an emoji's look but not its meaning, and invisible format characters.
_STRIP = re.compile(
    "[\ufe0e\ufe0f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad"
    "\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_KEYCAP = re.compile("([0-9#*])\u20e3")


def mend(text: str | None) -> str | None:
    """Surrogate pairs written as two code points become the one character; lone halves
    become U+FFFD. (JSON's "\\ud83d" escapes arrive so; Arrow and files need valid text.)"""
    if text is None or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean(text: str) -> str:
    """The canonical, lower-case form of a post (see the module's doc)."""
    text = mend(text) or ""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = _STRIP.sub("", text)
        text = text.replace("\u200d", " ")  # a ZWJ sequence reads as its parts
        text = _KEYCAP.sub(r"\1", text).replace("\U0001f51f", "10")
    return text.lower()


# Undo "leet" spellings for word matching only (p3rcs, fent@, x@nax); prices and phones are
# read from the cleaned text, never from this one.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"\b(?=[a-z]*[0-9@$])[a-z0-9@$]*[a-z][a-z0-9@$]*\b")


def unleet(text: str) -> str:
    """Words that mix letters with 0 1 3 4 5 @ $ spelled with letters; other text unchanged."""
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), text)


# -- phone numbers ---------------------------------------------------------------------------

_NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "niner": "9",
}
# A token: a run of digits, or a word; between tokens of one number only separators.
_TOKEN = re.compile(r"\+?\d+|[a-z]+")
_SEPARATOR = re.compile(r"[\s\-.()/,_*~|:]{0,4}")
MAX_DIGITS = 15


@dataclass(frozen=True)
class Contact:
    kind: str  # phone or account
    value: str  # normalized
    platform: str  # for accounts
    raw: str

    @property
    def key(self) -> str:
        return selector_key(self.kind, self.value, self.platform or None)


_NUMBERISH = r"(?:\+?\d+|(?<![a-z])(?:" + "|".join(_NUMBER_WORDS) + r")(?![a-z]))"
# Where runs may be: numberish tokens joined by separators, at least two of them or 7 digits.
_RUN = re.compile(_NUMBERISH + r"(?:[\s\-.()/,_*~|:]{0,4}" + _NUMBERISH + r")+|\d{7,}")


def _digit_runs(text: str) -> list[tuple[list[str], str]]:
    """Runs of tokens that are digits or number words, joined only by separators:
    (the tokens as digits, raw text)."""
    runs: list[tuple[list[str], str]] = []
    for m in _RUN.finditer(text):
        runs += _token_runs(m.group(0))
    return runs


def _token_runs(text: str) -> list[tuple[list[str], str]]:
    runs: list[tuple[list[str], str]] = []
    digits: list[str] = []
    start = end = 0
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        value = tok if tok[-1].isdigit() else _NUMBER_WORDS.get(tok)
        joined = bool(digits) and _SEPARATOR.fullmatch(text, end, m.start()) is not None
        if value is None or not joined:
            if len(digits) and sum(len(d) for d in digits) >= 7:
                runs.append((digits, text[start:end]))
            digits = []
            if value is None:
                continue
            start = m.start()
        digits.append(value)
        end = m.end()
    if digits and sum(len(d) for d in digits) >= 7:
        runs.append((digits, text[start:end]))
    return runs


def _spans(tokens: list[str]) -> list[tuple[int, str]]:
    """Candidate numbers starting at the first token: (last token, digits) for each span of
    whole tokens with 10 digits, 11 starting with 1, or 8 to 15 after '+'."""
    out: list[tuple[int, str]] = []
    total = ""
    for j, tok in enumerate(tokens):
        total += tok
        plus = total.startswith("+")
        size = len(total) - plus
        national = size == 10 or (size == 11 and total[0] == "1")
        if (plus and 8 <= size <= MAX_DIGITS) or (not plus and national):
            out.append((j, total))
        if size > MAX_DIGITS:
            break
    return out


def phones(text: str) -> list[Contact]:
    """Phone numbers in cleaned text, normalized to E.164 (only valid numbers). A run of
    digits and number words is read left to right: at each token, the longest span of whole
    tokens that is a valid number is taken; a lone long token is read in windows of 10."""
    found: dict[str, Contact] = {}
    for tokens, raw in _digit_runs(text):
        i = 0
        while i < len(tokens):
            taken = -1
            for j, digits in reversed(_spans(tokens[i:])):
                result = normalize("phone", digits)
                if result.valid:
                    found.setdefault(result.value, Contact("phone", result.value, "", raw))
                    taken = i + j
                    break
            if taken < 0 and len(tokens[i]) > 11:
                tok = tokens[i]
                for k in range(len(tok) - 9):
                    result = normalize("phone", tok[k : k + 10])
                    if result.valid:
                        found.setdefault(result.value, Contact("phone", result.value, "", raw))
            i = taken + 1 if taken >= 0 else i + 1
    return list(found.values())


# -- handles on other platforms --------------------------------------------------------------

_LABELS: dict[str, Platform] = {
    "snap": Platform.SNAPCHAT,
    "snapchat": Platform.SNAPCHAT,
    "snapp": Platform.SNAPCHAT,
    "sc": Platform.SNAPCHAT,
    "scc": Platform.SNAPCHAT,
    "👻": Platform.SNAPCHAT,
    "tele": Platform.TELEGRAM,
    "telegram": Platform.TELEGRAM,
    "telegramm": Platform.TELEGRAM,
    "tg": Platform.TELEGRAM,
    "telly": Platform.TELEGRAM,
    "wickr": Platform.WICKR,
    "wickrme": Platform.WICKR,
    "wickr me": Platform.WICKR,
    "wickr id": Platform.WICKR,
    "signal": Platform.SIGNAL,
    "ig": Platform.INSTAGRAM,
    "insta": Platform.INSTAGRAM,
    "instagram": Platform.INSTAGRAM,
    "kik": Platform.KIK,
    "discord": Platform.DISCORD,
    "threema": Platform.THREEMA,
    "whatsapp": Platform.WHATSAPP,
    "whats app": Platform.WHATSAPP,
    "watsapp": Platform.WHATSAPP,
    "wa": Platform.WHATSAPP,
    "wsp": Platform.WHATSAPP,
}
_FILLER = (
    r"(?:\s*(?:(?:me|is|at|on|its|it's|my|id|user|username|handle|only)(?![a-z0-9_.])"
    r"|@|:|-+|=+|>+|→|⇒|➡|➜|👉|👇|⬇|\||~|\.)\s*|\s+)"
)
_HANDLE_RE = re.compile(
    r"(?<![a-z0-9_.])("
    + "|".join(sorted((re.escape(k) for k in _LABELS), key=len, reverse=True))
    + r")(?![a-z0-9])"
    + _FILLER
    + r"{0,4}@?([a-z0-9][a-z0-9._\-]{1,30}[a-z0-9_])"
)
_NOT_HANDLES = frozenset(
    """me is at on its my id the and for to only dm dms hmu pm or with if you your we us our
    u ur name handle user username add text call hit link bio here info below above same too
    also now asap pls please plz inbox open orders order fast quick delivery available app
    number num phone contact details more then than just get""".split()  # noqa: SIM905
)


def handles(text: str) -> list[Contact]:
    """Accounts on other platforms named in cleaned text ("sc: name", "tele @name")."""
    found: dict[tuple[str, str], Contact] = {}
    for m in _HANDLE_RE.finditer(text):
        label, handle = m.group(1), m.group(2)
        handle = handle.rstrip(".-")
        if handle in _NOT_HANDLES or handle.isdigit() or len(handle) < 3:
            continue
        platform = _LABELS[label]
        result = normalize("account", handle, platform=platform.value)
        if not result.valid or result.value.startswith("+"):
            continue
        key = (platform.value, result.value)
        if key not in found:
            found[key] = Contact("account", result.value, platform.value, m.group(0))
    return list(found.values())


def contacts(text: str) -> list[Contact]:
    """Every contact selector in cleaned text: phones first, then handles."""
    return phones(text) + handles(text)
