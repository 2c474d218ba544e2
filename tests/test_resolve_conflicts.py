"""Target deconfliction: which investigations work a target (docs/resolution.md,
"Deconfliction").

A small operation written here, on both stores: Pedro's phone is listed by agency A1's case,
and is a line whose toll records agency A2's case obtained (numbers that talk to it alone);
agency A3's case holds it only as a contact of its own targets, and A3's other case returns
an event or two a line, too few to tell a return from a contact. Two sisters share a family
phone, which A2's case also obtained records of. The rule is applied to the records as
resolution leaves them (each subject record its own person here), without training a model.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lastmile.comms.handovers import HandoverParams, handovers_sql
from lastmile.ingest import ingest_paths
from lastmile.resolve import conflicts, features
from lastmile.store import Workspace
from lastmile.store.backends import register_table

INVESTIGATIONS = [
    ("I1", "A1", "Phoenix"),
    ("I2", "A2", "Phoenix"),
    ("I3", "A3", "Phoenix"),
    ("I4", "A3", "Phoenix"),
    ("I5", "A2", "Phoenix"),
]
PEDRO = "602-555-0101"
FAMILY = "602-555-0102"
T2, T3, T3B, T4 = "602-555-0201", "602-555-0301", "602-555-0302", "602-555-0401"
ROSA, ROSA_OLD, ANA_OLD = "602-555-0103", "602-555-0501", "602-555-0104"


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
    ]
    _write(
        folder,
        "selectors",
        [
            {"selector_id": x, "investigation_id": i, "subject_id": s, "kind": "phone", "value": v}
            for x, i, s, v in selectors
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
    ]
    _write(folder, "communications", comms)


def found_conflicts(ws: Workspace) -> set[tuple[str, str, str]]:
    """(subject record, agency, other agency) of each conflict the rule finds, with every
    subject record its own person."""
    con = ws.store.staging()
    features.load_records(ws, con)
    features.build_selectors(con)
    features.build_organizations(con)
    features.build_person_features(con)
    features.settle(con)
    register_table(
        con,
        ws.store.query(
            "SELECT 'subjects' AS record_type, subject_id AS record_id, "
            "subject_id AS entity_id FROM subjects"
        ),
        "new_members",
    )
    conflicts.load_lines(ws, con)
    conflicts.compute(con)
    rows = con.execute(
        "SELECT DISTINCT target_id, agency_id, other_agency_id FROM new_conflicts"
    ).fetchall()
    return {(str(t), str(a), str(b)) for t, a, b in rows}


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
    assert pairs == {("+16025550501", "+16025550103"), ("+16025550104", "+16025550102")}
    found = found_conflicts(operation)
    assert ("I1-S4", "A1", "A2") in found
    # A1's records never show the old line: its user is not credited with A1's case.
    assert ("I5-S1", "A2", "A1") not in found
