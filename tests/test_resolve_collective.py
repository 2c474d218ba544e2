"""Collective evidence over entities (docs/resolution-rounds.md, "Issue 10, fifth round"): what all
of two entities' records hold together decides a link that no pair of records decides."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.resolve import cluster, collective, persons
from lastmile.resolve.run import EVIDENCE_SQL, corroborated
from lastmile.store import open_workspace


def test_two_kinds_of_what_a_person_holds_outweigh_a_date_conflict() -> None:
    """Two sides share two kinds of evidence (a phone and a moniker, an identifier and a
    tie): one person whatever the dates say. One kind is not enough; two sexes or two
    generations are two people; and two sides that share a surname (a father and his son)
    need a kind of the person's own (a moniker, an identifier) or two phones, since a
    family shares an address, a phone and its contacts."""
    phone, phone2 = {"phone:+13035550187"}, {"phone:+13035550188"}
    cases: list[tuple[dict[str, set[str]], dict[str, set[str]], bool]] = [
        (
            {"selector": phone, "moniker": {"flaco"}},
            {"selector": phone, "moniker": {"flaco"}},
            True,
        ),
        (
            {"identifier": {"ssn:1"}, "tie": {"org:x"}},
            {"identifier": {"ssn:1"}, "tie": {"org:x"}},
            True,
        ),
        ({"selector": phone}, {"selector": phone}, False),
        (
            {"selector": phone, "moniker": {"flaco"}},
            {"selector": phone, "moniker": {"gordo"}},
            False,
        ),
        # Two sexes, two generations.
        (
            {"selector": phone, "moniker": {"flaco"}, "sex": {"M"}},
            {"selector": phone, "moniker": {"flaco"}, "sex": {"F"}},
            False,
        ),
        (
            {"selector": phone, "moniker": {"flaco"}, "suffix": {"jr"}},
            {"selector": phone, "moniker": {"flaco"}, "suffix": {"sr"}},
            False,
        ),
        # A family: one surname, one address, one phone, one crew.
        (
            {"selector": phone, "address": {"1 main st"}, "tie": {"org:x"}, "surname": {"nava"}},
            {"selector": phone, "address": {"1 main st"}, "tie": {"org:x"}, "surname": {"nava"}},
            False,
        ),
        (
            {"selector": phone, "address": {"1 main st"}, "surname": {"nava"}},
            {"selector": phone, "address": {"1 main st"}, "surname": {"soto"}},
            True,
        ),
        (
            {"selector": phone | phone2, "tie": {"org:x"}, "surname": {"nava"}},
            {"selector": phone | phone2, "tie": {"org:x"}, "surname": {"nava"}},
            True,
        ),
        (
            {"selector": phone, "moniker": {"flaco"}, "surname": {"nava"}},
            {"selector": phone, "moniker": {"flaco"}, "surname": {"nava"}},
            True,
        ),
        # An identifier and one name, under two dates of birth: a father and his son
        # (no Jr. or Sr. written) whose number a clerk put on both, as often as one man
        # whose date a clerk got wrong; the dates decide (docs/resolution.md, "FEBRL").
        (
            {"identifier": {"ssn:1"}, "name": {"robert kellerman"}, "surname": {"kellerman"}},
            {"identifier": {"ssn:1"}, "name": {"robert kellerman"}, "surname": {"kellerman"}},
            False,
        ),
    ]
    for a, b, want in cases:
        assert corroborated(a, b) is want, (a, b)
        assert corroborated(b, a) is want, (b, a)


def _clusters(con: duckdb.DuckDBPyConnection, *, evidence: bool) -> dict[str, str]:
    """Each node's component over ``edges``, a differing date of birth a conflict, with or
    without the records' pooled evidence (run.EVIDENCE_SQL, run.corroborated)."""
    cluster.constrained_components(
        con,
        "(SELECT record_id AS node FROM person_features)",
        "edges",
        "(SELECT NULL::VARCHAR AS a, NULL::VARCHAR AS b WHERE false)",
        "(SELECT record_id AS node, dob AS value FROM person_features)",
        "x.value <> y.value",
        "cc",
        evidence=EVIDENCE_SQL if evidence else None,
        corroborated=corroborated if evidence else None,
    )
    return {str(n): str(c) for n, c in con.execute("SELECT node, component FROM cc").fetchall()}


def _features(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
    """``person_features`` of (record, case, dob, sex, surname, monikers, phones, ties)."""
    con.execute(
        "CREATE OR REPLACE TABLE person_features (record_id VARCHAR, investigation_id VARCHAR, "
        "dob VARCHAR, sex VARCHAR, sur1 VARCHAR, monikers VARCHAR[], sel_keys VARCHAR[], "
        "tie_keys VARCHAR[], id_keys VARCHAR[], addr_streets VARCHAR[], suffix VARCHAR, "
        "sur2 VARCHAR)"
    )
    con.executemany(
        "INSERT INTO person_features VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)", rows
    )


def test_a_link_refused_for_its_dates_is_tried_again_when_the_clusters_grow() -> None:
    """a and b share a phone under two dates of birth: one kind, refused. Once b is joined
    with c (no date), which bears a's moniker, the two sides share a phone and a moniker,
    and the refused link is made after all; with no evidence at all it stays refused."""
    con = duckdb.connect()
    phone = ["phone:+13035550187"]
    _features(
        con,
        [
            ("a", "i1", "1980-01-01", "M", None, ["flaco"], phone, None),
            ("b", "i2", "1975-05-05", "M", None, None, phone, None),
            ("c", "i3", None, "M", None, ["flaco"], None, None),
        ],
    )
    con.execute(
        "CREATE TABLE edges AS SELECT * FROM (VALUES ('a', 'b', 0.99, false), "
        "('b', 'c', 0.9, false)) t(a, b, probability, forced)"
    )

    got = _clusters(con, evidence=True)
    assert got["a"] == got["b"] == got["c"]
    got = _clusters(con, evidence=False)
    assert got["a"] != got["b"] and got["b"] == got["c"]


def _links(rows: list[tuple[object, ...]], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    con = duckdb.connect()
    _features(con, rows)
    con.execute(
        "CREATE TABLE person_edges (a VARCHAR, b VARCHAR, match_weight DOUBLE, "
        "probability DOUBLE, evidence VARCHAR)"
    )
    con.executemany("INSERT INTO person_edges VALUES (?, ?, 10, 0.99, 'model')", edges)
    n = collective.corroborated_links(con)
    got = {
        (str(a), str(b))
        for a, b in con.execute(
            "SELECT a, b FROM person_edges WHERE evidence <> 'model'"
        ).fetchall()
    }
    assert n == len(got)
    assert set(con.execute("SELECT a, b FROM entity_exempt").fetchall()) == got
    return got


def test_entities_sharing_a_moniker_and_two_contacts_are_one_person() -> None:
    """Two entities of several records each, under two names and two dates of birth, that
    share a moniker and the phones of two contacts are linked (and exempt from the date
    constraint). One contact, a single record on a side, a case file in common, or two
    sexes: no link."""
    x, y, z = "sel:phone:+13035550101", "sel:phone:+13035550102", "sel:phone:+13035550103"

    def entity(
        e: str, case: str, sex: str, ties: list[str], n: int = 2
    ) -> list[tuple[object, ...]]:
        return [
            (f"{e}{i}", f"{case}-{i}", None, sex, None, ["el chino", "chino"], None, ties)
            for i in range(n)
        ]

    def edges(*entities: tuple[str, int]) -> list[tuple[str, str]]:
        return [(f"{e}0", f"{e}{i}") for e, n in entities for i in range(1, n)]

    # Anna's and Linda's records: one woman, two names, the same contacts.
    assert _links(
        entity("a", "i", "F", [x, y]) + entity("b", "j", "F", [y, x, z]), edges(("a", 2), ("b", 2))
    ) == {("a0", "b0")}
    # One contact in common.
    assert (
        _links(
            entity("a", "i", "F", [x, y]) + entity("b", "j", "F", [x, z]), edges(("a", 2), ("b", 2))
        )
        == set()
    )
    # A single record on one side.
    assert (
        _links(entity("a", "i", "F", [x, y]) + entity("b", "j", "F", [x, y], n=1), edges(("a", 2)))
        == set()
    )
    # A case file in common: the case listed them apart.
    assert (
        _links(
            entity("a", "i", "F", [x, y]) + entity("b", "i", "F", [x, y]), edges(("a", 2), ("b", 2))
        )
        == set()
    )
    # A man and a woman.
    assert (
        _links(
            entity("a", "i", "F", [x, y]) + entity("b", "j", "M", [x, y]), edges(("a", 2), ("b", 2))
        )
        == set()
    )
    # No moniker on one side.
    plain = [
        (r[0], r[1], r[2], r[3], r[4], None, r[6], r[7]) for r in entity("b", "j", "F", [x, y])
    ]
    assert _links(entity("a", "i", "F", [x, y]) + plain, edges(("a", 2), ("b", 2))) == set()


def test_a_tie_or_an_address_of_many_records_corroborates_nothing() -> None:
    """A moniker and a tie outweigh a date conflict, unless the tie is held by more records
    than a shared line's bound (a gang named in every case): then only the moniker is
    shared, one kind, and the dates keep the two apart."""

    def together(fillers: int) -> bool:
        con = duckdb.connect()
        tie = ["org:eastsidelocos@CA/los angeles/gang"]
        rows: list[tuple[object, ...]] = [
            ("a", "i1", "1980-01-01", "M", None, ["flaco"], None, tie),
            ("b", "i2", "1975-05-05", "M", None, ["flaco"], None, tie),
        ]
        rows += [(f"f{i}", f"j{i}", None, None, None, None, None, tie) for i in range(fillers)]
        _features(con, rows)
        con.execute(
            "CREATE TABLE edges AS SELECT 'a' AS a, 'b' AS b, 0.99 AS probability, false AS forced"
        )
        got = _clusters(con, evidence=True)
        return bool(got["a"] == got["b"])

    assert together(fillers=3)
    assert not together(fillers=persons.MAX_BLOCK)


def test_the_date_override_is_on_by_default_can_be_turned_off_and_is_recorded(
    tmp_path: Path,
) -> None:
    # On by default; `--no-corroborate-dates` turns it off, and the run records which.
    from tests.test_resolve import make_operation

    make_operation(tmp_path / "op")
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        assert ingest_paths(ws, [tmp_path / "op"], rejects=tmp_path / "r.csv").rejected == 0
    runner = CliRunner()
    for args, want in (
        ([], True),
        (["--no-corroborate-dates"], False),
        (["--corroborate-dates"], True),
    ):
        res = runner.invoke(app, ["resolve", *args, "--format", "json", "-w", str(path)])
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["corroborate_dates"] is want
        with open_workspace(path) as ws:
            rows = ws.store.rows(
                "SELECT counts_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1"
            )
        assert json.loads(str(rows[0][0]))["corroborate_dates"] is want


def test_the_date_override_joins_one_person_under_two_dates_only_when_on(tmp_path: Path) -> None:
    """End to end through `lastmile resolve` (run._clusters): one man written the same way
    by two agencies, with one phone and one moniker, under two dates of birth eight years
    apart (a false identity's false date). The model links the two records; with the
    override (the default) the pooled evidence, a phone and a moniker (two kinds), joins
    them; with `--no-corroborate-dates` the date constraint keeps them apart."""
    import csv

    from tests.test_resolve import make_operation

    folder = tmp_path / "op"
    make_operation(folder)
    planted = [
        ("I1-S900", "I1", "1980-01-01", "I1-P900"),
        ("I3-S901", "I3", "1972-09-15", "I3-P901"),
    ]
    for name, rows in (
        (
            "subjects",
            [
                {
                    "subject_id": sid,
                    "investigation_id": inv,
                    "full_name": "Hector Salas Nava",
                    "dob": dob,
                    "monikers": "El Gordo",
                }
                for sid, inv, dob, _ in planted
            ],
        ),
        (
            "selectors",
            [
                {
                    "selector_id": pid,
                    "investigation_id": inv,
                    "subject_id": sid,
                    "kind": "phone",
                    "value": "602-555-0190",
                }
                for sid, inv, _, pid in planted
            ],
        ),
    ):
        path = folder / f"{name}.csv"
        with path.open(newline="", encoding="utf-8") as f:
            header = list(csv.DictReader(f).fieldnames or [])
        with path.open("a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, header).writerows(rows)
    runner = CliRunner()
    for args, want in (([], True), (["--no-corroborate-dates"], False)):
        path = tmp_path / f"ws{len(args)}.duckdb"
        with open_workspace(path) as ws:
            assert ingest_paths(ws, [folder], rejects=tmp_path / "r.csv").rejected == 0
        res = runner.invoke(app, ["resolve", *args, "--format", "json", "-w", str(path)])
        assert res.exit_code == 0, res.output
        with open_workspace(path) as ws:
            entities = {
                str(r): str(e)
                for r, e in ws.store.rows(
                    "SELECT record_id, entity_id FROM entity_members "
                    "WHERE record_type = 'subjects' AND record_id IN ('I1-S900', 'I3-S901')"
                )
            }
        assert len(entities) == 2
        assert (entities["I1-S900"] == entities["I3-S901"]) is want, (args, entities)
