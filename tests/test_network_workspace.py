"""The typed entity graph read from a workspace, on both stores.

Until the resolver lands, the fixture fills the record tables and entities/entity_members by
hand: two investigations name the same dealer (subjects S1 and T1, one entity P1)."""

from __future__ import annotations

from typing import Any

from lastmile.network.workspace import entity_ties
from lastmile.store import Workspace


def insert(ws: Workspace, table: str, rows: list[dict[str, Any]], casts: dict[str, str]) -> None:
    for row in rows:
        cols = list(row)
        values = ", ".join(f"CAST(? AS {casts[c]})" if c in casts else "?" for c in cols)
        ws.store.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values})", list(row.values())
        )


def fill(ws: Workspace) -> None:
    subjects = [("S1", "I1"), ("S2", "I1"), ("S3", "I1"), ("T1", "I2"), ("T2", "I2")]
    insert(
        ws,
        "subjects",
        [
            {
                "subject_id": s,
                "investigation_id": i,
                "source_reliability": "B",
                "info_credibility": "2",
            }
            for s, i in subjects
        ],
        {},
    )
    insert(
        ws,
        "organizations",
        [{"organization_id": "O1", "investigation_id": "I1", "name": "Crew", "kind": "crew"}],
        {},
    )
    selectors = [
        ("P-S1", "I1", "S1", "+13035550101"),
        ("P-S2", "I1", "S2", "+13035550102"),
        ("P-T2", "I2", "T2", "+13035550103"),
        ("P-S3", "I1", "S3", "+13035550104"),
        ("P-T1", "I2", "T2", "+13035550104"),  # T2 uses S3's phone too: a shared selector
        ("P-X", "I2", None, "+13035550199"),  # nobody's phone
    ]
    insert(
        ws,
        "selectors",
        [
            {
                "selector_id": sid,
                "investigation_id": inv,
                "subject_id": sub,
                "kind": "phone",
                "value": v,
                "value_normalized": v,
                "source_reliability": "C",
                "info_credibility": "3",
            }
            for sid, inv, sub, v in selectors
        ],
        {},
    )
    calls = [
        ("00000000-0000-0000-0000-000000000001", "2022-06-01 10:00:00", "101", "102"),
        ("00000000-0000-0000-0000-000000000002", "2022-06-03 10:00:00", "102", "101"),
        ("00000000-0000-0000-0000-000000000003", "2022-06-04 10:00:00", "101", "103"),
        ("00000000-0000-0000-0000-000000000004", "2022-06-05 10:00:00", "101", "199"),
    ]
    insert(
        ws,
        "communications",
        [
            {
                "event_key": k,
                "time": t,
                "from_selector": f"+1303555{a.zfill(4)}",
                "to_selector": f"+1303555{b.zfill(4)}",
                "kind": "call",
            }
            for k, t, a, b in calls
        ],
        {"event_key": "UUID", "time": "TIMESTAMP"},
    )
    insert(
        ws,
        "communications_sources",
        [
            {
                "event_key": k,
                "investigation_id": "I1",
                "source_reliability": "A",
                "info_credibility": "1",
            }
            for k, *_ in calls
        ],
        {"event_key": "UUID"},
    )
    relationships = [
        ("R1", "I1", "supplies", "S2", "S1", "B", "2"),
        ("R2", "I1", "member_of", "S1", "O1", "B", "3"),
        ("R3", "I2", "family", "T1", "T2", "E", "5"),
        ("R4", "I2", "supplies", "T2", "T1", None, None),
    ]
    insert(
        ws,
        "relationships",
        [
            {
                "relationship_id": r,
                "investigation_id": i,
                "kind": k,
                "from_id": f,
                "to_id": t,
                "source_reliability": sr,
                "info_credibility": ic,
            }
            for r, i, k, f, t, sr, ic in relationships
        ],
        {},
    )
    insert(
        ws,
        "arrests",
        [
            {
                "arrest_id": a,
                "investigation_id": "I1",
                "subject_id": s,
                "date": "2023-01-19",
                "source_reliability": "A",
                "info_credibility": "1",
            }
            for a, s in (("A1", "S1"), ("A2", "S3"))
        ],
        {"date": "DATE"},
    )
    members = [
        ("subjects", "S1", "P1"),
        ("subjects", "T1", "P1"),
        ("subjects", "S2", "P2"),
        ("subjects", "S3", "P3"),
        ("subjects", "T2", "P4"),
        ("organizations", "O1", "G1"),
        ("selectors", "P-S1", "X101"),
        ("selectors", "P-S2", "X102"),
        ("selectors", "P-T2", "X103"),
        ("selectors", "P-S3", "X104"),
        ("selectors", "P-T1", "X104"),
        ("selectors", "P-X", "X199"),
    ]
    insert(
        ws,
        "entity_members",
        [
            {"record_type": t, "record_id": r, "entity_id": e, "probability": 1.0}
            for t, r, e in members
        ],
        {},
    )


def test_entity_ties_are_typed_keep_records_and_grades(workspace: Workspace) -> None:
    fill(workspace)
    ties = {(r["kind"], r["source"], r["target"]): r for r in entity_ties(workspace).to_pylist()}
    assert set(ties) == {
        ("communication", "P1", "P2"),
        ("communication", "P1", "P4"),
        ("supply", "P2", "P1"),
        ("supply", "P4", "P1"),
        ("membership", "G1", "P1"),
        ("family", "P1", "P4"),
        ("co_arrest", "P1", "P3"),
        ("shared_selector", "P3", "P4"),
    }
    calls = ties[("communication", "P1", "P2")]
    assert calls["records"] == 2 and calls["grades"] == "A1"
    assert calls["first"].startswith("2022-06-01") and calls["last"].startswith("2022-06-03")
    assert ties[("supply", "P2", "P1")]["record_ids"] == "R1"
    assert ties[("supply", "P2", "P1")]["grades"] == "B2"
    assert ties[("supply", "P4", "P1")]["grades"] == "??"
    assert ties[("family", "P1", "P4")]["grades"] == "E5"
    assert ties[("co_arrest", "P1", "P3")]["record_ids"] == "A1|A2"
    assert ties[("shared_selector", "P3", "P4")]["record_ids"] == "P-S3|P-T1"


def test_an_empty_workspace_has_no_ties(workspace: Workspace) -> None:
    assert entity_ties(workspace).num_rows == 0
