"""Deconfliction through a line passed on to another user (docs/resolution.md,
"Deconfliction", *Lines passed on*).

A small operation written here, on both stores. Beto's burner chain: his old phone (listed by
agency A1's case) goes silent in May and his next one carries on with the same people in
June; on July 1 he starts a third phone with those people, while the June phone keeps
running with other people's: he handed it down to Chuy, whose record in agency A2's case
lists it; A2's case also shows Beto's May phone. Agency A3's case obtained the June phone's
records in June (Beto's time), agency A4's in late June and early July (both users' times).
Nothing in the records says who used the June phone when; the passing's day D (July 1) is
read off the communications. Dora's chain is
the same without the passing: her June phone keeps its contacts after she starts a second
phone in July, and agency A2's record of "Dorotea" lists the June phone. Fay's chain ends
with a phone that simply stops.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from lastmile.comms.handovers import HandoverParams, handovers_sql, passings, passings_sql
from lastmile.ingest import ingest_paths
from lastmile.resolve import conflicts
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import connect_duckdb
from tests.test_resolve_conflicts import found_bases, keys, stored

B_OLD, B_MID, B_NEW = "602-555-0801", "602-555-0802", "602-555-0803"
D_OLD, D_MAIN, D_2ND = "602-555-0901", "602-555-0902", "602-555-0903"
F_OLD, F_MID, F_OTHER, F_NEW1, F_NEW2 = (f"602-555-07{k:02d}" for k in range(1, 6))
T3, T4 = "602-555-0301", "602-555-0401"
LINES = (B_OLD, B_MID, B_NEW, D_OLD, D_MAIN, D_2ND, F_OLD, F_MID, F_OTHER, F_NEW1)
E164 = {v: "+1" + v.replace("-", "") for v in LINES}


def _write(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _talk(inv: str, line: str, others: list[str], month: int, days: list[int]) -> list[dict]:
    """``line`` calls each of ``others`` on each of ``days`` of ``month`` (2022)."""
    return [
        {
            "investigation_id": inv,
            "time": f"2022-{month:02d}-{d:02d}T10:{k:02d}:00Z",
            "from_selector": line,
            "to_selector": other,
            "kind": "call",
            "platform": "",
        }
        for d in days
        for k, other in enumerate(others)
    ]


def _numbers(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-555-{1000 + k:04d}" for k in range(n)]


def write_operation(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "agencies",
        [{"agency_id": f"A{i}", "name": f"Agency {i}", "kind": "local"} for i in (1, 2, 3, 4)],
    )
    cases = [
        ("J1", "A1"),
        ("J2", "A2"),
        ("J3", "A3"),
        ("J4", "A4"),
        ("K1", "A1"),
        ("K2", "A2"),
        ("M1", "A3"),
    ]
    _write(
        folder,
        "investigations",
        [
            {"investigation_id": i, "agency_id": a, "division": "Phoenix", "opened": "2022-04-01"}
            for i, a in cases
        ],
    )
    people = [
        ("J1-S1", "J1", "Beto Primero", B_OLD),
        ("J2-S1", "J2", "Chuy Segundo", B_MID),
        ("J3-S1", "J3", "Tere Tercera", T3),
        ("J4-S1", "J4", "Tito Cuarto", T4),
        ("K1-S1", "K1", "Dora Uno", D_OLD),
        ("K2-S1", "K2", "Dorotea Dos", D_MAIN),
    ]
    _write(
        folder,
        "subjects",
        [{"subject_id": s, "investigation_id": i, "full_name": n} for s, i, n, _ in people],
    )
    _write(
        folder,
        "selectors",
        [
            {
                "selector_id": s.replace("-S", "-P"),
                "investigation_id": i,
                "subject_id": s,
                "kind": "phone",
                "value": line,
                "platform": "",
            }
            for s, i, _, line in people
        ],
    )
    beto, chuy, leaves, tere = (
        _numbers("480", 4),
        _numbers("520", 4),
        _numbers("623", 3),
        _numbers("928", 4),
    )
    dora, fay = _numbers("303", 4), _numbers("707", 4)
    weeks = [1, 8, 15, 22, 28]
    comms = [
        # A1's case follows Beto: his May phone, his June phone, his July phone.
        *_talk("J1", B_OLD, beto, 5, weeks),
        *_talk("J1", B_MID, beto, 6, weeks),
        *_talk("J1", B_NEW, beto, 7, weeks),
        # A2's case: the June phone in July, Chuy's people; and, in the records of one of
        # Beto's people, a call from Beto's May phone.
        *_talk("J2", B_MID, chuy, 7, [2, 9, 16, 23, 28]),
        *_talk("J2", beto[0], [B_OLD], 5, [20]),
        # A3's case: the records of its own line and of the June phone, in June (numbers
        # that talk to it alone: a returned line).
        *_talk("J3", T3, tere, 6, weeks),
        *_talk("J3", B_MID, leaves, 6, [3, 10]),
        # A4's case: the records of its own line, and of the June phone on June 24 and
        # July 5, on both sides of its passing (numbers that talk to it alone).
        *_talk("J4", T4, _numbers("415", 4), 6, weeks),
        *_talk("J4", B_MID, ["624-555-1000"], 6, [24]),
        *_talk("J4", B_MID, ["624-555-1001"], 7, [5]),
        # Dora: May phone, June phone (in A1's case); the June phone keeps her people in
        # July, beside a second phone (in A2's case).
        *_talk("K1", D_OLD, dora, 5, weeks),
        *_talk("K1", D_MAIN, dora, 6, weeks),
        *_talk("K2", D_MAIN, dora, 7, weeks),
        *_talk("K2", D_2ND, dora[:3], 7, weeks),
        # Fay's chain ends with a phone that goes silent at the end of June. Two phones start
        # on July 1: one with two of her people (whose own old phone, silent too, talked to
        # them alone: its handover), one with the other two. Neither pairs with hers, and
        # hers was not passed on: it stopped.
        *_talk("M1", F_OLD, fay, 5, weeks),
        *_talk("M1", F_MID, fay, 6, weeks),
        *_talk("M1", F_OTHER, fay[:2], 6, weeks),
        *_talk("M1", F_NEW1, fay[:2], 7, weeks),
        *_talk("M1", F_NEW2, [*fay[2:], "480-555-2000"], 7, weeks),
    ]
    _write(folder, "communications", [*comms, *near_misses()])


def _chain(k: int) -> tuple[list[str], list[dict]]:
    """Near-miss chain ``k`` (case M1): its May phone, its June phone (a handover), with
    four people; returns the lines (May, June, July successor, spare) and the May events."""
    lines = [f"505-555-{k:02d}{i:02d}" for i in range(4)]
    people = _numbers(f"{k + 201}", 4)
    return [*lines, *people], _talk("M1", lines[0], people, 5, [1, 8, 15, 22, 28])


def near_misses() -> list[dict]:
    """Chains like Beto's (a June phone that keeps running in July with other people while
    a line starting July 1 takes over its people), each missing one of the passing's tests:
    none is passed on. Numbered as their lines are (``_chain(k)``: 505-555-kk00 to kk03)."""
    weeks = [1, 8, 15, 22, 28]
    comms: list[dict] = []
    # 1. The June phone goes silent for July and resumes in August with the same people:
    #    after D it is compared on what it does when it resumes (nothing changed).
    (_, mid, new, _, *p), ev = _chain(1)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", new, p, 7, weeks)]
    comms += _talk("M1", mid, p, 8, [10, 17, 24])
    # 2. The June phone was last used for those people 16 days before D (max_gap_days).
    (_, mid, new, _, *p), ev = _chain(2)
    others = _numbers("252", 4)
    comms += [*ev, *_talk("M1", mid, p, 6, [1, 8, 15]), *_talk("M1", new, p, 7, weeks)]
    comms += _talk("M1", mid, others, 7, weeks)
    # 3. The successor shares two of the people but talks to ten others (min_similarity).
    (_, mid, new, _, *p), ev = _chain(3)
    others = _numbers("253", 4)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", mid, others, 7, weeks)]
    comms += _talk("M1", new, [*p[:2], *_numbers("353", 10)], 7, weeks)
    # 4. The successor shares one of the people, and talks to one other (min_shared; a
    #    Jaccard of 1/5 passes).
    (_, mid, new, _, *p), ev = _chain(4)
    others = _numbers("254", 4)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", mid, others, 7, weeks)]
    comms += _talk("M1", new, [p[0], "354-555-1000"], 7, weeks)
    # 5. The successor is the new line of a handover: a phone that talked to the people
    #    from June 20 goes silent at the end of June (seen since the first day of the data,
    #    so itself no successor).
    (_, mid, new, spare, *p), ev = _chain(5)
    others = _numbers("255", 4)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", mid, others, 7, weeks)]
    comms += [*_talk("M1", spare, ["355-555-1000"], 5, [1]), *_talk("M1", new, p, 7, weeks)]
    comms += _talk("M1", spare, p, 6, [20, 25, 28])
    # 6. The June phone hands over itself: silent after July, its July people move to a
    #    phone started on August 1 (the old line of a handover ends no chain).
    (_, mid, new, spare, *p), ev = _chain(6)
    others = _numbers("256", 4)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", mid, others, 7, weeks)]
    comms += [*_talk("M1", new, p, 7, weeks), *_talk("M1", spare, others, 8, [1, 8, 15])]
    # 7. The June phone's last day is D, with twenty others (max_overlap_days: it does not
    #    carry on; no handover either, the others make its last month unlike the July one).
    (_, mid, new, _, *p), ev = _chain(7)
    others = _numbers("257", 20)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", mid, others, 7, [3])]
    comms += _talk("M1", new, p, 7, [3, 8, 15, 22, 28])
    # 9. The successor talks to one of the people only (min_contacts, with min_shared 1).
    (_, mid, new, _, *p), ev = _chain(9)
    others = _numbers("259", 4)
    comms += [*ev, *_talk("M1", mid, p, 6, weeks), *_talk("M1", mid, others, 7, weeks)]
    comms += _talk("M1", new, p[:1], 7, weeks)
    # 10. The successor shares only two hubs with the June phone (hub_degree): numbers that
    #     talk to over a hundred lines each.
    (_, mid, new, _, *p), ev = _chain(10)
    hubs, others = _numbers("260", 2), _numbers("261", 4)
    comms += [*ev, *_talk("M1", mid, [*p, *hubs], 6, weeks), *_talk("M1", mid, others, 7, weeks)]
    comms += _talk("M1", new, hubs, 7, weeks)
    comms += [e for line in _numbers("262", 101) for e in _talk("M1", line, hubs, 5, [1])]
    return comms


@pytest.fixture
def operation(workspace: Workspace, tmp_path: Path) -> Workspace:
    write_operation(tmp_path / "op")
    result = ingest_paths(workspace, [tmp_path / "op"], rejects=tmp_path / "rejects.csv")
    assert result.rejected == 0
    return workspace


def test_a_chains_last_line_that_keeps_running_with_other_people_was_passed_on(
    operation: Workspace,
) -> None:
    pairs = {
        tuple(str(v) for v in r)
        for r in operation.store.rows(
            "SELECT old_selector, new_selector FROM (" + handovers_sql(HandoverParams()) + ") h"
        )
        if str(r[0]).startswith("+1602")
    }
    assert pairs == {
        (E164[B_OLD], E164[B_MID]),
        (E164[D_OLD], E164[D_MAIN]),
        (E164[F_OLD], E164[F_MID]),
        (E164[F_OTHER], E164[F_NEW1]),
    }
    passed = operation.store.rows(
        "SELECT selector, successor, date FROM (" + passings_sql(HandoverParams()) + ") p"
    )
    # Beto left the June phone for the July one with his people; Dora's June phone kept
    # hers when her second phone started, and Fay's stopped: neither was passed on. Nor is
    # any of the near misses (``near_misses``: one test of the passing fails in each).
    assert [(str(a), str(b), d) for a, b, d in passed] == [
        (E164[B_MID], E164[B_NEW], date(2022, 7, 1))
    ]


def _line_tables(ws: Workspace) -> dict[str, list[tuple[str, ...]]]:
    """The tables of ``conflicts.load_lines`` on ``ws``, their rows as text, sorted."""
    con = connect_duckdb()
    conflicts.load_lines(ws, con)
    tables = ("returned_lines", "handover_pairs", "handover_seen", "passed_lines")
    out = {
        t: sorted(tuple(str(v) for v in r) for r in con.execute(f"SELECT * FROM {t}").fetchall())
        for t in tables
    }
    con.close()
    return out


def test_postgresql_reads_the_lines_in_steps_as_duckdb_reads_them(
    operation: Workspace, tmp_path: Path
) -> None:
    """PostgreSQL reads the handovers, the lines passed on and the cases that show them in
    steps, temporary tables analysed one by one (``Store.query_steps``); DuckDB in one
    query. The rows are the same on the same
    operation, and no table is left in the session."""
    if operation.kind != "postgresql":
        pytest.skip("compares PostgreSQL's steps to DuckDB's one query")
    with open_workspace(str(tmp_path / "duck.duckdb")) as duck:
        ingested = ingest_paths(duck, [tmp_path / "op"], rejects=tmp_path / "duck_rejects.csv")
        assert ingested.rejected == 0
        expected = _line_tables(duck)
        expected_passings = [tuple(map(str, r)) for r in passings(duck, HandoverParams())]
    assert all(expected.values()), "the fixture has rows of every kind"
    assert expected_passings == [(E164[B_MID], E164[B_NEW], "2022-07-01")]
    temp = "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
    before = operation.store.rows(temp)
    assert _line_tables(operation) == expected
    assert [tuple(map(str, r)) for r in passings(operation, HandoverParams())] == expected_passings
    assert operation.store.rows(temp) == before


def test_a_tie_through_a_line_passed_on_is_a_possible_conflict(operation: Workspace) -> None:
    found = found_bases(operation)
    # A4's case obtained the June phone's records on both sides of its passing: which user
    # it worked is for the two points of contact; the phone's owner by the records, Chuy, is
    # told as a possible conflict.
    assert found[("J2-S1", "A2", "A4")] == "passed line"
    assert found[("J2-S1", "A4", "A2")] == "passed line"
    # Dora's chain runs through no line passed on: Dorotea's June phone ties her to A1's
    # case as before.
    assert found[("K2-S1", "A2", "A1")] == "burner chain"


def test_a_tie_through_a_line_passed_on_goes_to_the_user_of_its_time(
    operation: Workspace,
) -> None:
    """The case's events on the line passed on, against the passing's day D: all before D,
    the line was its earlier user's; all from D on, its later user's. The tie stays a
    possible one (D is inferred), but is not told to the other user."""
    found = found_bases(operation)
    # A3's case obtained the June phone's records in June, while Beto used it: Beto is
    # tied to A3 (possible), Chuy, the phone's owner by the records, is not.
    assert found[("J1-S1", "A1", "A3")] == "passed line"
    assert found[("J1-S1", "A3", "A1")] == "passed line"
    assert not {c for c in found if c[0] == "J2-S1" and "A3" in c[1:]}
    # A1's case shows the June phone in June only (Beto's, in his chain): Chuy is not tied
    # to A1 through it.
    assert not {c for c in found if c[0] == "J2-S1" and "A1" in c[1:]}
    # A2's case lists the June phone, whose July events it shows (Chuy's), beside Beto's May
    # phone: the chain through it does not tie Beto to A2.
    assert not {c for c in found if c[0] == "J1-S1" and "A2" in c[1:]}


def test_confirmed_conflicts_leave_out_the_possible_ones(operation: Workspace) -> None:
    """After 'lastmile resolve', ``--confirmed`` (``conflicts_of(confirmed=True)``) drops
    exactly the conflicts through a line passed on and keeps every other basis."""
    from lastmile.resolve.conflicts import POSSIBLE_BASES, conflicts_of
    from lastmile.resolve.run import resolve

    result = resolve(operation)
    every = conflicts_of(operation).to_pylist()
    confirmed = conflicts_of(operation, confirmed=True).to_pylist()
    possible = [r for r in every if r["basis"] in POSSIBLE_BASES]
    assert possible, "the fixture raises a possible conflict"
    # The run's count (printed by 'lastmile resolve' and the demo) is the stored one.
    assert (result.conflicts, result.possible_conflicts) == (len(every), len(possible))
    assert confirmed == [r for r in every if r["basis"] not in POSSIBLE_BASES]
    assert any(r["basis"] == "burner chain" for r in confirmed)
    # With an agency, both filters hold together.
    a2 = conflicts_of(operation, "A2", confirmed=True).to_pylist()
    assert a2 == [r for r in confirmed if r["agency_id"] == "A2"]


def test_a_successor_needs_as_many_contacts_as_the_handover(operation: Workspace) -> None:
    """With ``min_shared`` 1, ``min_contacts`` still keeps a successor that talks to one
    person from passing a line on (near miss 9); near miss 4 (one shared person of two)
    passes then."""
    passed = {
        (str(a), str(b))
        for a, b in operation.store.rows(
            "SELECT selector, successor FROM (" + passings_sql(HandoverParams(min_shared=1)) + ") p"
        )
    }
    assert ("+15055550401", "+15055550402") in passed
    assert not {r for r in passed if r[0].startswith("+1505555090")}


def test_the_confirmed_option_of_the_conflicts_command(tmp_path: Path) -> None:
    """``lastmile conflicts --confirmed`` prints the confirmed conflicts only (the wiring of
    the option to ``conflicts_of``)."""
    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.resolve.conflicts import POSSIBLE_BASES
    from lastmile.resolve.run import resolve
    from lastmile.store import open_workspace

    write_operation(tmp_path / "op")
    path = str(tmp_path / "ws.duckdb")
    with open_workspace(path) as ws:
        ingest_paths(ws, [tmp_path / "op"], rejects=tmp_path / "rejects.csv")
        resolve(ws)

    def bases(*flags: str) -> list[str]:
        res = CliRunner().invoke(app, ["conflicts", "-w", path, "-f", "csv", *flags])
        assert res.exit_code == 0, res.output
        return [row["basis"] for row in csv.DictReader(io.StringIO(res.stdout))]

    every, confirmed = bases(), bases("--confirmed")
    assert set(every) & set(POSSIBLE_BASES)
    assert confirmed == [b for b in every if b not in POSSIBLE_BASES]
    assert confirmed


def _confirming_record(folder: Path) -> None:
    """A later file of A3's case J3: a selector record of Beto's May phone, with no subject (a
    line the case lists). It ties Beto to A3's case by a selector record: his conflict with
    A3, possible through the line passed on, is confirmed."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "selectors",
        [
            {
                "selector_id": "J3-P9",
                "investigation_id": "J3",
                "subject_id": "",
                "kind": "phone",
                "value": B_OLD,
                "platform": "",
            }
        ],
    )


def test_a_possible_conflict_confirmed_later_is_announced(
    operation: Workspace, tmp_path: Path
) -> None:
    """Possible -> confirmed across two resolutions: the conflict keeps its first_seen, gains
    a confirmed_since of the second run, is counted as upgraded, and is new to a reader of
    the confirmed conflicts since the first run (``--confirmed --since``), not to a reader
    of all conflicts."""
    from lastmile.resolve.conflicts import POSSIBLE_BASES, conflicts_of
    from lastmile.resolve.run import resolve

    assert resolve(operation).upgraded_conflicts == 0
    ((beto_id,),) = operation.store.rows(
        "SELECT entity_id FROM entity_members WHERE record_type = 'subjects' "
        "AND record_id = 'J1-S1'"
    )
    beto = [(beto_id, "A1", "A3"), (beto_id, "A3", "A1")]
    first = stored(operation)
    assert all(first[c]["basis"] == "passed line" for c in beto)
    assert all(first[c]["confirmed_since"] is None for c in beto)
    between = max(r["first_seen"] for r in first.values())
    _confirming_record(tmp_path / "later")
    ingest_paths(operation, [tmp_path / "later"], rejects=tmp_path / "rejects2.csv")
    second_run = resolve(operation)
    second = stored(operation)
    for c in beto:
        assert second[c]["basis"] == "selector record"
        assert second[c]["first_seen"] == first[c]["first_seen"]
        assert second[c]["confirmed_since"] > between
    upgraded = {
        c
        for c, r in second.items()
        if c in first and first[c]["confirmed_since"] is None and r["confirmed_since"] is not None
    }
    assert upgraded == set(beto)
    assert second_run.upgraded_conflicts == len(upgraded)
    # Every conflict confirmed in the first run keeps its time.
    assert all(
        second[c]["confirmed_since"] == r["confirmed_since"]
        for c, r in first.items()
        if r["confirmed_since"] is not None
    )
    # Since the first run: the confirmed reader is told of the upgraded conflicts and of new
    # confirmed ones; the reader of all conflicts of the new ones only.
    later = between + timedelta(microseconds=1)
    news = {c for c in second if c not in first}
    assert keys(conflicts_of(operation, since=later).to_pylist()) == news
    assert not set(beto) & news
    confirmed_news = {c for c in news if second[c]["basis"] not in POSSIBLE_BASES}
    assert keys(conflicts_of(operation, confirmed=True, since=later).to_pylist()) == (
        upgraded | confirmed_news
    )


def test_the_since_option_and_the_upgrades_on_the_command_line(tmp_path: Path) -> None:
    """``lastmile resolve`` says how many conflicts were upgraded from possible to confirmed
    and how many were found again; ``lastmile conflicts --since WHEN`` (with or without
    ``--confirmed``) lists what is new since WHEN, and every format carries
    ``confirmed_since`` and ``current_since``."""
    import json

    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.resolve.conflicts import POSSIBLE_BASES

    write_operation(tmp_path / "op")
    path = str(tmp_path / "ws.duckdb")
    runner = CliRunner()

    def run(*args: str) -> str:
        res = runner.invoke(app, [*args, "-w", path])
        assert res.exit_code == 0, res.output
        return res.stdout

    run("ingest", str(tmp_path / "op"))
    assert "0 upgraded from possible to confirmed" in run("resolve")
    every = json.loads(run("conflicts", "-f", "json"))
    assert all("confirmed_since" in r and "current_since" in r for r in every)
    between = max(r["first_seen"] for r in every)
    _confirming_record(tmp_path / "later")
    run("ingest", str(tmp_path / "later"))
    second = run("resolve")
    assert "2 upgraded from possible to confirmed" in second
    stamp = second.split("(stamped ", 1)[1].split(" UTC)", 1)[0]

    def listed(*flags: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(run("conflicts", "-f", "csv", *flags))))

    later = datetime.fromisoformat(between) + timedelta(microseconds=1)
    after = later.isoformat()
    upgraded = listed("--confirmed", "--since", after)
    assert {(r["agency_id"], r["other_agency_id"], r["basis"]) for r in upgraded} == {
        ("A1", "A3", "selector record"),
        ("A3", "A1", "selector record"),
    }
    assert all(
        datetime.fromisoformat(r["confirmed_since"])
        == datetime.fromisoformat(stamp)
        >= later
        > datetime.fromisoformat(r["first_seen"])
        for r in upgraded
    )
    # The time resolve printed, plus a microsecond: nothing newer.
    later_stamp = (datetime.fromisoformat(stamp) + timedelta(microseconds=1)).isoformat()
    assert listed("--confirmed", "--since", later_stamp) == []
    # Without --confirmed they are not new (Beto's conflicts were all seen, as possible, by
    # the first run); with an earlier time every conflict is.
    assert listed("--since", after) == []
    assert len(listed("--since", "2022-01-01")) == len(listed())
    # A conflict the latest run no longer finds is listed only with --all.
    from lastmile.store import open_workspace as _open

    with _open(path) as ws:
        ws.store.execute("UPDATE conflicts SET is_current = false WHERE agency_id = 'A3'")
    assert not [r for r in listed() if r["agency_id"] == "A3"]
    gone = [r for r in listed("--all") if r["agency_id"] == "A3"]
    assert gone and all(r["is_current"] == "false" for r in gone)
    # The next resolve finds them again: counted, and new to a reader of --since (with or
    # without --confirmed) who gives the time of the run before, their current_since that
    # run's stamp.
    third = run("resolve")
    assert f"0 new, {len(gone)} found again, 0 upgraded" in third
    third_stamp = third.split("(stamped ", 1)[1].split(" UTC)", 1)[0]
    since_second = (datetime.fromisoformat(stamp) + timedelta(microseconds=1)).isoformat()

    def key(r: dict[str, str]) -> tuple[str, str, str, str]:
        return (r["agency_id"], r["other_agency_id"], r["other_division"], r["target_id"])

    told = {key(r): r for r in gone}
    for flags in ((), ("--confirmed",)):
        back = {key(r): r for r in listed("--since", since_second, *flags)}
        assert set(back) == {
            k for k, r in told.items() if not flags or r["basis"] not in POSSIBLE_BASES
        }
        for k, r in back.items():
            assert r["first_seen"] == told[k]["first_seen"]
            assert datetime.fromisoformat(r["current_since"]) == datetime.fromisoformat(third_stamp)
    assert listed("--since", since_second, "--confirmed")  # a confirmed one came back too
    # On a terminal wide enough, beside when it was first seen.
    from lastmile.export.tables import fit_table
    from lastmile.resolve.conflicts import conflicts_of
    from lastmile.store import open_workspace

    with open_workspace(path) as ws:
        table, dropped = fit_table(conflicts_of(ws), 250, "conflicts")
    assert not dropped
    assert [c.header for c in table.columns][-5:] == [
        "first seen",
        "confirmed since",
        "current since",
        "last seen",
        "current",
    ]
    res = runner.invoke(app, ["conflicts", "--since", "last week", "-w", path])
    assert res.exit_code != 0 and "ISO date" in res.output


def test_a_lines_day_d_is_its_first_passing_and_its_days_span_its_platforms() -> None:
    """``key_handover_rows``: a line passed on to two successors was passed on the earlier
    day; a case's events on a line seen on two platforms that key it alike (a phone and its
    WhatsApp account) run from the first day on either to the last on either."""
    import duckdb

    from lastmile.resolve.conflicts import key_handover_rows

    con = duckdb.connect()
    line = E164[B_MID]
    con.execute(
        """
        CREATE TEMP TABLE handover_rows AS SELECT * FROM (VALUES
            ('passed', ?, '', 'x1', '', DATE '2022-07-05', DATE '2022-07-05'),
            ('passed', ?, '', 'x2', '', DATE '2022-07-01', DATE '2022-07-01'),
            ('passed', ?, '', 'x3', '', DATE '2022-07-09', DATE '2022-07-09'),
            ('seen', 'J9', '', ?, '', DATE '2022-06-10', DATE '2022-06-20'),
            ('seen', 'J9', '', ?, 'whatsapp', DATE '2022-06-01', DATE '2022-06-12'),
            ('seen', 'J9', '', ?, 'whatsapp', DATE '2022-06-15', DATE '2022-07-03')
        ) t(what, a, a_platform, b, b_platform, first_day, last_day)
        """,
        [line] * 6,
    )
    key_handover_rows(con)
    assert con.execute("SELECT passed_on FROM passed_lines").fetchall() == [(date(2022, 7, 1),)]
    assert con.execute("SELECT first_day, last_day FROM handover_seen").fetchall() == [
        (date(2022, 6, 1), date(2022, 7, 3))
    ]


def _boundary_cases(folder: Path) -> None:
    """Three more agencies' cases, each with its own line and the records of Beto's June
    phone (passed on July 1, D) on one day only: June 30 (A5), July 1 (A6), July 2 (A7); each
    also shows Beto's May phone (a call from one of his people)."""
    write_operation(folder)
    extra = [("X5", "A5", 6, 30), ("X6", "A6", 7, 1), ("X7", "A7", 7, 2)]
    for name, rows in (
        (
            "agencies",
            [{"agency_id": a, "name": f"Agency {a}", "kind": "local"} for _, a, *_ in extra],
        ),
        (
            "investigations",
            [
                {
                    "investigation_id": i,
                    "agency_id": a,
                    "division": "Phoenix",
                    "opened": "2022-04-01",
                }
                for i, a, *_ in extra
            ],
        ),
        (
            "subjects",
            [
                {"subject_id": f"{i}-S1", "investigation_id": i, "full_name": f"Sujeto {i}"}
                for i, *_ in extra
            ],
        ),
        (
            "selectors",
            [
                {
                    "selector_id": f"{i}-P1",
                    "investigation_id": i,
                    "subject_id": f"{i}-S1",
                    "kind": "phone",
                    "value": f"602-555-05{k:02d}",
                    "platform": "",
                }
                for k, (i, *_) in enumerate(extra)
            ],
        ),
    ):
        with (folder / f"{name}.csv").open("a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, list(rows[0])).writerows(rows)
    comms: list[dict] = []
    for k, (inv, _, month, day) in enumerate(extra):
        comms += _talk(inv, f"602-555-05{k:02d}", _numbers(f"41{k}", 4), 6, [1, 8, 15, 22])
        comms += _talk(inv, B_MID, ["625-555-1000", "625-555-1001"], month, [day])
        comms += _talk(inv, _numbers("480", 4)[1], [B_OLD], 5, [20])
    with (folder / "communications.csv").open("a", newline="", encoding="utf-8") as f:
        csv.DictWriter(f, list(comms[0])).writerows(comms)


def test_day_d_is_the_later_users(workspace: Workspace, tmp_path: Path) -> None:
    """A case's events on a line passed on, on D-1, D or D+1 alone: D-1 is its earlier user's
    time, D and D+1 its later user's."""
    _boundary_cases(tmp_path / "op")
    assert ingest_paths(workspace, [tmp_path / "op"], rejects=tmp_path / "r.csv").rejected == 0
    passed = workspace.store.rows(
        "SELECT selector, date FROM (" + passings_sql(HandoverParams()) + ") p"
    )
    assert [(str(a), d) for a, d in passed] == [(E164[B_MID], date(2022, 7, 1))]
    found = found_bases(workspace)

    def tied(person: str) -> set[str]:
        return {c[1] for c in found if c[0] == person and c[1] in ("A5", "A6", "A7")}

    beto, chuy = "J1-S1", "J2-S1"
    assert tied(beto) == {"A5"}
    assert tied(chuy) == {"A6", "A7"}
    assert found[(beto, "A5", "A1")] == "passed line"
    assert found[(chuy, "A6", "A2")] == "passed line"


def _add(folder: Path, name: str, rows: list[dict]) -> None:
    """Append ``rows`` to the operation's ``name`` file."""
    with (folder / f"{name}.csv").open("a", newline="", encoding="utf-8") as f:
        csv.DictWriter(f, list(rows[0])).writerows(rows)


def _case(folder: Path, inv: str, agency: str, subject: str, name: str, line: str) -> None:
    """One more agency, with a case naming ``subject`` (``name``), who uses ``line``."""
    _add(folder, "agencies", [{"agency_id": agency, "name": f"Agency {agency}", "kind": "local"}])
    _add(
        folder,
        "investigations",
        [
            {
                "investigation_id": inv,
                "agency_id": agency,
                "division": "Phoenix",
                "opened": "2022-04-01",
            }
        ],
    )
    _add(folder, "subjects", [{"subject_id": subject, "investigation_id": inv, "full_name": name}])
    _add(
        folder,
        "selectors",
        [
            {
                "selector_id": subject + "-P",
                "investigation_id": inv,
                "subject_id": subject,
                "kind": "phone",
                "value": line,
                "platform": "",
            }
        ],
    )


def _chain_world(
    owners: dict[str, str],
    passed: dict[str, date],
    seen: dict[str, tuple[int, int]],
    held: str = "L2",
) -> dict[tuple[str, str, str], str]:
    """``conflicts.compute`` on a world built by hand: the chain L0 - L1 - L2 - L3 (handovers),
    each line in ``owners`` used by that person alone (his subject record in his own case,
    of agency ``G<person>``), the lines ``passed`` on at their day, and case X (agency AX)
    that obtained the records of ``held`` (a returned line) and shows each line of ``seen`` from
    one day of July 2022 to another (0 is June 30). Returns the basis of each conflict."""
    import duckdb

    from lastmile.resolve import conflicts

    con = duckdb.connect()
    people = sorted(set(owners.values()))

    def table(name: str, columns: str, rows: list[tuple]) -> None:
        con.execute(f"CREATE TEMP TABLE {name} ({columns})")
        if rows:
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", rows)

    def day(k: int) -> date:
        return date(2022, 6, 30) + timedelta(days=k)

    table(
        "new_members",
        "record_type TEXT, record_id TEXT, entity_id TEXT",
        [("subjects", f"S-{p}", p) for p in people],
    )
    table(
        "src_subjects",
        "record_id TEXT, investigation_id TEXT",
        [(f"S-{p}", f"C-{p}") for p in people],
    )
    table(
        "src_investigations",
        "investigation_id TEXT, agency_id TEXT, division TEXT",
        [(f"C-{p}", f"G{p}", "Phoenix") for p in people] + [("X", "AX", "Phoenix")],
    )
    table(
        "subject_selectors",
        "key TEXT, subject_id TEXT",
        [(line, f"S-{p}") for line, p in owners.items()],
    )
    table("selector_use", "key TEXT, common BOOLEAN", [(line, False) for line in owners])
    table(
        "sel_recs",
        "investigation_id TEXT, key TEXT, valid BOOLEAN",
        [(f"C-{p}", line, True) for line, p in owners.items()],
    )
    table("returned_lines", "investigation_id TEXT, key TEXT", [("X", held)])
    table(
        "handover_pairs", "old_key TEXT, new_key TEXT", [("L0", "L1"), ("L1", "L2"), ("L2", "L3")]
    )
    table(
        "handover_seen",
        "investigation_id TEXT, key TEXT, first_day DATE, last_day DATE",
        [("X", line, day(a), day(b)) for line, (a, b) in seen.items()],
    )
    table("passed_lines", "key TEXT, passed_on DATE", list(passed.items()))
    conflicts.compute(con)
    rows = con.execute(
        "SELECT target_id, agency_id, other_agency_id, basis FROM new_conflicts"
    ).fetchall()
    return {(str(t), str(a), str(b)): str(basis) for t, a, b, basis in rows}


def _tied_to_x(found: dict[tuple[str, str, str], str]) -> dict[str, str]:
    return {t: basis for (t, a, _), basis in found.items() if a == "AX"}


D = date(2022, 7, 1)


def test_the_earlier_user_is_the_one_owner_of_the_chains_other_lines_not_passed_on() -> None:
    """L2, passed on at D (its owner Chuy its later user): its earlier user is the one owner
    of the chain's other lines, leaving out the lines passed on. Case X shows L2 before D
    only: it is tied to the earlier user, not to Chuy."""
    # L1 is Beto's, L3 (passed on too) Zoe's: Beto is L2's earlier user.
    owners = {"L1": "beto", "L2": "chuy", "L3": "zoe"}
    found = _chain_world(owners, {"L2": D, "L3": D + timedelta(days=20)}, {"L2": (-5, -1)})
    assert _tied_to_x(found) == {"beto": "passed line"}
    # L0 is Yola's, L1 Beto's: two owners, no earlier user; the tie goes to the owner.
    owners = {"L0": "yola", "L1": "beto", "L2": "chuy"}
    found = _chain_world(owners, {"L2": D}, {"L2": (-5, -1)})
    assert _tied_to_x(found) == {"chuy": "passed line"}


def test_a_line_passed_on_that_its_earlier_user_owns_ties_him_before_d() -> None:
    """L2 is Beto's by the records (his earlier line L1 too). Case X holds L0, unowned, of
    the same chain, and shows L2 before D only: Beto is tied through the chain (the guard
    "earlier user other than the owner" keeps the owner's tie when he is the earlier user)."""
    owners = {"L1": "beto", "L2": "beto"}
    found = _chain_world(owners, {"L2": D}, {"L2": (-5, -1), "L0": (-30, -20)}, held="L0")
    assert _tied_to_x(found) == {"beto": "passed line"}


def test_a_case_following_the_earlier_users_chain_is_not_tied_to_the_later_user() -> None:
    """Case X obtained the records of Beto's L1 and shows L2 (passed on at D to Chuy, its
    owner by the records) only from D on: it reached L2 through Beto's chain, and L2's
    events it shows are Chuy's time; the chain does not tie Chuy to it."""
    owners = {"L1": "beto", "L2": "chuy"}
    found = _chain_world(owners, {"L2": D}, {"L1": (-30, -2), "L2": (1, 5)}, held="L1")
    assert "chuy" not in _tied_to_x(found)
    assert _tied_to_x(found)["beto"] == "returned line"
