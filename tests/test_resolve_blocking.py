"""Candidate pairs that no attribute of two records brings together (docs/resolution-rounds.md,
"Issue 10, seventh round: pairs never compared"): once the first pass has resolved a
record's associates, the entity pass ties it to their entities, and two records tied to one
resolved associate under one moniker are compared."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from lastmile.resolve import collective, persons
from tests.test_resolve_recall import _features, _model, _person, compared, level_of


def _sounding(rid: str, first: str, sur: str, rare: bool = True) -> dict[str, Any]:
    """A record of a name with its sound key, marked a rare spelling or not, no moniker."""
    from lastmile.resolve import names

    row = _person(rid, first, sur, "")
    sound = names.sound_key(first, sur)
    row.update(monikers=None, moniker=None, name_sound=sound, name_rare=sound if rare else None)
    return row


def _entity_pass(
    rows: list[dict[str, Any]], edges: list[tuple[str, str]], rels: list[tuple[str, str]]
) -> pa.Table:
    con = duckdb.connect()
    con.register("rows", _features(rows))
    con.execute("CREATE TABLE person_features AS SELECT * FROM rows")
    con.execute("CREATE TABLE person_edges (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO person_edges VALUES (?, ?)", edges)
    con.execute("CREATE TABLE vetoed (a VARCHAR, b VARCHAR, veto VARCHAR)")
    con.execute("CREATE TABLE src_relationships (from_id VARCHAR, to_id VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO src_relationships VALUES (?, ?, 'associate')", rels)
    # Made-up weights on an even prior: what the test names is which pairs are compared,
    # and that a resolved associate counts as a tie shared.
    model = _model()
    model["probability_two_random_records_match"] = 0.5
    return collective.predict_entities(con, model)


def _scored(pred: pa.Table, a: str, b: str) -> float | None:
    for row in pred.select(["record_id_l", "record_id_r", "match_probability"]).to_pylist():
        if {row["record_id_l"], row["record_id_r"]} == {a, b}:
            return float(row["match_probability"])
    return None


def test_records_tied_to_one_resolved_associate_under_one_moniker_are_compared() -> None:
    """x1 (one case) and x2 (another, beside x3, its own entity already) are one man under
    two names with one street name, "zorro", and no date, selector or stated tie of their
    own in common; each is an associate of a record of Carlos Ruiz, whose two records the
    first pass joined. The entity pass ties each to Carlos's entity, so the rule on the
    principal moniker and a tie compares them, and the shared associate counts for them.
    Two records alone are compared again once their associate's entity has grown. Without
    the associates' entities they are never compared; an associate of two other people does
    not bring them together either."""
    rows = [
        _person("p1", "carlos", "ruiz", "gordo", investigation_id="i1"),
        _person("p2", "carlos", "ruiz", "gordo", investigation_id="i2"),
        _person("q1", "jose", "lara", "chato", investigation_id="i4"),
        _person("x1", "humberto", "mercado", "zorro", investigation_id="i1"),
        _person("x2", "victor", "ariza", "zorro", investigation_id="i2"),
        _person("x3", "victor", "ariza", "zorro", investigation_id="i3"),
    ]
    first_pass = [("p1", "p2"), ("x2", "x3")]
    got = _entity_pass(rows, first_pass, [("x1", "p1"), ("p2", "x2")])
    score = _scored(got, "x1", "x2")
    assert score is not None and score >= persons.ENTITY_PREDICT_FLOOR
    # x2 alone as well: two records alone, each compared as a record in the first pass,
    # are compared again once their associate's entity has grown.
    both_alone = _entity_pass(rows, [("p1", "p2")], [("x1", "p1"), ("p2", "x2")])
    assert (_scored(both_alone, "x1", "x2") or 0.0) >= persons.ENTITY_PREDICT_FLOOR
    # The associates not resolved as one: no pair.
    alone = _entity_pass(rows, [("x2", "x3")], [("x1", "p1"), ("p2", "x2")])
    assert _scored(alone, "x1", "x2") is None
    # x1's associate is someone else.
    other = _entity_pass(rows, first_pass, [("x1", "q1"), ("p2", "x2")])
    assert _scored(other, "x1", "x2") is None


def test_names_that_sound_alike_are_compared_without_a_date_of_birth() -> None:
    """A mistyped or otherwise transliterated name (Soundex of the given name and the
    surname, names.sound_key) is compared with no other attribute in common; a name that
    only shares its initials is not."""
    from lastmile.resolve import names

    assert names.sound_key("charles", "fernandes") == names.sound_key("charles", "frnandes")
    assert names.sound_key("orisya", "deregus") == names.sound_key("orisia", "derregus")
    assert names.sound_key("charles", None) is None

    rows = [
        _sounding("a", "orisya", "deregus"),
        _sounding("b", "orisia", "derregus", rare=False),
        _sounding("c", "oscar", "duran"),
        # Two names many records write, one Soundex code: not a typo of each other.
        _sounding("d", "huong", "bui", rare=False),
        _sounding("e", "hong", "bui", rare=False),
    ]
    table, model = _features(rows), _model()
    assert compared(table, model, "a", "b")
    assert not compared(table, model, "a", "c")
    assert names.sound_key("huong", "bui") == names.sound_key("hong", "bui")
    assert not compared(table, model, "d", "e")


def test_a_spelling_few_records_write_is_rare() -> None:
    """name_rare: the sound key of a record whose given name or surname is written on at
    most persons.RARE_SPELLING records."""
    from tests.test_resolve_recall import _subjects

    con = duckdb.connect()
    common = [(f"h{i}", "Huong Bui", None) for i in range(3)]
    common += [(f"o{i}", "Hong Bui", None) for i in range(3)]
    _subjects(con, [*common, ("t", "Hong Buii", None), ("f", "Charles Fernandes", None)])
    got = dict(con.execute("SELECT record_id, name_rare FROM person_features").fetchall())
    assert got["t"] == "B000 H520"  # "buii": one record (the codes in their order)
    assert got["f"] == "C642 F655"  # one record of each
    assert {got[k] for k, _, _ in common} == {None}


def test_an_entity_is_a_rare_spelling_only_when_all_its_records_are() -> None:
    """The entity pass pools name_rare: "Hong Bui" written right three times and mistyped
    once is a name, not a rare spelling; an entity whose every record writes a rare
    spelling is one."""
    from lastmile.resolve import names

    rows = []
    for rid, first, sur, rare in [
        ("h0", "hong", "bui", False),
        ("h1", "hong", "bui", False),
        ("h2", "hong", "bui", False),
        ("t", "hong", "buii", True),
        ("x", "frnandes", "charles", True),
        ("y", "frnandes", "charles", True),
    ]:
        row = _person(rid, first, sur, "")
        sound = names.sound_key(first, sur)
        row.update(monikers=None, moniker=None, name_sound=sound, name_rare=sound if rare else None)
        rows.append(row)
    con = duckdb.connect()
    con.register("rows", _features(rows))
    con.execute("CREATE TABLE person_features AS SELECT * FROM rows")
    con.execute(
        "CREATE TABLE comps AS SELECT * FROM (VALUES ('h0', 'E1'), ('h1', 'E1'), ('h2', 'E1'), "
        "('t', 'E1'), ('x', 'E2'), ('y', 'E2')) v(node, component)"
    )
    con.execute("CREATE TABLE src_relationships (from_id VARCHAR, to_id VARCHAR, kind VARCHAR)")
    got = {
        r["record_id"]: r["name_rare"]
        for r in collective.entity_features(con, "comps")
        .select(["record_id", "name_rare"])
        .to_pylist()
    }
    assert got == {"E1": None, "E2": names.sound_key("frnandes", "charles")}


def test_one_name_part_in_common_compares_a_rare_spelling_of_the_other() -> None:
    """A surname in common and a given name mistyped or transliterated another way
    ("Yustim" and "Justim"), or the given name in common and the surname mistyped, with no
    date of birth, address or selector in common: compared when one side's spelling is one
    few records write (persons.RARE_SPELLING). Two names many records write beside one
    surname ("Huong Bui" and "Hong Bui") are two people's, and are not compared on the
    surname alone."""
    from lastmile.resolve import names

    rows = [
        _sounding("a", "yustim", "bezborodko", rare=False),
        _sounding("b", "justim", "bezborodko", rare=True),
        _sounding("c", "maurice", "samson", rare=False),
        _sounding("d", "maurice", "samspn", rare=True),
        _sounding("e", "huong", "bui", rare=False),
        _sounding("f", "hung", "bui", rare=False),
    ]
    table, model = _features(rows), _model()
    assert names.sound_key("yustim", "x") != names.sound_key("justim", "x")
    assert names.sound_key("x", "samson") != names.sound_key("x", "samspn")
    assert compared(table, model, "a", "b")
    assert compared(table, model, "c", "d")
    assert not compared(table, model, "e", "f")
    assert not compared(table, model, "a", "c")


def test_a_name_typed_the_other_way_round_and_mistyped_is_compared_and_weighed() -> None:
    """ "VITTÓRIA, CUNHA" and "Vitória Cunha": the given name and the surname swapped and
    one of them mistyped. The sound key is the same whatever the order of the parts, so the
    sound rule compares them when one spelling is rare; the name comparison has its own
    level for them, apart from "names disagree" (which forbids a merge without a date of
    birth in common) and from an exact swap."""
    from lastmile.resolve import names

    assert names.sound_key("vittoria", "cunha") == names.sound_key("cunha", "vitoria")
    assert names.sound_key("sals", "davi") == names.sound_key("davi", "sales")

    rows = [
        _sounding("a", "cunha", "vittoria", rare=True),
        _sounding("b", "vitoria", "cunha", rare=False),
        _sounding("c", "vitoria", "cunha", rare=False),
        _sounding("d", "cunha", "vitoria", rare=False),
        _sounding("e", "carla", "cunha", rare=False),
    ]
    table, model = _features(rows), _model()
    assert compared(table, model, "a", "b")

    def level(x: str, y: str) -> str:
        return level_of(table, model, "name", x, y)

    assert level("a", "b") == "given and family names swapped, spelled closely"
    assert level("c", "d") == "given and family names swapped"
    assert level("a", "e") == "names disagree"
