"""Person matching with Splink (Fellegi-Sunter): the model, its training, its predictions.

The model compares two subject records on nine fields (docs/resolution.md, "Person model").
m and u are learned from the data at hand on every run (u by random sampling, m by
expectation maximisation over two blocking passes), unless a saved model is given.
Splink runs on the engine given (DuckDB, or Spark through its Spark backend); every step is
SQL that Splink generates, so the same model gives the same scores on both.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lastmile.resolve import addresses as addr
from lastmile.resolve.errors import ResolveError
from lastmile.store.backends import connect_duckdb, limit_memory

# The least probability a prediction keeps. The records' prediction keeps PREDICT_FLOOR: what
# may be merged (from the clustering threshold, cluster.THRESHOLD, 0.5 by default), and below
# it the possible matches an analyst may judge (review.py: one chance in five; below it,
# pairs of common names and nothing else would bury the few worth an analyst's time). The
# entity passes keep ENTITY_PREDICT_FLOOR, only what they may merge.
PREDICT_FLOOR = 0.2
ENTITY_PREDICT_FLOOR = 0.5

# Scale (docs/resolution.md, step 3: "Training", "Blocking" and "Memory"). Expectation
# maximisation learns m from at most this many blocked pairs, a deterministic sample of
# records on each side (Splink's max_pairs):
# the pairs of a blocking rule grow with the square of the records, their patterns do not.
EM_MAX_PAIRS = 1_000_000
# Prediction scores the blocked pairs of at most this many records (on the left side) at a
# time (Splink's chunked predict), so the pairs in work stay bounded as records grow.
PREDICT_CHUNK_RECORDS = 250_000

FEATURE_COLUMNS = (
    "record_id",
    "investigation_id",
    "first",
    "sur1",
    "sur2",
    "fullname",
    "given_sur",
    "suffix",
    "name_keys",
    "first_forms",
    "middle",
    "name_sound",
    "name_rare",
    "monikers",
    "moniker",
    "dob",
    "sex",
    "sex_by_name",
    "addr_streets",
    "addr_places",
    "addr_words",
    "addr_nums",
    "addr_marks",
    "id_keys",
    "id_personal",
    "sel_keys",
    "tie_keys",
)
# The feature columns that hold lists (the rest hold one value).
LIST_COLUMNS = (
    "name_keys",
    "first_forms",
    "monikers",
    "addr_streets",
    "addr_places",
    "addr_words",
    "addr_nums",
    "addr_marks",
    "id_keys",
    "id_personal",
    "sel_keys",
    "tie_keys",
)


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


# A name level weighed down by how common its given name and first surname are among the
# people (people_frequencies of ``given_sur``; given_sur_frequencies): "David Lopez"
# agreeing, swapped or one typo apart says less where thousands are written so (Winkler's
# frequency-based matching; docs/resolution.md, "A given name and surname's frequency").
GIVEN_SUR_FREQUENCY = {"tf_adjustment_column": "given_sur", "tf_adjustment_weight": 1.0}
GIVEN_SUR_BASE_LABEL = "(the frequency base of the given name and first surname; never met)"


def given_sur_base(frequencies: pa.Table) -> float | None:
    """The chance that two people drawn at random bear the same given name and first
    surname: the sum of the squared frequencies of ``given_sur`` over the people
    (``frequencies``: people_frequencies of ``given_sur``); None when it says nothing (no
    value, or one)."""
    import pyarrow.compute as pc

    shares = frequencies[f"tf_{GIVEN_SUR_FREQUENCY['tf_adjustment_column']}"]
    u = float(pc.sum(pc.multiply(shares, shares)).as_py() or 0.0)
    return u if 0.0 < u < 1.0 else None


def given_sur_frequencies(model: dict[str, Any], base: float | None) -> dict[str, Any]:
    """``model`` with the levels weighed by ``given_sur``'s frequency (GIVEN_SUR_FREQUENCY)
    set as Splink's adjustment needs them. A level's trained weight moves by
    log2(base / the value's frequency), the larger of the two records' (``base``:
    given_sur_base), which the base level holds (GIVEN_SUR_BASE_LABEL): a value as common
    as the average agreeing value keeps the trained weight.

    The frequency is floored at the base, so the move is only ever down: a common given name
    and surname weigh an agreement down, a rare one does not weigh it up. A mistyped or
    swapped writing is a rare value by construction ("Thàh Nguyễn", "Thao, Vu"), and among
    names of few spellings two people's rare writings meet as often as one person's
    (docs/resolution.md, "A given name and surname's frequency"). Without a base (records
    with one name or none) the levels are not adjusted at all: an unset base would be
    Splink's default u, and weigh every agreement up."""
    column = GIVEN_SUR_FREQUENCY["tf_adjustment_column"]
    for comp in model.get("comparisons", []):
        for lv in comp.get("comparison_levels", []):
            if lv.get("label_for_charts") == GIVEN_SUR_BASE_LABEL and base is not None:
                lv["u_probability"] = base
            elif lv.get("tf_adjustment_column") == column:
                if base is None:
                    lv["tf_adjustment_weight"] = 0.0
                    lv.pop("tf_minimum_u_value", None)
                else:
                    lv["tf_adjustment_weight"] = GIVEN_SUR_FREQUENCY["tf_adjustment_weight"]
                    lv["tf_minimum_u_value"] = base
    return model


def _restore_given_sur_base(linker: Any, base: float | None) -> None:
    """Set the base level's u again on ``linker``: sampling u among random pairs never meets
    that level and leaves it unset, and expectation maximisation weighs the name levels with
    their frequency adjustments, which read it."""
    if base is None:
        return
    for comp in linker._settings_obj.comparisons:
        for lv in comp.comparison_levels:
            if lv.label_for_charts == GIVEN_SUR_BASE_LABEL:
                lv.u_probability = base


def _null(sql: str) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": "missing", "is_null_level": True}


ELSE = {"sql_condition": "ELSE", "label_for_charts": "disagree"}


# Two subject records of one case file are two people in the case's own judgement (the
# investigators listed them apart); what they share there (a phone, an organization) is
# what two people of one case share, not evidence that they are one: Splink's null level,
# weight 0 (docs/resolution.md, "Shared selectors").
SAME_CASE = "l.investigation_id = r.investigation_id"


def _overlap(
    col: str, what: str, sizes: tuple[int, ...] = (1,), by_case: bool = False
) -> dict[str, Any]:
    levels: list[dict[str, Any]] = [_null(f"l.{col} IS NULL OR r.{col} IS NULL")]
    if by_case:
        levels.append(
            _level(
                f"{SAME_CASE} AND len(list_intersect(l.{col}, r.{col})) >= 1",
                f"a {what} shared within one case file (not evidence)",
                is_null_level=True,
            )
        )
    for n in sizes:
        levels.append(
            _level(
                f"len(list_intersect(l.{col}, r.{col})) >= {n}",
                f"{n} or more {what}s shared" if n > 1 else f"a {what} shared",
            )
        )
    levels.append({"sql_condition": "ELSE", "label_for_charts": f"no {what} shared"})
    return {"output_column_name": col, "comparison_levels": levels}


# A surname written in its place on both records and spelled further apart than a clerk's
# typo or another spelling of one name: Jaro-Winkler under 0.8, the bound below which
# record linkage takes two names to disagree (Winkler 1990; Christen, *Data Matching*,
# 2012, ch. 5). Misspellings of one surname stay above it ("Rivera" and "Rvieta" 0.84,
# "Hernandes" and "Fernández" 0.85, "Díaz" and "Daaiz" 0.81: the national operation's
# clerks), other names fall below ("Pablo" and "Diego" 0.47, "Karim" and "Rahim" 0.73).
SURNAME_IN_PLACE = 0.8
SURNAME_DIFFERS_IN_PLACE = "given name and a surname agree, the other surname another name"


def _another_name(a: str, b: str) -> str:
    return f"jaro_winkler_similarity({a}, {b}) < {SURNAME_IN_PLACE}"


_SAME_LAST_SURNAME = "coalesce(l.sur2 = r.sur2, false)"


def _in_middle(word: str, side: str) -> str:
    """SQL: ``word`` is a word of ``side``'s middle name. A name of four words read against
    its three ("Ali Hassan Ali Mohamed" and "Ali Hassan Mohamed": a grandfather's name
    dropped) shifts a word from the middle name into the first surname's place."""
    return f"coalesce(list_contains(string_split({side}.middle, ' '), {word}), false)"


def comparisons() -> list[dict[str, Any]]:
    surnames_meet = "(l.sur1 IN (r.sur1, r.sur2) OR l.sur2 IN (r.sur1, r.sur2))"
    firsts_meet = "list_has_any(l.first_forms, r.first_forms)"
    # Both records write two surnames and only one of them agrees ("Gonzalez Garcia" and
    # "Francisco Garcia"): a cousin or a namesake as often as one person, so its weight is
    # its own (docs/resolution-rounds.md, "Issue 10, third round"). One surname dropped
    # ("Castro" and "Marino Castro"), the two in the other order, or a misspelling of
    # one (the two close as a whole) is no conflict.
    surnames_conflict = (
        "(l.sur2 IS NOT NULL AND r.sur2 IS NOT NULL "
        "AND NOT (l.sur1 IN (r.sur1, r.sur2) AND l.sur2 IN (r.sur1, r.sur2)) "
        "AND jaro_winkler_similarity(l.sur1 || ' ' || l.sur2, r.sur1 || ' ' || r.sur2) < 0.92)"
    )
    name = {
        "output_column_name": "name",
        "comparison_description": "name: parsed, accents folded, nicknames, aliases",
        "comparison_levels": [
            _null("l.fullname IS NULL OR r.fullname IS NULL"),
            _level(
                "l.fullname = r.fullname",
                "the same full name",
                tf_adjustment_column="fullname",
                tf_adjustment_weight=1.0,
            ),
            # A swap that keeps the last surname in its place is no clerk's swap but the
            # naming of a family: "Omar Khalid Nasser" is Khalid's son, "Khalid Omar Nasser"
            # Omar's (a hostile review's Arabic pairs, merged at +11 bits).
            _level(
                "((l.first = r.sur1 AND (l.sur1 = r.first OR list_contains(r.first_forms, l.sur1)))"
                " OR (r.first = l.sur1 AND (r.sur1 = l.first OR "
                f"list_contains(l.first_forms, r.sur1)))) AND NOT {_SAME_LAST_SURNAME}",
                "given and family names swapped",
                **GIVEN_SUR_FREQUENCY,
            ),
            # Both write two surnames, one agrees in its place and the other, in its place,
            # is another name ("Juan Pablo Díaz" and "Juan Diego Díaz", "José Pérez García"
            # and "José Pérez López"): another father or another mother, or a second given
            # name read as a surname. Two people unless the dates of birth agree
            # (run.NAME_VETO). A hostile review's siblings of one address, of Spanish,
            # Portuguese, Arabic, Malay and Korean names, merged at +6 to +8 bits through
            # the level below, where the two surnames joined read alike ("abdul karim",
            # "abdul rahim"). Surnames in the other order or one dropped are not this level.
            _level(
                f"{firsts_meet} AND l.sur2 IS NOT NULL AND r.sur2 IS NOT NULL AND ("
                f"(l.sur1 = r.sur1 AND {_another_name('l.sur2', 'r.sur2')}) "
                f"OR (l.sur2 = r.sur2 AND {_another_name('l.sur1', 'r.sur1')} "
                f"AND NOT {_in_middle('l.sur1', 'r')} AND NOT {_in_middle('r.sur1', 'l')}))",
                SURNAME_DIFFERS_IN_PLACE,
            ),
            _level(
                f"{firsts_meet} AND {surnames_meet} AND NOT {surnames_conflict}",
                "given name (or its nickname) and a surname agree",
                **GIVEN_SUR_FREQUENCY,
            ),
            _level(
                f"{firsts_meet} AND {surnames_meet}",
                "given name and a surname agree, the other surname differs",
                **GIVEN_SUR_FREQUENCY,
            ),
            _level(
                f"{firsts_meet} AND jaro_winkler_similarity(l.sur1, r.sur1) >= 0.9",
                "given name agrees, a surname spelled closely",
            ),
            # Alike and one typo apart, or only alike: "jeongnam" and "jeonghun" are two
            # brothers' names as often as one man's, and the trained weights tell the two
            # apart where one level could not. Both stay within Jaro-Winkler's bound, so
            # "J." and "M." or "Jose" and "Rose" stay "the given name differs".
            _level(
                f"{surnames_meet} AND jaro_winkler_similarity(l.first, r.first) >= 0.88 "
                "AND damerau_levenshtein(l.first, r.first) <= 1",
                "a surname agrees, the given name one typo apart",
                **GIVEN_SUR_FREQUENCY,
            ),
            _level(
                f"{surnames_meet} AND jaro_winkler_similarity(l.first, r.first) >= 0.88",
                "a surname agrees, the given name spelled closely",
            ),
            # Typed into each other's boxes and mistyped too ("VITTÓRIA, CUNHA" and "Vitória
            # Cunha"): each part close to the other record's other part.
            _level(
                "jaro_winkler_similarity(l.first, r.sur1) >= 0.88 "
                "AND jaro_winkler_similarity(l.sur1, r.first) >= 0.88 "
                f"AND NOT {_SAME_LAST_SURNAME}",
                "given and family names swapped, spelled closely",
            ),
            _level(
                "jaro_winkler_similarity(l.fullname, r.fullname) >= 0.92", "names spelled closely"
            ),
            # An alias agreeing weighs down too, by the commoner side's given name and
            # surname: at 100,000 scale records the edges of this level with one middle
            # name were one person 37 % of the time (docs/resolution-rounds.md, "The
            # precision lost at scale, traced", and "An alias agreeing").
            _level(
                "list_has_any(l.name_keys, r.name_keys)",
                "a name or alias agrees",
                **GIVEN_SUR_FREQUENCY,
            ),
            _level(surnames_meet, "a surname agrees, the given name differs"),
            _level(f"{firsts_meet}", "the given name agrees, the surnames differ"),
            # Never met: every pair of one given name and first surname is met above. It
            # holds the u that the frequency adjustments of the levels above read
            # (given_sur_frequencies): Splink weighs a level's frequency against an exact
            # level's u.
            _level("l.given_sur = r.given_sur", GIVEN_SUR_BASE_LABEL),
            {"sql_condition": "ELSE", "label_for_charts": "names disagree"},
        ],
    }
    dob = {
        "output_column_name": "dob",
        "comparison_levels": [
            _null("l.dob IS NULL OR r.dob IS NULL"),
            _level("l.dob = r.dob", "the same date of birth"),
            _level(
                "damerau_levenshtein(l.dob, r.dob) <= 1 OR (substr(l.dob, 1, 4) = "
                "substr(r.dob, 1, 4) AND substr(l.dob, 6, 2) = substr(r.dob, 9, 2) AND "
                "substr(l.dob, 9, 2) = substr(r.dob, 6, 2))",
                "date of birth one typo or a day/month swap apart",
            ),
            _level(
                "abs(date_diff('day', CAST(l.dob AS DATE), CAST(r.dob AS DATE))) <= 366",
                "dates of birth within a year",
            ),
            {"sql_condition": "ELSE", "label_for_charts": "dates of birth differ"},
        ],
    }
    generation = {
        "output_column_name": "suffix",
        "comparison_levels": [
            _null("l.suffix IS NULL OR r.suffix IS NULL"),
            _level("l.suffix = r.suffix", "the same generation (Jr., Sr., III...)"),
            {"sql_condition": "ELSE", "label_for_charts": "different generations (Jr. vs Sr.)"},
        ],
    }
    address = {
        "output_column_name": "address",
        "comparison_levels": [
            _null(
                "(l.addr_places IS NULL AND l.addr_words IS NULL) OR "
                "(r.addr_places IS NULL AND r.addr_words IS NULL)"
            ),
            _level(addr.STREET_SHARED_SQL, "a street address shared"),
            # Two clerks' writings of one address, in any country (addresses.py).
            _level(addr.CLOSE_ADDRESS_SQL, "one address written two ways"),
            _level(addr.ALIKE_ADDRESS_SQL, "one address written two ways, with typos"),
            _level("list_has_any(l.addr_places, r.addr_places)", "the same city"),
            {"sql_condition": "ELSE", "label_for_charts": "addresses differ"},
        ],
    }
    kinds = "list_transform({s}.id_personal, lambda x: split_part(x, ':', 1))"
    identifiers = {
        "output_column_name": "identifiers",
        "comparison_levels": [
            _null("l.id_keys IS NULL OR r.id_keys IS NULL"),
            _level("list_has_any(l.id_keys, r.id_keys)", "an identifier shared"),
            _level(
                f"list_has_any({kinds.format(s='l')}, {kinds.format(s='r')})",
                "a different SSN, FBI or A-number",
            ),
            {"sql_condition": "ELSE", "label_for_charts": "no identifier in common"},
        ],
    }
    # The middle name, compared apart from the rest of the name (each part of a name is its
    # own evidence: Christen 2012, "Data Matching", ch. 5): the same one, or two different
    # ones ("David Samuel" and "David Julio"). A record without one, or one whose fields
    # were typed into each other's boxes (names.readings), is Splink's null level, and so
    # is a middle name against its initial ("P." and "Pedro"): too rare in the pairs
    # expectation maximisation sees to be trained, and an untrained level would weigh
    # Splink's default m, not the data's.
    middle = {
        "output_column_name": "middle",
        "comparison_levels": [
            _null("l.middle IS NULL OR r.middle IS NULL"),
            _level(
                "left(l.middle, 1) = left(r.middle, 1) AND l.middle <> r.middle AND "
                "(length(l.middle) = 1 OR length(r.middle) = 1)",
                "a middle name and its initial (no evidence)",
                is_null_level=True,
            ),
            _level("l.middle = r.middle", "the same middle name"),
            # A typo ("Fatmanur" and "Fatmannur") is not two middle names, which the veto
            # on differing middle names reads as two people (run.MIDDLE_VETO).
            _level(
                "jaro_winkler_similarity(l.middle, r.middle) >= 0.9",
                "middle names spelled closely",
            ),
            {"sql_condition": "ELSE", "label_for_charts": "middle names differ"},
        ],
    }
    # A record that states no sex is read by its given name where the records of the data at
    # hand that bear that name and state a sex are nearly all of one (features.SEX_BY_NAME).
    # Stated on both sides, a difference is near proof of two people; read from a name, it
    # is evidence of its own weight, and a veto without agreeing dates (run.SEX_VETO): a
    # brother and sister "Valentin Sokolov" and "Valentina Sokolova" at one address, or
    # "Jan" and "Janice" (a nickname of hers, another man's name), otherwise merged.
    sex = {
        "output_column_name": "sex",
        "comparison_levels": [
            _null(
                "coalesce(l.sex, l.sex_by_name) IS NULL OR coalesce(r.sex, r.sex_by_name) IS NULL"
            ),
            _level("l.sex = r.sex", "the same sex"),
            _level("l.sex <> r.sex", "different sex"),
            # No evidence: the given names agreeing or alike say it already; and one given
            # name read as one sex against a record of it stating the other ("Andrea") is the
            # name's reading contradicted, not two people.
            _level(
                "coalesce(l.sex, l.sex_by_name) = coalesce(r.sex, r.sex_by_name) "
                "OR l.first = r.first",
                "the same sex, one read from a given name (no evidence)",
                is_null_level=True,
            ),
            {
                "sql_condition": "ELSE",
                "label_for_charts": "different sex, one read from a given name",
            },
        ],
    }
    out = [
        name,
        dob,
        generation,
        address,
        identifiers,
        _overlap("sel_keys", "selector", (2, 1), by_case=True),
        _overlap("monikers", "moniker"),
        _overlap("tie_keys", "tie", (2, 1), by_case=True),
        sex,
        middle,
    ]
    # Written with l./r. for reading; Splink's comparison levels name columns col_l / col_r.
    for comp in out:
        for level in comp["comparison_levels"]:
            level["sql_condition"] = _SIDE.sub(r"\2_\1", level["sql_condition"])
    return out


_SIDE = re.compile(r"\b([lr])\.(\w+)")


# The blocking rule of the records that share a selector: the only pairs ``predict``'s
# ``also`` is evaluated on (every rule's link that keeps a pair below the score floor
# requires a shared selector: run.alias_link_sql, run.entity_alias_sql).
SELECTOR_RULE = "l.sel_keys = r.sel_keys"


def _rule(sql: str, explode: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"blocking_rule": sql, "sql_dialect": "duckdb"}
    if explode:
        out["arrays_to_explode"] = explode
    return out


def _one_side_rare(sql: str) -> list[dict[str, Any]]:
    """The rule ``sql`` where one side's given name or surname is a rare spelling
    (``name_rare``), as one rule per side: each side's condition is then filtered before
    the join, which pairs the few rare records with their block. The two sides in one
    condition (an OR) joined every pair of each block first: a given name's block of
    hundreds of records at a million, to keep a handful of its pairs."""
    return [
        _rule(f"{sql} AND l.name_rare IS NOT NULL"),
        _rule(f"{sql} AND r.name_rare IS NOT NULL"),
    ]


def blocking_rules() -> list[dict[str, Any]]:
    rule = _rule
    # The blk_* columns split blocks of more than MAX_BLOCK records (see blocking_keys).
    return [
        rule("l.dob = r.dob AND l.blk_dob_first = r.blk_dob_first"),
        rule("l.dob = r.dob AND l.blk_dob_sur = r.blk_dob_sur"),
        rule("l.first = r.first AND l.sur1 = r.sur1 AND l.blk_name = r.blk_name"),
        rule("l.sur1 = r.sur1 AND l.sur2 = r.sur2 AND l.blk_surnames = r.blk_surnames"),
        rule("l.first = r.sur1 AND l.sur1 = r.first"),
        # One name part agrees and the other is mistyped, transliterated or missing ("Yustim"
        # and "Justim Bezborod'ko", "Samson" and "Samspn"): every pair of a name part held
        # by at most MAX_BLOCK records, and in larger blocks the pairs whose other part
        # starts alike (blocking on one attribute at a time, Christen, *Data Matching*,
        # 2012, ch. 4).
        *_one_side_rare("l.first = r.first AND l.blk_first = r.blk_first"),
        *_one_side_rare("l.sur1 = r.sur1 AND l.blk_sur = r.blk_sur"),
        # A name mistyped or transliterated another way: its sounds (names.sound_key), when
        # one side's given name or surname is a spelling few records write.
        *_one_side_rare("l.name_sound = r.name_sound AND l.blk_sound = r.blk_sound"),
        rule(
            "l.sur1 = r.sur1 AND substr(l.dob, 1, 4) = substr(r.dob, 1, 4) "
            "AND l.blk_sur_year = r.blk_sur_year"
        ),
        rule("l.blk_name_keys = r.blk_name_keys", ["blk_name_keys"]),
        rule(SELECTOR_RULE, ["sel_keys"]),
        rule("l.id_keys = r.id_keys", ["id_keys"]),
        # A person under another name keeps his street name: the same principal moniker
        # with a stated tie, a given name or a surname in common (each a few thousand
        # pairs at national scale; docs/resolution.md, "Blocking").
        rule("l.moniker = r.moniker AND l.tie_keys = r.tie_keys", ["tie_keys"]),
        rule("l.moniker = r.moniker AND l.sur1 = r.sur1 AND l.blk_mon_sur = r.blk_mon_sur"),
        rule("l.moniker = r.moniker AND l.first = r.first AND l.blk_mon_first = r.blk_mon_first"),
    ]


# A given name or surname spelled this way on at most this many records is a spelling that
# may be a typo or another clerk's transliteration ("frnandes" beside "fernandes"); one that
# several records write is a name ("hong" beside "huong" and "hung", which fold from three
# Vietnamese names, all of one Soundex code). The sound rule compares a pair only when one
# side's spelling is this rare: a typo is rare, a name is not (the reasoning of UMI-tools'
# directional rule, Smith, Heger and Sudbery 2017, as persons.people_frequencies uses it).
# One record, not two: on five of other agencies' lists, 2 let more namesakes in for little
# more recall (docs/resolution-rounds.md, "Names that sound alike, for rare spellings").
RARE_SPELLING = 1

# A blocking key held by more than this many records is held by many people (a person has a
# handful of records; the bound is the one beyond which a selector is a shared line,
# features.COMMON_SELECTOR_RECORDS), and its pairs grow with the square of the records: a
# date of birth among a million records, "david garcia" among a hundred thousand. Such a
# block is split by a second key, so the pairs grow with the records, not their square
# (block purging, Papadakis et al. 2020, which splits here instead of dropping). On the
# national operation no block but three name keys' is that large.
MAX_BLOCK = 50

# blk_* column: (the rule's key, a part of the key at every size or None, the second key
# that splits its large blocks). In a block of at most MAX_BLOCK records the column is the
# part kept at every size, or '' (every pair of the block agrees on it).
#
# Dates of birth spread over a few decades (some 20,000 days), so a date's block grows with
# the records below any split (33 records a date on average at a million synthetic records,
# up to 81; some 500 pairs a date and rule, nearly all two people). Its rules take a name's
# initial at every size: the given name's in one rule, the first surname's in the other; a
# pair with one date of birth is compared when either initial agrees (a nickname with
# another initial keeps the surname's; a changed surname keeps the given name's). A record
# without that name part keys it as '' (records without a given name meet each other by
# date of birth, and everyone else through the other rule). Blocks of a date and an initial
# over MAX_BLOCK are split by the other initial.
_SPLITS: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "blk_dob_first": (("dob",), "coalesce(left(first, 1), '')", "left(sur1, 1)"),
    "blk_dob_sur": (("dob",), "coalesce(left(sur1, 1), '')", "left(first, 1)"),
    "blk_name": (("first", "sur1"), None, "substr(dob, 1, 4)"),
    "blk_sound": (("name_sound",), None, "substr(dob, 1, 4)"),
    "blk_surnames": (("sur1", "sur2"), None, "left(first, 1)"),
    "blk_first": (("first",), None, "left(sur1, 1)"),
    "blk_sur": (("sur1",), None, "left(first, 1)"),
    "blk_sur_year": (("sur1", "substr(dob, 1, 4)"), None, "left(first, 1)"),
    "blk_mon_sur": (("moniker", "sur1"), None, "left(first, 1)"),
    "blk_mon_first": (("moniker", "first"), None, "left(sur1, 1)"),
}


def _split_sql(col: str) -> str:
    key, always, second = _SPLITS[col]
    partition = ", ".join((*key, always) if always else key)
    big = f"count(*) OVER (PARTITION BY {partition}) > {MAX_BLOCK}"
    if always is None:
        return f"CASE WHEN {big} THEN {second} ELSE '' END AS {col}"
    return f"CASE WHEN {big} THEN {always} || '|' || {second} ELSE {always} END AS {col}"


def blocking_keys(features: pa.Table) -> pa.Table:
    """``features`` with the blk_* columns of the blocking rules, in the same row order:
    each rule's key, with blocks of more than MAX_BLOCK records split by a second key (the
    birth year for names, a name's initial for dates of birth; a date of birth's rules take
    an initial at every size); ``blk_name_keys`` is ``name_keys`` with each key held by more
    than MAX_BLOCK records joined to the birth year."""
    if "blk_name_keys" in features.column_names:
        return features
    spill = Path(tempfile.mkdtemp(prefix="lastmile-blocking-"))
    con = connect_duckdb()
    try:
        con.execute("SET enable_progress_bar = false")
        limit_memory(con, spill)
        con.register(
            "f",
            features.append_column("lastmile_row", pa.array(range(features.num_rows), pa.int64())),
        )
        splits = ", ".join(_split_sql(col) for col in _SPLITS)
        out: pa.Table = con.sql(
            f"""
            WITH keys AS (
                SELECT lastmile_row, unnest(name_keys) AS k, substr(dob, 1, 4) AS year FROM f
            ), sized AS (
                SELECT lastmile_row, CASE WHEN count(*) OVER (PARTITION BY k) > {MAX_BLOCK}
                    THEN k || '|' || year ELSE k END AS k FROM keys
            ), lists AS (
                SELECT lastmile_row, list_sort(list(k) FILTER (WHERE k IS NOT NULL))
                    AS blk_name_keys FROM sized GROUP BY lastmile_row
            )
            SELECT f.* EXCLUDE (lastmile_row), {splits}, nullif(l.blk_name_keys, [])
                AS blk_name_keys
            FROM f LEFT JOIN lists l USING (lastmile_row) ORDER BY f.lastmile_row
            """
        ).to_arrow_table()
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return out


def tf_columns(model: Mapping[str, Any]) -> list[str]:
    """The columns the model's comparison levels adjust by term frequency."""
    return sorted(
        {
            str(level["tf_adjustment_column"])
            for comp in model.get("comparisons", [])
            for level in comp.get("comparison_levels", [])
            if level.get("tf_adjustment_column")
        }
    )


# Two dates of birth a clerk's slip apart: one typo (an edit, or two neighbours swapped) or
# the day and month swapped (the "date of birth one typo or a day/month swap apart" level).
_DOB_SLIP = (
    "(damerau_levenshtein(p.p_dob, p.dob) <= 1 OR (left(p.p_dob, 4) = left(p.dob, 4) "
    "AND substr(p.p_dob, 6, 2) = substr(p.dob, 9, 2) "
    "AND substr(p.p_dob, 9, 2) = substr(p.dob, 6, 2)))"
)


def people_frequencies(features: pa.Table, column: str = "fullname") -> pa.Table:
    """``(column, tf_column)``: each value's share of the *people* among ``features`` (records,
    or the entities of an entity pass), for Splink's term-frequency adjustment
    (``register_term_frequency_lookup``; docs/resolution.md, "A name's frequency over people").

    Splink's own table is each value's share of the records, so a person's repeated records
    count again and again: a man written in five case files weighs less on his name than two
    namesakes. Here a value counts the people who bear it, as far as the records tell:

    - its records with a date of birth are as many people as their distinct dates, less the
      dates that are a clerk's slip (one typo, day and month swapped) of a date given at least
      twice as often (the "directional" count of distinct molecules among mistyped barcodes:
      Smith, Heger and Sudbery 2017, UMI-tools); two dates given equally often stay two;
    - a record without a date that shares a selector or an identifier with a dated record of
      the same value in another case file is that record's person; undated records sharing
      one with each other (in other case files) are one unit;
    - each remaining undated unit is another person at the rate at which a value's later
      dated records are another person: over all values, ``(people - 1) / (records - 1)``
      of the values dated on two records or more, with Laplace's one success and one failure
      added (on other agencies' lists about 1 in 10; one half with no value dated twice);
      for a value, its own dated records with that pooled rate as one more record,
      ``(people - 1 + rate) / records`` (a value dated once takes the pooled rate). A
      value no record dates is one person and its further units others at the pooled
      rate. Counting each undated unit at the value's own people per dated record (1 for
      a value dated once) made one woman written once with her date and once without two
      people, on 177 of 2,390 names of one list, and weighed her name down as shared.

    So one man written in five case files counts once when each record gives his date
    (a little more when some do not), and a name of many dates counts many and is still
    weighed down; a name undated on many records counts more the more often the data's
    names repeat (50 such records count 5.9 people at a rate of 1 in 10)."""
    # Bounded and spilling like every other bulk step (DuckDB's default takes 80 % of the
    # machine).
    spill = Path(tempfile.mkdtemp(prefix="lastmile-frequencies-"))
    con = connect_duckdb()
    try:
        con.execute("SET enable_progress_bar = false")
        limit_memory(con, spill)
        cols = [column, "record_id", "investigation_id", "dob", "sel_keys", "id_keys"]
        con.register("f", features.select(cols))
        con.execute(
            f"""
            CREATE TEMP TABLE named AS
            SELECT "{column}" AS v, record_id, investigation_id, dob,
                list_concat(coalesce(sel_keys, []), coalesce(id_keys, [])) AS keys
            FROM f WHERE "{column}" IS NOT NULL
            """
        )
        # Per value: its dated people (dates less slips) and its dated records.
        con.execute(
            f"""
            CREATE TEMP TABLE dated AS
            WITH d AS (SELECT v, dob, count(*) AS n FROM named WHERE dob IS NOT NULL GROUP BY ALL),
            often AS (SELECT * FROM d WHERE n >= 2),
            -- A slip keeps the year (a typo in the day or month, the two swapped) or the day
            -- and month (a typo in the year): two equi-joins, not every pair of a value's dates.
            pairs AS (
                SELECT c.v, c.dob, c.n, p.dob AS p_dob, p.n AS p_n FROM d c
                JOIN often p ON p.v = c.v AND left(p.dob, 4) = left(c.dob, 4)
                UNION ALL
                SELECT c.v, c.dob, c.n, p.dob, p.n FROM d c
                JOIN often p ON p.v = c.v AND substr(p.dob, 6) = substr(c.dob, 6)
            ),
            slips AS (
                SELECT DISTINCT v, dob, true AS slip FROM pairs p
                WHERE p.p_dob <> p.dob AND p.p_n >= 2 * p.n AND {_DOB_SLIP}
            )
            SELECT v, count(*) FILTER (WHERE s.slip IS NULL) AS people, sum(n) AS records
            FROM d LEFT JOIN slips s USING (v, dob) GROUP BY v
            """
        )
        # Undated records and the records of their value in another case file they share a
        # key (a selector, an identifier) with.
        con.execute(
            """
            CREATE TEMP TABLE shared AS
            WITH k AS (
                SELECT v, record_id, investigation_id, dob IS NOT NULL AS dated,
                    unnest(keys) AS k FROM named
            )
            SELECT a.v, a.record_id AS a, b.record_id AS b, b.dated
            FROM k a JOIN k b ON a.v = b.v AND a.k = b.k AND a.record_id <> b.record_id
                AND a.investigation_id IS DISTINCT FROM b.investigation_id
            WHERE NOT a.dated
            """
        )
        con.execute(
            """
            CREATE TEMP TABLE undated AS
            SELECT record_id AS node, v FROM named WHERE dob IS NULL AND record_id NOT IN (
                SELECT a FROM shared WHERE dated)
            """
        )
        from lastmile.resolve import cluster

        cluster.components(
            con,
            "undated",
            "(SELECT s.a, s.b FROM shared s JOIN undated x ON x.node = s.b WHERE NOT s.dated)",
            "undated_units",
        )
        out: pa.Table = con.sql(
            f"""
            WITH units AS (
                SELECT u.v, count(DISTINCT c.component) AS units FROM undated u
                JOIN undated_units c USING (node) GROUP BY u.v
            ), rate AS (
                -- Laplace's rule of succession: with few names dated twice the rate is
                -- near one half, not 0 (every undated name one person) nor 1 (every
                -- undated record another person).
                SELECT (coalesce(sum(people - 1), 0) + 1) / (coalesce(sum(records - 1), 0) + 2)
                    AS rate
                FROM dated WHERE records >= 2
            ), people AS (
                SELECT v, CASE WHEN coalesce(d.records, 0) = 0
                    THEN 1 + (u.units - 1) * (SELECT rate FROM rate)
                    ELSE d.people + coalesce(u.units, 0)
                        * (d.people - 1 + (SELECT rate FROM rate)) / d.records
                    END AS n
                FROM dated d FULL JOIN units u USING (v)
            )
            SELECT v AS "{column}", CAST(n AS DOUBLE) / sum(n) OVER () AS "tf_{column}"
            FROM people ORDER BY v
            """
        ).to_arrow_table()
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return out


def settings() -> dict[str, Any]:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": blocking_rules(),
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "probability_two_random_records_match": 1e-4,
    }


def _release(con: duckdb.DuckDBPyConnection, spill: Path) -> None:
    con.close()
    shutil.rmtree(spill, ignore_errors=True)


def duckdb_api() -> Any:
    """Splink's DuckDB backend on a connection of its own, bounded like the store's
    ($LASTMILE_MEMORY_LIMIT) and spilling to a temporary directory: DuckDB's default takes
    80 % of the machine's memory. The connection is closed and its directory removed by
    :func:`release` (or when the API object is collected)."""
    from splink import DuckDBAPI

    spill = Path(tempfile.mkdtemp(prefix="lastmile-splink-"))
    con = connect_duckdb()
    con.execute("SET enable_progress_bar = false")
    limit_memory(con, spill)
    api: Any = DuckDBAPI(connection=con)
    api.lastmile_release = weakref.finalize(api, _release, con, spill)
    return api


def release(linker: Any) -> None:
    """Close the connection :func:`duckdb_api` made for ``linker`` (no-op on Spark)."""
    done = getattr(linker._db_api, "lastmile_release", None)
    if done is not None:
        done()


def _api(engine: str, spark: Any = None) -> Any:
    if engine == "duckdb":
        return duckdb_api()
    if engine == "spark":
        from lastmile.resolve import spark as spark_engine

        return spark_engine.api(spark)
    raise ResolveError(f"unknown engine {engine!r}: use duckdb or spark")


# A boolean column of the rows compared: when present, only pairs with a true side are
# compared (collective.predict_entities: the entities that changed since the last pass).
CHANGED_COLUMN = "lastmile_changed"


def _changed_only(rules: list[Any]) -> list[Any]:
    """The blocking rules, each also requiring a side marked in CHANGED_COLUMN."""
    extra = f" AND (l.{CHANGED_COLUMN} OR r.{CHANGED_COLUMN})"
    out: list[Any] = []
    for rule in rules:
        if isinstance(rule, str):
            out.append(f"({rule}){extra}")
        else:
            out.append({**rule, "blocking_rule": f"({rule['blocking_rule']}){extra}"})
    return out


def _linker(
    features: pa.Table,
    model: Mapping[str, Any] | None,
    engine: str,
    spark: Any = None,
    rules: list[Any] | None = None,
    sdf: Any = None,
    frequencies: Mapping[str, pa.Table] | None = None,
) -> Any:
    """A Splink linker of ``features`` under ``model``; ``rules`` replace the model's
    blocking rules for prediction, ``sdf`` is the records already registered (by an
    earlier linker of the same features, whose connection it then shares), and
    ``frequencies`` the people_frequencies of some columns already counted on them."""
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    shared = sdf is not None
    if sdf is None:
        api = _api(engine, spark)
        sdf = api.register(blocking_keys(features), table_name="person_features")
    else:
        api = sdf.db_api
    chosen = dict(model) if model else settings()
    # Term frequencies over people, not records (people_frequencies), on every linker:
    # training, prediction, the entity passes and explain. Registered under a name Splink
    # makes (it may replace its own tables: a Spark session keeps the views of the runs
    # before). A linker sharing the records of an earlier one (``sdf``) shares its engine's
    # cache, where the earlier one's lookup already is (Splink keeps one cache per engine
    # API; about 9 s a count at a million records).
    cache = getattr(api, "_intermediate_table_cache", None) if shared else None
    counted = dict(frequencies or {})
    lookups = {
        column: api.register(
            counted[column] if column in counted else people_frequencies(features, column)
        )
        for column in tf_columns(chosen)
        if cache is None or f"__splink__df_tf_{column}" not in cache
    }
    if rules is not None:
        chosen["blocking_rules_to_generate_predictions"] = rules
    if CHANGED_COLUMN in features.column_names:
        chosen["blocking_rules_to_generate_predictions"] = _changed_only(
            list(chosen.get("blocking_rules_to_generate_predictions", []))
        )
    if engine == "spark":
        # The model is kept in DuckDB's SQL; Spark gets it rendered in its own.
        from lastmile.resolve import spark as spark_engine

        chosen = spark_engine.to_spark(chosen)
    linker = Linker(sdf, chosen, log_level=None)
    for column, table in lookups.items():
        linker.table_management.register_term_frequency_lookup(table, column)
    return linker


# The prior (the probability that two records match) is counted from the record pairs that
# agree on full name and date of birth (PRIOR_RULE) and divided by that rule's recall (the
# share of true pairs it finds; Splink's estimate_probability_two_random_records_match).
# The count starts from this stated recall, and is then rescaled to the recall the trained
# model implies (rule_recall; docs/resolution-rounds.md, "The prior, estimated").
PRIOR_RULE = ("fullname", "dob")
STARTING_RULE_RECALL = 0.6
# Which recall divides the count: "estimated" (rule_recall, the default; the records that
# carry stated ties are then merged at cluster.TIED_THRESHOLD) or "stated"
# (STARTING_RULE_RECALL, as before: a margin of precision on every pair; docs/resolution-rounds.md,
# "The prior, estimated"). The estimate is computed and recorded with the run either way.
PRIOR_MODES = ("estimated", "stated")
DEFAULT_PRIOR = "estimated"
# The key of a saved model's file (``resolve --save-model``) holding the prior's estimate
# (ResolveResult.prior); Splink's settings take no such key, so it is removed on loading.
SAVED_PRIOR = "lastmile_prior"
# The implied recall is used between these bounds: below, the rule finds too few pairs to
# count from (the prior would rest on a handful of pairs); above, it is the stated one.
RULE_RECALL_BOUNDS = (0.02, 1.0)
# The levels whose m-probabilities make the rule: (comparison, level label).
_RULE_LEVELS = (("name", "the same full name"), ("dob", "the same date of birth"))


def _m(model: Mapping[str, Any], comparison: str, label: str) -> float | None:
    for comp in model.get("comparisons", []):
        if comp.get("output_column_name") != comparison:
            continue
        for lv in comp["comparison_levels"]:
            if lv.get("label_for_charts") == label and not lv.get("is_null_level"):
                m = lv.get("m_probability")
                return float(m) if m is not None else None
    return None


def rule_recall(model: Mapping[str, Any], features: pa.Table) -> float | None:
    """The share of true pairs that PRIOR_RULE finds, as the trained model implies it: the
    chance that both records of a true pair give a full name and a date of birth (the square
    of the share of records that give both) times m of "the same full name" times m of "the
    same date of birth" (m is learned over the pairs where both sides give the field, so the
    presence enters apart; the fields are taken as independent given a match, as the
    Fellegi-Sunter model takes them). None when the model has no m for either level."""
    ms = [_m(model, comp, label) for comp, label in _RULE_LEVELS]
    if any(m is None for m in ms) or features.num_rows == 0:
        return None
    import pyarrow.compute as pc

    both = pc.and_(pc.is_valid(features["fullname"]), pc.is_valid(features["dob"]))
    present = int(pc.sum(pc.cast(both, pa.int64())).as_py() or 0)
    share = present / features.num_rows
    recall: float = share * share
    for m in ms:
        recall *= float(m or 0.0)
    return recall


def estimate_prior(
    model: dict[str, Any],
    features: pa.Table,
    training: dict[str, Any] | None = None,
    prior: str = "estimated",
) -> dict[str, Any]:
    """``model`` with its prior counted at STARTING_RULE_RECALL rescaled to the rule's
    recall the model implies (``rule_recall``), when ``prior`` is "estimated": Splink's
    count goes as 1 / recall, and the m-probabilities do not depend on the prior (EM
    estimates its own within each blocked pass), so one rescaling is the fixed point.
    With "stated" the model is returned as it is. ``training`` receives the prior counted,
    the recall stated, estimated and used, and the prior the estimate gives."""
    if prior not in PRIOR_MODES:
        raise ResolveError(f"unknown prior {prior!r}: use {' or '.join(PRIOR_MODES)}")
    training = training if training is not None else {}
    counted = model.get("probability_two_random_records_match")
    recall = rule_recall(model, features)
    training["mode"] = prior
    training["prior_counted"] = counted
    training["rule_recall_stated"] = STARTING_RULE_RECALL
    training["rule_recall_estimated"] = recall
    training["rule_recall_used"] = STARTING_RULE_RECALL
    if counted is None or recall is None or not 0.0 < counted < 1.0:
        return model
    low, high = RULE_RECALL_BOUNDS
    bounded = min(max(recall, low), high)
    estimated = min(0.5, float(counted) * STARTING_RULE_RECALL / bounded)
    training["prior_estimated"] = estimated
    if prior == "stated":
        return model
    training["rule_recall_used"] = bounded
    out = dict(model)
    out["probability_two_random_records_match"] = estimated
    return out


def train(
    features: pa.Table,
    engine: str = "duckdb",
    spark: Any = None,
    skipped: list[str] | None = None,
    training: dict[str, Any] | None = None,
    prior: str | None = None,
) -> dict[str, Any]:
    """A model trained on these records: u by random sampling, m by EM in two passes.

    The prior (the probability that two records match) is counted from records that agree
    on full name and date of birth and divided by that rule's recall: the share of true
    pairs the rule finds as the trained m-probabilities imply it (``prior`` "estimated",
    DEFAULT_PRIOR; ``estimate_prior``) or STARTING_RULE_RECALL ("stated"). ``training``
    receives the estimate either way (recorded with the run)."""
    prior = prior or DEFAULT_PRIOR
    if prior not in PRIOR_MODES:
        raise ResolveError(f"unknown prior {prior!r}: use {' or '.join(PRIOR_MODES)}")
    # The name levels' frequency adjustments are set before training, as they will be
    # applied: expectation maximisation weighs every pair with them.
    # The frequencies are counted once, for the base and the training linker's lookup.
    column = str(GIVEN_SUR_FREQUENCY["tf_adjustment_column"])
    counted = {column: people_frequencies(features, column)}
    base = given_sur_base(counted[column])
    linker = _linker(
        features, given_sur_frequencies(settings(), base), engine, spark, frequencies=counted
    )
    from splink import block_on

    def sample_u(t: Any) -> None:
        t.estimate_u_using_random_sampling(max_pairs=2e6, seed=2022)
        _restore_given_sur_base(linker, base)

    skipped = skipped if skipped is not None else []
    steps: list[tuple[str, Any]] = [
        (
            "prior from full name and date of birth",
            lambda t: t.estimate_probability_two_random_records_match(
                [block_on(*PRIOR_RULE)], recall=STARTING_RULE_RECALL
            ),
        ),
        ("u by random sampling", sample_u),
        (
            "m by EM, blocked on date of birth",
            lambda t: t.estimate_parameters_using_expectation_maximisation(
                block_on("dob"), max_pairs=EM_MAX_PAIRS
            ),
        ),
        (
            "m by EM, blocked on given name and surname",
            lambda t: t.estimate_parameters_using_expectation_maximisation(
                block_on("first", "sur1"), max_pairs=EM_MAX_PAIRS
            ),
        ),
    ]
    snapshot: dict[str, Any] = linker.misc.save_model_to_json()
    done: list[str] = []
    for name, step in steps:
        # Few records may give a training pass no pairs: that pass is skipped, and its
        # parameters keep the values before it (recorded with the run). A failed pass can
        # leave the linker's settings half-changed, so training resumes from a snapshot.
        try:
            step(linker.training)
            snapshot = linker.misc.save_model_to_json()
            done.append(name)
        except Exception as exc:  # Splink raises its own and the engine's errors
            skipped.append(f"{name}: {str(exc).splitlines()[0][:200]}")
            release(linker)
            linker = _linker(features, snapshot, engine, spark, frequencies=counted)
    model: dict[str, Any] = linker.misc.save_model_to_json()
    release(linker)
    if engine == "spark":
        from lastmile.resolve import spark as spark_engine

        model = spark_engine.to_duckdb(model, settings())
    model = given_sur_frequencies(model, base)
    # The rule's recall is read from m of the full name (learned in the pass blocked on the
    # date of birth) and of the date (in the pass blocked on the name): only when the prior
    # was counted and both passes ran.
    if len(done) == len(steps):
        model = estimate_prior(model, features, training, prior)
    elif training is not None:
        training.update(mode=prior, rule_recall_used=STARTING_RULE_RECALL)
    # On a handful of records the prior can come out 0 or 1 (every or no pair found by the
    # deterministic rule): then one match per record is assumed, 1 / (n - 1).
    value = model.get("probability_two_random_records_match") or 0.0
    if not 0.0 < value < 0.5:
        n = max(features.num_rows, 3)
        model["probability_two_random_records_match"] = 1.0 / (n - 1)
        skipped.append(f"prior estimated as {value}; 1/(n-1) used instead")
    return model


def load_model(path: Path) -> dict[str, Any]:
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResolveError(f"cannot read the model {path}: {exc}") from exc
    if not isinstance(model, dict) or "comparisons" not in model:
        raise ResolveError(f"{path} is not a Splink model saved by lastmile resolve")
    problem = _model_problem(model)
    if problem:
        raise ResolveError(f"{path}: not a model lastmile can apply: {problem}")
    return model


def _probability(value: Any, low_open: bool = False) -> bool:
    """Whether ``value`` is a probability (a number from 0 to 1; above 0 if ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (value > 0 if low_open else value >= 0) and value <= 1


def _model_problem(model: dict[str, Any]) -> str:
    """What makes a loaded model unusable (an edited or truncated file), or "": the
    comparisons this lastmile compares, each with levels of SQL and label, the m and u of
    each level probabilities, and the prior a probability above 0 and below 1."""
    prior = model.get("probability_two_random_records_match")
    if not _probability(prior, low_open=True) or prior == 1:
        return f"probability_two_random_records_match is {prior!r}, not a number in (0, 1)"
    comparisons = model["comparisons"]
    if not isinstance(comparisons, list) or not all(isinstance(c, dict) for c in comparisons):
        return "comparisons is not a list of comparisons"
    names = {c.get("output_column_name") for c in comparisons}
    wanted = [c["output_column_name"] for c in settings()["comparisons"]]
    missing = [name for name in wanted if name not in names]
    if missing:
        return f"no comparison {', '.join(map(repr, missing))}"
    for c in comparisons:
        levels = c.get("comparison_levels")
        name = c.get("output_column_name")
        if not isinstance(levels, list) or not levels:
            return f"comparison {name!r} has no levels"
        for level in levels:
            if not isinstance(level, dict) or not isinstance(level.get("sql_condition"), str):
                return f"a level of comparison {name!r} has no sql_condition"
            for key in ("m_probability", "u_probability"):
                if key in level and not _probability(level[key]):
                    return f"comparison {name!r}: {key} {level[key]!r} is not a probability"
    return ""


def predict(
    features: pa.Table,
    model: Mapping[str, Any],
    engine: str = "duckdb",
    spark: Any = None,
    chunk_records: int = PREDICT_CHUNK_RECORDS,
    also: str | None = None,
    floor: float = ENTITY_PREDICT_FLOOR,
) -> pa.Table:
    """Every blocked pair scoring at least ``floor`` (the records' prediction in
    ``run.resolve`` passes PREDICT_FLOOR, to keep the possible matches too), with each
    comparison's level (gamma_*) and match weight (mw_* / bf_*); scored ``chunk_records``
    left-hand records at a time.
    ``also``: SQL over a prediction row (its gamma_* columns) keeping a pair whatever its
    score (the pairs a rule links, see ``run.alias_link_sql``), among the pairs of records
    that share a selector (SELECTOR_RULE): every such rule requires a shared selector.

    The pairs below the floor are filtered where Splink scores them: only the pairs that
    share a selector are scored a second time, unfiltered, for ``also`` (a handful of
    records each). Scoring every blocked pair unfiltered (as ``also`` first did) wrote
    every pair, with every compared value, before the filter (docs/resolution-rounds.md,
    "Scale")."""
    linker = _linker(features, model, engine, spark)
    chunks = max(1, math.ceil(features.num_rows / max(1, chunk_records)))
    selector_rule = [_rule(SELECTOR_RULE, ["sel_keys"])]
    try:
        frames = [
            linker.inference.predict(
                threshold_match_probability=floor,
                num_chunks_left=chunks,
                num_chunks_right=1,
            )
        ]
        keep = ["TRUE"]
        if also:
            shared = _linker(
                features, model, engine, spark, rules=selector_rule, sdf=_registered(linker)
            )
            frames.append(shared.inference.predict(num_chunks_left=chunks, num_chunks_right=1))
            # The pairs at or above the floor are in the first frame already.
            keep.append(f"match_probability < {floor} AND ({also})")
        parts = [_fetch(df, k, engine) for df, k in zip(frames, keep, strict=True)]
    finally:
        release(linker)
    return pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]


def _registered(linker: Any) -> Any:
    """The records ``linker`` was made with, as registered on its engine, or None (then
    ``_linker`` registers them again) if this Splink keeps them elsewhere: the attribute is
    Splink's own, and sharing it only saves registering the records twice."""
    tables = getattr(linker, "_input_tables_dict", None)
    if not isinstance(tables, Mapping) or len(tables) != 1:
        return None
    return next(iter(tables.values()))


def _fetch(df: Any, keep: str, engine: str) -> pa.Table:
    """The rows of Splink's predictions ``df`` where the SQL ``keep`` holds, into Arrow."""
    if engine == "duckdb":
        # The compared values themselves (first_l, sel_keys_r...) are not needed after
        # prediction (the levels and weights say what agreed): leaving them in DuckDB
        # keeps the pairs brought into Python narrow.
        rel = df.as_duckdbpyrelation().filter(keep)
        kept = [c for c in rel.columns if c not in _MATCHING]
        out: pa.Table = rel.project(", ".join(f'"{c}"' for c in kept)).to_arrow_table()
        return out
    if hasattr(df, "as_spark_dataframe"):
        # Filtered in Spark: only the kept pairs come back to the driver.
        kept_df = df.as_spark_dataframe().filter(keep)
        if hasattr(kept_df, "toArrow"):
            out = kept_df.toArrow()
        else:
            out = pa.Table.from_pandas(kept_df.toPandas())
        return out
    if hasattr(df, "as_pyarrow_table"):  # pragma: no cover - other engines
        out = df.as_pyarrow_table()
        return out
    return pa.Table.from_pandas(df.as_pandas_dataframe())  # pragma: no cover


_MATCHING = frozenset(f"{c}_{side}" for c in FEATURE_COLUMNS[1:] for side in "lr")


def score_pair(
    features: pa.Table,
    model: Mapping[str, Any],
    a: str,
    b: str,
    engine: str = "duckdb",
    spark: Any = None,
) -> pa.Table:
    """The model's score for records ``a`` and ``b``, compared or not: one row with each
    comparison's level (gamma_*) and match weight (mw_*), the match weight and probability,
    and ``found_by_blocking_rules`` (whether prediction would have compared them at all).
    Term frequencies come from ``features``, as in :func:`predict`."""
    import pyarrow.compute as pc

    features = blocking_keys(features)
    linker = _linker(features, model, engine, spark)
    rows: list[Any] = []
    for rid in (a, b):
        row = features.filter(pc.equal(features["record_id"], rid))
        if row.num_rows != 1:
            raise ResolveError(f"no subject record {rid!r} among the records resolved")
        rows.append(linker.table_management.register_table(row, f"lastmile_pair_{len(rows)}"))
    df = linker.inference.score_pair(rows[0], rows[1], include_found_by_blocking_rules=True)
    out: pa.Table = df.as_pyarrow_table()
    return out


def tf_adjusted(model: Mapping[str, Any]) -> list[str]:
    """The comparisons with a term-frequency adjustment (Splink writes its weight as
    ``mw_tf_adj_<comparison>`` beside ``mw_<comparison>``)."""
    return [
        comp["output_column_name"]
        for comp in model["comparisons"]
        if any(lv.get("tf_adjustment_column") for lv in comp["comparison_levels"])
    ]


def level_labels(model: Mapping[str, Any]) -> dict[str, dict[int, tuple[str, float | None]]]:
    """For each comparison, its levels by comparison vector value: (label, match weight)."""
    import math

    out: dict[str, dict[int, tuple[str, float | None]]] = {}
    for comp in model["comparisons"]:
        levels = comp["comparison_levels"]
        n = len([lv for lv in levels if not lv.get("is_null_level")])
        by_gamma: dict[int, tuple[str, float | None]] = {}
        g = n - 1
        for lv in levels:
            if lv.get("is_null_level"):
                by_gamma[-1] = (lv.get("label_for_charts", "missing"), 0.0)
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            by_gamma[g] = (lv.get("label_for_charts", ""), weight)
            g -= 1
        out[comp["output_column_name"]] = by_gamma
    return out
