"""The communications analyses, on a hand-made operation whose answers are known, on both
backends; and the handover finder against the tiny synthetic operation's ground truth."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from lastmile.comms import (
    CommsError,
    HandoverParams,
    common,
    contacts,
    handovers,
    normalize_selector,
    timeline,
    to_rows,
)
from lastmile.ingest import ingest_paths
from lastmile.resolve.run import resolve
from lastmile.store import Workspace

T1, T2, T3 = "+13035550101", "+13035550102", "+13035550103"
C1, C2, C3, C4 = "+13035550201", "+13035550202", "+13035550203", "+13035550204"
OLD, NEW, SECOND = "+13035550301", "+13035550302", "+13035550303"
D1, D2, D3, D4, D5 = (f"+1303555040{i}" for i in range(1, 6))

# Targets T1-T3 share contacts C1 (all three) and C2 (T1 and T2). OLD is a burner replaced
# by NEW two days after it goes silent; SECOND is a second phone used alongside both.
EVENTS = [
    ("2022-03-01T10:00:00Z", "(303) 555-0101", C1, "call", "", "60"),
    ("2022-03-01T11:00:00Z", C1, "303.555.0101", "text", "", ""),
    ("2022-03-02T22:30:00Z", T1, C2, "call", "", "30"),
    ("2022-03-03T09:00:00Z", T1, C1, "app_message", "WhatsApp", ""),
    ("2022-03-02T10:00:00Z", T2, C1, "call", "", "120"),
    ("2022-03-04T10:00:00Z", C2, T2, "text", "", ""),
    ("2022-03-05T10:00:00Z", T2, C3, "text", "", ""),
    ("2022-03-05T12:00:00Z", T3, C1, "call", "", "10"),
    ("2022-03-06T12:00:00Z", T1, T2, "call", "", "15"),
    ("2022-03-06T12:30:00Z", "@El.Guero", "buyer.one", "app_message", "Instagram", ""),
    ("2022-03-25T08:00:00Z", T3, C4, "text", "", ""),
    # the burner and its successor
    ("2022-03-01T15:00:00Z", OLD, D1, "call", "", "40"),
    ("2022-03-03T15:00:00Z", D2, OLD, "text", "", ""),
    ("2022-03-05T15:00:00Z", OLD, D3, "call", "", "40"),
    ("2022-03-08T15:00:00Z", OLD, D4, "text", "", ""),
    ("2022-03-10T15:00:00Z", D1, OLD, "call", "", "40"),
    ("2022-03-12T15:00:00Z", NEW, D1, "call", "", "40"),
    ("2022-03-14T15:00:00Z", D2, NEW, "text", "", ""),
    ("2022-03-16T15:00:00Z", NEW, D3, "call", "", "40"),
    ("2022-03-18T15:00:00Z", NEW, D5, "text", "", ""),
    ("2022-03-20T15:00:00Z", NEW, D2, "call", "", "40"),
    ("2022-03-02T16:00:00Z", SECOND, D1, "text", "", ""),
    ("2022-03-06T16:00:00Z", SECOND, D2, "text", "", ""),
    ("2022-03-15T16:00:00Z", D3, SECOND, "text", "", ""),
    ("2022-03-24T16:00:00Z", SECOND, D1, "text", "", ""),
]


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def _one_case(tmp_path: Path, first: str, second: str) -> Path:
    """A folder ``op`` with one DEA investigation, INV-1, naming subjects S-1 and S-2."""
    op = tmp_path / "op"
    op.mkdir()
    _write(op / "agencies.csv", "agency_id,name,kind", ["DEA,Drug Enforcement Admin,federal"])
    _write(
        op / "investigations.csv",
        "investigation_id,agency_id,division,opened",
        ["INV-1,DEA,Rocky Mountain,2022-01-01"],
    )
    _write(
        op / "subjects.csv",
        "subject_id,investigation_id,full_name",
        [f"S-1,INV-1,{first}", f"S-2,INV-1,{second}"],
    )
    return op


@pytest.fixture
def comms_ws(workspace: Workspace, tmp_path: Path) -> Workspace:
    op = _one_case(tmp_path, "Fictional One", "Fictional Two")
    _write(
        op / "selectors.csv",
        "selector_id,investigation_id,subject_id,kind,value,platform",
        [
            "P-1,INV-1,S-1,phone,(303) 555-0101,",
            "P-2,INV-1,S-1,account,@el.guero,Instagram",
            "P-3,INV-1,S-2,phone,303-555-0102,",
        ],
    )
    _write(
        op / "communications.csv",
        "communication_id,investigation_id,time,from_selector,to_selector,kind,platform,duration_s",
        [f"E-{i},INV-1,{','.join(e)}" for i, e in enumerate(EVENTS, start=1)],
    )
    result = ingest_paths(workspace, [op], rejects=tmp_path / "rejects.csv")
    assert result.rejects_total == 0
    return workspace


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_normalize_selector_accepts_any_written_form() -> None:
    assert normalize_selector("(303) 555-0101") == T1
    assert normalize_selector("13035550101") == T1
    assert normalize_selector("@El.Guero") == "el.guero"
    with pytest.raises(CommsError):
        normalize_selector("  ")


def test_contacts(comms_ws: Workspace) -> None:
    rows = to_rows(contacts(comms_ws, "303.555.0101"))
    assert rows == [
        {
            "contact": C1,
            "events": 3,
            "calls": 1,
            "texts": 1,
            "app_messages": 1,
            "outgoing": 2,
            "incoming": 1,
            "first_contact": ts("2022-03-01 10:00:00"),
            "last_contact": ts("2022-03-03 09:00:00"),
            "total_duration_s": 60,
            "platforms": "WhatsApp",
        },
        {
            "contact": T2,
            "events": 1,
            "calls": 1,
            "texts": 0,
            "app_messages": 0,
            "outgoing": 1,
            "incoming": 0,
            "first_contact": ts("2022-03-06 12:00:00"),
            "last_contact": ts("2022-03-06 12:00:00"),
            "total_duration_s": 15,
            "platforms": "",
        },
        {
            "contact": C2,
            "events": 1,
            "calls": 1,
            "texts": 0,
            "app_messages": 0,
            "outgoing": 1,
            "incoming": 0,
            "first_contact": ts("2022-03-02 22:30:00"),
            "last_contact": ts("2022-03-02 22:30:00"),
            "total_duration_s": 30,
            "platforms": "",
        },
    ]
    assert contacts(comms_ws, T1, limit=1).column("contact").to_pylist() == [C1]
    assert contacts(comms_ws, "+19995550000").num_rows == 0
    assert contacts(comms_ws, "+19995550000").schema == contacts(comms_ws, T1).schema


def test_common(comms_ws: Workspace) -> None:
    table = common(comms_ws, ["(303) 555-0101", "303-555-0102", T3])
    assert to_rows(table) == [
        {
            "contact": C1,
            "targets": 3,
            "target_list": f"{T1}|{T2}|{T3}",
            "events": 5,
            "first_contact": ts("2022-03-01 10:00:00"),
            "last_contact": ts("2022-03-05 12:00:00"),
        },
        {
            "contact": C2,
            "targets": 2,
            "target_list": f"{T1}|{T2}",
            "events": 2,
            "first_contact": ts("2022-03-02 22:30:00"),
            "last_contact": ts("2022-03-04 10:00:00"),
        },
    ]
    assert common(comms_ws, [T1, T2, T3], min_targets=3).column("contact").to_pylist() == [C1]
    assert common(comms_ws, [T1, T2, T3], limit=1).num_rows == 1
    # T2 talks to T1, but a target is never its own common contact.
    assert T2 not in common(comms_ws, [T1, T2], min_targets=1).column("contact").to_pylist()
    with pytest.raises(CommsError):
        common(comms_ws, [])


def test_handovers(comms_ws: Workspace) -> None:
    assert to_rows(handovers(comms_ws)) == [
        {
            "old_selector": OLD,
            "new_selector": NEW,
            "date": date(2022, 3, 12),
            "score": pytest.approx(0.6),
            "shared_contacts": 3,
            "old_contacts": 4,
            "new_contacts": 4,
            "gap_days": 2,
            "old_last": date(2022, 3, 10),
            "evidence": "old silent after 2022-03-10; new first seen 2022-03-12 (2 days); "
            "3 of 5 contacts shared (Jaccard 0.60)",
        }
    ]
    # Too far apart, too dissimilar, or D1-D3 counted as hubs: no handover.
    assert handovers(comms_ws, max_gap_days=1).num_rows == 0
    assert handovers(comms_ws, min_similarity=0.7).num_rows == 0
    assert handovers(comms_ws, hub_degree=2).num_rows == 0
    # Every knob reaches the query (mutation testing found four that did not need to).
    assert handovers(comms_ws, min_shared=4).num_rows == 0  # 3 shared
    assert handovers(comms_ws, min_contacts=5).num_rows == 0  # 4 on each side
    assert handovers(comms_ws, min_shared=3, min_contacts=4).num_rows == 1
    assert handovers(comms_ws, window_days=1).num_rows == 0  # 1-day tail and head share 0-1
    with pytest.raises(CommsError):
        handovers(comms_ws, min_similarity=1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_days": 0}, "window_days must be at least 1"),
        ({"min_shared": 0}, "min_shared must be at least 1"),
        ({"max_gap_days": -1}, "max_gap_days and max_overlap_days cannot be negative"),
        ({"max_overlap_days": -1}, "max_gap_days and max_overlap_days cannot be negative"),
        ({"min_similarity": -0.1}, "min_similarity must be between 0 and 1"),
        ({"min_similarity": 1.1}, "min_similarity must be between 0 and 1"),
    ],
)
def test_handover_params_refuse_impossible_values(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(CommsError, match=f"^{message}$"):
        HandoverParams(**kwargs)  # type: ignore[arg-type]


def test_handover_params_accept_their_bounds() -> None:
    HandoverParams(window_days=1, min_contacts=1, min_shared=1, hub_degree=1)
    HandoverParams(max_gap_days=0, max_overlap_days=0, min_similarity=0.0)
    HandoverParams(min_similarity=1.0)


def test_timeline_of_a_selector(comms_ws: Workspace) -> None:
    assert to_rows(timeline(comms_ws, "303 555 0101")) == [
        {"day": date(2022, 3, 1), "hour": 10, "events": 1, "calls": 1, "texts": 0,
         "app_messages": 0},
        {"day": date(2022, 3, 1), "hour": 11, "events": 1, "calls": 0, "texts": 1,
         "app_messages": 0},
        {"day": date(2022, 3, 2), "hour": 22, "events": 1, "calls": 1, "texts": 0,
         "app_messages": 0},
        {"day": date(2022, 3, 3), "hour": 9, "events": 1, "calls": 0, "texts": 0,
         "app_messages": 1},
        {"day": date(2022, 3, 6), "hour": 12, "events": 1, "calls": 1, "texts": 0,
         "app_messages": 0},
    ]  # fmt: skip


def test_timeline_of_a_subject(comms_ws: Workspace) -> None:
    table = timeline(comms_ws, "S-1")
    assert table.num_rows == 5
    last = to_rows(table)[-1]
    assert last == {
        "day": date(2022, 3, 6),
        "hour": 12,
        "events": 2,
        "calls": 1,
        "texts": 0,
        "app_messages": 1,
    }
    assert sum(table.column("events").to_pylist()) == 6


def test_handovers_on_the_tiny_synthetic_operation(workspace: Workspace, tmp_path: Path) -> None:
    from lastmile.synth import generate

    out = tmp_path / "tiny"
    generate("tiny", 2022, out)
    ingest_paths(workspace, [out], rejects=tmp_path / "rejects.csv")
    with (out / "truth" / "handovers.csv").open(encoding="utf-8") as f:
        truth = {(r["old_selector"], r["new_selector"]) for r in csv.DictReader(f)}
    found = {(r["old_selector"], r["new_selector"]) for r in to_rows(handovers(workspace))}
    assert found, "the tiny operation has burner handovers to find"
    assert len(found & truth) / len(found) >= 0.9


def test_handovers_pick_the_best_successor_and_only_mutual_bests(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Issue 8, item 26: two old phones and two new ones, four candidate pairs.

    O1's tail {a, b, c, d}; O2's tail {a, b, c, y}; N1's head {a, b, c, d} (Jaccard 1.0 with
    O1, 0.6 with O2); N2's head {a, b, x} (0.4 with O1, 0.4 with O2). O1 -> N1 is the one
    pair: N2 is O1's worse successor, and O2's best successor N1 prefers O1."""
    names = ["O1", "O2", "N1", "N2", "a", "b", "c", "d", "x", "y", "z1", "z2"]
    sel = {k: f"+1720555{600 + i:04d}" for i, k in enumerate(names)}
    events = [("2022-04-01", "z1", "z2"), ("2022-06-30", "z1", "z2")]  # the data's span
    for day, old in ((2, "O1"), (3, "O2")):
        contacts = "abcd" if old == "O1" else "abcy"
        events += [(f"2022-04-{day + i:02d}", old, c) for i, c in enumerate(contacts)]
    events += [(f"2022-04-{12 + i:02d}", "N1", c) for i, c in enumerate("abcd")]
    events += [(f"2022-04-{13 + i:02d}", "N2", c) for i, c in enumerate("abx")]
    op = tmp_path / "op"
    op.mkdir()
    _write(op / "agencies.csv", "agency_id,name,kind", ["DEA,Drug Enforcement Admin,federal"])
    _write(
        op / "investigations.csv",
        "investigation_id,agency_id,division,opened",
        ["INV-1,DEA,Rocky Mountain,2022-01-01"],
    )
    _write(
        op / "communications.csv",
        "communication_id,investigation_id,time,from_selector,to_selector,kind",
        [f"E-{i},INV-1,{d}T12:00:00Z,{sel[f]},{sel[t]},call" for i, (d, f, t) in enumerate(events)],
    )
    assert ingest_paths(workspace, [op], rejects=tmp_path / "rejects.csv").rejects_total == 0
    pairs = [
        (r["old_selector"], r["new_selector"], r["score"]) for r in to_rows(handovers(workspace))
    ]
    assert pairs == [(sel["O1"], sel["N1"], pytest.approx(1.0))]


def test_a_successor_that_starts_before_the_old_phone_stops_needs_max_overlap_days(
    workspace: Workspace, tmp_path: Path
) -> None:
    """OLD's last call is on 10 April, NEW's first on 8 April (two days of overlap) with the
    same three contacts: a handover only when ``max_overlap_days`` allows two days. The empty
    answer keeps the schema's types (an all-empty evidence column is still text); a resolved
    workspace names both phones' owners."""
    names = ["OLD", "NEW", "a", "b", "c", "z1", "z2"]
    sel = {k: f"+1720555{700 + i:04d}" for i, k in enumerate(names)}
    # The data's span; the contacts are active throughout (none is itself old or new).
    events = [(day, "z1", c) for day in ("2022-04-01", "2022-06-30") for c in ("z2", "a", "b", "c")]
    events += [("2022-04-02", "OLD", "a"), ("2022-04-04", "OLD", "b"), ("2022-04-10", "OLD", "c")]
    events += [("2022-04-08", "NEW", "a"), ("2022-04-09", "NEW", "b"), ("2022-04-12", "NEW", "c")]
    op = _one_case(tmp_path, "Fictional Uno", "Ficticia Dos")
    _write(
        op / "selectors.csv",
        "selector_id,investigation_id,subject_id,kind,value,platform",
        [f"P-1,INV-1,S-1,phone,{sel['OLD']},", f"P-2,INV-1,S-2,phone,{sel['NEW']},"],
    )
    _write(
        op / "communications.csv",
        "communication_id,investigation_id,time,from_selector,to_selector,kind",
        [f"E-{i},INV-1,{d}T12:00:00Z,{sel[f]},{sel[t]},call" for i, (d, f, t) in enumerate(events)],
    )
    assert ingest_paths(workspace, [op], rejects=tmp_path / "rejects.csv").rejects_total == 0
    resolve(workspace)  # each phone's subject is a person: the pair shows its owners
    none = handovers(workspace)  # the default allows one day
    assert none.num_rows == 0
    assert none.schema.field("evidence").type == pa.string()
    assert none.schema.field("date").type == pa.date32()
    found = to_rows(handovers(workspace, max_overlap_days=2))
    assert [(r["old_selector"], r["new_selector"], r["gap_days"]) for r in found] == [
        (sel["OLD"], sel["NEW"], -2)
    ]
    assert (found[0]["old_selector_owner"], found[0]["new_selector_owner"]) == (
        "Fictional Uno",
        "Ficticia Dos",
    )
    assert found[0]["old_selector_owner_id"] != found[0]["new_selector_owner_id"]
    assert found[0]["evidence"].startswith("old silent after 2022-04-10; new first seen 2022-04-08")


def test_a_contact_talked_to_early_and_again_at_the_end_is_in_the_tail(
    workspace: Workspace, tmp_path: Path
) -> None:
    """OLD talks to ``a`` on 2 March and again on 20 April, to ``b`` and ``c`` in its last
    days (its last event on 25 April), and to ``e`` on 3 March only; NEW talks to a, b and c
    from 27 April. The tail (the last 30 days) is the contacts OLD talked to in them, whenever
    it first did: a, b and c (3 of 3 shared, Jaccard 1.0), not e."""
    names = ["OLD", "NEW", "a", "b", "c", "e", "z1", "z2"]
    sel = {k: f"+1720555{800 + i:04d}" for i, k in enumerate(names)}
    # The data's span; the contacts are active throughout (none is itself old or new).
    events = [
        (day, "z1", c) for day in ("2022-03-01", "2022-06-30") for c in ("z2", "a", "b", "c", "e")
    ]
    events += [("2022-03-02", "OLD", "a"), ("2022-03-03", "OLD", "e")]
    events += [("2022-04-20", "OLD", "a"), ("2022-04-22", "OLD", "b"), ("2022-04-25", "OLD", "c")]
    events += [("2022-04-27", "NEW", "a"), ("2022-04-28", "NEW", "b"), ("2022-04-29", "NEW", "c")]
    op = _one_case(tmp_path, "Fictional Uno", "Ficticia Dos")
    _write(
        op / "communications.csv",
        "communication_id,investigation_id,time,from_selector,to_selector,kind",
        [f"E-{i},INV-1,{d}T12:00:00Z,{sel[f]},{sel[t]},call" for i, (d, f, t) in enumerate(events)],
    )
    assert ingest_paths(workspace, [op], rejects=tmp_path / "rejects.csv").rejects_total == 0
    found = to_rows(handovers(workspace))
    assert [
        (r["old_selector"], r["new_selector"], r["shared_contacts"], r["old_contacts"])
        for r in found
    ] == [(sel["OLD"], sel["NEW"], 3, 3)]
    assert found[0]["score"] == pytest.approx(1.0)


def test_a_tie_goes_to_the_selector_first_in_byte_order(
    workspace: Workspace, tmp_path: Path
) -> None:
    """``old``'s tail and the heads of ``a.c`` and ``a_b`` are the same three contacts, and
    both start on the same day: a tie for the best successor, which goes to ``a.c`` (``.``
    is before ``_`` in bytes). Likewise ``b.c`` and ``b_b`` tie for the best predecessor of
    ``new``. On PostgreSQL the selectors are given an English ICU collation first, which
    puts ``_`` before ``.``: the tie-breaks must not follow the database's collation."""
    names = ["old", "a.c", "a_b", "new", "b.c", "b_b", "ca", "cb", "cc", "da", "db", "dc"]
    names += ["z1", "z2"]
    events = [
        (day, "z1", c)
        for day in ("2022-03-01", "2022-06-30")
        for c in ("z2", "ca", "cb", "cc", "da", "db", "dc")
    ]
    events += [
        ("2022-04-20", "old", "ca"),
        ("2022-04-22", "old", "cb"),
        ("2022-04-25", "old", "cc"),
    ]
    for new in ("a.c", "a_b"):
        events += [("2022-04-27", new, "ca"), ("2022-04-28", new, "cb"), ("2022-04-29", new, "cc")]
    for old in ("b.c", "b_b"):
        events += [("2022-05-10", old, "da"), ("2022-05-12", old, "db"), ("2022-05-15", old, "dc")]
    events += [
        ("2022-05-17", "new", "da"),
        ("2022-05-18", "new", "db"),
        ("2022-05-19", "new", "dc"),
    ]
    assert set(names) == {s for e in events for s in e[1:]}
    op = _one_case(tmp_path, "Fictional Uno", "Ficticia Dos")
    _write(
        op / "communications.csv",
        "communication_id,investigation_id,time,from_selector,to_selector,kind,platform",
        [
            f"E-{i},INV-1,{d}T12:00:00Z,@{f},@{t},app_message,Instagram"
            for i, (d, f, t) in enumerate(events)
        ],
    )
    assert ingest_paths(workspace, [op], rejects=tmp_path / "rejects.csv").rejects_total == 0
    if workspace.kind == "postgresql":
        for column in ("from_selector", "to_selector"):
            workspace.store.execute(
                f'ALTER TABLE communications ALTER COLUMN {column} TYPE TEXT COLLATE "en-x-icu"'
            )
        assert workspace.store.rows(
            "SELECT MIN(from_selector) FROM communications WHERE from_selector LIKE 'a%'"
        ) == [("a_b",)]
    found = to_rows(handovers(workspace))
    assert [(r["old_selector"], r["new_selector"]) for r in found] == [
        ("old", "a.c"),
        ("b.c", "new"),
    ]
