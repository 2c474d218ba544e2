"""Addresses as the matcher compares them: parsed with usaddress where it can, and compared
word by word where it cannot (docs/resolution.md, "Addresses").

An address is reduced to two keys: the *street key* (house number, street name and place,
folded; the street type and unit left out, so "1200 Example St." and "1200 EXAMPLE STREET"
agree; a key with a flat or a type is also given with it, "1200 example | phoenix, az#4b",
"1200 example | phoenix, az@street") and the *place key* (city and state). usaddress knows
United States addresses only: "ul. Słowackiego 93/32, 14-190 Mikołów" or "Số 10/506 Hùng
Vương, Đà Nẵng" give it no house number and street, so such an address takes as its street
key its folded words, numbers and marks in order of the alphabet (written the same, case,
accents, punctuation and word order aside), without the city, state, ZIP and country
usaddress finds in it but with its place, when what is left states a number and two words,
or a word and two numbers, at least ("Houston TX 77002" or "Apt 4, Springfield IL" is no
street address).

Besides the keys, every address gives its *words* (folded, two letters or more, an
abbreviation written one way: address_words), its *numbers* (the tokens holding a digit:
house, flat, postcode), without the city, state, ZIP and country usaddress finds, and its
*marks* (each number that a designator names, "manzana=5": :func:`address_marks`), so two
writings of one address by two clerks ("Studio 12, Hunt Rest, South Georgiatown, RH4R 4LR"
and "Studio Hunt Rest, South Georgiatown,") can be told apart from two addresses of one
city, in any country: :data:`CLOSE_ADDRESS_SQL`. A text that says nothing of a place
("UNKNOWN", "HOMELESS": no key, fewer than three words, and not two words with a number) is
no address.

An entity pools its records' words, numbers and marks (collective.py), so a person known
at several addresses is close to each of them, as he is to each of his street keys.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import NamedTuple

from lastmile.resolve.address_words import DESIGNATORS, HIGHWAYS, STREET_TYPES, address_word
from lastmile.resolve.names import ascii_lower, fold

_TOKEN = re.compile(r"[a-z0-9]+")
# A street key qualified by its flat ("12 main | leeds, #3"), its street's type ("12 main |
# leeds, @street") or its ZIP code ("100 main | springfield, il$62701"); none is a letter or
# digit, so no key holds them otherwise.
UNIT_MARK = "#"
TYPE_MARK = "@"
ZIP_MARK = "$"
QUALIFIER_MARKS = (UNIT_MARK, TYPE_MARK, ZIP_MARK)

# Two writings of one address: two words or more in common, and at least this share of the
# shorter side's words; and no number of the side with fewer numbers missing from the
# other's (another house number, another flat or another postcode is another address,
# whatever the street). A token overlap is what record linkage compares an address by
# without a parser (Christen, *Data Matching*, 2012, ch. 5: token-based similarity); the
# overlap coefficient rather than Jaccard, since a clerk drops words ("Studio Hunt Rest")
# more often than he adds them.
CLOSE_ADDRESS_SHARE = 0.8


def _shared(column: str) -> str:
    """SQL for how many values of ``l.column`` ``r.column`` holds too (both lists without
    repeats): five times quicker in DuckDB than ``len(list_intersect(...))``, which builds
    the intersection it counts."""
    return f"len(list_filter(l.{column}, lambda x: list_contains(r.{column}, x)))"


# No number of the side with fewer numbers missing from the other's.
_SAME_NUMBERS = (
    "(l.addr_nums IS NULL OR r.addr_nums IS NULL "
    f"OR {_shared('addr_nums')} = least(len(l.addr_nums), len(r.addr_nums)))"
)
# Without a number on either side, two addresses are one only when every word of the side
# with fewer words is the other's: the rule on numbers says nothing then, and two cottages of
# one lane ("Rose Cottage, Church Lane, Little Snoring" and "Ivy Cottage, ...") or two plots
# without a number ("Calle Hidalgo S/N" and "Calle Morelos S/N" of one colonia) share most of
# their words. A ship's or a farm's name with and without its postcode still agrees.
_SOME_NUMBER = (
    "(l.addr_nums IS NOT NULL OR r.addr_nums IS NOT NULL "
    f"OR {_shared('addr_words')} = least(len(l.addr_words), len(r.addr_words)))"
)

# House numbers that a parsed street key gives on both sides and that differ: two houses,
# whatever else the words and numbers share ("Flat 3, 12 High Street" and "3 High Street":
# the numbers of the side with fewer are the other's too).
# (Written for Splink's Spark backend too, through sqlglot: the length of a list is taken of
# a list_filter, which spark.py renders as Spark's size(); a NULL list, whose size() Spark
# may give as -1, is tested for first.)
_PARSED = "list_filter({s}.addr_streets, lambda k: NOT starts_with(k, '~'))"
_HOUSES = f"list_transform({_PARSED}, lambda k: split_part(k, ' ', 1))"
HOUSES_AGREE_SQL = (
    "(l.addr_streets IS NULL OR r.addr_streets IS NULL "
    f"OR len({_PARSED.format(s='l')}) = 0 OR len({_PARSED.format(s='r')}) = 0 "
    f"OR list_has_any({_HOUSES.format(s='l')}, {_HOUSES.format(s='r')}))"
)


# Numbers that one word names on both sides and that differ: "Mz 5 Lt 12" and "Mz 12 Lt 5",
# "д. 10, кв. 5" and "д. 5, кв. 10", "Block 12, Flat 4" and "Block 4, Flat 12" hold the same
# words and numbers, but the block of one is the lot of the other. Each number that a
# designator names (a flat, a floor, a building, a manzana, a lote) is marked by it
# (address_marks); a designator that marks numbers on both sides and none in common parts
# two houses for the "written two ways" levels, which pool a record's addresses' words and
# numbers as they pool its marks. A key of words holds its marks (address_parts), so a key
# shared is never parted by another address's marks.
def _kinds(marks: str) -> str:
    """SQL: the designators of a list of marks ("manzana=5" -> "manzana")."""
    return f"list_transform({marks}, lambda m: split_part(m, '=', 1))"


# A designator on both sides none of whose marks the two share. Written with set operations
# on the lists, each once per pair: a filter of each side's marks for each mark cost 8.3 s a
# 50,000 pairs when one side pooled 30 marks (an entity of many addresses), this 0.2 s
# (bench/address_levels.py).
MARKS_APART_SQL = (
    f"coalesce(len(list_filter(list_intersect({_kinds('l.addr_marks')}, "
    f"{_kinds('r.addr_marks')}), lambda d: NOT list_contains("
    f"{_kinds('list_intersect(l.addr_marks, r.addr_marks)')}, d))) > 0, false)"
)


# A street key shared, unless both sides qualify it and their qualifiers do not meet: a flat
# (a unit: "Apt 2", "Flat 3"; the key leaves the flat out, so two households of one house
# shared it), the street's type ("12 Main St" and "12 Main Ave"; the key leaves the type
# out, so that "12 Main St" and "12 Main" agree) or the ZIP code ("100 Main St,
# Springfield, IL 62701" and "62704": one house has one ZIP code). Each address also gives
# its key with each ("12 main | leeds, #3", "12 main | denver, co@street": keys_of), so a
# qualifier is compared with those of its own key only, not with a record's every address
# pooled (a record at "123 Main St" and "55 Oak Ave" still shares the first with "123 Main St
# Apt 2").
def _qualifiers(side: str, mark: str) -> str:
    return f"list_filter({side}.addr_streets, lambda a: starts_with(a, k || '{mark}'))"


def _meet(mark: str) -> str:
    left, right = _qualifiers("l", mark), _qualifiers("r", mark)
    return f"(len({left}) = 0 OR len({right}) = 0 OR list_has_any({left}, {right}))"


# The street keys both sides hold, each without a qualifier: each is then ``k`` of the tests
# below. Taken from the two lists' intersection rather than by testing each of one side's
# keys: a lambda's outer expressions are evaluated again for each element, so a test of
# every key of two records of 40 addresses each (entities pooling many) cost 30 s a 50,000
# pairs, the shared keys 8.5 s (and 17 s -> 1.2 s against a record of two addresses:
# bench/address_levels.py).
_KEYS_SHARED = (
    "list_filter(list_intersect(l.addr_streets, r.addr_streets), lambda k: "
    + " AND ".join(f"NOT contains(k, '{mark}')" for mark in QUALIFIER_MARKS)
    + ")"
)
_QUALIFIERS_MEET = " AND ".join(_meet(mark) for mark in QUALIFIER_MARKS)
# A key without a place (usaddress read none: "12 High Street, Leeds LS1 8AB" is keyed "12
# high | ", as is York's) is one address only with the rule on numbers (the postcodes).
STREET_SHARED_SQL = (
    f"list_has_any(l.addr_streets, r.addr_streets) AND len(list_filter({_KEYS_SHARED}, "
    f"lambda k: (NOT ends_with(k, '| ') OR {_SAME_NUMBERS}) AND {_QUALIFIERS_MEET})) > 0"
)
# Two flats or two streets of one street key, told apart by their units or types, are no
# address written two ways either: "12 Main St Apt C" and "Apt D" share every word of two
# letters or more and every number.
KEY_APART_SQL = (
    f"coalesce(len(list_filter({_KEYS_SHARED}, lambda k: NOT ({_QUALIFIERS_MEET}))) > 0, false)"
)


CLOSE_ADDRESS_SQL = (
    f"{_shared('addr_words')} >= 2 "
    f"AND {_shared('addr_words')} >= "
    f"{CLOSE_ADDRESS_SHARE} * least(len(l.addr_words), len(r.addr_words)) "
    f"AND {_SAME_NUMBERS} AND {_SOME_NUMBER} AND {HOUSES_AGREE_SQL} AND NOT {KEY_APART_SQL} "
    f"AND NOT {MARKS_APART_SQL}"
)


# Two writings of one address by clerks who also mistype, run words together or split them
# ("8 laidleyplace, halfmoon sotation" and "8 Laidley Place, Halfmoon Station"): every word
# of the side with fewer words is aligned with a word of the other, spelled closely
# (Jaro at least ALIKE_WORD_SIMILARITY: not Jaro-Winkler, whose bonus for a common start
# aligns "Church" with "Churchill", "Park" with "Parkway"), or as two words run together ("laidley"
# and "place" of one side are "laidleyplace" of the other, whichever side holds which), of
# ALIKE_ADDRESS_LETTERS letters or more on that side, with the close level's rule on
# numbers. Every word, not a share of them: a word another clerk could not have mistyped
# for any of the other side's ("north" and "south", "Luna" and "Sol", "Hill" and "Mill",
# "Rose" and "Primrose") is another street. Words aligned by a string similarity, as record
# linkage compares strings of several words (Monge and Elkan 1996; Christen, *Data
# Matching*, 2012, ch. 5).
ALIKE_WORD_SIMILARITY = 0.9
ALIKE_ADDRESS_LETTERS = 8


def _run_together(part: str, whole: str, parts: str) -> str:
    """SQL: ``whole`` is ``part`` run together with another word of the list ``parts``,
    before or after it."""
    return (
        f"(length({whole}) > length({part}) AND ((left({whole}, length({part})) = {part} "
        f"AND list_contains({parts}, substr({whole}, length({part}) + 1))) "
        f"OR (right({whole}, length({part})) = {part} "
        f"AND list_contains({parts}, left({whole}, length({whole}) - length({part}))))))"
    )


def _aligned(a: str, b: str) -> str:
    """SQL: every word of ``a``'s address words aligns with one of ``b``'s."""
    return (
        f"len(list_filter({a}.addr_words, lambda w: len(list_filter({b}.addr_words, "
        f"lambda v: jaro_similarity(w, v) >= {ALIKE_WORD_SIMILARITY} "
        f"OR {_run_together('w', 'v', f'{a}.addr_words')} "
        f"OR {_run_together('v', 'w', f'{b}.addr_words')})) > 0)) "
        f"= len({a}.addr_words)"
    )


def _fewer(a: str, b: str) -> str:
    return (
        f"len({a}.addr_words) <= len({b}.addr_words) "
        f"AND length(array_to_string({a}.addr_words, '')) >= {ALIKE_ADDRESS_LETTERS} "
        f"AND {_aligned(a, b)}"
    )


# Aligning every word with every other costs the square of the shorter side's words times
# the longer's (a word run together is looked up among its own side's words), so it is asked
# only of a side of at most ALIKE_MAX_WORDS words: one address or a few, which is what a
# clerk mistyped. Two entities that each pool many addresses (30 words on each side cost 21 s
# a 50,000 pairs, 0.1 s with the bound: bench/address_levels.py) are compared by their keys
# and the close level.
ALIKE_MAX_WORDS = 20
# The cheap tests first: DuckDB evaluates a conjunction's later terms only on the pairs that
# passed the earlier ones.
ALIKE_ADDRESS_SQL = (
    f"least(len(l.addr_words), len(r.addr_words)) <= {ALIKE_MAX_WORDS} "
    f"AND {_SAME_NUMBERS} AND {HOUSES_AGREE_SQL} AND NOT {KEY_APART_SQL} "
    f"AND NOT {MARKS_APART_SQL} AND (({_fewer('l', 'r')}) OR ({_fewer('r', 'l')}))"
)


# Words of one letter say nothing of an address (an initial, a flat's letter), but for the
# points of the compass: "1200 E Main St" and "1200 W Main St" are two streets. A direction
# is one word however written ("N", "North"), so a clerk's abbreviation still agrees.
COMPASS_POINTS = frozenset("nsew")
DIRECTIONS = {
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


# A ZIP code of the United States: five digits, perhaps four more.
_FIVE_DIGITS = re.compile(r"(\d{5})(?:[-\s]?\d{4})?$")

# The Postal Service's codes of the states, districts and territories of the United States.
# fmt: off
US_STATES = frozenset({
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "dc", "fl", "ga", "hi", "id", "il",
    "in", "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne",
    "nv", "nh", "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd",
    "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy", "pr", "vi", "gu", "as", "mp",
})
# fmt: on
# The word that marks an address's state ("_state=mo"); an address's own words are letters
# and digits only.
STATE_MARK = "_state"
# The word that marks a street type among an address's words ("_type=lane").
TYPE_WORD_MARK = "_type"

# In a name usaddress read (a street's, a town's), "St" is a saint: the street's type is
# read apart ("123 St Charles Ave", "St. Louis, MO"). Elsewhere it is the street.
SAINTS = {"st": "saint", "ste": "sainte"}


def _tokens(text: str, name: bool = False) -> list[str]:
    """The tokens of ``text`` in order: lower-case ASCII letters and digits, apostrophes
    dropped (names.APOSTROPHES: "St Mary´s" leaves no stray "s", which is also a point of
    the compass), a direction and an abbreviated word written one way ("Av." and "Avenida"
    are "avenue": address_words), a word saying "number" ("No.") dropped; in a ``name``,
    "St" is "Saint"."""
    out: list[str] = []
    for t in _TOKEN.findall(ascii_lower(text)):
        if name and t in SAINTS:
            out.append(SAINTS[t])
        elif t in DIRECTIONS:
            out.append(DIRECTIONS[t])
        else:
            out.extend(address_word(t))
    return out


# Numbers written together ("93/32", "45-3", "Mz 5-12", "1-2-3"): their order is which is the
# house and which the flat, so the numbers joined are one number more. Compared as a set
# alone, "ul. Słowackiego 93/32" and "32/93" were one address.
_JOINED_NUMBERS = re.compile(r"\b\d+[a-z]?(?:\s*[-/]\s*\d+[a-z]?)+\b")
# Two letters parted by a slash are one word: "S/N" (sin número, no number) is not two
# points of the compass, nor "C/O" two letters.
_LETTER_SLASH = re.compile(r"\b([a-z])\s*/\s*([a-z])\b")
# Spain's "C/ Mayor" is Calle Mayor.
_CALLE = re.compile(r"\bc\s*/\s*(?=[a-z]{2})")
# Letters each with its dot are one word: "P.O. Box" and "PO Box", "D.C." and "DC".
_INITIALS = re.compile(r"\b(?:[a-z]\.\s?){2,}")


def _plain(text: str) -> str:
    """``text`` folded, with letters that stand together written as one word ("S/N",
    "P.O.", "C/ Mayor")."""
    plain = _LETTER_SLASH.sub(r"\1\2", ascii_lower(text))
    plain = _INITIALS.sub(lambda m: re.sub(r"[.\s]", "", m.group(0)) + " ", plain)
    return _CALLE.sub("calle ", plain)


def _is_number(token: str) -> bool:
    return any(ch.isdigit() for ch in token)


_DIGITS = re.compile(r"[1-9][0-9]*|0(?![0-9])")


class _Read(NamedTuple):
    """One text read once for its words, numbers and marks: its tokens in order, and each
    run of numbers written together ("93/32") as (its first number, the run with slashes,
    the run run together: "93", "93/32", "9332")."""

    tokens: list[str]
    together: list[tuple[str, str, str]]


def _read(text: str) -> _Read:
    plain = _plain(text)
    together = [
        (re.split(r"\s*[-/]\s*", run)[0], re.sub(r"\s*[-/]\s*", "/", run), re.sub(r"\W", "", run))
        for run in (m.group(0) for m in _JOINED_NUMBERS.finditer(plain))
    ]
    return _Read(_tokens(plain), together)


def address_marks(text: str, place_numbers: frozenset[str] = frozenset()) -> list[str]:
    """Each number of one address that a designator names (address_words.DESIGNATORS: a
    flat, a floor, a building, a manzana, a lote), "word=number" ("Mz 5 Lt 12" is
    "manzana=5", "lote=12"), sorted and without repeats; not the numbers of its place (a ZIP
    code). The number is its digits, without leading zeros or a letter ("4B", "4-B" and
    "04" are 4: units compare flats' letters), and numbers written together are also marked
    run together ("Apt 12-04" is also 1204, as "Apt 1204" is)."""
    return _marks(_read(text), place_numbers)


def _marks(read: _Read, place_numbers: frozenset[str]) -> list[str]:
    together: dict[str, set[str]] = {}
    for first, _, run in read.together:
        together.setdefault(first, set()).add(run)
    marks: set[str] = set()
    for word, token in itertools.pairwise(read.tokens):
        if word in DESIGNATORS and _is_number(token) and token not in place_numbers:
            for number in (token, *together.get(token, ())):
                digits = _DIGITS.search(number)
                if digits:
                    marks.add(f"{word}={digits.group(0)}")
    return sorted(marks)


def address_tokens(text: str) -> tuple[list[str], list[str]]:
    """(words, numbers) of one address, folded, each sorted and without repeats; numbers
    written together are also one number, in their order ("93/32"), and run together
    ("9332")."""
    return _words_numbers(_read(text))


def _words_numbers(read: _Read) -> tuple[list[str], list[str]]:
    # "123-45 Queens Blvd" is also written "12345".
    joined = {slashed for _, slashed, _ in read.together} | {run for _, _, run in read.together}
    tokens = set(read.tokens)
    numbers = {t for t in tokens if _is_number(t)} | joined
    words = {t for t in tokens - numbers if len(t) >= 2 or t in COMPASS_POINTS}
    return sorted(words), sorted(numbers)


# What usaddress tags as the place of an address it reads (city, state, ZIP, country): in
# "100 Main St, Springfield, IL 62701" only "100 main st" says which house. Two records of
# one city are "the same city", not one address written two ways.
_PLACE_LABELS = frozenset({"PlaceName", "StateName", "ZipCode", "CountryName"})
# What usaddress tags when it cannot place a word in a street address.
_UNPLACED_LABELS = frozenset({"Recipient", "NotAddress", "LandmarkName", "BuildingName"})


def _names_a_house(words: list[str], numbers: list[str]) -> bool:
    """Two words and a number, or a word of three letters or more and two numbers (a street
    of numbers, "Calle 10 # 5-20", as Colombia writes one; "15, SA 2770" is a state and a
    postcode), say which house."""
    return bool(numbers) and (
        len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 3 and len(numbers) >= 2)
    )


# A flat's number: digits with a letter that ends them, and one letter that leads them
# unless it ends a word run into them ("A1" is a1, "villa2" is 2).
_UNIT_NUMBER = re.compile(r"(?:(?<![a-z])[a-z])?\d+[a-z]?")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
# What usaddress reads as a flat's kind when it is one (a postcode after "Leeds", read as a
# flat of kind "Leeds", is not).
UNIT_KINDS = frozenset(
    {
        *("apt", "apartment", "unit", "ste", "suite", "fl", "floor", "rm", "room", "lot"),
        *("spc", "space", "trlr", "bldg", "dept", "flat", "no", "bsmt", "ph"),
    }
)


def _unit(identifier: str, kind: str = "") -> str:
    """A flat's number as usaddress read it (``identifier``, of the flat kind ``kind``),
    written one way: digits without leading zeros or an ordinal's ending ("03" and "3rd"
    are 3), with the letter that ends them or one that leads them ("Apt 4-B" and "4B" are
    "4b", "A1" is "a1"), without a word run into them ("villa2" is "2"), a word beside
    them ("2 Rear" is 2) or a ZIP code read into them ("# 2 62701-1234" is 2); its letter
    when it has no digit ("Apt C"). None ('') of a kind that is no flat's."""
    if kind and kind not in UNIT_KINDS:
        return ""
    tokens: list[str] = []
    for token in _TOKEN.findall(identifier.lower()):
        if re.fullmatch(r"\d{5}", token):
            break  # a ZIP code, and its four after it
        if len(token) == 1 or any(ch.isdigit() for ch in token):  # not "Rear"
            tokens.append(_ORDINAL.sub(r"\1", token))
    plain = _LEADING_ZEROS.sub("", "".join(tokens))
    return "".join(_UNIT_NUMBER.findall(plain)) or plain


def _tag(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """usaddress's reading of ``text``: each label's tokens joined, as ``usaddress.tag``
    gives them (a label met twice apart keeps its first token), and every (token, label)
    in order, commas kept."""
    import usaddress

    try:
        labelled = [(str(t), str(label)) for t, label in usaddress.parse(text)]
    except Exception:  # a parser failure never loses the record
        return {}, []
    parts: dict[str, list[str]] = {}
    last = None
    repeated = False
    crossing = False
    for n, (token, label) in enumerate(labelled):
        # The second street of an intersection ("Main St & 1st Ave"), as tag() names it.
        crossing = crossing or label == "IntersectionSeparator"
        if crossing and "StreetName" in label:
            label = f"Second{label}"
            labelled[n] = (token, label)
        if label == last:
            parts[label].append(token)
        elif label in parts:
            repeated = True
        else:
            parts[label] = [token]
        last = label
    if repeated:
        return {label: tokens[0] for label, tokens in parts.items()}, labelled
    return {label: " ".join(t).strip(" ,;") for label, t in parts.items()}, labelled


def _street_read(labelled: list[tuple[str, str]]) -> bool:
    """Whether usaddress read the street: no word it could not place (a recipient, a
    building, a landmark, not an address) runs into the house number. Words before the
    number, parted from it by a comma and followed by a street with its type and a city,
    name who or where ("C/O John Smith, 123 Main St, Yuma", "Yuma County Jail, 141 S 3rd
    Ave, Yuma"), and so do words after the street ("8 Brawn Place, Unit 19a, Dudley Medical
    Centre"); but "Calle Benito Juárez Mz 5 Lt 12", whose street it read as a recipient and
    keyed "5 lt 12", is not read. A parser is trusted where it
    accounts for the text (Christen, *Data Matching*, 2012, ch. 3)."""
    first = next((i for i, (_, label) in enumerate(labelled) if label == "AddressNumber"), None)
    if not first:
        return True  # the number leads, or there is none (and so no key)
    if not any(label in _UNPLACED_LABELS for _, label in labelled[:first]):
        return True
    # Parted by a comma, and what follows the number reads as a street of the United
    # States: a street's type and a city. "Albertine-Stiffel-Weg 6-8, 54323 Rockenhausen"
    # has a comma too, and usaddress keyed it by its postcode and town.
    after = {label for _, label in labelled[first + 1 :]}
    typed = bool(after & {"StreetNamePostType", "StreetNamePreType"})
    return labelled[first - 1][0].endswith(",") and typed and "PlaceName" in after


class AddressParts(NamedTuple):
    """One address as the matcher compares it."""

    key: str  # the street key, or ''
    place: str  # the place key (city and state), or ''
    words: list[str]
    numbers: list[str]
    unit: str  # a flat's number of a parsed key ("Apt 4B" is "4b"), or ''
    street_type: str  # a parsed key's street type, as address_words writes it, or ''
    zip_code: str  # a parsed key's ZIP code, its five digits, or ''
    marks: list[str]  # each number a designator names (address_marks)


_NOTHING = AddressParts("", "", [], [], "", "", "", [])


@lru_cache(maxsize=200_000)
def address_parts(text: str) -> AddressParts:
    """The keys, words, numbers, marks and a parsed key's qualifiers (unit, street type, ZIP
    code) of one address; an address that says nothing (no key, and fewer than three words
    or two words and a number: "UNKNOWN", "HOMELESS") has none."""
    tagged, labelled = _tag(text)
    street_tags = tagged if _street_read(labelled) else {}
    number = "".join(ch for ch in str(street_tags.get("AddressNumber", "")) if ch.isalnum()).lower()
    # Digits kept ("5th" and "7th Avenue" are two streets) and directions written one way.
    street = " ".join(
        _tokens(
            " ".join(
                str(street_tags.get(k, ""))
                for k in ("StreetNamePreDirectional", "StreetName", "StreetNamePostDirectional")
            ),
            name=True,
        )
    )
    # A town's words as its street's are written ("St. Louis" is "Saint Louis", "Ft Worth"
    # "Fort Worth", "N Las Vegas" "North Las Vegas").
    city = " ".join(_tokens(_plain(str(tagged.get("PlaceName", ""))), name=True))
    state = fold(str(tagged.get("StateName", "")))
    place = f"{city}, {state}" if city else ""
    key = f"{number} {street} | {place}" if number and street else ""
    kind = "".join(ch for ch in str(street_tags.get("OccupancyType", "")).lower() if ch.isalpha())
    unit = _unit(str(street_tags.get("OccupancyIdentifier", "")), kind)
    read = _read(text)
    words, numbers = _words_numbers(read)
    drop_numbers: list[str] = []
    if place:
        # A read city: its words are the place's, not the street's.
        placed = " ".join(t for t, label in labelled if label in _PLACE_LABELS)
        drop_words, drop_numbers = address_tokens(placed)
        words = sorted(set(words) - set(drop_words))
        numbers = sorted(set(numbers) - set(drop_numbers))
    elif not key and not (len(words) >= 3 or _names_a_house(words, numbers)):
        return _NOTHING
    marks = _marks(read, frozenset(drop_numbers))
    if not key and _names_a_house(words, numbers):
        # An address usaddress cannot read (another country's), as words: "~" keeps it
        # apart from a parsed key. With the place it read, as a parsed key has: without
        # it, "Calle Hidalgo 123" of Guadalajara and of Monterrey were one key. With its
        # marks: "Mz 5 Lt 12" and "Mz 12 Lt 5" hold the same words and numbers.
        key = "~" + " ".join(sorted(words + numbers + marks)) + (f" | {place}" if place else "")
    if state in US_STATES:
        # A state of the United States written as its code marks the address: "100 Main
        # St" of Portland, OR and of Portland, ME are two addresses (a state written out,
        # "Ajo, Arizona", says nothing against "Ajo, AZ").
        marks = sorted([*marks, f"{STATE_MARK}={state}"])
    # So does each street type among its words, for the "written two ways" levels: "12 Over
    # Dr" and "12 Overdrive Ln" align word by word ("over" and "drive" run together), but a
    # drive is no lane (a fourth review). A key of words holds the type among its words.
    marks = sorted({*marks, *(f"{TYPE_WORD_MARK}={w}" for w in words if w in STREET_TYPES)})
    if not key or key.startswith("~"):
        # A unit and a type belong to a key the parser read; a key of words holds its
        # numbers and words already.
        return AddressParts(key, place, words, numbers, "", "", "", marks)
    zip_code = _FIVE_DIGITS.match(str(tagged.get("ZipCode", "")).strip())
    return AddressParts(
        key,
        place,
        words,
        numbers,
        unit,
        _street_type(street_tags, key),
        zip_code.group(1) if zip_code else "",
        marks,
    )


def _street_type(street_tags: dict[str, str], key: str) -> str:
    """The type of a parsed street ("St", "Avenida"), as address_words writes it, when the
    table knows it and usaddress read a place: without one ("1500 Parkway Dr Mobile AL"),
    it reads the state as the type. A suffix the table does not know ("Wy", "Xing") is none,
    so it never parts one street; a highway is one road as a route ("Route 1", "Hwy 1")."""
    if key.endswith("| "):
        return ""
    types = [
        " ".join(_tokens(str(street_tags.get(label, ""))))
        for label in ("StreetNamePostType", "StreetNamePreType")
    ]
    known = [t for t in types if t in STREET_TYPES]
    if not known:
        return ""
    return "highway" if known[0] in HIGHWAYS else known[0]


def address_keys(text: str) -> tuple[str, str]:
    """(street key, place key) of one address; either may be ''."""
    parts = address_parts(text)
    return parts.key, parts.place


def keys_of(
    addresses: str | None,
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """The street keys (each also with its unit and its street's type, when it has them:
    "12 main | denver, co#4", "12 main | denver, co@street"), place keys, words, numbers and
    marks of a ``|``-separated list of addresses (each sorted, without repeats)."""
    streets: set[str] = set()
    places: set[str] = set()
    words: set[str] = set()
    numbers: set[str] = set()
    marks: set[str] = set()
    for a in (addresses or "").split("|"):
        if a.strip():
            parts = address_parts(a.strip())
            if parts.key:
                streets.add(parts.key)
            if parts.unit:
                streets.add(f"{parts.key}{UNIT_MARK}{parts.unit}")
            if parts.street_type:
                streets.add(f"{parts.key}{TYPE_MARK}{parts.street_type}")
            if parts.zip_code:
                streets.add(f"{parts.key}{ZIP_MARK}{parts.zip_code}")
            if parts.place:
                places.add(parts.place)
            words.update(parts.words)
            numbers.update(parts.numbers)
            marks.update(parts.marks)
    return sorted(streets), sorted(places), sorted(words), sorted(numbers), sorted(marks)
