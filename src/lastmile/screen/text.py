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
from lastmile.selectors import normalize, platform_from_url, selector_key

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


# A second reading for typing errors, for word matching only: letters typed three times or
# more once ("bluesss"), a word's doubled first letter once ("ppercs"), emojis and symbols
# between words dropped ("golden 😈 teachers"), and a word of five letters or more with two
# neighbouring letters swapped (Damerau's commonest error: "mloly", "orxys") written as the
# lexicon's word (``swaps``, from :func:`transpositions`).
_TRIPLED = re.compile(r"([a-z])\1{2,}")
_DOUBLED_START = re.compile(r"\b([a-z])\1(?=[a-z]{2})")
_SYMBOLS = re.compile(r"[^\w\s$.,:;!?'/@+\-]+")
_SPACES = re.compile(r"[ \t]{2,}")
_LONG_WORD = re.compile(r"[a-z]{5,}")
SWAP_MIN_LETTERS = 5


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Where respell may change a word (RE2, for the cheap passes): a letter typed three times, a
# word's first letter doubled, a symbol between words. (Swapped letters: transpositions.)
TYPO_CUES = (
    "(?i:" + "|".join(c * 3 for c in _LETTERS) + ")",
    r"(?i:\b(?:" + "|".join(c * 2 for c in _LETTERS) + "))",
    r"[a-zA-Z] ?[^\x00-\x7f]+ ?[a-zA-Z]",
)


def transpositions(words: set[str]) -> dict[str, str]:
    """Each word's forms with two neighbouring letters swapped, mapped to the word (words of
    SWAP_MIN_LETTERS or more; a form that is itself one of ``words`` is left alone)."""
    out: dict[str, str] = {}
    for w in sorted(words):
        if len(w) < SWAP_MIN_LETTERS:
            continue
        for i in range(len(w) - 1):
            form = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            if form != w and form not in words:
                out.setdefault(form, w)
    return out


def respell(text: str, swaps: dict[str, str]) -> str:
    """The second reading of cleaned text (see above); leet spellings undone too. A letter
    typed three times or more is read once and twice ("bluesss", "booomers"), so the
    reading holds both forms, one after the other."""
    text = _DOUBLED_START.sub(r"\1", unleet(text))
    if not text.isascii():
        text = _SPACES.sub(" ", _SYMBOLS.sub(" ", text))
    if _TRIPLED.search(text):
        text = _TRIPLED.sub(r"\1", text) + "\n" + _TRIPLED.sub(r"\1\1", text)
    return _LONG_WORD.sub(lambda m: swaps.get(m.group(0), m.group(0)), text)


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
    # Spanish, as sellers on both sides of the border write a number out.
    "cero": "0",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}
# A token: a run of digits, or a word; between tokens of one number only separators.
_TOKEN = re.compile(r"\+?\d+|[a-z]+")
_SEPARATORS = r"\s\-.()/,_*~|:•·"
_SEPARATOR = re.compile(rf"[{_SEPARATORS}]{{0,4}}")
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
_RUN = re.compile(_NUMBERISH + rf"(?:[{_SEPARATORS}]{{0,4}}" + _NUMBERISH + r")+|\d{7,}")
# Letters written for digits inside a number ("2l3.555.Ol45"): l or i for 1 between digits,
# o for 0 next to a digit.
_ONE_FOR_L = re.compile(r"(?<=[\do])[li](?=\d)|(?<=\d)[li](?=[\do])")
_ZERO_FOR_O = re.compile(r"(?<=[\d.\-])o(?=\d)|(?<=\d)o(?=[\d.\-])")
_LETTER_FOR_DIGIT = re.compile(r"[\dlio.\-][lio]\d|\d[lio]")


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
    if _LETTER_FOR_DIGIT.search(text):
        text = _ZERO_FOR_O.sub("0", _ONE_FOR_L.sub("1", text))
    for tokens, raw in _digit_runs(text):
        i = 0
        while i < len(tokens):
            taken = -1
            for j, digits in reversed(_spans(tokens[i : i + MAX_DIGITS + 1])):
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
    "sig": Platform.SIGNAL,
    "wire": Platform.WIRE,
    "session": Platform.SESSION,
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
    r"(?:\s*(?:(?:me|is|at|on|its|it's|my|id|app|user|username|handle|only)(?![a-z0-9_.])"
    r"|@|:|-+|=+|>+|→|⇒|➡|➜|👉|👇|⬇|\||~|\.)\s*|\s+)"
)
_HANDLE_RE = re.compile(
    r"(?<![a-z0-9_.])("
    + "|".join(sorted((re.escape(k) for k in _LABELS), key=len, reverse=True))
    + r")(?![a-z0-9])(?!\.[a-z]{2,4}/)"  # not a link's host (snapchat.com/add/name)
    + _FILLER
    + r"{0,4}@?([a-z0-9][a-z0-9._\-]{1,30}[a-z0-9_])"
)
# The handle first, then its platform: "@plugmaster_usa on telegram", "@name on the 👻".
_HANDLE_FIRST_RE = re.compile(
    r"(?<![a-z0-9_.])@([a-z0-9][a-z0-9._\-]{1,30}[a-z0-9_])\s+(?:on|via|at|in)\s+(?:the\s+|my\s+)?("
    + "|".join(sorted((re.escape(k) for k in _LABELS), key=len, reverse=True))
    + r")(?![a-z0-9])"
)
# A handle spelled out a letter at a time after its platform ("snap: p h x . p l u g g").
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z0-9._] ){3,}[a-z0-9._](?![a-z0-9])")
_NOT_HANDLES = frozenset(
    """me is at on its my id the and for to only dm dms hmu pm or with if you your we us our
    u ur name handle user username add text call hit link bio here info below above same too
    also now asap pls please plz inbox open orders order fast quick delivery available app
    number num phone contact details more then than just get that this these those there
    their they them he she his her was were been has have had will would can could should
    from into about after before when where what who why how not yes but because very
    really going""".split()  # noqa: SIM905
)


def handles(text: str) -> list[Contact]:
    """Accounts on other platforms named in cleaned text ("sc: name", "tele @name")."""
    found: dict[tuple[str, str], Contact] = {}

    def take(label: str, handle: str, raw: str) -> None:
        handle = handle.rstrip(".-")
        if handle in _NOT_HANDLES or handle.isdigit() or len(handle) < 3:
            return
        platform = _LABELS[label]
        if platform is Platform.SESSION:
            return  # a Session account is its ID, which links() reads whole
        result = normalize("account", handle, platform=platform.value)
        if result.valid and not result.value.startswith("+"):
            found.setdefault(
                (platform.value, result.value),
                Contact("account", result.value, platform.value, raw),
            )

    text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    pos = 0
    while (m := _HANDLE_RE.search(text, pos)) is not None:
        pos = m.end()
        if m.group(2) in _LABELS:  # "👻 snap: name": the second label introduces the handle
            pos = m.start(2)
            continue
        take(m.group(1), m.group(2), m.group(0))
    for m in _HANDLE_FIRST_RE.finditer(text):
        take(m.group(2), m.group(1), m.group(0))
    return list(found.values())


# A profile link of a messaging or social platform (t.me/name, wa.me/number, signal.me,
# snapchat.com/add/name, instagram.com/name): the host names the platform.
_PROFILE_URL = re.compile(
    r"(?<![a-z0-9_.\-])(?:https?://)?(?:www\.)?"
    r"(?:t\.me|telegram\.me|wa\.me|signal\.me|snapchat\.com/add|instagram\.com|kik\.me)"
    r"/[^\s]+"
)
# What the cheap passes look for before calling links() (RE2 syntax).
LINK_CUE = r"(?:t|telegram|wa|signal|kik)\.me/|snapchat\.com/add/|instagram\.com/|05[0-9a-f]{64}"
# A Session ID: 66 hexadecimal digits starting with 05 (Session's account ids have no name).
_SESSION_ID = re.compile(r"(?<![0-9a-f])05[0-9a-f]{64}(?![0-9a-f])")


def links(text: str) -> list[Contact]:
    """Accounts given as profile links or Session IDs in cleaned text."""
    found: list[Contact] = []
    for m in _PROFILE_URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        platform = platform_from_url(url)
        result = normalize("account", url)
        if platform is None or not result.valid:
            continue
        if result.value.startswith("+"):
            found.append(Contact("phone", result.value, "", url))
        else:
            found.append(Contact("account", result.value, platform.value, url))
    for m in _SESSION_ID.finditer(text):
        found.append(Contact("account", m.group(0), Platform.SESSION.value, m.group(0)))
    return found


def contacts(text: str) -> list[Contact]:
    """Every contact selector in cleaned text: phones first, then handles and links, each
    once."""
    found: dict[tuple[str, str, str], Contact] = {}
    for contact in phones(text) + handles(text) + links(text):
        found.setdefault((contact.kind, contact.value, contact.platform), contact)
    return list(found.values())
