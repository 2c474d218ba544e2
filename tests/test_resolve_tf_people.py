"""A full name's term frequency counts people, not records (docs/resolution.md, "A name's
frequency over people"): a man written in five case files is not weighed down as common,
while a name borne by many different people still is."""

from __future__ import annotations

from typing import Any

from lastmile.resolve import persons
from tests.test_resolve_recall import _features, _model, _person


def _rec(rid: str, first: str, sur1: str, dob: str | None, **extra: Any) -> dict[str, Any]:
    """A record of a name and a date of birth, no moniker."""
    row = _person(rid, first, sur1, "", dob=dob, **extra)
    row.update(monikers=None, moniker=None)
    return row


def _people(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each name's count of people: its share over the share of a name on one record."""
    one = _rec("one", "only", "once", None)
    table = persons.people_frequencies(_features([*rows, one])).to_pylist()
    unit = next(r["tf_fullname"] for r in table if r["fullname"] == "only once")
    return {r["fullname"]: round(r["tf_fullname"] / unit, 6) for r in table}


def test_one_man_in_five_case_files_counts_once_and_many_namesakes_count_many() -> None:
    rows = [_rec(f"g{i}", "graziano", "guariento", "1975-03-12") for i in range(5)]
    rows += [_rec(f"j{i}", "john", "smith", f"19{60 + i}-01-01") for i in range(4)]
    # Ten records without a date or anything shared: one person, and each further record
    # another at the rate a name's later dated records are another person here (3 of 7,
    # with Laplace's one and two: 4 of 9).
    rows += [_rec(f"p{i}", "pedro", "ruiz", None) for i in range(10)]
    people = _people(rows)
    assert people["graziano guariento"] == 1
    assert people["john smith"] == 4
    assert abs(people["pedro ruiz"] - (1 + 9 * 4 / 9)) < 1e-6


def test_a_name_s_undated_records_count_at_the_rate_its_dated_records_repeat() -> None:
    """An undated record is another person at the rate a name's later dated records are
    another person: the name's own, with the rate over all names as one more record."""
    rows = [_rec(f"g{i}", "graziano", "guariento", "1975-03-12") for i in range(3)]
    rows += [_rec(f"g{i}", "graziano", "guariento", None) for i in range(3, 5)]
    rows += [_rec("t1", "tom", "hale", "1961-01-01"), _rec("t2", "tom", "hale", "1972-02-02")]
    rows += [_rec("t3", "tom", "hale", None), _rec("t4", "tom", "hale", None)]
    # One woman written once with her date and once without: one person, as good as.
    rows += [_rec("k1", "kira", "saveleva", "1950-07-14"), _rec("k2", "kira", "saveleva", None)]
    people = _people(rows)
    # Over all names, later dated records are another person 1 time in 3 (graziano: 0 of
    # 2, tom hale: 1 of 1), 2 in 5 with Laplace's rule of succession.
    rate = 2 / 5
    assert abs(people["graziano guariento"] - (1 + 2 * rate / 3)) < 1e-6
    assert abs(people["tom hale"] - (2 + 2 * (1 + rate) / 2)) < 1e-6
    assert abs(people["kira saveleva"] - (1 + rate)) < 1e-6
    assert people["kira saveleva"] < 1.5


def test_a_slip_of_a_date_joins_only_a_date_given_twice_as_often() -> None:
    rows = [_rec(f"a{i}", "ivo", "novak", "1980-01-01") for i in range(2)]
    rows += [_rec("a9", "ivo", "novak", "1980-01-10")]  # one typo of a date given twice
    rows += [_rec("b1", "eva", "kral", "1980-01-01"), _rec("b2", "eva", "kral", "1980-01-10")]
    rows += [_rec("c1", "jan", "dvorak", "1990-04-07"), _rec("c2", "jan", "dvorak", "1990-07-04")]
    rows += [_rec("c3", "jan", "dvorak", "1990-04-07")]  # day and month swapped
    people = _people(rows)
    assert people["ivo novak"] == 1
    # Two dates given once each, a typo apart: two namesakes as likely as one man.
    assert people["eva kral"] == 2
    assert people["jan dvorak"] == 1


def test_an_undated_record_sharing_a_phone_is_the_person_it_shares_it_with() -> None:
    rows = [
        _rec("a1", "omar", "haddad", "1985-02-02", sel_keys=["phone:+15550001"]),
        _rec("a2", "omar", "haddad", None, sel_keys=["phone:+15550001"]),
        _rec("a3", "omar", "haddad", None, sel_keys=["phone:+15550002"]),
        _rec("a4", "omar", "haddad", None, sel_keys=["phone:+15550002"]),
        _rec("a5", "omar", "haddad", None),
        # Within one case file a shared phone is two people (the case listed them apart).
        _rec("b1", "lea", "roth", None, sel_keys=["phone:+15550003"], investigation_id="k"),
        _rec("b2", "lea", "roth", None, sel_keys=["phone:+15550003"], investigation_id="k"),
    ]
    people = _people(rows)
    # No name is dated twice here: an undated unit is another person one time in two.
    assert people["omar haddad"] == 1 + 2 * 0.5
    assert people["lea roth"] == 1 + 1 * 0.5


def test_the_model_weighs_a_name_by_the_people_bearing_it_not_its_records() -> None:
    """Through Splink (score_pair registers the lookup as every linker does): a name on five
    records of one man weighs as much as a name on two records of one man, and a name borne
    by five different men weighs less."""
    rows = [_rec(f"g{i}", "graziano", "guariento", "1975-03-12") for i in range(5)]
    rows += [_rec(f"a{i}", "ana", "lopez", "1981-06-30") for i in range(2)]
    rows += [_rec(f"j{i}", "john", "smith", f"19{60 + i}-01-01") for i in range(5)]
    rows += [_rec(f"x{i}", f"given{i}", f"family{i}", f"1970-01-{i + 10}") for i in range(10)]
    table = _features(rows)
    model = _model()

    def name_tf(a: str, b: str) -> float:
        row = persons.score_pair(table, model, a, b).to_pylist()[0]
        return float(row["mw_tf_adj_name"])

    one_man_five = name_tf("g0", "g1")
    one_man_two = name_tf("a0", "a1")
    five_men = name_tf("j0", "j1")
    assert abs(one_man_five - one_man_two) < 1e-9
    assert five_men < one_man_two - 2.0


def _base(table: Any) -> float | None:
    return persons.given_sur_base(persons.people_frequencies(table, "given_sur"))


def _named(rid: str, first: str, sur1: str, sur2: str | None = None) -> dict[str, Any]:
    """A record whose full name is its given name and surnames, and nothing else."""
    full = " ".join(p for p in (first, sur1, sur2) if p)
    return _rec(rid, first, sur1, None, sur2=sur2, fullname=full, name_keys=[full])


def test_a_partial_name_agreement_weighs_down_for_a_common_name_and_never_up() -> None:
    """A given name and a surname in common, the rest of the name not, or a mistyped given
    name with a surname in common, weighs less when many people bear that given name and
    surname, and never more than the level's trained weight for a rare one: a mistyped
    writing is a rare value by construction (persons.given_sur_frequencies)."""
    rows = [_rec(f"j{i}", "john", "smith", f"19{60 + i}-01-01") for i in range(6)]  # six men
    rows += [_named("jw", "john", "smith", "ward"), _named("jt", "jon", "smith")]
    rows += [_named("a0", "aurelie", "weber"), _named("a1", "aurelie", "weber", "roth")]
    rows += [_named("at", "autelie", "weber")]
    # Another name, and the other's as an alias: on the commoner side's given name and surname.
    alias = ["pavel dvorak", "john smith", "aurelie weber"]
    rows += [_rec("pd", "pavel", "dvorak", None, fullname="pavel dvorak", name_keys=alias)]
    rows += [_rec(f"x{i}", f"given{i}", f"family{i}", f"1970-01-{i + 10}") for i in range(10)]
    table = _features(rows)
    model = persons.given_sur_frequencies(_model(), _base(table))
    labels = persons.level_labels(model)["name"]

    def scored(a: str, b: str) -> tuple[str, float]:
        row = persons.score_pair(table, model, a, b).to_pylist()[0]
        return labels[row["gamma_name"]][0], float(row["mw_tf_adj_name"])

    agree = "given name (or its nickname) and a surname agree"
    typo = "a surname agrees, the given name one typo apart"
    common, rare = scored("j0", "jw"), scored("a0", "a1")
    assert common[0] == rare[0] == agree
    assert common[1] < -1.0
    assert rare[1] == 0.0
    common_typo, rare_typo = scored("j0", "jt"), scored("a0", "at")
    assert common_typo[0] == rare_typo[0] == typo
    assert common_typo[1] < -1.0
    assert rare_typo[1] == 0.0
    common_alias, rare_alias = scored("j0", "pd"), scored("a0", "pd")
    assert common_alias[0] == rare_alias[0] == "a name or alias agrees"
    assert common_alias[1] < -1.0
    assert rare_alias[1] == 0.0


def test_training_sets_the_base_and_the_floor_and_one_name_adjusts_nothing() -> None:
    """Training sets the base level's u to the chance two people share a given name and
    first surname, and floors the four levels there (also in expectation maximisation,
    which weighs pairs with the adjustments); records of a single name give no base, and
    the levels are then not adjusted (an unset base would be Splink's default u, and weigh
    every agreement up)."""
    from tests.test_resolve_prior import _features as _made_up

    table = _made_up(60, 2, 0.0, 1)
    base = _base(table)
    assert base is not None and 0 < base < 1
    model = persons.train(table)
    levels = [lv for c in model["comparisons"] for lv in c["comparison_levels"]]
    (held,) = [lv for lv in levels if lv["label_for_charts"] == persons.GIVEN_SUR_BASE_LABEL]
    assert abs(held["u_probability"] - base) < 1e-12
    adjusted = [lv for lv in levels if lv.get("tf_adjustment_column") == "given_sur"]
    assert len(adjusted) == 5
    assert all(abs(lv["tf_minimum_u_value"] - base) < 1e-12 for lv in adjusted)

    one = _features([_named(f"o{i}", "ana", "silva") for i in range(3)])
    assert _base(one) is None
    unadjusted = persons.given_sur_frequencies(persons.settings(), None)
    weights = [
        lv["tf_adjustment_weight"]
        for c in unadjusted["comparisons"]
        for lv in c["comparison_levels"]
        if lv.get("tf_adjustment_column") == "given_sur"
    ]
    assert weights == [0.0] * 5
