"""Person names as the matcher compares them: parsed, folded, with their keys.

Names arrive as a full name ("GUZMAN, Jesus", "Dr. José Luis Ramírez Ochoa Jr."), as given,
middle and family parts, or both, with aliases. A full name alone is parsed with nameparser
(titles, suffixes, "Last, First" order). Text is folded to lower-case ASCII letters (accents
stripped), so "Ramírez" and "RAMIREZ" are one surname. A family name of several words keeps
each (a paternal and a maternal surname: "Ramírez Ochoa"), and so does a full name of three or
more words, whose last two may both be surnames. A nickname also stands for the names the
``nicknames`` dataset gives it ("bill": william, robert...), so "Bill Smith" meets "William
Smith" on the key "william smith".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii
from nameparser import HumanName
from nameparser.config import CONSTANTS

# Generational suffixes: a Jr. is not his father. A II is read as a Jr.: clerks write one
# for the other ("the second" of a name), and one reading serves both the pair veto and the
# clustering's rule on generations (run.GENERATIONS_APART).
GENERATIONS: dict[str, str] = {
    "jr": "jr",
    "junior": "jr",
    "jnr": "jr",
    "sr": "sr",
    "senior": "sr",
    "snr": "sr",
    "ii": "jr",
    "2nd": "jr",
    "iii": "iii",
    "3rd": "iii",
    "iv": "iv",
    "4th": "iv",
    "v": "v",
}
# Particles of compound surnames (de la Cruz, del Río, van der Berg) carry no identity. So do
# the connectors of other languages' names: the Arabic article and "son of" (Al-Rashid, bin
# Salman, ibn, bint), Italian and Filipino particles (della, dela), Dutch and German ones (ter,
# ten, vom, zu) and the Vietnamese middle words of sex ("Văn" for men, "Thị" for women: the
# name of "Nguyễn Thị Mai" is Mai). Kept, "Ahmed Al-Rashid" and "Ahmed Al-Zahrani" shared a
# surname ("al"), and two sisters "Thị Hồng" and "Thị Thu" a given name.
PARTICLES = frozenset(
    {
        *("de", "del", "la", "las", "los", "y", "e", "da", "do", "dos", "das"),
        *("della", "delle", "dello", "degli", "dela", "van", "von", "vom", "zu", "ter", "ten"),
        *("al", "el", "bin", "binti", "binte", "bint", "ibn", "thi"),
    }
)
PARTICLES_DER = frozenset({"der", "den", "di", "du", "le", "st"})
# The endings of Russian, Ukrainian and Belarusian patronymics (Ivanovich, Sergeyevna, Ilyinichna,
# Petrovych, Ivanivna), folded. A surname may end so too (Abramovich): only a word between a
# given name and a surname is read as one.
PATRONYMIC = re.compile(r"(?:ovich|evich|ovych|evych|ovna|evna|ichna|ivna)$")
# Surnames that nameparser also lists as titles: kept where they stand among the last names.
SURNAMES_AS_TITLES = frozenset(
    {
        # Titles of South Asia and the Middle East that are also family names (Sheikh, Sultan,
        # Imam, Guru...): "Ahmed Sheikh" has a surname.
        *("sheikh", "shaikh", "sheik", "sultan", "mufti", "imam", "pir", "effendi", "guru"),
        *("swami", "herr"),
        "abbot",
        "abbott",
        "baron",
        "bishop",
        "brother",
        "canon",
        "chancellor",
        "chief",
        "count",
        "deacon",
        "dean",
        "duke",
        "earl",
        "field",
        "friar",
        "grand",
        "judge",
        "justice",
        "king",
        "knight",
        "lord",
        "major",
        "marshal",
        "marshall",
        "master",
        "mayor",
        "monk",
        "nurse",
        "page",
        "pope",
        "porter",
        "prince",
        "prior",
        "queen",
        "rector",
        "sheriff",
        "vicar",
    }
)
_NON_LETTER = re.compile(r"[^a-z ]+")
_TITLES = frozenset(t.lower().strip(".") for t in CONSTANTS.titles)


def fold(text: str | None) -> str:
    """Lower-case ASCII letters and single spaces; accents stripped, punctuation a space.
    Letters with no ASCII decomposition (ł, ß, ı, đ, ø) and other scripts (Cyrillic, Greek,
    Arabic, Hangul, Han) are transliterated (``anyascii``), so that a name written in them is
    not lost and "Łukasz" in one file meets "Lukasz" in another."""
    if not text:
        return ""
    return _fold(text)


# Names and their words repeat across records (a million records hold far fewer distinct
# given names and surnames), so each text is folded once.
@lru_cache(maxsize=200_000)
def _fold(text: str) -> str:
    return " ".join(_NON_LETTER.sub(" ", ascii_lower(text)).split())


# Apostrophes of every keyboard ("O'Brien", "O´Brien", "O’Brien") and the marks that write
# the Arabic ayn and hamza ("Saʿīd", "Maʾmūn"; anyascii writes "سعيد" as "s`yd" and "أحمد" as
# "'hmd"): dropped, not read as a space. Read as one, "سعيد" was "s" and "yd", a given name
# of one letter that Sa'id, Sa'd and Sa'ud shared, and "´" (a space once NFKD has taken
# it apart) left "Mary´s" a stray "s".
APOSTROPHES = re.compile("['`\u00b4\u2018\u2019\u02bb\u02bc\u02be\u02bf]")


def ascii_lower(text: str) -> str:
    """``text`` in lower-case ASCII, accents stripped and other letters transliterated,
    apostrophes dropped (:data:`APOSTROPHES`), its digits and other punctuation kept (what
    :func:`fold` starts from)."""
    decomposed = unicodedata.normalize("NFKD", APOSTROPHES.sub("", text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if not stripped.isascii():
        # Only what NFKD could not take apart: most names are ASCII once accents are gone.
        stripped = APOSTROPHES.sub("", anyascii(stripped))
    return stripped.lower()


def _in_script(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


# The connectors of Arabic names written in Arabic script, as PARTICLES holds them in Latin
# letters: "Al" (the family of: "عبدالله آل عواض"), "son of" and "daughter of" (bin, ibn,
# bint). Folded they are "l", "bn", "bnt", which Latin letters do not spell as connectors
# ("L" is an initial), so they are known in their own script only (:func:`_script_word`).
SCRIPT_PARTICLES = _in_script(("آل", "ال", "بن", "ابن", "بنت"))
# Honorifics that lead names in Arabic, Persian and Hebrew script and that nameparser's
# titles lack: Miss (al-Anisa; Persian Jenab-e Aqa-ye and Sarkar-e Khanom for Mr and Mrs;
# Hebrew Mar, Geveret), engineer, doctor, professor, rabbi. Records copied from lists of
# those countries write them ("المهندسة جوان أبا الخيل"), and read as a given name, "the
# engineer" was the given name of every engineer. Dropped only where they lead a name, and
# only written in their own script. Not "al-Sayyid" (Mr) nor "al-Sayyida" (Mrs): El-Sayed
# and Sayeda are given names too, common in Egypt, and "السيد أحمد محمد" may be El-Sayed
# Ahmed Mohamed as well as Mr Ahmed Mohamed; nor Sheikh and Hajj, which are family names
# (nameparser takes الشيخ and الحاج leading a name as titles, as it does Sheikh).
SCRIPT_HONORIFICS = _in_script(
    (
        *("الآنسة", "آنسة", "المهندس", "المهندسة", "مهندس", "مهندسة"),
        *("الأستاذ", "الأستاذة", "أستاذ", "أستاذة", "الدكتور", "الدكتورة", "دكتور", "دكتورة"),
        *("جناب", "آقای", "سرکار", "خانم", "دکتر"),
        *("מר", "גברת", "הרב"),
    )
)


def _script_word(word: str, folded: frozenset[str]) -> bool:
    """Whether ``word``, written in a script other than Latin letters, is one of ``folded``."""
    return not word.isascii() and fold(word) in folded


def _without_honorifics(words: list[str]) -> list[str]:
    """``words`` without the honorifics in Arabic, Persian or Hebrew script that lead them
    (:data:`SCRIPT_HONORIFICS`); the last word is a name, whatever it spells."""
    while len(words) > 1 and _script_word(words[0], SCRIPT_HONORIFICS):
        words = words[1:]
    return words


@lru_cache(maxsize=1)
def _nicknames() -> dict[str, frozenset[str]]:
    try:
        from nicknames import NickNamer
    except ImportError:  # pragma: no cover - a declared dependency
        return {}
    namer = NickNamer()
    out: dict[str, frozenset[str]] = {}
    import csv
    from importlib import resources

    names: set[str] = set()
    with resources.files("nicknames").joinpath("names.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names.add(row["name1"].lower())
            names.add(row["name2"].lower())
    for name in names:
        canon = frozenset(c.lower() for c in namer.canonicals_of(name))
        if canon:
            out[name] = canon
    return out


def first_forms(first: str) -> frozenset[str]:
    """A folded first name and the names it is a nickname of (``bill``: william, robert...)."""
    return _nicknames().get(first, frozenset()) | {first}


@dataclass(frozen=True)
class NameParts:
    first: str  # folded
    middle: str
    surnames: tuple[str, ...]  # folded surname words, particles removed, in order
    suffix: str  # jr, sr, ii... or ""

    @property
    def surname1(self) -> str:
        return self.surnames[0] if self.surnames else ""

    @property
    def surname2(self) -> str:
        return self.surnames[1] if len(self.surnames) > 1 else ""

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.first, " ".join(self.surnames)) if p)

    @property
    def given_forms(self) -> frozenset[str]:
        """The forms this given name may take on another record: the names it is a nickname
        of (:func:`first_forms`), and the given name run together with the first middle
        name. A compound given name is written hyphenated, spaced or joined by one clerk or
        another ("Min-jun" and "Minjun", "Abdul Rahman" and "Abdulrahman", "Mary-Ann" and
        "Maryann"), and a written part reads as a middle name. Only joined, never split:
        "Minjun" alone says nothing of where a clerk would part it. An initial is no part."""
        if not self.first:
            return frozenset()
        forms = first_forms(self.first)
        following = self.middle.split()[:1]
        if len(self.first) > 1 and following and len(following[0]) > 1:
            forms |= {self.first + following[0]}
        return forms

    def keys(self) -> set[str]:
        """``first surname`` for each surname: how two records meet despite a dropped
        maternal surname, a nickname or a compound given name written joined."""
        if not self.first or not self.surnames:
            return set()
        return {f"{f} {s}" for f in self.given_forms for s in self.surnames}


def _particle(word: str) -> bool:
    return word in PARTICLES or word in PARTICLES_DER


def _words(text: str) -> list[str]:
    """A name part's folded words without its particles ("de la Cruz" is "cruz", "Van der
    Berg" is "berg", "Nguyen Van Le" is "nguyen le"), but for its last word: a particle's
    spelling there is the name itself and is kept: "Lê", "Đỗ", "La" (Vietnamese), "Du",
    "Di" (Chinese) fold to a particle's spelling, and dropping them left "Lê Tú" and "Tú
    Lê" without a surname and "Đỗ Văn Hùng" as "Hùng" alone. Honorifics and connectors in
    Arabic, Persian or Hebrew script are dropped as written (:data:`SCRIPT_HONORIFICS`,
    :data:`SCRIPT_PARTICLES`)."""
    raw = _without_honorifics(text.split())
    kept = [
        w for i, w in enumerate(raw) if i == len(raw) - 1 or not _script_word(w, SCRIPT_PARTICLES)
    ]
    words = fold(" ".join(kept)).split()
    return [w for i, w in enumerate(words) if not _particle(w) or i == len(words) - 1]


PLACEHOLDERS = frozenset(
    {"unk", "unknown", "fnu", "lnu", "mnu", "nfn", "nln", "nmn", "none", "null", "unidentified"}
)
"""Words that records write where a name is unknown: "UNK UNK", "FNU Garcia" (first name
unknown), "Jose LNU", "NMN" (no middle name). Read as names, two strangers both written
"UNKNOWN" agreed on their whole name, and a family phone then merged them."""
DESCRIPTORS = frozenset(
    {
        "male", "female", "man", "woman", "boy", "girl", "adult", "juvenile", "subject",
        "suspect", "person", "individual", "hispanic", "latino", "white", "black", "asian",
        "wm", "wf", "hm", "hf", "bm", "bf",
    }
)  # fmt: skip
"""Words that describe a person whose name is unknown: what is left of "UNK MALE" or
"Unknown Hispanic Male" once the placeholder is gone is no name either."""
PLACEHOLDER_NAMES = frozenset({"john doe", "jane doe", "doe john", "doe jane"})
"""Whole names that stand for an unknown person in US records."""


def _without_placeholders(text: str | None) -> str | None:
    """``text`` without its placeholder words; None when no name is left."""
    if not text:
        return text
    folded = fold(text)
    if folded in PLACEHOLDER_NAMES:
        return None
    if not PLACEHOLDERS.intersection(folded.split()):
        return text
    kept = [w for w in text.split() if not PLACEHOLDERS.intersection(fold(w).split())]
    left = " ".join(kept)
    # "Unknown Hispanic Male" describes a stranger: no name is left.
    if set(fold(left).split()) <= DESCRIPTORS:
        return None
    # "GARCIA, FNU" leaves "GARCIA,": the comma still says which name is the family's.
    return left if any(c.isalpha() for c in left) else None


def _strip_generation(words: list[str]) -> tuple[list[str], str]:
    """A name part's words without the generation that ends it ("vale jr"), and that
    generation. A part's only word is a name ("Junior" as a given name), and a generation
    leads no name."""
    if len(words) > 1 and words[-1] in GENERATIONS:
        return words[:-1], GENERATIONS[words[-1]]
    return words, ""


_ORDINALS = re.compile(r"\b(2nd|3rd|4th)\b", re.IGNORECASE)
_ORDINAL_NUMERALS = {"2nd": "II", "3rd": "III", "4th": "IV"}
LEADING_TITLES = frozenset({"sa", "ssa", "sac", "asac", "tfo", "ofc", "agt", "sgt", "det"})
"""Law-enforcement ranks written before a name ("SA Kevin Ortega": a special agent), read as
titles when two words or more follow; nameparser's list has the civil and military ones."""


def _tidy(full: str) -> str:
    """A full name with its ordinal generation spelled as a numeral ("3rd" is "III": digits
    fold away), a leading rank dropped, and a generation after a comma put back at the end
    ("Dennis Harlow, Jr." is "Dennis Harlow Jr.", not the family name "Dennis Harlow" before
    a given name "Jr.")."""
    text = _ORDINALS.sub(lambda m: _ORDINAL_NUMERALS[m.group(1).lower()], full)
    words = _without_honorifics(text.split())
    text = " ".join(words)
    if len(words) >= 3 and fold(words[0]) in LEADING_TITLES:
        text = " ".join(words[1:])
    head, comma, tail = text.rpartition(",")
    after = fold(tail).split()
    if comma and len(head.split()) > 1 and after and all(w in GENERATIONS for w in after):
        text = f"{head} {tail.strip()}"
    return text


def _generation_of(full: str) -> str:
    """The generation a full name states: its last word ("Robert Vale Jr."), or the last word
    of its family part ("VALE JR, ROBERT"), never its first ("Junior Mendoza"; "Sr." before a
    name is the Spanish Señor). After a comma a lone "V" ends "OCHOA, LUIS V": a middle
    initial, not the fifth."""
    head, comma, tail = full.rpartition(",")
    if not comma:
        words = fold(full).split()
        if len(words) < 2 or (words[-1] == "v" and len(words) < 3):
            return ""  # "Robert V": an initial
        return GENERATIONS.get(words[-1], "")
    family, given = fold(head).split(), fold(tail).split()
    if len(family) > 1 and family[-1] in GENERATIONS:
        return GENERATIONS[family[-1]]
    if len(given) > 1 and given[-1] in GENERATIONS and given[-1] != "v":
        return GENERATIONS[given[-1]]
    return ""


# A name written in Han characters or Hangul alone: Chinese and Korean write the family name
# first, in one character but for a few of two (Ouyang, Sima, Namgung, Hwangbo...), and
# usually without a space ("王秀英", "박지훈"). Kana is Japanese, whose family names are
# mostly two characters and whose kanji anyascii reads in Chinese: left to nameparser.
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_HAN_OR_HANGUL = re.compile(r"[\u4e00-\u9fff\uac00-\ud7a3]+(?: [\u4e00-\u9fff\uac00-\ud7a3]+)?")
COMPOUND_FAMILY_NAMES = frozenset(
    {
        *("欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "司徒", "东方", "東方", "皇甫"),
        *("夏侯", "令狐", "慕容", "尉迟", "尉遲", "公孙", "公孫", "长孙", "長孫", "宇文"),
        *("남궁", "황보", "제갈", "선우", "독고", "사공", "서문"),
    }
)
# Korean names in Latin letters are written by two systems and by habit: the Revised
# Romanization (which anyascii follows for Hangul: "김" is "Gim", "박" "Bag") and the spellings
# of passports and most lists (Kim, Park). Each RR spelling below is Korean only, so it is
# read as the usual spelling wherever it stands: a Hangul record, and a list that wrote
# "GIM, Minjun" or "Jeong-ho", meet the "Kim" and "Jung" of another. RR spellings that are
# names of other languages too (An, O, Im, Sin, Yu, Go, Gu, Gong...) are left as written.
KOREAN_SPELLINGS = {
    **{"gim": "kim", "bag": "park", "choe": "choi", "gwon": "kwon", "gwag": "kwak"},
    **{"baeg": "baek", "jeong": "jung", "seong": "sung", "hyeon": "hyun", "myeong": "myung"},
    **{"gyeong": "kyung", "cheon": "chun", "byeon": "byun", "yeom": "yum", "seog": "seok"},
    **{"geum": "keum", "eom": "um", "yug": "yook", "gug": "kook"},
}
# ...and as family names: 이 is "Lee", "Rhee" or "Ri" in Latin letters, 박 "Pak" in North
# Korean spelling.
KOREAN_FAMILY_SPELLINGS = {**KOREAN_SPELLINGS, "rhee": "lee", "pak": "park"}
# Family names read so only when written in Hangul: anyascii's "I" (이) and "Lyu" (류) are
# also an initial ("Maria I.") and the Chinese passport spelling of 吕; its "Gang" (강), "Jo"
# (조), "Yun" (윤), "O" (오), "Sin" (신), "An" (안), "Mun" (문), "Im" (임) and "Yu" (유) are
# names of other languages or a word too. Each is read as the spelling most Koreans'
# passports give it (the National Institute of the Korean Language's surveys of passport
# surnames: Kang, Cho, Yoon, Oh, Shin, Ahn, Moon, and Lim and Yoo, which a third to a half
# write Im and Yu), so a Hangul record meets a list's "Ji-won Kang" (a hostile review's
# Hangul against Latin pairs, each of a top-twenty family name, were "names disagree").
HANGUL_FAMILY_SPELLINGS = {
    **{"i": "lee", "lyu": "ryu", "gang": "kang", "jo": "cho", "yun": "yoon", "o": "oh"},
    **{"sin": "shin", "an": "ahn", "mun": "moon", "im": "lim", "yu": "yoo"},
}


def _korean_spellings(parts: NameParts) -> NameParts:
    """``parts`` with the Korean romanizations above read as the usual spellings."""
    first = KOREAN_SPELLINGS.get(parts.first, parts.first)
    surnames = tuple(KOREAN_FAMILY_SPELLINGS.get(w, w) for w in parts.surnames)
    if first == parts.first and surnames == parts.surnames:
        return parts
    return NameParts(first, parts.middle, surnames, parts.suffix)


def _east_asian(full: str) -> tuple[str, str] | None:
    """(given, family) of a name written in Han characters or Hangul alone, family first,
    folded; None for any other name."""
    text = full.strip()
    if not _HAN_OR_HANGUL.fullmatch(text) or len(text.replace(" ", "")) < 2:
        return None
    if " " in text:
        family, given = text.split(" ")
        # Put in the Western order ("지혜 김"): a family name is one character nearly
        # always, a given name two.
        if len(given) == 1 < len(family) and family not in COMPOUND_FAMILY_NAMES:
            family, given = given, family
    else:
        cut = 2 if text[:2] in COMPOUND_FAMILY_NAMES and len(text) > 2 else 1
        family, given = text[:cut], text[cut:]
    family_folded = fold(family).replace(" ", "")
    if _HANGUL.match(family):
        family_folded = HANGUL_FAMILY_SPELLINGS.get(family_folded, family_folded)
    # A given name of two syllables is one name, as Pinyin writes it ("Xiuying").
    return fold(given).replace(" ", ""), family_folded


def parse_name(
    full: str | None,
    given: str | None = None,
    middle: str | None = None,
    family: str | None = None,
) -> NameParts:
    """A record's name in parts. Given and family parts win when written; a full name alone
    is parsed with nameparser. Placeholders (:data:`PLACEHOLDERS`) are no name."""
    return _korean_spellings(_parse_name(full, given, middle, family))


def _parse_name(
    full: str | None,
    given: str | None = None,
    middle: str | None = None,
    family: str | None = None,
) -> NameParts:
    if full and not (given or family) and (east := _east_asian(full)):
        return parse_name(None, given=east[0], family=east[1])
    if full and not (given or family):
        unknown = set(fold(full).split())
        if unknown & {"fnu", "nfn", "lnu", "nln"}:
            known = (_without_placeholders(full) or "").replace(",", " ")
            if unknown & {"fnu", "nfn"}:  # first name unknown: the rest is the family name
                return parse_name(None, given="FNU", family=known)
            return parse_name(None, given=known)  # last name unknown: the rest is given
        head, comma, tail = full.rpartition(",")
        after = fold(tail).split()
        if comma and len(head.split()) == 1 and after and all(w in GENERATIONS for w in after):
            # "GARCIA, JR" is a family name and its generation; "MENDOZA, JUNIOR" is Junior
            # Mendoza (a generation spelled out after a family name is a given name).
            if set(after) & {"junior", "senior"}:
                return parse_name(None, given=tail, family=head)
            return parse_name(None, family=f"{head} {tail}")
    # A given name written as unknown ("FNU") is no given name, but was written: the family
    # part ("GARCIA LOPEZ") is then all surnames, not a given name and a surname.
    given_written = bool(given and given.strip())
    full, given, middle, family = (_without_placeholders(t) for t in (full, given, middle, family))
    suffix = ""
    if full:
        full = _tidy(full)
        suffix = _generation_of(full)
    if given or family:
        g, s1 = _strip_generation(_words(given or ""))
        f, s2 = _strip_generation(_words(family or ""))
        m = _words(middle or "")
        suffix = suffix or s1 or s2
        if not g and len(f) > 1 and not given_written:
            g, f = f[:1], f[1:]
        return NameParts(g[0] if g else "", " ".join(g[1:] + m), tuple(f), suffix)
    if not full:
        return NameParts("", "", (), "")
    parsed = HumanName(full)
    first_words = _words(parsed.first)
    first_words = [w for w in first_words if w not in _TITLES] or first_words
    # nameparser takes the titles that lead a name ("Dr.", "Sgt."). A title's spelling
    # left among the middle or last names is one too ("RAMIREZ, JOSE DR", "JOSE RAMIREZ
    # CAPT"), but for the surnames that are titles' words (King, Bishop, Judge...).
    rest = _strip_generation(_words(f"{parsed.middle} {parsed.last}"))[0]
    last_words = set(fold(parsed.last).split())
    rest = [w for w in rest if w not in _TITLES or (w in last_words and w in SURNAMES_AS_TITLES)]
    if not first_words:
        return NameParts(rest[0] if rest else "", "", tuple(rest[1:]), suffix)
    if "," in full:
        # "GUZMAN LOPEZ, Jesus": everything before the comma is the family name.
        family_part, _, _ = full.partition(",")
        fam = _strip_generation(_words(family_part))[0]
        # nameparser puts the words after the given name in its middle ("Pedro" of
        # "ARROYO MARTINEZ, David Pedro").
        mids = [
            w
            for w in _words(parsed.middle)
            if w not in _TITLES and (w not in GENERATIONS or w == "v")
        ]
        mids = [w for w in first_words[1:] + mids if w not in fam]
        return NameParts(first_words[0], " ".join(mids), tuple(fam), suffix)
    # "Jesús Guzmán López": the last two words may both be surnames (paternal, maternal).
    # A letter alone is an initial, not a surname ("Luis V Ochoa"), and an East Slavic
    # patronymic is a middle name ("Ivan Ivanovich Petrov"): as a surname, it made the
    # namesakes "Ivan Ivanovich Orlov" and "Ivan Ivanovich Belov" share one.
    two = len(rest) >= 2 and len(rest[-2]) > 1 and not PATRONYMIC.search(rest[-2])
    surnames = rest[-2:] if two else rest[-1:]
    middle_words = first_words[1:] + rest[: len(rest) - len(surnames)]
    return NameParts(first_words[0], " ".join(middle_words), tuple(surnames), suffix)


def swapped(a: NameParts, b: NameParts) -> bool:
    """Whether two readings of one record's name put its given and family names the other
    way round: each one's given name is among the other's surnames."""
    return bool(a.first and b.first) and a.first in b.surnames and b.first in a.surnames


def _surname_first(full: str, parts: NameParts) -> bool:
    """Whether the full name can read the parts the other way round (:func:`swapped`): it
    has the "FAMILY, Given" form, or a surname of the parts comes before the parts' given
    name in it. Without a comma nameparser reads a name in order, the given name first, so a
    full name where the given name comes first can not be the other reading, and nameparser
    (most of the cost of parsing a name) is not run on the full name of every record."""
    if "," in full:
        return True
    surnames = set(parts.surnames)
    seen = False
    for word in fold(full).split():
        if seen and word == parts.first:
            return True
        seen = seen or word in surnames
    return False


def readings(
    full: str | None,
    given: str | None = None,
    middle: str | None = None,
    family: str | None = None,
) -> tuple[NameParts, NameParts | None]:
    """A record's name as compared, and the other reading when the record writes its name
    twice, as a full name and as parts, and the two put given and family names the other
    way round ("ANTUNEZ COLUNGA, Aaron" with "Antunez Colunga" as the given name and
    "Aaron" as the family name: the parts were typed into each other's boxes).

    Which is right the record does not always say. A full name in the "FAMILY, Given"
    form states its order, so it is taken and the parts' reading is the other one;
    otherwise the parts win as in :func:`parse_name` (some countries write the family name
    first without a comma) and the full name's reading is the other one. The other
    reading's keys are the record's too (docs/resolution.md, "Names written twice")."""
    parts = parse_name(full, given, middle, family)
    if not full or not (given or family) or not _surname_first(full, parts):
        return parts, None
    whole = parse_name(full)
    if not swapped(parts, whole):
        return parts, None
    # A middle name the parts state is no surname of the full name's reading ("John
    # Michael Stodolski" with "Michael" as the middle name).
    middles = _words(middle or "")
    kept = tuple(w for w in whole.surnames if w not in middles)
    if kept and kept != whole.surnames:
        whole = NameParts(whole.first, " ".join(middles), kept, whole.suffix)
    if "," in full:
        return whole, parts
    return parts, whole


def alias_keys(aliases: str | None) -> set[str]:
    """The name keys of a ``|``-separated list of aliases."""
    out: set[str] = set()
    for alias in (aliases or "").split("|"):
        if alias.strip():
            out |= _alias_keys(alias)
    return out


@lru_cache(maxsize=200_000)
def _alias_keys(alias: str) -> frozenset[str]:
    """One alias's name keys: parsed once however many records carry it."""
    return frozenset(parse_name(alias).keys())


def fold_list(text: str | None) -> list[str]:
    """A ``|``-separated list, each item folded; empty items dropped."""
    return sorted({f for f in (fold(x) for x in (text or "").split("|")) if f})


# Articles that street names often carry or drop ("El Cuervo" is "Cuervo").
MONIKER_ARTICLES = ("el ", "la ", "los ", "las ", "the ")


def monikers(text: str | None) -> list[str]:
    """Folded monikers, each also without a leading article ("El Güero" gives "guero")."""
    out: set[str] = set()
    for m in fold_list(text):
        out.add(m)
        for article in MONIKER_ARTICLES:
            if m.startswith(article) and len(m) > len(article) + 2:
                out.add(m[len(article) :])
    return sorted(out)


def moniker_cores(text: str | None) -> list[str]:
    """Each moniker once, without a leading article ("El Güero" and "Güero" are one:
    "guero"): the forms one person's records share however each case wrote them."""
    out: set[str] = set()
    for m in fold_list(text):
        for article in MONIKER_ARTICLES:
            if m.startswith(article) and len(m) > len(article) + 2:
                m = m[len(article) :]
                break
        out.add(m)
    return sorted(out)


def sound_key(first: str | None, surname: str | None) -> str | None:
    """The Soundex codes of a folded given name and surname, in the codes' order ("charles
    fernandes" and "charles frnandes" give "C642 F655"): the blocking key of two records
    whose names a clerk mistyped or another clerk transliterated ("Orisya Deregus",
    "Orisia Derregus"), phonetic encoding as record linkage blocks names (Christen, *Data
    Matching*, 2012, ch. 4). The order is the codes', not the name's, so a name whose
    parts a clerk also put the other way round meets it too ("VITTÓRIA, CUNHA" and
    "Vitória Cunha", "SALS DAVI" and "Sales, Davi"). None without both."""
    if not first or not surname:
        return None
    import jellyfish

    return " ".join(sorted((jellyfish.soundex(first), jellyfish.soundex(surname))))
