"""Addresses in any country: the keys and words the matcher compares them by, and the level
"one address written two ways" (docs/resolution.md, "Addresses")."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lastmile.resolve import addresses
from tests.test_resolve_recall import _features, _model, level_of


def test_a_united_states_address_keeps_the_parsers_key() -> None:
    streets, places, words, numbers, _ = addresses.keys_of("1200 Example St., Phoenix, AZ 85004")
    # The key, and the key with its ZIP code and its street's type (qualifiers: "12 Main Ave"
    # is another street).
    assert streets == [
        "1200 example | phoenix, az",
        "1200 example | phoenix, az$85004",
        "1200 example | phoenix, az@street",
    ]
    assert places == ["phoenix, az"]
    # The words and numbers of the street only: the city, state and ZIP are the place's.
    assert (words, numbers) == (["example", "street"], ["1200"])


def test_an_address_the_parser_cannot_read_is_keyed_by_its_words_and_numbers() -> None:
    a = addresses.keys_of("ul. Słowackiego 93/32, 14-190 Mikołów")
    b = addresses.keys_of("UL. SŁOWACKIEGO 93/32 14-190 MIKOŁÓW")
    c = addresses.keys_of("Mikolow 14-190, ul. Slowackiego 93/32")
    assert (
        a[0] == b[0] == c[0] == ["~14 14/190 14190 190 32 93 93/32 9332 mikolow slowackiego ulica"]
    )
    assert a[2] == ["mikolow", "slowackiego", "ulica"]
    # Numbers written together are also one number, in their order (93/32 is not 32/93),
    # and run together ("123-45 Queens Blvd" is also written "12345").
    assert a[3] == ["14", "14/190", "14190", "190", "32", "93", "93/32", "9332"]
    # In another alphabet: transliterated, digits kept.
    assert addresses.keys_of("Số 10/506 Hùng Vương, Đà Nẵng")[0] == [
        "~10 10/506 10506 506 da hung nang so vuong"
    ]


def test_a_city_alone_or_a_street_without_a_number_is_no_street_address() -> None:
    for text in (
        "Berlin",
        "Soltau, Germany",
        "Kamil-Döring-Platz Soltau",
        "Berlin 10115",
        "Houston TX 77002",
        "Apt 4, Springfield IL",
        "Unit 5, Austin, TX",
    ):
        assert addresses.keys_of(text)[0] == [], text
    # A city read by usaddress: its words are the place's, not a street's.
    assert addresses.keys_of("Houston TX 77002")[1:] == (["houston, tx"], [], [], ["_state=tx"])
    # A text that says nothing of a place is no address at all.
    for junk in ("UNKNOWN", "HOMELESS", "n/a"):
        assert addresses.keys_of(junk) == ([], [], [], [], []), junk
    assert addresses.keys_of(None) == ([], [], [], [], [])
    assert addresses.keys_of(" | ") == ([], [], [], [], [])


def test_each_address_of_a_list_gives_its_keys() -> None:
    streets, places, words, numbers, _ = addresses.keys_of(
        "1200 Example St, Phoenix, AZ|Kamil-Döring-Platz 4 Soltau"
    )
    assert streets == [
        "1200 example | phoenix, az",
        "1200 example | phoenix, az@street",
        "~4 doring kamil plaza soltau",
    ]
    assert places == ["phoenix, az"]
    assert words == ["doring", "example", "kamil", "plaza", "soltau", "street"]
    assert numbers == ["1200", "4"]


_WORD = st.text("abcdefghijklmnopqrstuvwxyzéüłøß", min_size=2, max_size=9)


def test_an_abbreviated_word_of_an_address_is_written_one_way() -> None:
    """A street's type or a flat's kind, abbreviated or in full, in several languages, is one
    word; a type run into the street's name is the name and the type; "No." says nothing
    (address_words)."""
    same = [
        ("Av. Juárez", "Avenida Juarez", "AVE JUAREZ"),
        ("Hauptstraße", "Hauptstr.", "Haupt Str"),
        ("Cra. 15", "Carrera 15", "KRA 15"),
        ("ul. Lenina", "ulitsa Lenina", "ул. Ленина"),
        ("Apto 52", "Apartment 52", "apt. 52"),
        ("Mz 5 Lt 12", "Manzana 5 Lote 12", "MZA 5 LTE 12"),
        ("P.O. Box 7", "PO Box 7", "p. o. box 7"),
        ("C/ Mayor 5", "Calle Mayor 5", "cl mayor 5"),
        ("Nº 45 Juárez", "No. 45 Juarez", "45 Juarez"),
    ]
    for writings in same:
        tokens = {tuple(map(tuple, addresses.address_tokens(w))) for w in writings}
        assert len(tokens) == 1, (writings, tokens)
    assert addresses.address_tokens("Marktplatz 3")[0] == ["markt", "plaza"]
    # A word that only looks like one keeps its letters: "Strand" is no street's type, and
    # English names are not parted ("Broadstreet", "Railroad"; a clerk's "laidleyplace"
    # meets "Laidley Place" as words run together instead).
    for word in ("strand", "broadstreet", "railroad", "laidleyplace"):
        assert addresses.address_tokens(f"12 {word}")[0] == [word]


def test_each_number_is_marked_by_the_word_before_it() -> None:
    """address_marks: "designator=number", the number's digits without leading zeros or a
    letter, and numbers written together also run together; only a designator marks (not a
    street's name, a type or a state before a postcode), and not the place's numbers."""
    assert addresses.address_marks("Calle Juárez Mz 5 Lt 12-B") == ["lote=12", "manzana=5"]
    assert addresses.address_marks("ул. Ленина, д. 10, кв. 05") == ["apartment=5", "d=10"]
    assert addresses.address_marks("12 Main St Apt 4B") == ["apartment=4"]
    assert addresses.address_marks("Apt 12-04, 88 Ayala Ave") == ["apartment=12", "apartment=1204"]
    for unmarked in ("1234 Route 1", "Rua das Flores 45, Curitiba PR 80010-020", "Calle Hidalgo 5"):
        assert addresses.address_marks(unmarked) == [], unmarked
    parts = addresses.address_parts("12 Main St Apt 4, Springfield, IL 62701")
    assert (parts.marks, parts.street_type) == (
        ["_state=il", "_type=street", "apartment=4"],
        "street",
    )
    # A state marks when written as a code of the United States only.
    assert addresses.address_parts("500 Main St, Ajo, Arizona").marks == ["_type=street"]
    # A street's type only where usaddress read a place (without one it reads the state as
    # the type: "Mobile AL" is "alameda"), one class for a highway, none it does not know.
    assert addresses.address_parts("1500 Parkway Dr Mobile AL").street_type == ""
    assert addresses.address_parts("1234 Route 1, Edison, NJ").street_type == "highway"
    assert addresses.address_parts("12 Main Wy, Yuma, AZ").street_type == ""
    assert addresses.address_parts("100 Main St, Springfield, IL 62701 1234").zip_code == "62701"
    assert addresses.keys_of("100 Main St, Springfield, IL 62701-1234")[0] == [
        "100 main | springfield, il",
        "100 main | springfield, il$62701",
        "100 main | springfield, il@street",
    ]


def test_every_abbreviation_names_a_key_that_names_itself() -> None:
    """The table's keys are fixed points: no key is the form of another, so writing a
    word one way twice gives the same word."""
    from lastmile.resolve.address_words import ADDRESS_WORDS, address_word

    for form, key in ADDRESS_WORDS.items():
        assert ADDRESS_WORDS[key] == key, (form, key)
        assert address_word(key) == [key]


def test_an_apostrophe_of_any_keyboard_is_dropped() -> None:
    """ "Mary´s" is "Mary's": not "mary" and a stray "s", a point of the compass."""
    written = addresses.keys_of("12 St Mary's Road, Leeds")
    for apostrophe in ("´", "`", "\u2019", "\u2018", "\u02bc"):
        assert addresses.keys_of(f"12 St Mary{apostrophe}s Road, Leeds") == written, apostrophe


@given(st.lists(_WORD, min_size=2, max_size=5), st.integers(1, 9999), st.randoms())
def test_case_accents_punctuation_and_order_do_not_change_the_words(
    words: list[str], number: int, rnd: Any
) -> None:
    text = f"{' '.join(words)} {number}"
    shuffled = [*words, str(number)]
    rnd.shuffle(shuffled)
    other = ", ".join(w.upper() for w in shuffled) + "."
    got, again = addresses.address_tokens(text), addresses.address_tokens(other)
    assert got == again
    assert got[1] == [str(number)]


def _level(rows: list[dict[str, Any]]) -> str:
    """The address level the person model gives the first two of ``rows``."""
    return level_of(
        _features(rows), _model(), "address", rows[0]["record_id"], rows[1]["record_id"]
    )


def _at(rid: str, address: str | None) -> dict[str, Any]:
    streets, places, words, numbers, marks = addresses.keys_of(address)
    return {
        "record_id": rid,
        "investigation_id": f"case-{rid}",
        "first": "alan",
        "sur1": "sinclair",
        "fullname": "alan sinclair",
        "addr_streets": streets or None,
        "addr_places": places or None,
        "addr_words": words or None,
        "addr_nums": numbers or None,
        "addr_marks": marks or None,
    }


def test_one_address_written_two_ways_is_its_own_level() -> None:
    full = "Studio 12, Hunt Rest, South Georgiatown, RH4R 4LR"
    # Words dropped by a clerk, the number too.
    assert _level([_at("a", full), _at("b", "Studio Hunt Rest, South Georgiatown,")]) == (
        "one address written two ways"
    )
    # Written alike: one street key.
    assert _level([_at("a", full), _at("b", full.upper())]) == "a street address shared"
    # Another house on the same street, or another postcode: another address.
    assert _level([_at("a", full), _at("b", "Studio 14, Hunt Rest, South Georgiatown")]) == (
        "addresses differ"
    )
    # East and West Main Street are two streets; a direction a clerk left out is not.
    assert _level([_at("a", "1200 E Main St, Springfield"), _at("b", "1200 W Main St")]) not in (
        "one address written two ways",
        "one address written two ways, with typos",
        "a street address shared",
    )
    assert _level(
        [_at("a", "Flat 3, 1200 E Main Street, Leeds"), _at("b", "Flat 3, 1200 Main Street")]
    ) in ("one address written two ways", "a street address shared")
    # A direction written out or abbreviated is one direction.
    assert _level(
        [
            _at("a", "1200 N Main St, Springfield, IL"),
            _at("b", "1200 North Main St, Springfield, IL"),
        ]
    ) == ("a street address shared")
    assert _level([_at("a", "45 W Elm Ave, Apt 2"), _at("b", "45 West Elm Ave, Apt 2")]) in (
        "a street address shared",
        "one address written two ways",
    )
    # Numbered streets keep their numbers: Fifth and Seventh Avenue are two streets.
    assert (
        addresses.keys_of("350 5th Avenue, New York, NY")[0]
        != (addresses.keys_of("350 7th Avenue, New York, NY")[0])
    )
    assert _level(
        [_at("a", "350 5th Avenue, New York, NY"), _at("b", "350 7th Avenue, New York, NY")]
    ) == ("the same city")
    # Two streets of one city: one word in common.
    assert _level([_at("a", "Hunt Rest 3, Leeds"), _at("b", "Kings Road 3, Leeds")]) == (
        "the same city"
    )
    # A city alone is the same city, never one address written two ways.
    assert _level([_at("a", "Springfield, IL"), _at("b", "100 Main St, Springfield, IL")]) == (
        "the same city"
    )
    assert _level([_at("a", "New York, NY"), _at("b", "New York NY")]) == "the same city"
    # No address on one side: no evidence either way.
    assert _level([_at("a", full), _at("b", None)]) == "missing"


def _rule(sql: str, column: str, cases: list[tuple[Any, ...]]) -> list[bool]:
    """``sql`` (a pair's condition over l and r) on each case of (left ``column``, left
    numbers, right ``column``, right numbers, ...)."""
    table = pa.table(
        {
            "i": list(range(len(cases))),
            "lw": [c[0] for c in cases],
            "ln": pa.array([c[1] for c in cases], pa.list_(pa.string())),
            "rw": [c[2] for c in cases],
            "rn": pa.array([c[3] for c in cases], pa.list_(pa.string())),
        }
    )
    con = duckdb.connect()
    con.register("cases", table)
    # The rules' other columns, unknown: no street key, no place.
    others = ", ".join(
        f"'{c}': NULL::VARCHAR[]"
        for c in ("addr_streets", "addr_places", "addr_words", "addr_marks")
        if c != column
    )
    got = con.execute(
        f"""
        SELECT i, {sql} FROM (
            SELECT i, {{'{column}': lw, 'addr_nums': ln, {others}}} AS l,
                {{'{column}': rw, 'addr_nums': rn, {others}}} AS r FROM cases
        ) ORDER BY i
        """
    ).fetchall()
    return [bool(ok) for _, ok in got]


def test_the_close_address_rule_reads_the_same_on_duckdb() -> None:
    """CLOSE_ADDRESS_SQL on its own, at its bounds: two words in common at least, 80% of
    the shorter side's words, the numbers of the side with fewer all in the other, and a
    number on one side at least unless the words of the side with fewer are all the other's."""
    cases = [
        (["a", "b"], ["1"], ["a", "b", "c"], ["1"], True),
        (["a", "b"], None, ["a", "b", "c"], ["1"], True),
        # No number on either side: every word of the side with fewer words in the other.
        (["a", "b", "x"], None, ["a", "b", "c"], None, False),
        (["a", "b", "c", "d", "x"], None, ["a", "b", "c", "d", "e"], None, False),
        (["a", "b"], None, ["a", "b", "c"], None, True),
        (["a"], ["1"], ["a"], ["1"], False),  # one word is a city, not an address
        (["a", "b", "c", "d", "e"], ["1"], ["a", "b", "c", "d", "x"], ["1"], True),  # 4 of 5
        (["a", "b", "c", "d"], ["1"], ["a", "b", "c", "x"], ["1"], False),  # 3 of 4
        (["a", "b"], ["1"], ["a", "b"], ["1", "22"], True),
        (["a", "b"], ["1", "3"], ["a", "b"], ["1", "22"], False),
    ]
    assert _rule(addresses.CLOSE_ADDRESS_SQL, "addr_words", cases) == [c[4] for c in cases]


def test_an_address_mistyped_split_or_run_together_is_its_own_level() -> None:
    """Letters typed wrong, words run together or split ("halfmoonstation", "burnet theads")
    leave a level of their own below "written two ways"; another house number, a word no
    clerk could have mistyped for the other's ("North" and "South", "Luna" and "Sol"), or
    two streets of one town, do not reach it."""
    alike = "one address written two ways, with typos"
    full = "8 Laidley Place, Halfmoon Station, Burnett Heads NSW 4702"
    typed = "8 laidley plce, halfmoonstation, burnet theads NSW 4702"
    assert _level([_at("a", full), _at("b", typed)]) == alike
    assert _level([_at("a", typed), _at("b", full)]) == alike
    others = [
        (full, typed.replace("8 ", "18 ")),
        ("1200 North Pennsylvania Avenue", "1200 South Pennsylvania Avenue"),
        ("1200 Old Pennsylvania Avenue", "1200 New Pennsylvania Avenue"),
        ("Luna 14, Guadalupe Insurgentes", "Sol 14, Guadalupe Insurgentes"),
        ("14 Hill Road, Halfmoon", "14 Mill Road, Halfmoon"),
        ("12 Church Road, Halfmoon", "12 Churchill Road, Halfmoon"),  # a start in common
        ("12 Park Lane, Halfmoon", "12 Parkway Lane, Halfmoon"),
        ("Kings Road, Halfmoon Station", "Hunt Rest, Halfmoon Station"),
    ]
    for a, b in others:
        assert _level([_at("a", a), _at("b", b)]) not in (alike, "one address written two ways"), (
            a,
            b,
        )


def test_the_alike_address_rule_reads_its_bounds() -> None:
    """ALIKE_ADDRESS_SQL on its own: every word of the side with fewer words aligned (spelled
    closely, or run together with another word of its side into one of the other's, or the
    other way round), at least eight letters on that side, and the numbers rule of the
    close level."""
    n = ["8"]
    cases = [
        (["laidley", "place"], n, ["laidleyplace", "halfmoon"], n, True),  # run together
        (["laidleyplace"], n, ["laidley", "place"], n, True),
        (["sotation", "halfmoon"], n, ["station", "halfmoon", "extra"], n, True),
        (["north", "pennsylvania"], n, ["south", "pennsylvania"], n, False),
        (["hill", "roadway"], n, ["mill", "roadway"], n, False),
        (["place", "roadway"], n, ["placed", "roadway"], n, True),  # a letter doubled
        (["rose", "roadway"], n, ["primrose", "roadway"], n, False),  # "prim" not there
        (["prim", "rose", "road"], n, ["primrose", "road"], n, True),  # split
        (["laidl", "roadway"], n, ["laidley", "roadway"], n, True),  # spelled closely
        (["main"], n, ["mains", "street"], n, False),  # four letters: too few to tell
        (["laidley", "place"], ["8"], ["laidleyplace"], ["8", "4702"], True),
        (["laidley", "place"], ["8", "9"], ["laidleyplace"], ["8", "4702"], False),
        # No number on either side: every word aligned is no share, so no rule on numbers
        # is needed ("Rose Cotage" and "Rose Cottage, Church Lane").
        (["laidley", "place"], None, ["laidleyplace"], None, True),
        (["rose", "cottage", "church"], None, ["ivy", "cottage", "church"], None, False),
    ]
    # Asked of a side of at most ALIKE_MAX_WORDS words only (its cost grows with their
    # square): pooled words of many addresses, each aligned with the other's, are not.
    bound = addresses.ALIKE_MAX_WORDS
    pooled = [f"laidley{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(bound + 1)]
    cases += [
        (pooled[:bound], n, [*pooled[:bound], "extra"], n, True),
        (pooled, n, [*pooled, "extra"], n, False),
    ]
    assert _rule(addresses.ALIKE_ADDRESS_SQL, "addr_words", cases) == [c[4] for c in cases]


AGREE = (
    "a street address shared",
    "one address written two ways",
    "one address written two ways, with typos",
)


@pytest.mark.parametrize(
    "a, b",
    [
        # Two flats of one house; one street of two towns with their postcodes.
        ("Flat 3, 12 High Street, Leeds LS1 4AB", "Flat 5, 12 High Street, Leeds LS1 4AB"),
        ("12 High Street, Leeds LS1 4AB", "12 High Street, York YO1 8AB"),
        ("100 Main St Apt 2, Springfield, IL 62701", "100 Main St Apt 3, Springfield, IL 62701"),
        # A house and a flat of its street numbered like it.
        ("Flat 3, 12 High Street, Leeds", "3 High Street, Leeds"),
        # The house and the flat the other way round.
        ("ul. Słowackiego 93/32, Kraków", "ul. Słowackiego 32/93, Kraków"),
        ("Số 10/506 Hùng Vương, Đà Nẵng", "Số 506/10 Hùng Vương, Đà Nẵng"),
        # Two plots without a number ("sin número") of one colonia.
        ("Calle Hidalgo S/N, Col. Centro, Tepic", "Calle Morelos S/N, Col. Centro, Tepic"),
        ("Rose Cottage, Church Lane, Little Snoring", "Ivy Cottage, Church Lane, Little Snoring"),
        # usaddress reads the street as a recipient and keys the block and lot only.
        (
            "Calle Benito Juárez Mz 5 Lt 12, Col. Ejidal, Ecatepec",
            "Calle Morelos Mz 5 Lt 12, Col. Ejidal, Ecatepec",
        ),
        # A third review's.
        # A street run into the postcode, parted by a comma: usaddress keyed both by
        # "54323 rockenhausen" (a third review).
        ("Albertine-Stiffel-Weg 6-8, 54323 Rockenhausen", "Gartenweg 1-3, 54323 Rockenhausen"),
        (
            "Rua Tiradentes, 123, Centro, São Paulo - SP",
            "Rua das Flores, 123, Centro, São Paulo - SP",
        ),
        # One street of two towns, usaddress reading no place: their postcodes differ.
        ("12 High Street, Leeds LS1 8AB", "12 High Street, York YO1 8AB"),
        ("Flat 3, 12 High Street, Leeds LS1 4AB", "Flat 3, 12 High Street, Leeds LS6 1AA"),
        # Two flats told apart by a letter, or lettered and numbered the other way round.
        ("12 Main St Apt C, Springfield, IL", "12 Main St Apt D, Springfield, IL"),
        ("12 Main St Apt A1, Springfield, IL", "12 Main St Apt B1, Springfield, IL"),
        # Another kind of street of one name, its type abbreviated or not.
        ("Calle Hidalgo 12, Col. Centro, Tepic", "Av. Hidalgo 12, Col. Centro, Tepic"),
        ("Hauptstr. 5, 10115 Berlin", "Hauptplatz 5, 10115 Berlin"),
        ("12 Main St, Denver, CO", "12 Main Ave, Denver, CO"),
        # One house has one ZIP code.
        ("100 Main St, Springfield, IL 62701", "100 Main St, Springfield, IL 62704"),
        # One street of one town's name in two states.
        ("100 Main St, Portland, OR", "100 Main St, Portland, ME"),
        ("100 Main St, Kansas City, MO", "100 Main St, Kansas City, KS"),
        # One word naming another number on each side: the same words and numbers, turned
        # round (address_marks).
        (
            "Calle Benito Juárez Mz 5 Lt 12, Col. Ejidal, Ecatepec",
            "Calle Benito Juárez Mz 12 Lt 5, Col. Ejidal, Ecatepec",
        ),
        ("ул. Ленина, д. 10, кв. 5, Москва", "ул. Ленина, д. 5, кв. 10, Москва"),
        ("Block 12, Flat 4, Sector 5, Rohini, Delhi", "Block 4, Flat 12, Sector 5, Rohini, Delhi"),
        ("House No. 45, Street 7, G-9/2, Islamabad", "House No. 7, Street 45, G-9/2, Islamabad"),
        ("ul. Polna 4 m. 12, Poznań", "ul. Polna 12 m. 4, Poznań"),
        ("Atatürk Cad. No: 12 D: 5, Kadıköy", "Atatürk Cad. No: 5 D: 12, Kadıköy"),
        # Types the Postal Service tells apart (PL and PLZ, MT and MTN), and names that only
        # look like a name run into a type (a fourth review).
        ("12 Park Pl, Boise, ID", "12 Park Plaza, Boise, ID"),
        ("40 Mountain View Rd, Ithaca, NY", "40 Mount View Rd, Ithaca, NY"),
        ("12 Broadstreet Ave, Ashland, OR", "12 Broad Ave, Ashland, OR"),
        ("60 Railroad St, Ames, IA", "60 Rail St, Ames, IA"),
        # Aligned word by word, run together ("over" and "drive"), but a drive is no lane.
        ("12 Overdrive Ln, Austin, TX", "12 Over Dr, Austin, TX"),
        ("22 Crossroad Ln, Tulsa, OK", "22 Cross Rd, Tulsa, OK"),
    ],
)
def test_two_households_of_other_countries_are_not_one_address(a: str, b: str) -> None:
    """What a hostile review of other countries' addresses found read as one address: a
    street key without the flat or the town, numbers compared as a set, "S/N" as two points
    of the compass, a parse that could not place the street's words (docs/resolution.md,
    "Addresses of other countries")."""
    assert _level([_at("a", a), _at("b", b)]) not in AGREE
    assert _level([_at("a", b), _at("b", a)]) not in AGREE


@pytest.mark.parametrize(
    "a, b",
    [
        ("Rue de la Paix 12, Paris", "12 rue de la Paix, Paris"),
        ("ul. Słowackiego 93/32, Kraków", "UL. SLOWACKIEGO 93 m. 32, KRAKOW"),
        ("Calle 10 # 5-20, Bogotá", "CALLE 10 # 5-20, BOGOTA"),
        ("Flat 3, 12 High Street, Leeds LS1 4AB", "Flat 3, 12 High Street, Leeds"),
        ("100 Main St Apt 2, Springfield, IL 62701", "100 Main Street, Springfield, IL"),
        ("Calle Hidalgo S/N, Col. Centro, Tepic", "CALLE HIDALGO S/N COL CENTRO TEPIC"),
        ("ул. Ленина 10, кв. 5, Москва", "ul. Lenina 10, kv. 5, Moskva"),
        # A second review's United States writings, which a first form of these rules lost:
        # a place written two ways (a state spelled out, a short town, a borough), a flat
        # against a record's other addresses, a flat's letter parted, a Queens number, a line
        # naming the addressee or the building before the street.
        ("500 Main St, Ajo, AZ", "500 Main St, Ajo, Arizona"),
        ("500 S Broadway, Los Angeles, CA", "500 S Broadway, LA, CA"),
        ("500 Atlantic Ave, Brooklyn, NY", "500 Atlantic Ave, New York, NY"),
        (
            "123 Main St, Springfield, IL | 55 Oak Ave, Springfield, IL",
            "123 Main St Apt 2, Springfield, IL",
        ),
        ("123 Main St Apt 4B, Yuma, AZ", "123 Main St Apt 4-B, Yuma, AZ"),
        ("123-45 Queens Blvd, Forest Hills, NY", "12345 Queens Blvd, Forest Hills, NY"),
        ("C/O John Smith, 123 Main St, Yuma, AZ", "123 Main St, Yuma, AZ"),
        ("Yuma County Jail, 141 S 3rd Ave, Yuma, AZ", "141 S 3rd Ave, Yuma, AZ"),
        ("Sunset Mobile Home Park Space 4, 2500 W 8th St, Yuma, AZ", "2500 W 8th St, Yuma, AZ"),
        ("Rose Cotage, Church Lane, Little Snoring", "Rose Cottage, Church Lane, Little Snoring"),
        # A street's type or a flat's kind abbreviated, in any language (address_words).
        (
            "Av. Juárez No. 45 Int. 3, Col. Centro, Morelia",
            "Avenida Juarez 45 int 3, Centro, Morelia",
        ),
        ("Carrera 15 # 93-47, Bogotá", "Cra. 15 No. 93-47, Bogota"),
        ("Cll. 5 # 10-20, Cali", "Calle 5 No 10-20, Cali"),
        ("Hauptstraße 5, 10115 Berlin", "Hauptstr. 5 Berlin"),
        ("12 Station Road, Reading RG1 1AA", "12 Station Rd, Reading, RG1 1AA"),
        ("PO Box 123, Springfield, IL 62701", "P.O. Box 123, Springfield, IL"),
        ("8 Laidley Place, Halfmoon Station", "8 laidleyplace, Halfmoon Station"),
        ("8 Laidley Place, Halfmoon Station", "8 Laidley Plce, Halfmoon Station"),
        # The same numbers under the same words, in another order or written otherwise.
        ("Calle Juárez Mz 5 Lt 12, Ecatepec", "Calle Juarez Manzana 5, Lote 12, Ecatepec"),
        ("Block 12, Flat 4, Sector 5, Rohini, Delhi", "Flat 4, Block 12, Sector 5, Rohini, Delhi"),
        ("12 Main St Apt 3, Springfield, IL", "12 Main Street Apt 03, Springfield, IL"),
        ("12 Main St, Denver, CO", "12 Main, Denver, CO"),
        ("12 Main St, Denver, CO", "12 MAIN STREET, DENVER, CO"),
        (
            "Calle Hidalgo 123, Col. Centro, Tepic | Calle Morelos 45, Col. Centro, Tepic",
            "Calle Morelos 45, Col. Centro, Tepic",
        ),
        # A fourth review's: a record's other address never parts the one shared, a route is
        # a highway, a flat's number written together, a state read as no street's type.
        (
            "123 Main St, Dayton, OH | 9 Elm Rd Apt 4, Dayton, OH",
            "123 Main St, Dayton, OH | 50 Pine St Apt 7, Dayton, OH",
        ),
        (
            "100 Broadway, New York, NY | 12 Oak St, Albany, NY",
            "100 Broadway, New York, NY | 45 Elm Ave, Albany, NY",
        ),
        (
            "Calle Hidalgo 123, Guadalajara | Mz 5 Lt 12, Tlaquepaque",
            "Calle Hidalgo 123, Guadalajara | Mz 7 Lt 3, Zapopan",
        ),
        ("1234 Route 1, Edison, NJ 08817", "1234 Hwy 1, Edison, NJ 08817"),
        ("Apt 1204, 88 Ayala Ave, Makati City", "Apt 12-04, 88 Ayala Ave, Makati City"),
        ("1500 Parkway Dr, Mobile, AL 36608", "1500 Parkway Dr Mobile AL"),
        ("ul. Słowackiego 93/32, Mikołów", "Słowackiego 93 m 32 Mikołów"),
        ("100 Main St, Springfield, IL 62701-1234", "100 Main St, Springfield, IL 62701"),
        ("100 Main St, Springfield, IL 62701", "100 Main Street, Springfield, IL"),
        # In a town's or a street's name "St" is a saint, and "Ft" a fort.
        ("123 Main St, Saint Louis, MO", "123 Main St, St. Louis, MO"),
        ("123 St Charles Ave, New Orleans, LA", "123 Saint Charles Ave, New Orleans, LA"),
        ("100 Main St, Ft. Worth, TX", "100 Main St, Fort Worth, TX"),
    ],
)
def test_one_address_written_two_ways_abroad_still_agrees(a: str, b: str) -> None:
    assert _level([_at("a", a), _at("b", b)]) in AGREE


def test_a_line_naming_the_addressee_or_building_keeps_the_street_key() -> None:
    """Words usaddress cannot place in a street (a recipient, a building) before the house
    number and parted from it by a comma name who or where, not the street: the parse
    keeps its key. Run into the street, they make it unread ("Calle Benito Juárez Mz 5")."""
    plain = addresses.keys_of("123 Main St, Yuma, AZ")[0]
    assert addresses.keys_of("C/O John Smith, 123 Main St, Yuma, AZ")[0] == plain
    assert (
        addresses.keys_of("Yuma County Jail, 141 S 3rd Ave, Yuma, AZ")[0]
        == (addresses.keys_of("141 S 3rd Ave, Yuma, AZ")[0])
    )
    park = addresses.keys_of("Sunset Mobile Home Park Space 4, 2500 W 8th St, Yuma, AZ")[0]
    assert addresses.keys_of("2500 W 8th St, Yuma, AZ")[0][0] in park
    assert (
        addresses.keys_of("Calle Benito Juárez Mz 5 Lt 12, Col. Ejidal, Ecatepec")[0][0][0] == "~"
    )
    # A flat's key carries its unit, beside the key without it; a key of words holds the
    # flat's number among its own, and the number marked by its designator.
    assert addresses.keys_of("123 Main St Apt 4-B, Yuma, AZ")[0] == [
        "123 main | yuma, az",
        "123 main | yuma, az#4b",
        "123 main | yuma, az@street",
    ]
    assert addresses.keys_of("Apt 4, Hauptstrasse 5, Berlin")[0] == [
        "~4 5 apartment apartment=4 berlin haupt street"
    ]


@pytest.mark.parametrize(
    "a, b",
    [
        ("100 Main St Apt 3, Springfield, IL", "100 Main St Apt 03, Springfield, IL"),
        ("100 Main St Fl 3, Springfield, IL", "100 Main St 3rd Floor, Springfield, IL"),
        ("100 Main St # 2 62701", "100 Main Street Apt 2"),
        ("100 Main St Apt 2 Rear, Springfield, IL", "100 Main St Apt 2, Springfield, IL"),
    ],
)
def test_one_flat_written_two_ways_is_one_unit(a: str, b: str) -> None:
    assert _level([_at("a", a), _at("b", b)]) == "a street address shared"


def test_the_parse_reads_as_usaddress_tag_does() -> None:
    """address_parts parses once (usaddress.parse) and groups the tokens itself, to see their
    order and commas: the grouping is usaddress.tag's, a label met twice apart (an
    intersection's second street aside) keeping its first token."""
    import usaddress

    for text in (
        "1200 Example St., Phoenix, AZ 85004",
        "123 Main St Apt 4B, Yuma, AZ 85364-1234",
        "PO Box 123, Springfield, IL 62701",
        "Main St & 1st Ave, Yuma, AZ",
        "RR 2 Box 15, Ada, OK",
    ):
        assert addresses._tag(text)[0] == dict(usaddress.tag(text)[0]), text
    repeated = "Flat 3, 12 High Street, Leeds LS1 4AB"  # two flats' labels, apart
    with pytest.raises(usaddress.RepeatedLabelError):
        usaddress.tag(repeated)
    tagged, labelled = addresses._tag(repeated)
    assert tagged["OccupancyIdentifier"] == "3," and labelled[0] == ("Flat", "OccupancyType")
