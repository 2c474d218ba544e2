"""Name lists with real frequencies, and the ways case files get names wrong.

Given and family names are drawn with the frequencies of the 1990 US Census name files
(shipped by the ``names`` package: 1,219 male and 4,275 female given names, 88,799
surnames). Hispanic names come from the Spanish-language lists of ``faker`` (es_MX and
es_ES: about 1,380 surnames and 1,000 given names, with their accents), weighted by the
census frequency of their unaccented form where the census has it. These are common names
drawn independently (given, family, date of birth and address apart), so no record
describes a real person. The mess (accents dropped, compound surnames cut, typing, phonetic
and OCR errors, transliteration variants) is what entity resolution has to undo.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class NameTable:
    """Names and their cumulative probabilities, for drawing by frequency."""

    names: tuple[str, ...]
    cum: np.ndarray

    def draw(self, rng: np.random.Generator) -> str:
        i = int(np.searchsorted(self.cum, rng.random() * self.cum[-1], side="right"))
        return self.names[min(i, len(self.names) - 1)]

    def __len__(self) -> int:
        return len(self.names)


def _census(file: str) -> dict[str, float]:
    """NAME -> percent frequency; names rounded to 0.000 get a Zipf tail by rank."""
    text = resources.files("names").joinpath(file).read_text(encoding="ascii")
    out: dict[str, float] = {}
    first_zero = 0
    for rank, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if len(parts) < 2:
            continue
        f = float(parts[1])
        if f <= 0:
            first_zero = first_zero or rank
            f = 0.0005 * first_zero / rank
        out[parts[0]] = f
    return out


def _title(name: str) -> str:
    t = name.title()
    if t.startswith("Mc") and len(t) > 2:
        t = "Mc" + t[2].upper() + t[3:]
    return t


def _table(weights: dict[str, float]) -> NameTable:
    items = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return NameTable(
        tuple(k for k, _ in items), np.cumsum(np.array([v for _, v in items], dtype=np.float64))
    )


def _spanish(attr: str) -> list[str]:
    from faker.providers.person.es_ES import Provider as Spain
    from faker.providers.person.es_MX import Provider as Mexico

    seen = dict.fromkeys([*getattr(Mexico, attr), *getattr(Spain, attr)])
    return [n for n in seen if n.replace(" ", "").isalpha()]


def _weighted_spanish(attr: str, census: dict[str, float], floor: float) -> NameTable:
    # One spelling per name: the accented one where the lists hold both (Rubén, Ruben).
    best: dict[str, str] = {}
    for n in _spanish(attr):
        key = strip_accents(n).upper()
        if " " not in n and (key not in best or (best[key].isascii() and not n.isascii())):
            best[key] = n
    return _table({n: census.get(key, floor) for key, n in best.items()})


@functools.cache
def tables() -> dict[str, NameTable]:
    """The six name tables (loaded once)."""
    male = _census("dist.male.first")
    female = _census("dist.female.first")
    last = _census("dist.all.last")
    hispanic_last = _weighted_spanish("last_names", last, 0.0005)
    his = {strip_accents(n).upper() for n in hispanic_last.names}
    return {
        "other_male": _table({_title(k): v for k, v in male.items()}),
        "other_female": _table({_title(k): v for k, v in female.items()}),
        # Surnames of the census list outside the Spanish lists (those are drawn below).
        "other_family": _table({_title(k): v for k, v in last.items() if k not in his}),
        "hispanic_male": _weighted_spanish("first_names_male", male, 0.002),
        "hispanic_female": _weighted_spanish("first_names_female", female, 0.002),
        "hispanic_family": hispanic_last,
    }


# Spelling variants of one surname as clerks write it (transliteration, seseo, b/v).
SPELLING_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Jiménez", "Giménez", "Ximénez", "Jimenes"),
    ("González", "Gonzales", "Gonsález"),
    ("Vázquez", "Vásquez", "Velázquez"),
    ("Rodríguez", "Rodrigues"),
    ("Hernández", "Hernandes", "Fernández"),
    ("Martínez", "Martines"),
    ("Pérez", "Peres"),
    ("Sánchez", "Sanches"),
    ("Gutiérrez", "Gutierres"),
    ("Chávez", "Chaves"),
    ("Álvarez", "Alvares"),
    ("Domínguez", "Dominguez"),
    ("Ibarra", "Ybarra"),
    ("Villalobos", "Vilalobos"),
    ("Cervantes", "Servantes"),
    ("Bautista", "Baptista"),
    ("Juárez", "Suárez"),
)
VARIANT_OF: dict[str, tuple[str, ...]] = {
    n: tuple(v for v in group if v != n) for group in SPELLING_VARIANTS for n in group
}
# Given names that case files abbreviate before a second given name.
ABBREVIATIONS: dict[str, str] = {
    "María": "Ma.",
    "José": "J.",
    "Juan": "J.",
    "Jesús": "J.",
    "Francisco": "Fco.",
    "Guadalupe": "Gpe.",
}

NICKNAMES: dict[str, tuple[str, ...]] = {
    "José": ("Pepe", "Joe", "Chepe"),
    "Francisco": ("Paco", "Pancho", "Frank"),
    "Jesús": ("Chuy",),
    "Guadalupe": ("Lupe", "Lupita"),
    "Ignacio": ("Nacho",),
    "Alejandro": ("Alex", "Alejo"),
    "Roberto": ("Beto", "Bobby"),
    "Alberto": ("Beto", "Al"),
    "Eduardo": ("Lalo", "Eddie"),
    "Enrique": ("Kike", "Henry"),
    "Rafael": ("Rafa", "Ralph"),
    "Manuel": ("Manny", "Meño"),
    "Juan": ("Johnny",),
    "Luis": ("Lucho",),
    "Carlos": ("Charlie",),
    "Miguel": ("Mike",),
    "Ramón": ("Moncho",),
    "Joaquín": ("Quino",),
    "Sergio": ("Checo",),
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Michael": ("Mike", "Mikey"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Anthony": ("Tony", "Ant"),
    "Christopher": ("Chris",),
    "Joseph": ("Joe", "Joey"),
    "Richard": ("Rick", "Ricky", "Dick"),
    "Daniel": ("Danny", "Dan"),
    "David": ("Dave",),
    "Terrence": ("Terry", "T"),
    "Dominic": ("Dom",),
    "Nathan": ("Nate",),
    "María": ("Mari",),
    "Jennifer": ("Jen", "Jenny"),
    "Jessica": ("Jess",),
}

MONIKERS_ES = (
    "Flaco",
    "Güero",
    "Chato",
    "Gordo",
    "Negro",
    "Chino",
    "Tío",
    "Primo",
    "Compa",
    "Pelón",
    "Zurdo",
    "Cholo",
    "Güerito",
    "Chaparro",
    "Tocayo",
    "Mudo",
    "Pollo",
    "Gallo",
    "Toro",
    "Cuervo",
    "Ingeniero",
    "Contador",
    "Licenciado",
    "Señor",
    "Pariente",
)
MONIKERS_EN = (
    "Smoke",
    "Ghost",
    "Lil Mike",
    "Big Dre",
    "Slim",
    "Boo",
    "Trey",
    "Ace",
    "Bird",
    "Mac",
    "Peanut",
    "Red",
    "Deuce",
    "Tank",
    "Shorty",
    "Juice",
    "Blue",
    "Money",
    "Zay",
    "Flex",
)

STREETS = (
    "Example",
    "Sample",
    "Placeholder",
    "Fictional",
    "Demo",
    "Testing",
    "Mock",
    "Specimen",
    "Pattern",
    "Template",
)
STREET_SUFFIX = ("St", "Ave", "Blvd", "Dr", "Ct", "Ln", "Way")

GANG_WORDS_A = (
    "Northside",
    "Eastside",
    "Westend",
    "Southside",
    "Uptown",
    "Downtown",
    "Hillside",
    "Riverside",
    "Parkside",
    "Lakeside",
    "Crosstown",
    "Midtown",
)
GANG_WORDS_B = (
    "Hustlers",
    "Vatos",
    "Boyz",
    "Kings",
    "Locos",
    "Mafia",
    "Gang",
    "Crew",
    "Bloc",
    "Clique",
    "Familia",
    "Set",
)

HANDLE_WORDS = (
    "plug",
    "candy",
    "snow",
    "blues",
    "m30",
    "perc",
    "zaza",
    "gas",
    "loud",
    "trap",
    "dope",
    "fetti",
    "racks",
    "bando",
    "drip",
    "frosty",
    "ice",
    "kush",
    "jugg",
    "cali",
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


_KEYBOARD = {
    "a": "qsz", "b": "vgn", "c": "xvd", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht",
    "h": "gjy", "i": "uok", "j": "hku", "k": "jli", "l": "kop", "m": "nj", "n": "bmh",
    "o": "ipl", "p": "ol", "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij",
    "v": "cbf", "w": "qes", "x": "zcs", "y": "tuh", "z": "xas",
}  # fmt: skip
# Sound-alike spellings (Spanish and English) and OCR confusions, as (from, to) pairs.
_PHONETIC = (
    ("v", "b"), ("b", "v"), ("z", "s"), ("s", "z"), ("ce", "se"), ("ci", "si"), ("ll", "y"),
    ("y", "ll"), ("j", "h"), ("ge", "je"), ("gi", "ji"), ("qu", "k"), ("ph", "f"), ("ck", "k"),
    ("ie", "ei"), ("h", ""), ("x", "j"), ("ñ", "n"), ("ou", "o"), ("th", "t"),
)  # fmt: skip
_OCR = (
    ("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("l", "1"), ("o", "0"), ("e", "c"),
    ("i", "l"), ("u", "v"), ("n", "ri"), ("h", "b"), ("vv", "w"),
)  # fmt: skip


def _one_edit(rng: np.random.Generator, word: str, kind: int) -> str:
    low = word.lower()
    if kind == 1 or kind == 2:
        pairs = [(a, b) for a, b in (_PHONETIC if kind == 1 else _OCR) if a in low[1:]]
        if pairs:
            a, b = pairs[int(rng.integers(len(pairs)))]
            i = low.index(a, 1)
            rep = b.upper() if word[i : i + len(a)].isupper() else b
            return word[:i] + rep + word[i + len(a) :]
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    op = int(rng.integers(4))
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    near = _KEYBOARD.get(word[i].lower(), word[i])
    c = near[int(rng.integers(len(near)))]
    return word[:i] + (c.upper() if word[i].isupper() else c) + word[i + 1 :]


def misspell(rng: np.random.Generator, word: str) -> str:
    """One or (one time in five) two errors: typing (a swap, a drop, a doubled letter, a
    neighbouring key), a sound-alike spelling or an OCR confusion."""
    edits = 1 if rng.random() < 0.8 else 2
    for _ in range(edits):
        word = _one_edit(rng, word, int(rng.choice(3, p=[0.5, 0.3, 0.2])))
    return word


def typo(rng: np.random.Generator, word: str) -> str:
    """One keyboard-style error (kept for callers that want exactly one)."""
    return _one_edit(rng, word, 0)
