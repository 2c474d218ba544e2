"""The words of an address that clerks abbreviate, each written one way
(docs/resolution.md, "Addresses of other countries").

"Avenida Juárez 45" and "Av. Juárez 45", "Hauptstraße 5" and "Hauptstr. 5", "Cra. 15" and
"Carrera 15", "12 Station Road" and "12 Station Rd": one address, whose words differed in
the one word that says what kind of street, building or flat it is. Compared word by word
(addresses.py), each pair shared one word of two and was "addresses differ".

The table holds the commonest street types and designators of the countries whose
addresses agencies hold most: the United States Postal Service's suffixes and secondary
unit designators (Publication 28, appendix C), the Royal Mail's, and the abbreviations
that the postal services and clerks of Mexico, Colombia, Brazil, Spain, France, Italy,
Germany, the Netherlands, Poland, Romania, Turkey, Russia and Ukraine write (Russian and
Ukrainian as anyascii transliterates them). Address standardizers are built on such
tables (libpostal's dictionaries, Barrentine 2016; Christen, *Data Matching*, 2012, ch.
3); libpostal itself needs a C library and gigabytes of models, so lastmile keeps the part
it needs.

Each form is written as one word, its key: a key for equality, not a translation.
"strada", "Str." and "St" are "street" (in a street's or a town's name usaddress read,
"St" is "Saint": addresses.py). The key is the full word rather than its abbreviation, so a
clerk's typo in it ("Plce") is still spelled closely to it. Two words that share a key
name a kind of street or flat, never the street itself, so a collision costs nothing that
the street's own name and number do not decide. A word that only says "number" ("No.",
"Nr.", "Núm.") is no word of the address.
"""

from __future__ import annotations

import re

# key: the forms written for it, folded (lower-case ASCII, accents stripped).
_FORMS: dict[str, tuple[str, ...]] = {
    # Streets.
    "street": ("st", "str", "strt", "strasse", "strada", "straat"),
    "avenue": ("ave", "av", "aven", "avenu", "avn", "avenida", "avda", "avd"),
    "road": ("rd",),
    "boulevard": (
        *("boul", "boulv", "blvd", "bd", "bdul", "bulevar", "bulevardul"),
        *("bulvar", "bulvari", "blv"),
    ),
    "drive": ("dr", "drv"),
    "lane": ("ln", "laan"),
    "court": ("ct", "crt"),
    # The USPS's PL and PLZ are two types, as are GDN and GDNS, MT and MTN: "Park Pl" and
    # "Park Plaza" of one town are two streets. Other countries write "Pl." for a plaza.
    "place": ("pl",),
    "plaza": ("plz", "plac", "platz", "piazza", "pza", "pzza", "praca", "pca"),
    "square": ("sq", "sqr"),
    "terrace": ("ter", "terr"),
    "highway": ("hwy", "hiway", "hway"),
    "parkway": ("pkwy", "pky", "pkway", "parkwy"),
    "circle": ("cir", "circ", "crcl"),
    "crescent": ("cres", "crsnt"),
    "trail": ("trl", "trails"),
    "expressway": ("expy", "expw", "expr"),
    "freeway": ("fwy",),
    "route": ("rte",),
    "calle": ("cl", "cll", "close"),
    "carrera": ("cra", "kra"),
    "diagonal": ("dg", "diag"),
    "transversal": ("tv", "transv", "travessa", "trav"),
    "calzada": ("calz",),
    "carretera": ("carr", "ctra"),
    "privada": ("priv",),
    "alameda": ("al", "aleja", "aleje", "allee", "aleea"),
    "ulica": ("ul", "ulitsa", "vulytsia", "vul"),
    "prospekt": ("pr", "prosp"),
    "pereulok": ("per", "provulok", "prov"),
    "chemin": ("ch", "chem"),
    "impasse": ("imp",),
    "calea": ("cal",),
    "soseaua": ("sos", "shosse"),
    "caddesi": ("cad", "cd", "cadde"),
    "sokak": ("sk", "sok", "sokagi"),
    "mahallesi": ("mah", "mh", "mahalle"),
    "parade": ("pde",),
    "gardens": ("gdns",),
    "garden": ("gdn",),
    "mount": ("mt",),
    "mountain": ("mtn",),
    "fort": ("ft",),
    "heights": ("hts",),
    "center": ("ctr", "centre", "cntr"),
    "junction": ("jct", "jctn"),
    # Neighbourhoods, blocks and lots (Mexico's colonias, manzanas and lotes).
    "colonia": ("col",),
    "fraccionamiento": ("fracc", "frac", "fracto"),
    "manzana": ("mz", "mza", "mzna"),
    "lote": ("lt", "lte", "lot"),
    "osiedle": ("os",),
    # Flats, floors and buildings.
    "apartment": (
        *("apt", "apto", "ap", "apart", "appt", "appartement", "apartamento"),
        *("apartament", "apartmani", "departamento", "depto", "dpto", "kvartira", "kv", "flat"),
        *("mieszkanie", "lok", "lokal", "daire"),
    ),
    "suite": ("ste",),
    "building": (
        *("bldg", "bld", "bldng", "edificio", "edif", "korpus", "korp", "bloc", "bl"),
        *("stroenie",),
    ),
    "house": ("casa", "dom"),
    "block": ("blk", "blok", "bloque"),
    "sector": ("sec", "sect"),
    "tower": ("torre", "twr"),
    "floor": ("fl", "flr", "piso", "etage", "etaj", "et", "kat"),
    "room": ("rm",),
    "interior": ("int",),
    "exterior": ("ext",),
    "department": ("dept",),
    "po": ("post", "apdo", "apartado"),
    "scara": ("sc",),
}

# The keys that are a street's type (usaddress's StreetNamePostType and PreType): the rows
# of _FORMS above "Neighbourhoods" ("mount" and "fort" are kept out: they lead a name).
STREET_TYPES = frozenset(list(_FORMS)[: list(_FORMS).index("colonia")]) - {"mount", "fort"}

# Roads that are one road under any of these names: "Route 1" is "Hwy 1".
HIGHWAYS = frozenset({"highway", "route", "freeway", "expressway"})

# The words whose number names a part of a house or of a block: the flat, the floor, the
# building, Mexico's manzana and lote. "Mz 5 Lt 12" and "Mz 12 Lt 5" are two houses (see
# addresses.address_marks); a street's type, a city or a postcode's letters before a
# number are not such a word ("Route 1", "PR 80010-020").
DESIGNATORS = frozenset(
    {
        *("apartment", "suite", "building", "floor", "room", "interior", "exterior"),
        *("department", "manzana", "lote", "house", "unit", "block", "sector", "plot", "scara"),
        # Vietnam's ward and district, India's and the Philippines' phase: a number of a
        # place within the city.
        *("tower", "phuong", "quan", "phase"),
        # One letter, as clerks write it: Poland's "m." (the flat), Russia's "д." (the house)
        # and Turkey's "D:" (the flat). A letter is no word of an address, but it marks.
        *("m", "d"),
    }
)

# A word saying only that a number follows.
NUMBER_WORDS = frozenset({"no", "nr", "nro", "num", "numero"})

ADDRESS_WORDS: dict[str, str] = {form: key for key, forms in _FORMS.items() for form in forms}
ADDRESS_WORDS.update({key: key for key in _FORMS})

# German and Dutch run the street's type into its name ("Hauptstraße", "Hauptstr.",
# "Kerkstraat", "Marktplatz"): such a word is its name and its type, as if written apart.
# Not English: "Broadstreet", "Railroad" and "Lakeroad" are names (a clerk's "8
# laidleyplace" still meets "Laidley Place" as words run together: addresses.py).
_RUN_IN = re.compile(r"^([a-z]{3,}?)(strasse|straat|str|platz|allee|laan)$")


def address_word(word: str) -> list[str]:
    """``word`` (folded) as keys for equality: its abbreviation's key, a name and a type run
    together as the two, none for a word saying only "number", itself otherwise."""
    if word in NUMBER_WORDS:
        return []
    key = ADDRESS_WORDS.get(word)
    if key:
        return [key]
    run_in = _RUN_IN.match(word)
    if run_in:
        return [run_in.group(1), ADDRESS_WORDS[run_in.group(2)]]
    return [word]
