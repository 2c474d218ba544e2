"""What keeps two people apart who look alike: the person model's levels and the rules
(docs/resolution-rounds.md, "Issue 10, third round")."""

from __future__ import annotations

from typing import Any

import pytest

from lastmile.resolve import names
from tests.test_resolve_recall import _features, _model, level_of


def _record(rid: str, full: str, **extra: Any) -> dict[str, Any]:
    parts = names.parse_name(full)
    return {
        "record_id": rid,
        "investigation_id": f"case-{rid}",
        "first": parts.first or None,
        "sur1": parts.surname1 or None,
        "sur2": parts.surname2 or None,
        "fullname": parts.full,
        "middle": parts.middle or None,
        "name_keys": sorted(parts.keys()),
        "first_forms": sorted(names.first_forms(parts.first)),
        **extra,
    }


def _name_level(rows: list[dict[str, Any]], a: str, b: str) -> str:
    return level_of(_features(rows), _model(), "name", a, b)


def test_two_surnames_of_which_one_differs_are_their_own_level() -> None:
    """ "David Gonzalez Garcia" and "David Garcia Francisco" share a given name and one
    surname, in another place, and their other surnames differ: a cousin or a namesake as
    often as one man, so the pair is not weighed as "given name and a surname agree". A
    dropped surname, the two surnames in the other order, or one misspelt are still that
    level."""
    rows = [
        _record("a", "David Gonzalez Garcia"),
        _record("b", "David Garcia Francisco"),
        _record("c", "David Garcia"),
        _record("d", "David Garcia Gonzalez"),
        _record("e", "David Gonzales Garcia"),
    ]
    differs = "given name and a surname agree, the other surname differs"
    agree = "given name (or its nickname) and a surname agree"
    assert _name_level(rows, "a", "b") == differs
    assert _name_level(rows, "a", "c") == agree
    assert _name_level(rows, "a", "d") == agree
    assert _name_level(rows, "a", "e") == agree


def test_a_surname_that_is_another_name_in_its_place_parts_two_people() -> None:
    """Two surnames on each side, one the same in its place and the other another name
    there: another father or mother ("José Pérez García", "José Pérez López"), or a second
    given name read as a surname ("Juan Pablo Díaz", "Juan Diego Díaz"). Its own level, and
    two people unless the dates of birth agree. A surname misspelt in its place ("Rvieta"
    for "Rivera", "Hernandes" for "Fernández") is not another name."""
    import duckdb

    from lastmile.resolve import persons
    from lastmile.resolve.run import veto_sql

    rows = [
        _record("perez-garcia", "José Pérez García"),
        _record("perez-lopez", "José Pérez López"),
        _record("pablo", "Juan Pablo Díaz", dob="1990-01-02"),
        _record("diego", "Juan Diego Díaz", dob="1990-01-02"),
        _record("diego-undated", "Juan Diego Díaz"),
        _record("rivera", "Aarón Rivera Zavala"),
        _record("rvieta", "Aarón Rvieta Zavala"),
        _record("fernandez", "Benjamín Cuéllar Fernández"),
        _record("hernandes", "Benjamín Cuéllar Hernandes"),
    ]
    rows += [
        _record("grandson", "Ali Hassan Ali Mohamed"),
        _record("grandson-short", "Ali Hassan Mohamed"),
        _record("omar", "Omar Khalid Nasser"),
        _record("khalid", "Khalid Omar Nasser"),
        _record("swapped", "Nasser Omar"),
        _record("omar-nasser", "Omar Nasser"),
    ]
    another = persons.SURNAME_DIFFERS_IN_PLACE
    # A grandfather's name dropped shifts a middle name into the first surname's place.
    assert _name_level(rows, "grandson", "grandson-short") != another
    # A son named after his father, and the father: no clerk's swap. A clerk's swap is.
    swapped = "given and family names swapped"
    assert _name_level(rows, "omar", "khalid") != swapped
    assert _name_level(rows, "swapped", "omar-nasser") == swapped
    assert _name_level(rows, "perez-garcia", "perez-lopez") == another
    assert _name_level(rows, "pablo", "diego") == another
    assert _name_level(rows, "pablo", "diego-undated") == another
    assert _name_level(rows, "rivera", "rvieta") != another
    assert _name_level(rows, "fernandez", "hernandes") != another

    table, model = _features(rows), _model()
    con = duckdb.connect()

    def vetoed(a: str, b: str) -> str | None:
        scored = persons.score_pair(table, model, a, b)
        con.register("scored", scored)
        why: str | None = con.execute(f"SELECT {veto_sql(model)} FROM scored").fetchall()[0][0]
        return why

    assert vetoed("perez-garcia", "perez-lopez") == (
        "one surname differs in its place, dates of birth do not agree"
    )
    assert vetoed("pablo", "diego-undated") is not None
    assert vetoed("pablo", "diego") is None  # the same date of birth
    assert vetoed("rivera", "rvieta") is None


def _case_components(edges: str) -> dict[str, str]:
    """The components of records a, c (case 1) and b, d (case 2) under ``edges``, SQL
    ``VALUES`` of ``(a, b, probability, forced, group_ok)``, with case files as groups."""
    import duckdb

    from lastmile.resolve import cluster
    from lastmile.resolve.run import DOB_CONFLICT

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE g AS SELECT * FROM (VALUES ('a', 'case1'), ('c', 'case1'), "
        "('b', 'case2'), ('d', 'case2')) t(node, grp)"
    )
    con.execute(
        f"CREATE TABLE e AS SELECT * FROM (VALUES {edges}) t(a, b, probability, forced, group_ok)"
    )
    con.execute("CREATE TABLE k (a VARCHAR, b VARCHAR)")
    con.execute("CREATE TABLE v (node VARCHAR, value VARCHAR)")
    cluster.constrained_components(
        con,
        "(SELECT node FROM g)",
        "e",
        "k",
        "v",
        DOB_CONFLICT.format(x="x.value", y="y.value"),
        "cc",
        groups="g",
    )
    return dict(con.execute("SELECT node, component FROM cc").fetchall())


def test_two_records_of_one_case_file_never_meet_through_a_third() -> None:
    """A case lists its subjects apart: records a and c of one case file stay apart even
    when each is linked to b of another case (the stronger link wins), unless their own
    link is a duplicate's (``group_ok``: one date of birth, moniker or identifier on both)
    (``group_ok`` of an analyst's ``same`` too)."""
    got = _case_components("('a', 'b', 0.9, false, false), ('b', 'c', 0.8, false, false)")
    assert got["a"] == got["b"] != got["c"]
    got = _case_components("('a', 'c', 0.7, false, false), ('b', 'd', 0.9, false, false)")
    assert got["a"] != got["c"] and got["b"] != got["d"]
    got = _case_components(
        "('a', 'b', 0.9, false, false), ('b', 'c', 0.8, false, false), ('a', 'c', 0.7, false, true)"
    )
    assert got["a"] == got["b"] == got["c"]
    got = _case_components("('a', 'c', 0.6, true, true)")
    assert got["a"] == got["c"]
    # A forced link of another kind (one person under another name) overrides a date
    # conflict, not the case file.
    got = _case_components("('a', 'b', 0.9, true, false), ('b', 'c', 0.8, true, false)")
    assert got["a"] == got["b"] != got["c"]


@pytest.mark.parametrize(
    ("written", "first", "surnames", "suffix"),
    [
        # placeholders are no name: two strangers written "UNK UNK" agreed on their whole name
        ("UNK UNK", "", (), ""),
        ("Unknown", "", (), ""),
        ("FNU LNU", "", (), ""),
        ("John Doe", "", (), ""),
        ("FNU Garcia", "", ("garcia",), ""),  # first name unknown: the rest is the family's
        ("GARCIA, FNU", "", ("garcia",), ""),
        ("Jose LNU", "jose", (), ""),  # last name unknown
        ("FNU GARCIA LOPEZ", "", ("garcia", "lopez"), ""),  # both surnames stay surnames
        ("GARCIA LOPEZ, FNU", "", ("garcia", "lopez"), ""),
        ("Unknown Hispanic Male", "", (), ""),  # what describes a stranger is no name
        ("UNK MALE", "", (), ""),
        # a generation is the last word, or the last of the family part before a comma
        ("Dennis Harlow, Jr.", "dennis", ("harlow",), "jr"),
        ("HARGROVE JR, GILBERT", "gilbert", ("hargrove",), "jr"),
        ("HARGROVE, GILBERT JR", "gilbert", ("hargrove",), "jr"),
        ("Dennis Harlow 3rd", "dennis", ("harlow",), "iii"),
        # a II is read as a Jr., for the pair veto and the clustering's rule alike
        ("Dennis Harlow II", "dennis", ("harlow",), "jr"),
        ("Dennis Harlow 2nd", "dennis", ("harlow",), "jr"),
        ("Junior Mendoza", "junior", ("mendoza",), ""),  # a given name, not a generation
        ("MENDOZA, JUNIOR", "junior", ("mendoza",), ""),
        ("GARCIA, JR", "", ("garcia",), "jr"),
        ("Robert V", "robert", ("v",), ""),  # an initial: all there is of his surname
        ("Sr. Dennis Harlow", "dennis", ("harlow",), ""),  # Señor, not Senior
        ("Luis V Ochoa", "luis", ("ochoa",), ""),  # a middle initial, not the fifth
        ("OCHOA, LUIS V", "luis", ("ochoa",), ""),
        ("Luis Ochoa V", "luis", ("ochoa",), "v"),
        # a law-enforcement rank before a name
        ("SA KEVIN ORTEGA", "kevin", ("ortega",), ""),
        ("Det. Ana Ruiz Soto", "ana", ("ruiz", "soto"), ""),
        ("Sa Nguyen", "sa", ("nguyen",), ""),  # a name of two words keeps its first
    ],
)
def test_names_as_records_write_them(
    written: str, first: str, surnames: tuple[str, ...], suffix: str
) -> None:
    parts = names.parse_name(written)
    assert (parts.first, parts.surnames, parts.suffix) == (first, surnames, suffix)


def test_a_given_name_written_as_unknown_leaves_the_family_name_whole() -> None:
    """Given "FNU", family "GARCIA LOPEZ": two surnames, not the given name Garcia (which a
    family part written alone, with the given box empty, is read as)."""
    parts = names.parse_name(None, given="FNU", family="GARCIA LOPEZ")
    assert (parts.first, parts.surnames) == ("", ("garcia", "lopez"))
    parts = names.parse_name(None, given="UNK", family="De La Cruz Perez")
    assert (parts.first, parts.surnames) == ("", ("cruz", "perez"))
