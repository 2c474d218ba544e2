"""Target deconfliction: which investigations work a target (docs/resolution.md,
"Deconfliction").

A small operation written here, on both stores: Pedro's phone is listed by agency A1's case,
and is a line whose toll records agency A2's case obtained (numbers that talk to it alone);
agency A3's case holds it only as a contact of its own targets, and A3's other case returns
an event or two a line, too few to tell a return from a contact. Two sisters share a family
phone, which A2's case also obtained records of. A business line on four people's records
(resolved, in one test, as one person), Instagram accounts handed over, and an isolated call
between two numbers test the guards and the keys. The rule is applied to the records as
resolution leaves them (each subject record its own person here, unless a test merges some),
without training a model.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from lastmile.comms.handovers import HandoverParams, handovers_sql
from lastmile.ingest import ingest_paths
from lastmile.resolve import conflicts, run
from lastmile.resolve.errors import ResolveError
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import DuckDBStore, PostgresStore, register_table
from lastmile.store.migrations import migrate

INVESTIGATIONS = [
    ("I1", "A1", "Phoenix"),
    ("I2", "A2", "Phoenix"),
    ("I3", "A3", "Phoenix"),
    ("I4", "A3", "Phoenix"),
    ("I5", "A2", "Phoenix"),
    ("I6", "A1", "Phoenix"),
    ("I7", "A2", "Phoenix"),
]
PEDRO = "602-555-0101"
FAMILY = "602-555-0102"
T2, T3, T3B, T4 = "602-555-0201", "602-555-0301", "602-555-0302", "602-555-0401"
ROSA, ROSA_OLD, ANA_OLD = "602-555-0103", "602-555-0501", "602-555-0104"
ISO, ISO_OTHER = "602-555-0601", "602-555-0602"
BIZ, BIZ_NEW = "602-555-0701", "602-555-0702"
IG_OLD, IG_NEW = "el.viejo", "el.nuevo"
BIZ_NAMES = ["Bodega Uno", "Bodega Dos", "Bodega Tres", "Bodega Cuatro"]


def _write(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _calls(inv: str, line: str, others: list[str], month: int = 7) -> list[dict[str, str]]:
    return [
        {
            "investigation_id": inv,
            "time": f"2022-{month:02d}-{1 + k:02d}T10:00:00Z",
            "from_selector": line,
            "to_selector": other,
            "kind": "call",
        }
        for k, other in enumerate(others)
    ]


def _contacts(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-555-{1000 + k:04d}" for k in range(n)]


def _event(
    inv: str, day: str, a: str, b: str, kind: str = "call", platform: str = ""
) -> dict[str, str]:
    return {
        "investigation_id": inv,
        "time": f"2022-{day}T10:00:00Z",
        "from_selector": a,
        "to_selector": b,
        "kind": kind,
        "platform": platform,
    }


def _handover(
    old_case: str,
    old: str,
    new_case: str,
    new: str,
    contacts: list[str],
    month: int,
    **how: str,
) -> list[dict[str, str]]:
    """``old_case`` obtains the records of ``old`` (days 1-3 of ``month``, ending with a
    call to ``new``: the one event that shows ``new`` in ``old_case``); ``new_case`` those
    of ``new``, which talks to the same people from day 11."""
    return [
        *(
            _event(old_case, f"{month:02d}-{1 + k:02d}", old, c, **how)
            for k, c in enumerate(contacts)
        ),
        _event(old_case, f"{month:02d}-03", old, new, **how),
        *(
            _event(new_case, f"{month:02d}-{11 + k:02d}", new, c, **how)
            for k, c in enumerate(contacts)
        ),
    ]


def write_operation(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "agencies",
        [
            {"agency_id": f"A{i}", "name": f"Agency {i}", "kind": "local", "poc_name": f"P{i}"}
            for i in (1, 2, 3)
        ],
    )
    _write(
        folder,
        "investigations",
        [
            {"investigation_id": i, "agency_id": a, "division": d, "opened": "2022-06-01"}
            for i, a, d in INVESTIGATIONS
        ],
    )
    subjects = [
        ("I1-S1", "I1", "Pedro Paramo"),
        ("I1-S2", "I1", "Ana Ruiz"),
        ("I1-S3", "I1", "Carmen Ruiz"),
        ("I2-S1", "I2", "Tomas Segundo"),
        ("I3-S1", "I3", "Teresa Tercera"),
        ("I3-S2", "I3", "Tadeo Tercero"),
        ("I4-S1", "I4", "Carlos Cuarto"),
        ("I1-S4", "I1", "Rosa Maria Diaz"),
        ("I5-S1", "I5", "La Guera"),
        ("I1-S5", "I1", "Isidro Unico"),
        ("I1-S6", "I1", "Nemesio Nuevo"),
        ("I1-S7", "I1", "Nicolas Nuevo"),
        ("I7-S1", "I7", "Victor Viejo"),
        *((f"I6-S{k}", "I6", name) for k, name in enumerate(BIZ_NAMES, 1)),
    ]
    _write(
        folder,
        "subjects",
        [{"subject_id": s, "investigation_id": i, "full_name": n} for s, i, n in subjects],
    )
    selectors = [
        ("I1-P1", "I1", "I1-S1", PEDRO),
        ("I1-P2", "I1", "I1-S2", FAMILY),
        ("I1-P3", "I1", "I1-S3", FAMILY),
        ("I2-P1", "I2", "I2-S1", T2),
        ("I3-P1", "I3", "I3-S1", T3),
        ("I3-P2", "I3", "I3-S2", T3B),
        ("I4-P1", "I4", "I4-S1", T4),
        ("I1-P4", "I1", "I1-S4", ROSA),
        ("I5-P1", "I5", "I5-S1", ROSA_OLD),
        ("I1-P5", "I1", "I1-S2", ANA_OLD),
        ("I1-P6", "I1", "I1-S5", ISO),
        ("I1-P7", "I1", "I1-S6", BIZ_NEW),
        ("I1-P8", "I1", "", T2),  # A2's line, in A1's case without a subject
        *((f"I6-P{k}", "I6", f"I6-S{k}", BIZ) for k in range(1, len(BIZ_NAMES) + 1)),
    ]
    accounts = [("I1-A1", "I1", "I1-S7", IG_NEW), ("I7-A1", "I7", "I7-S1", IG_OLD)]
    _write(
        folder,
        "selectors",
        [
            {
                "selector_id": x,
                "investigation_id": i,
                "subject_id": s,
                "kind": "phone",
                "value": v,
                "platform": "",
            }
            for x, i, s, v in selectors
        ]
        + [
            {
                "selector_id": x,
                "investigation_id": i,
                "subject_id": s,
                "kind": "account",
                "value": v,
                "platform": "Instagram",
            }
            for x, i, s, v in accounts
        ],
    )
    comms = [
        # A2's case: the records of its own line T2, of Pedro's phone and of the family
        # phone, each with numbers that talk to that line alone.
        *_calls("I2", T2, _contacts("480", 4)),
        *_calls("I2", PEDRO, [*_contacts("520", 3), T2]),
        *_calls("I2", FAMILY, _contacts("623", 3)),
        # A3's case: the records of its lines T3 and T3B, in which Pedro is a contact of
        # both.
        *_calls("I3", T3, [*_contacts("928", 4), PEDRO]),
        *_calls("I3", T3B, [*_contacts("929", 3), PEDRO]),
        # A3's other case: one event a line, Pedro's phone beside numbers seen once.
        *_calls("I4", T4, _contacts("505", 1)),
        *_calls("I4", PEDRO, _contacts("575", 2)),
        # A burner replaced: the line A2's other case listed goes silent on June 3, and on
        # June 11 Rosa's phone, listed by A1's case, starts talking to the same people, in
        # the records the A2 case obtained next.
        *_calls("I5", ROSA_OLD, _contacts("303", 3), month=6),
        *[
            {**c, "time": c["time"].replace("-06-0", "-06-1")}
            for c in _calls("I5", ROSA, _contacts("303", 3), month=6)
        ],
        # Ana's own phone, in A2's records beside its line T2's contacts, goes silent, and
        # the family phone (whose records A2 also obtained) takes over her contacts.
        *_calls("I2", ANA_OLD, _contacts("480", 3), month=6),
        *[
            {**c, "time": c["time"].replace("-06-0", "-06-1")}
            for c in _calls("I1", FAMILY, _contacts("480", 3), month=6)
        ],
        # In A2's dense case, one call between two numbers seen nowhere else in it: neither
        # is a returned line, though ISO is a line of A1's case.
        _event("I2", "07-20", ISO, ISO_OTHER),
        # The business line (on four people's records), whose records A2's case obtained, is
        # followed by a line A1's case lists.
        *_handover("I2", BIZ, "I1", BIZ_NEW, _contacts("707", 3), month=5),
        # Instagram accounts: A2's case obtained the old account's messages, A1's case the
        # new one's (its owner's listed account).
        *_handover(
            "I7",
            IG_OLD,
            "I1",
            IG_NEW,
            ["ig.uno", "ig.dos", "ig.tres"],
            month=4,
            kind="app_message",
            platform="Instagram",
        ),
    ]
    comms = [{"platform": "", **c} for c in comms]
    _write(folder, "communications", comms)


def found_conflicts(
    ws: Workspace, same_person: dict[str, str] | None = None
) -> set[tuple[str, str, str]]:
    """(target, agency, other agency) of each conflict the rule finds, with every subject
    record its own person (its id the target's) but those ``same_person`` maps to one."""
    return set(found_bases(ws, same_person))


def found_bases(
    ws: Workspace, same_person: dict[str, str] | None = None
) -> dict[tuple[str, str, str], str]:
    """The basis of each conflict (as :func:`found_conflicts`), left on the store's staging
    connection as ``new_conflicts``."""
    con = ws.store.staging()
    run.build_features(ws, con)
    merged = same_person or {}
    ids = [str(r[0]) for r in ws.store.rows("SELECT subject_id FROM subjects")]
    register_table(
        con,
        pa.table(
            {
                "record_type": ["subjects"] * len(ids),
                "record_id": ids,
                "entity_id": [merged.get(i, i) for i in ids],
            }
        ),
        "new_members",
    )
    conflicts.load_lines(ws, con)
    conflicts.compute(con)
    rows = con.execute(
        "SELECT DISTINCT target_id, agency_id, other_agency_id, basis FROM new_conflicts"
    ).fetchall()
    return {(str(t), str(a), str(b)): str(basis) for t, a, b, basis in rows}


@pytest.fixture
def operation(workspace: Workspace, tmp_path: Path) -> Workspace:
    write_operation(tmp_path / "op")
    result = ingest_paths(workspace, [tmp_path / "op"], rejects=tmp_path / "rejects.csv")
    assert result.rejected == 0
    return workspace


def test_returned_lines_are_the_lines_a_case_obtained_records_of(operation: Workspace) -> None:
    lines = {(str(i), str(v)) for i, _p, v in operation.store.rows(conflicts.RETURNED_LINES)}
    assert ("I2", "+16025550101") in lines  # Pedro's phone: numbers talk to it alone
    assert ("I2", "+16025550201") in lines  # the case's own line
    assert ("I2", "+16025550102") in lines  # the family phone's records too
    assert ("I3", "+16025550301") in lines
    assert ("I3", "+16025550101") not in lines  # a contact of the case's line
    # One event or two a line: a number seen once may be a sparse return, not a contact.
    assert not {line for line in lines if line[0] == "I4"}


def test_a_line_another_agency_obtained_records_of_credits_its_one_owner(
    operation: Workspace,
) -> None:
    found = found_conflicts(operation)
    assert ("I1-S1", "A1", "A2") in found and ("I1-S1", "A2", "A1") in found
    # Neither as a contact of A3's target, nor in A3's sparse returns.
    assert not {c for c in found if "A3" in c[1:]}


def test_a_family_phone_in_another_agencys_returns_raises_no_conflict(
    operation: Workspace,
) -> None:
    found = found_conflicts(operation)
    # Not through the family phone's records, nor through the burner chain of Ana's own
    # phone, which the family phone replaced.
    assert not {c for c in found if c[0] in ("I1-S2", "I1-S3")}


def test_a_burner_chain_credits_the_cases_of_each_of_its_lines(operation: Workspace) -> None:
    pairs = {
        tuple(str(v) for v in r)
        for r in operation.store.rows(
            "SELECT old_selector, new_selector FROM (" + handovers_sql(HandoverParams()) + ") h"
        )
    }
    assert pairs == {
        ("+16025550501", "+16025550103"),
        ("+16025550104", "+16025550102"),
        ("+16025550701", "+16025550702"),
        (IG_OLD, IG_NEW),
    }
    found = found_conflicts(operation)
    assert ("I1-S4", "A1", "A2") in found
    # A1's records never show the old line: its user is not credited with A1's case.
    assert ("I5-S1", "A2", "A1") not in found


def test_an_isolated_call_makes_neither_end_a_returned_line(operation: Workspace) -> None:
    # A2's case passes the density rule (its own line has four counterparts), yet one call
    # between two numbers seen once each tells neither's return: both ends are leaves.
    lines = {(str(i), str(v)) for i, _p, v in operation.store.rows(conflicts.RETURNED_LINES)}
    assert ("I2", "+16025550201") in lines
    assert ("I2", "+16025550601") not in lines and ("I2", "+16025550602") not in lines
    assert not {c for c in found_conflicts(operation) if c[0] == "I1-S5"}


def test_a_burner_chain_never_runs_through_a_shared_line(operation: Workspace) -> None:
    # The business line is on four people's records; resolved as one person it is still a
    # shared line (common): neither that person nor the user of the line that followed it is
    # credited with A2's case, which obtained the business line's records.
    bodega = {f"I6-S{k}": "BODEGA" for k in range(1, len(BIZ_NAMES) + 1)}
    found = found_conflicts(operation, same_person=bodega)
    assert not {c for c in found if c[0] in ("I1-S6", "BODEGA")}


def test_accounts_on_a_platform_are_credited_like_phones(operation: Workspace) -> None:
    # The new Instagram account's user (listed by A1's case) is credited with A2's case,
    # which obtained the old account's messages and shows the new one.
    lines = {(str(i), str(p), str(v)) for i, p, v in operation.store.rows(conflicts.RETURNED_LINES)}
    assert ("I7", "Instagram", IG_OLD) in lines
    found = found_bases(operation)
    assert found[("I1-S7", "A1", "A2")] == "burner chain"
    assert ("I7-S1", "A2", "A1") not in found


def test_each_conflict_says_how_it_was_found(operation: Workspace) -> None:
    found = found_bases(operation)
    # Tomas: his subject record in A2's case, a selector record of his line in A1's; Pedro:
    # his subject record, a returned line; the new Instagram account's user: his subject
    # record, a burner chain. The weaker side decides, for both agencies alike.
    assert found[("I2-S1", "A2", "A1")] == "selector record"
    assert found[("I2-S1", "A1", "A2")] == "selector record"
    assert found[("I1-S1", "A1", "A2")] == "returned line"
    assert found[("I1-S7", "A2", "A1")] == "burner chain"
    con = operation.store.staging()
    assert conflicts.write(operation, con).new == len(
        con.execute("SELECT * FROM new_conflicts").fetchall()
    )
    stored = conflicts.conflicts_of(operation, "A2").to_pylist()
    first = {(r["target_id"], r["other_agency_id"]): r for r in stored}
    assert first[("I1-S1", "A1")]["basis"] == "returned line"
    # A rerun keeps the time each conflict was first seen, and says its basis again.
    con.execute("UPDATE new_conflicts SET basis = 'burner chain'")
    assert conflicts.write(operation, con) == conflicts.ConflictCounts(new=0, upgraded=0)
    again = {
        (r["target_id"], r["other_agency_id"]): r
        for r in conflicts.conflicts_of(operation, "A2").to_pylist()
    }
    assert again[("I1-S1", "A1")]["first_seen"] == first[("I1-S1", "A1")]["first_seen"]
    assert again[("I1-S1", "A1")]["basis"] == "burner chain"


def _bare_store(workspace_url: str) -> DuckDBStore | PostgresStore:
    """The store at ``workspace_url`` without a workspace's migrations, to migrate by hand."""
    if workspace_url.startswith("postgres"):
        return PostgresStore(workspace_url)
    return DuckDBStore(Path(workspace_url))


def _old_conflict(store: DuckDBStore | PostgresStore, target: str, **columns: object) -> None:
    """One conflict row as a store migrated by hand to an older schema holds it: A1 and A2
    of Phoenix, first seen 2022-07-01 10:00, last seen a day later, unless ``columns`` say
    otherwise (only the columns that schema has)."""
    row: dict[str, object] = {
        "target_id": target,
        "target_kind": "person",
        "agency_id": "A1",
        "division": "Phoenix",
        "other_agency_id": "A2",
        "other_division": "Phoenix",
        "first_seen": datetime(2022, 7, 1, 10, 0),
        "last_seen": datetime(2022, 7, 2, 10, 0),
        **columns,
    }
    store.execute(
        f"INSERT INTO conflicts ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        tuple(row.values()),
    )


def test_conflicts_stored_before_the_basis_keep_their_row(workspace_url: str) -> None:
    # Migration 0010 adds the basis to a store whose conflicts were announced before it: each
    # row stays, with its first seen, and has no basis until the next resolve.
    store = _bare_store(workspace_url)
    migrate(store, up_to=9)
    _old_conflict(store, "P-1", last_seen=datetime(2022, 7, 1, 10, 0))
    store.close()
    with open_workspace(workspace_url) as ws:
        assert ws.store.rows("SELECT target_id, first_seen, basis FROM conflicts") == [
            ("P-1", datetime(2022, 7, 1, 10, 0), None)
        ]


def keys(rows: list[dict]) -> set[tuple[str, str, str]]:
    """(target, agency, other agency) of each conflict listed."""
    return {(r["target_id"], r["agency_id"], r["other_agency_id"]) for r in rows}


def stored(ws: Workspace, **options: object) -> dict[tuple[str, str, str], dict]:
    """The stored conflicts ``conflicts_of`` lists (with ``options``), by
    (target, agency, other agency)."""
    return {
        (r["target_id"], r["agency_id"], r["other_agency_id"]): r
        for r in conflicts.conflicts_of(ws, **options).to_pylist()  # type: ignore[arg-type]
    }


def test_a_conflict_is_announced_as_confirmed_each_time_it_is_confirmed(
    operation: Workspace,
) -> None:
    """``confirmed_since``: set when a conflict is first stored with a confirmed basis, set
    anew (and counted as upgraded) whenever a run confirms one stored as possible, kept while
    it stays confirmed, falls back to possible or is no longer found."""
    found_bases(operation)
    con = operation.store.staging()
    pedro, tomas = ("I1-S1", "A1", "A2"), ("I2-S1", "A2", "A1")
    # Pedro's conflict (both agencies' rows) is first seen as a possible one.
    con.execute("UPDATE new_conflicts SET basis = 'passed line' WHERE target_id = ?", [pedro[0]])
    first = conflicts.write(operation, con)
    assert first.upgraded == 0 and first.new == len(stored(operation))
    before = stored(operation)
    # A possible conflict has none; a confirmed one was confirmed when first seen, and all
    # of a run's rows carry the one time the run read from the store.
    assert before[pedro]["confirmed_since"] is None
    assert before[("I1-S1", "A2", "A1")]["confirmed_since"] is None
    assert before[tomas]["confirmed_since"] == before[tomas]["first_seen"] == first.at
    # The next run confirms it: upgraded (both rows), announced at this run's time.
    con.execute("UPDATE new_conflicts SET basis = 'returned line'")
    second = conflicts.write(operation, con)
    assert second == conflicts.ConflictCounts(new=0, upgraded=2)
    after = stored(operation)
    assert after[pedro]["first_seen"] == before[pedro]["first_seen"]
    assert after[pedro]["confirmed_since"] == second.at > after[pedro]["first_seen"]
    assert after[tomas]["confirmed_since"] == before[tomas]["confirmed_since"]
    # Confirmed again: no upgrade, the time is kept.
    assert conflicts.write(operation, con) == conflicts.ConflictCounts(new=0, upgraded=0)
    assert stored(operation)[pedro]["confirmed_since"] == second.at
    # Back to possible (kept), gone (kept), back confirmed (Tomas's was told as confirmed
    # and was not possible since: kept, no upgrade)...
    con.execute("UPDATE new_conflicts SET basis = 'passed line' WHERE target_id = ?", [pedro[0]])
    assert conflicts.write(operation, con) == conflicts.ConflictCounts(new=0, upgraded=0)
    assert stored(operation)[pedro]["confirmed_since"] == second.at
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gone AS SELECT * FROM new_conflicts WHERE target_id = ?",
        [tomas[0]],
    )
    con.execute("DELETE FROM new_conflicts WHERE target_id = ?", [tomas[0]])
    assert conflicts.write(operation, con) == conflicts.ConflictCounts(new=0, upgraded=0)
    con.execute("INSERT INTO new_conflicts SELECT * FROM gone")
    # ... and Pedro's, possible since the last run, confirmed again: announced again.
    # (Tomas's two rows are found again: current_since, not confirmed_since, tells of it.)
    con.execute("UPDATE new_conflicts SET basis = 'subject record'")
    last_run = conflicts.write(operation, con)
    assert last_run == conflicts.ConflictCounts(new=0, upgraded=2, found_again=2)
    last = stored(operation)
    assert last[pedro]["confirmed_since"] == last_run.at > second.at
    assert last[tomas]["confirmed_since"] == before[tomas]["confirmed_since"]
    assert last[tomas]["basis"] == "subject record"


def test_a_confirmed_reader_is_told_again_of_a_conflict_confirmed_again(
    operation: Workspace,
) -> None:
    """A reader of ``--confirmed --since`` polls after each run, giving the time of the run
    before: a conflict confirmed, then possible, then confirmed again is told twice, never
    lost; the list is sorted by the time it filters on."""
    found_bases(operation)
    con = operation.store.staging()
    tomas = ("I2-S1", "A1", "A2")
    reads: list[set[tuple[str, str, str]]] = []
    last = None
    for basis in ("returned line", "passed line", "returned line"):
        con.execute("UPDATE new_conflicts SET basis = ? WHERE target_id = ?", [basis, tomas[0]])
        at = conflicts.write(operation, con).at
        since = last if last is not None else datetime(2000, 1, 1)
        reads.append(set(stored(operation, confirmed=True, since=since)))
        last = at + timedelta(microseconds=1)
    assert tomas in reads[0] and tomas not in reads[1] and tomas in reads[2]
    # Pedro's conflict is confirmed since the first run, Tomas's since the third: newest
    # first (both were first seen by the first run).
    rows = conflicts.conflicts_of(
        operation, "A1", confirmed=True, since=datetime(2000, 1, 1)
    ).to_pylist()
    times = [r["confirmed_since"] for r in rows]
    assert times == sorted(times, reverse=True) and times[0] > times[-1]


def test_since_lists_what_is_new_to_the_reader(operation: Workspace) -> None:
    """``conflicts_of(since=...)``: first seen at or after the time, or with ``confirmed``
    first seen as confirmed at or after it; an aware time is read in UTC."""
    found_bases(operation)
    conflicts.write(operation, operation.store.staging())
    store = operation.store
    # Two stored conflicts with known times: Pedro's (A1 -> A2) first seen on July 1 at 10:00
    # and confirmed on July 3 at 10:00; Tomas's (A2 -> A1) possible since July 2 at 10:00.
    # Neither was ever gone: current since it was first seen.
    store.execute(
        "UPDATE conflicts SET first_seen = TIMESTAMP '2022-06-01 00:00:00', "
        "confirmed_since = TIMESTAMP '2022-06-01 00:00:00', "
        "current_since = TIMESTAMP '2022-06-01 00:00:00'"
    )
    store.execute(
        "UPDATE conflicts SET first_seen = TIMESTAMP '2022-07-01 10:00:00', "
        "current_since = TIMESTAMP '2022-07-01 10:00:00', "
        "confirmed_since = TIMESTAMP '2022-07-03 10:00:00' "
        "WHERE target_id = 'I1-S1' AND agency_id = 'A1' AND other_agency_id = 'A2'"
    )
    store.execute(
        "UPDATE conflicts SET first_seen = TIMESTAMP '2022-07-02 10:00:00', "
        "current_since = TIMESTAMP '2022-07-02 10:00:00', "
        "confirmed_since = NULL, basis = 'passed line' "
        "WHERE target_id = 'I2-S1' AND agency_id = 'A2' AND other_agency_id = 'A1'"
    )

    def since(when: str, confirmed: bool = False) -> set[tuple[str, str, str]]:
        rows = conflicts.conflicts_of(
            operation, confirmed=confirmed, since=conflicts.parse_since(when)
        ).to_pylist()
        return {(r["target_id"], r["agency_id"], r["other_agency_id"]) for r in rows}

    pedro, tomas = ("I1-S1", "A1", "A2"), ("I2-S1", "A2", "A1")
    assert since("2022-07-01T10:00:00") == {pedro, tomas}  # at the time itself
    assert since("2022-07-01T10:00:00.000001") == {tomas}
    assert since("2022-07-01T12:00:00+02:00") == {pedro, tomas}  # 10:00 UTC
    assert since("2022-07-02") == {tomas}  # a date is its midnight
    assert since("2022-07-02T10:00:01") == set()
    # The confirmed reader is told of Pedro's when it was confirmed, never of Tomas's.
    assert since("2022-07-01", confirmed=True) == {pedro}
    assert since("2022-07-03T10:00:00Z", confirmed=True) == {pedro}
    assert since("2022-07-03T10:00:01Z", confirmed=True) == set()
    with pytest.raises(ResolveError, match="ISO date"):
        conflicts.parse_since("yesterday")


def test_migration_13_confirms_what_was_told_as_confirmed(workspace_url: str) -> None:
    # Conflicts stored before migration 0013: a confirmed basis, or none (stored before
    # 0010, and listed by --confirmed), was confirmed when first seen; a possible one is not.
    store = _bare_store(workspace_url)
    migrate(store, up_to=12)
    for target, basis in (("P-1", "returned line"), ("P-2", "passed line"), ("P-3", None)):
        _old_conflict(store, target, basis=basis)
    store.close()
    with open_workspace(workspace_url) as ws:
        rows = ws.store.rows("SELECT target_id, confirmed_since FROM conflicts ORDER BY 1")
    assert rows == [
        ("P-1", datetime(2022, 7, 1, 10, 0)),
        ("P-2", None),
        ("P-3", datetime(2022, 7, 1, 10, 0)),
    ]


def test_conflicts_no_longer_found_are_listed_only_with_all(operation: Workspace) -> None:
    """A conflict the latest run no longer finds keeps its row, but is not current: listed
    only with ``include_gone`` (``--all``), with the time it was last found."""
    found_bases(operation)
    con = operation.store.staging()
    first = conflicts.write(operation, con)
    tomas = ("I2-S1", "A2", "A1")
    con.execute("DELETE FROM new_conflicts WHERE target_id = ?", [tomas[0]])
    second = conflicts.write(operation, con)
    current, every = stored(operation), stored(operation, include_gone=True)
    assert tomas not in current and tomas in every
    assert every[tomas]["is_current"] is False and every[tomas]["last_seen"] == first.at
    assert set(every) - set(current) == {c for c in every if c[0] == tomas[0]}
    assert all(r["is_current"] and r["last_seen"] == second.at for r in current.values())
    # What the run counts is what is listed by default.
    assert len(current) == con.execute("SELECT count(*) FROM new_conflicts").fetchone()[0]


def test_a_conflict_without_divisions_is_the_same_conflict_on_the_next_run(
    operation: Workspace,
) -> None:
    """Agencies without divisions store NULL divisions: a rerun must still know the conflict
    (NULL matches NULL), not announce it as new and mark the old row no longer found."""
    found_bases(operation)
    con = operation.store.staging()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_conflicts AS SELECT DISTINCT * REPLACE "
        "(CAST(NULL AS VARCHAR) AS division, CAST(NULL AS VARCHAR) AS other_division) "
        "FROM new_conflicts"
    )
    first = conflicts.write(operation, con)
    assert first.new > 0
    before = stored(operation)
    again = conflicts.write(operation, con)
    assert again.new == 0
    after = stored(operation, include_gone=True)
    assert set(after) == set(before)
    assert all(r["is_current"] for r in after.values())
    assert all(after[k]["first_seen"] == before[k]["first_seen"] for k in before)


def test_a_conflict_found_again_is_announced_again(operation: Workspace) -> None:
    """A reader of ``--since`` (all conflicts, or the confirmed ones) polls after each run,
    giving the time of the run before plus a microsecond: a conflict found, no longer found,
    then found again is told the first and the third time, with its old first_seen and a
    current_since of the third run; one found by every run is told once; WHEN is inclusive."""
    found_bases(operation)
    con = operation.store.staging()
    con.execute("UPDATE new_conflicts SET basis = 'returned line'")
    tomas, pedro = "I2-S1", ("I1-S1", "A1", "A2")
    con.execute("CREATE OR REPLACE TEMP TABLE found AS SELECT * FROM new_conflicts")
    runs: list[conflicts.ConflictCounts] = []
    reads: dict[bool, list[set[tuple[str, str, str]]]] = {False: [], True: []}
    for gone in (False, True, False, False):
        con.execute("CREATE OR REPLACE TEMP TABLE new_conflicts AS SELECT * FROM found")
        if gone:
            con.execute("DELETE FROM new_conflicts WHERE target_id = ?", [tomas])
        runs.append(conflicts.write(operation, con))
        since = runs[-2].at + timedelta(microseconds=1) if len(runs) > 1 else datetime(2000, 1, 1)
        for confirmed in (False, True):
            reads[confirmed].append(set(stored(operation, confirmed=confirmed, since=since)))
    tomas_rows = {c for c in stored(operation) if c[0] == tomas}
    assert len(tomas_rows) == 2
    assert [r.found_again for r in runs] == [0, 0, 2, 0]
    assert [r.new for r in runs[1:]] == [0, 0, 0]
    for confirmed in (False, True):
        told = reads[confirmed]
        assert pedro in told[0] and tomas_rows <= told[0]
        assert told[1] == set() and told[2] == tomas_rows and told[3] == set()
    last = stored(operation, include_gone=True)
    assert all(last[c]["first_seen"] == runs[0].at for c in tomas_rows)
    assert all(last[c]["current_since"] == runs[2].at for c in tomas_rows)
    assert last[pedro]["current_since"] == last[pedro]["first_seen"] == runs[0].at
    # Inclusive: the time the third run printed tells of them, a microsecond later nothing.
    assert set(stored(operation, since=runs[2].at)) == tomas_rows
    assert set(stored(operation, confirmed=True, since=runs[2].at)) == tomas_rows
    later = runs[2].at + timedelta(microseconds=1)
    assert set(stored(operation, since=later)) == set()
    assert set(stored(operation, confirmed=True, since=later)) == set()


def test_a_conflict_no_longer_found_keeps_the_time_it_was_current_since(
    operation: Workspace,
) -> None:
    found_bases(operation)
    con = operation.store.staging()
    first = conflicts.write(operation, con)
    con.execute("DELETE FROM new_conflicts WHERE target_id = 'I2-S1'")
    conflicts.write(operation, con)
    gone = {c: r for c, r in stored(operation, include_gone=True).items() if c[0] == "I2-S1"}
    assert gone and all(not r["is_current"] for r in gone.values())
    assert all(r["current_since"] == first.at for r in gone.values())
    # A row whose currency is not known (written by hand, without is_current) is never
    # listed as current: found by a run, it is told again, as one found again.
    operation.store.execute("UPDATE conflicts SET is_current = NULL WHERE target_id = 'I1-S1'")
    pedro = len(stored(operation, include_gone=True)) - len(stored(operation)) - len(gone)
    assert pedro > 0 and conflicts.write(operation, con).found_again == pedro


def test_migration_15_gives_each_conflict_its_first_seen_as_current_since(
    workspace_url: str,
) -> None:
    # Whether a conflict stored before it ever came back is kept nowhere: nothing already
    # announced is announced again.
    store = _bare_store(workspace_url)
    migrate(store, up_to=14)
    for target, current in (("P-1", True), ("P-2", False)):
        _old_conflict(store, target, basis="returned line", is_current=current)
    store.close()
    with open_workspace(workspace_url) as ws:
        rows = ws.store.rows("SELECT target_id, current_since FROM conflicts ORDER BY 1")
    assert rows == [("P-1", datetime(2022, 7, 1, 10, 0)), ("P-2", datetime(2022, 7, 1, 10, 0))]


def test_migration_14_marks_the_latest_runs_conflicts_current(workspace_url: str) -> None:
    store = _bare_store(workspace_url)
    migrate(store, up_to=13)
    for target, last_seen in (("P-1", datetime(2022, 7, 2)), ("P-2", datetime(2022, 7, 1))):
        _old_conflict(store, target, basis="returned line", last_seen=last_seen)
    store.close()
    with open_workspace(workspace_url) as ws:
        rows = ws.store.rows("SELECT target_id, is_current FROM conflicts ORDER BY 1")
    assert rows == [("P-1", True), ("P-2", False)]


def test_naive_utc_reads_an_aware_time_in_utc() -> None:
    from datetime import timezone

    from lastmile.times import naive_utc

    phoenix = timezone(timedelta(hours=-7))
    assert naive_utc(datetime(2022, 7, 1, 3, 0, tzinfo=phoenix)) == datetime(2022, 7, 1, 10, 0)
    assert naive_utc(datetime(2022, 7, 1, 10, 0)) == datetime(2022, 7, 1, 10, 0)
