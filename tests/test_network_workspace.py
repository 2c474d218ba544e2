"""The typed entity graph read from a workspace, on both stores.

Until the resolver lands, the fixture fills the record tables and entities/entity_members by
hand: two investigations name the same dealer (subjects S1 and T1, one entity P1)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from lastmile.network import networks
from lastmile.network.networks import distribution_networks, workspace_networks
from lastmile.network.workspace import TIE_SCHEMA, entity_ties
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


def tie(source: str, target: str, kind: str, records: int = 5) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "kind": kind,
        "records": records,
        "record_ids": "",
        "grades": "",
        "first": None,
        "last": None,
    }


def world() -> pa.Table:
    """A hub H supplies two crews that never talk to each other; a cartel member K supplies H;
    a family tie joins the two crews; one crew member called the other crew once."""
    rows = [tie("H", "A1", "supply"), tie("H", "B1", "supply"), tie("K", "H", "supply")]
    for crew in "AB":
        rows += [
            tie(f"{crew}1", f"{crew}2", "communication"),
            tie(f"{crew}2", f"{crew}3", "communication"),
            tie(f"{crew}1", f"{crew}3", "communication"),
            tie(f"{crew}1", f"{crew}4", "communication"),
        ]
    rows += [
        tie("A1", "B1", "family"),
        tie("A2", "B2", "communication", records=1),
        tie("H", "A1", "communication"),
        tie("H", "B1", "communication"),
        tie("C", "K", "membership"),
        tie("A3", "G", "membership"),
        tie("B3", "Biz", "membership"),
        tie("A4", "Biz", "membership"),
    ]
    return pa.Table.from_pylist(rows, schema=TIE_SCHEMA)


def _by_network(members: pa.Table) -> dict[str, set[str]]:
    """``distribution_networks``' rows as each network's set of entities."""
    nets: dict[str, set[str]] = {}
    for row in members.to_pylist():
        nets.setdefault(row["network_id"], set()).add(row["entity_id"])
    return nets


def test_networks_cut_the_hub_and_ignore_family_and_single_calls() -> None:
    kinds = {"C": "cartel", "G": "crew", "Biz": "business"}
    places = {f"A{i}": {"Denver, CO"} for i in range(1, 5)}
    places |= {f"B{i}": {"Omaha, NE"} for i in range(1, 5)}
    members = distribution_networks(world(), kinds, {"K"}, places)
    nets = _by_network(members)
    assert sorted(map(sorted, nets.values())) == [
        ["A1", "A2", "A3", "A4", "G"],
        ["B1", "B2", "B3", "B4"],
        ["H", "K"],
    ]
    upstream = {row["entity_id"] for row in members.to_pylist() if row["upstream"]}
    assert upstream == {"H", "K"}
    assert nets["N-H"] == {"H", "K"}


def test_two_crews_that_talk_a_little_are_two_networks_only_when_the_records_say_so() -> None:
    """Rule 4: two tight crews joined by one call tie split when each holds its own gang (or
    they are in different cities), and stay one network when nothing in the records sets
    them apart."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(5)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
    rows.append(tie("A0", "B0", "communication", 3))
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    denver = {f"{c}{i}": {"Denver, CO"} for c in "AB" for i in range(5)}

    def networks(extra: list[dict[str, Any]], kinds: dict[str, str], places: Any) -> set[str]:
        both = pa.concat_tables([table, pa.Table.from_pylist(extra, schema=TIE_SCHEMA)])
        members = distribution_networks(both, kinds, set(), places)
        return set(members.column("network_id").to_pylist())

    gangs = [tie("A1", "GA", "membership"), tie("B1", "GB", "membership")]
    assert networks(gangs, {"GA": "gang", "GB": "gang"}, denver) == {"N-A0", "N-B0"}
    assert networks([], {}, denver) == {"N-A0"}
    omaha = denver | {f"B{i}": {"Omaha, NE"} for i in range(5)}
    assert networks([], {}, omaha) == {"N-A0", "N-B0"}


def test_a_crew_leader_supplying_his_own_dealers_is_not_a_hub() -> None:
    rows = [tie("L", f"D{i}", "supply") for i in range(4)]
    rows += [tie(f"D{i}", f"U{i}{j}", "communication") for i in range(4) for j in range(2)]
    places = {f"D{i}": {"Denver, CO"} for i in range(4)}
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), {}, set(), places
    )
    assert len(set(members.column("network_id").to_pylist())) == 1
    assert not any(members.column("upstream").to_pylist())


def test_an_unmarked_group_does_not_chain_two_dtos_into_one_network() -> None:
    """Rule 4's merging is constrained: a community with no organization of its own (here a
    supply cell C talking heavily to two DTO crews) joins the crew it is most tied to, and
    the two DTO crews stay apart even though C talks to both."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(5)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}0", f"D{crew}", "membership"))
    cell = [f"C{i}" for i in range(4)]
    rows += [tie(a, b, "communication", 10) for i, a in enumerate(cell) for b in cell[:i]]
    rows += [tie("C0", "A0", "communication", 40), tie("C1", "B0", "communication", 20)]
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), {"DA": "dto", "DB": "dto"}, set(), {}
    )
    nets = _by_network(members)
    assert len(nets) == 2
    assert {"A0", "DA", "C0", "C3"} <= nets["N-A0"] and "B0" in nets["N-B0"]


def test_weak_ties_attach_people_to_a_network_but_never_glue_two_or_count_family() -> None:
    """Rule 5: an arrest together or a shared phone attaches a person with no criminal tie to
    the network; a stated association between two DTO crews does not make them one; a relative
    is never attached; two people tied only weakly are no network."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(4)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}0", f"D{crew}", "membership"))
    rows += [
        tie("A1", "X", "co_arrest", 1),
        tie("B2", "Y", "shared_selector", 1),
        tie("A3", "B3", "association", 1),
        tie("A2", "F", "family", 1),
        tie("Q", "R", "co_arrest", 1),
    ]
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), {"DA": "dto", "DB": "dto"}, set(), {}
    )
    nets = _by_network(members)
    assert sorted(map(sorted, nets.values())) == [
        ["A0", "A1", "A2", "A3", "DA", "X"],
        ["B0", "B1", "B2", "B3", "DB", "Y"],
    ]


def test_the_supplier_of_a_hub_is_upstream_even_when_he_calls_a_crew() -> None:
    """Rule 2 up the chain: H supplies two crews of two cities (a hub); S supplies H, so S is
    above the hub, upstream with him, not a member of crew A although he calls A1 often."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(3)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}0", f"G{crew}", "membership"))
        rows.append(tie("H", f"{crew}0", "supply", 3))
    rows += [tie("S", "H", "supply", 3), tie("S", "A1", "communication", 12)]
    places = {f"{c}{i}": {f"{c}-city"} for c in "AB" for i in range(3)}
    places |= {"GA": {"A-city"}, "GB": {"B-city"}}
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), {"GA": "gang", "GB": "gang"}, set(), places
    )
    nets = _by_network(members)
    upstream = {r["entity_id"] for r in members.to_pylist() if r["upstream"]}
    assert upstream == {"H", "S"}
    assert nets["N-A0"] == {"A0", "A1", "A2", "GA"}


def test_a_call_or_two_attaches_nobody_and_joins_no_pieces() -> None:
    """Rule 5 takes only stated weak evidence: calls below the evidence minimum (rule 1) are
    no relationship, so a caller with one call to a crew is not its member, and two crews
    with no organizations of their own, one city, and one case file, tied only by two calls,
    stay two networks (the same pair tied by an arrest together is one)."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(3)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
    calls = [tie("A1", "B1", "communication", 2), tie("A2", "B2", "communication", 1)]
    calls.append(tie("A0", "X", "communication", 1))
    places = {e: {"Tucson, AZ"} for e in ("A0", "A1", "A2", "B0", "B1", "B2", "X")}
    case_files = {"I1": {"A0", "A1", "A2", "B0", "B1", "B2"}}

    def networks(extra: list[dict[str, Any]]) -> list[list[str]]:
        table = pa.Table.from_pylist(rows + extra, schema=TIE_SCHEMA)
        members = distribution_networks(table, {}, set(), places, case_files)
        return sorted(map(sorted, _by_network(members).values()))

    assert networks(calls) == [["A0", "A1", "A2"], ["B0", "B1", "B2"]]
    arrested = [tie("A1", "B1", "co_arrest", 1), tie("A0", "X", "co_arrest", 1)]
    assert networks(arrested) == [["A0", "A1", "A2", "B0", "B1", "B2", "X"]]


def test_network_graphs_are_people_and_every_tie_of_working_together_but_family(
    workspace: Workspace,
) -> None:
    """Key players, disruption and links run on a network's people: the organization is no
    node, and inside the network a shared phone, an arrest together and a single call are ties
    (the family tie P1-P4 adds nothing: P1 and P4 are tied by supply anyway)."""
    from lastmile.network.networks import network_graphs

    fill(workspace)
    (net,) = network_graphs(workspace).values()
    assert sorted(net.ids) == ["P1", "P2", "P3", "P4"]
    g = net.graph
    pairs = {tuple(sorted((g.vs[e.source]["name"], g.vs[e.target]["name"]))) for e in g.es}
    assert pairs == {("P1", "P2"), ("P1", "P4"), ("P3", "P4"), ("P1", "P3")}


def test_a_stated_distributor_comes_first_among_people_alike_in_supply_and_fall(
    workspace: Workspace,
) -> None:
    """P2 and P4 each supply P1 and cut no one off; P4 has more ties, so he comes first, until
    a subject record states P2's role as distributor (docs/networks-rounds.md, "Key players, fourth
    round"). P1's own fall (he alone holds P2) still puts him before any stated role."""
    from lastmile.network.keyplayer import DISTRIBUTES
    from lastmile.network.networks import network_graphs, workspace_key_players

    fill(workspace)

    def order() -> list[str]:
        return [str(e) for e in workspace_key_players(workspace).column("entity_id").to_pylist()]

    assert order() == ["P4", "P2", "P1", "P3"]
    (net,) = network_graphs(workspace).values()
    assert not any(net.graph.vs[DISTRIBUTES])
    workspace.store.execute("UPDATE subjects SET role = 'distributor' WHERE subject_id = 'S2'")
    (net,) = network_graphs(workspace).values()
    assert [n for n, d in zip(net.ids, net.graph.vs[DISTRIBUTES], strict=True) if d] == ["P2"]
    assert order() == ["P2", "P4", "P1", "P3"]
    # a stated distributor who supplies no one and cuts no one off stays behind those who do
    workspace.store.execute("UPDATE subjects SET role = 'distributor' WHERE subject_id = 'S3'")
    assert order() == ["P2", "P4", "P1", "P3"]


def test_workspace_networks_list_places_and_arrests(workspace: Workspace) -> None:
    fill(workspace)
    insert(
        workspace,
        "investigations",
        [
            {
                "investigation_id": "I1",
                "agency_id": "DEA",
                "division": "Rocky Mountain",
                "city": "Denver",
                "state": "CO",
            },
            {
                "investigation_id": "I2",
                "agency_id": "APD",
                "division": "Rocky Mountain",
                "city": "Aurora",
                "state": "CO",
            },
        ],
        {},
    )
    members, summary = workspace_networks(workspace)
    # P3 has no criminal tie, but shares a phone with P4: rule 5 attaches him
    assert {r["entity_id"] for r in members.to_pylist()} == {"P1", "P2", "P3", "P4", "G1"}
    (row,) = summary.to_pylist()
    assert row["network_id"] == "N-G1"
    assert (row["people"], row["organizations"], row["investigations"]) == (4, 1, 2)
    assert row["cities"] == "Aurora, CO|Denver, CO" and row["multi_city"]
    assert row["agencies"] == "APD|DEA" and row["arrests"] == 2


def test_network_inputs_count_each_entitys_investigations_per_city(
    workspace: Workspace,
) -> None:
    """``network_inputs``' ``city_records`` (rule 2's home, :func:`home_cities`): entity E has
    two investigations in Denver (one naming him twice) and one in Omaha: Denver 2, Omaha 1,
    one count per investigation, not per record."""
    rows = [("S1", "I1"), ("S2", "I1"), ("S3", "I2"), ("S4", "I3")]
    insert(
        workspace,
        "subjects",
        [{"subject_id": s, "investigation_id": i, "source_reliability": "B"} for s, i in rows],
        {},
    )
    cities = {"I1": ("Denver", "CO"), "I2": ("Denver", "CO"), "I3": ("Omaha", "NE")}
    insert(
        workspace,
        "investigations",
        [
            {"investigation_id": i, "agency_id": "DEA", "city": c, "state": st}
            for i, (c, st) in cities.items()
        ],
        {},
    )
    insert(
        workspace,
        "entity_members",
        [
            {"record_type": "subjects", "record_id": s, "entity_id": "E", "probability": 1.0}
            for s, _ in rows
        ],
        {},
    )
    inputs = networks.network_inputs(workspace, TIE_SCHEMA.empty_table())
    assert inputs.city_records == {"E": {"Denver, CO": 2, "Omaha, NE": 1}}


def test_networks_and_keyplayers_commands_on_a_workspace(workspace_url: str) -> None:
    import json

    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.store import open_workspace

    with open_workspace(workspace_url) as ws:
        fill(ws)
    runner = CliRunner()
    result = runner.invoke(app, ["networks", "-w", workspace_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["network_id"] for r in json.loads(result.stdout)] == ["N-G1"]
    result = runner.invoke(app, ["networks", "--members", "-w", workspace_url, "-f", "csv"])
    assert result.stdout.splitlines()[0] == '"entity_id","network_id"'
    result = runner.invoke(app, ["keyplayers", "N-G1", "-w", workspace_url, "-k", "1", "-f", "csv"])
    assert result.exit_code == 0, result.output
    # the default on a workspace network: the person who supplies most of its people (P2 and
    # P4 each supply P1, and the removal of either cuts only himself off; P4 has more ties)
    first = result.stdout.splitlines()[1]
    assert first.startswith('1,"P4",') and "supplies 1 of its people" in first
    keyplayer = ["keyplayers", "N-G1", "-w", workspace_url, "-k", "1", "--method", "keyplayer"]
    result = runner.invoke(app, [*keyplayer, "-f", "csv"])
    assert result.stdout.splitlines()[1].startswith('1,"P1",')
    result = runner.invoke(app, ["keyplayers", "N-nope", "-w", workspace_url])
    assert result.exit_code == 1 and "no network 'N-nope'" in result.output
    # P3 shares a phone with P4 (X104, entity_ties' shared_selector): ranked after those who
    # share none, and says so, both computed on demand and as analyze stores it
    everyone = ["keyplayers", "N-G1", "-w", workspace_url, "-k", "4", "-f", "json"]
    for step in ("on demand", "stored"):
        if step == "stored":
            assert runner.invoke(app, ["analyze", "-w", workspace_url]).exit_code == 0
        rows = json.loads(runner.invoke(app, everyone).stdout)
        assert [r["id"] for r in rows][2:] == ["P1", "P3"], step
        assert "shares a selector with #1 (P4)" in rows[3]["why"], step


def test_attribution_follows_supply_to_the_cartel_and_flags_a_wrong_label() -> None:
    from lastmile.network.attribution import attribute, cartel_of

    assert cartel_of("Cartel de Sinaloa") == "Sinaloa"
    assert cartel_of("CJNG") == "Jalisco"
    assert cartel_of("East Side Crew") is None
    ties = world()
    kinds = {"C": "cartel", "G": "crew", "Biz": "business"}
    places = {f"A{i}": {"Denver, CO"} for i in range(1, 5)}
    places |= {f"B{i}": {"Omaha, NE"} for i in range(1, 5)}
    members = distribution_networks(ties, kinds, {"K"}, places)
    # a lone pair tied to nobody upstream
    extra = pa.Table.from_pylist(
        [tie("Z1", "Z2", "communication"), tie("Z2", "Z3", "communication")], schema=TIE_SCHEMA
    )
    members = pa.concat_tables([members, distribution_networks(extra, {}, set())])
    result = {
        r["network_id"]: r
        for r in attribute(
            pa.concat_tables([ties, extra]),
            members,
            {"C": "Sinaloa", "K": "Sinaloa"},
            {"N-A1": "Sinaloa", "N-B1": "Jalisco"},
            {"Biz"},
        ).to_pylist()
    }
    assert result["N-A1"]["cartel"] == "Sinaloa" and result["N-A1"]["agrees"] is True
    assert result["N-B1"]["cartel"] == "Sinaloa" and result["N-B1"]["agrees"] is False
    assert result["N-B1"]["score"] == 1.0
    assert result["N-B1"]["path"].startswith("B1 [supply") and result["N-B1"]["path"].endswith("K")
    assert result["N-Z1"]["cartel"] == "Unattributed" and result["N-Z1"]["agrees"] is None
    assert "N-H" not in result


def test_attribution_weighs_evidence_and_counts_a_rare_cartel_at_its_weight() -> None:
    from lastmile.network.attribution import EVIDENCE_SCHEMA, attribute

    ties = world()
    kinds = {"C": "cartel", "G": "crew", "Biz": "business"}
    places = {f"A{i}": {"Denver, CO"} for i in range(1, 5)}
    places |= {f"B{i}": {"Omaha, NE"} for i in range(1, 5)}
    members = distribution_networks(ties, kinds, {"K"}, places)
    # crew A's investigation names a Jalisco organization; K is a stated Sinaloa member; the
    # hub H, between crew A and crew B, is a subject the records tie to Sinaloa with weight
    # `hub`; a Sinaloa label also sits on A4

    def run(hub: float) -> dict[str, dict[str, Any]]:
        evidence = pa.Table.from_pylist(
            [
                {"entity_id": a, "cartel": "Jalisco", "weight": 0.5, "why": "I1 names O3"}
                for a in ("A1", "A2", "A3")
            ]
            + [
                {"entity_id": "H", "cartel": "Sinaloa", "weight": hub, "why": "I7"},
                {"entity_id": "A4", "cartel": "Sinaloa", "weight": 0.25, "why": "I8"},
            ],
            schema=EVIDENCE_SCHEMA,
        )
        table = attribute(ties, members, {"K": "Sinaloa"}, {}, {"Biz"}, evidence)
        return {str(r["network_id"]): r for r in table.to_pylist()}

    result = run(1.0)
    # crew A's own evidence outweighs the label on one member and what reaches it through H
    assert result["N-A1"]["cartel"] == "Jalisco"
    assert 0.6 <= result["N-A1"]["score"] < 1.0
    assert result["N-A1"]["path"] == "A1 (I1 names O3)"
    # crew B has no evidence of its own: what its supplier carries decides, through the supply
    assert result["N-B1"]["cartel"] == "Sinaloa"
    assert result["N-B1"]["path"] == "B1 [supply 5 events ??] H (I7)"
    # with weak evidence on H, Jalisco through H and Sinaloa through H and K are too close
    assert run(0.25)["N-B1"]["cartel"] == "Unattributed"


def test_an_investigation_naming_a_cartel_is_evidence_for_its_subjects(
    workspace_url: str,
) -> None:
    from lastmile.network.attribution import workspace_attribution, workspace_evidence
    from lastmile.store import open_workspace

    with open_workspace(workspace_url) as ws:
        fill(ws)
        insert(
            ws,
            "investigations",
            [{"investigation_id": "I1", "agency_id": "DEA", "cartel": "Sinaloa"}],
            {},
        )
        insert(
            ws,
            "organizations",
            [
                {
                    "organization_id": "OC",
                    "investigation_id": "I1",
                    "name": "CJNG",
                    "kind": "cartel",
                }
            ],
            {},
        )
        insert(
            ws,
            "entity_members",
            [
                {
                    "record_type": "organizations",
                    "record_id": "OC",
                    "entity_id": "C1",
                    "probability": 1.0,
                }
            ],
            {},
        )
        evidence = workspace_evidence(ws, entity_ties(ws))[0].to_pylist()
        (row,) = workspace_attribution(ws).to_pylist()
    named = {(r["entity_id"], r["cartel"]): r["weight"] for r in evidence}
    # the organization itself, and every subject of I1 below a stated membership; the label
    # is a second, weaker belief of the same agency about a different cartel
    assert named[("C1", "Jalisco")] == 1.0
    assert named[("P2", "Jalisco")] == 0.5 and named[("P2", "Sinaloa")] == 0.25
    assert row["cartel"] == "Jalisco" and row["label"] == "Sinaloa" and row["agrees"] is False
    assert "investigation I1 names OC" in row["path"]


def test_attribution_command_on_a_workspace(workspace_url: str) -> None:
    import json

    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.store import open_workspace

    with open_workspace(workspace_url) as ws:
        fill(ws)
        insert(
            ws,
            "investigations",
            [
                {
                    "investigation_id": "I1",
                    "agency_id": "DEA",
                    "division": "Rocky Mountain",
                    "city": "Denver",
                    "state": "CO",
                    "cartel": "Jalisco",
                }
            ],
            {},
        )
        insert(
            ws,
            "organizations",
            [
                {
                    "organization_id": "OC",
                    "investigation_id": "I1",
                    "name": "Cartel de Sinaloa",
                    "kind": "cartel",
                }
            ],
            {},
        )
        insert(ws, "subjects", [{"subject_id": "S9", "investigation_id": "I1"}], {})
        insert(
            ws,
            "relationships",
            [
                {
                    "relationship_id": "R8",
                    "investigation_id": "I1",
                    "kind": "member_of",
                    "from_id": "S9",
                    "to_id": "OC",
                    "source_reliability": "A",
                    "info_credibility": "2",
                },
                {
                    "relationship_id": "R9",
                    "investigation_id": "I1",
                    "kind": "supplies",
                    "from_id": "S9",
                    "to_id": "S2",
                    "source_reliability": "B",
                    "info_credibility": "2",
                },
            ],
            {},
        )
        insert(
            ws,
            "entity_members",
            [
                {
                    "record_type": "organizations",
                    "record_id": "OC",
                    "entity_id": "C1",
                    "probability": 1.0,
                },
                {
                    "record_type": "subjects",
                    "record_id": "S9",
                    "entity_id": "P9",
                    "probability": 1.0,
                },
            ],
            {},
        )
        insert(
            ws,
            "entities",
            [{"entity_id": "P9", "kind": "person", "best_name": "Nueve Example"}],
            {},
        )
    result = CliRunner().invoke(app, ["attribution", "-w", workspace_url, "-f", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["network_id"] == "N-G1" and row["cartel"] == "Sinaloa"
    assert row["label"] == "Jalisco" and row["agrees"] is False
    assert "supply R9 B2" in row["path"]
    # the path keeps ids (as stored, exported and read by the server); the command line
    # also names each step, the closing reason staying last
    assert row["path"].endswith("P9 (stated member_of R8; investigation I1 names OC)")
    assert row["named_path"].endswith(
        "Nueve Example (P9) (stated member_of R8; investigation I1 names OC)"
    )
    one = ["attribution", "N-G1", "-w", workspace_url, "-f", "json"]
    result = CliRunner().invoke(app, one)
    assert [r["network_id"] for r in json.loads(result.stdout)] == ["N-G1"]
    result = CliRunner().invoke(app, ["attribution", "N-nope", "-w", workspace_url])
    assert result.exit_code == 1 and "no attributed network 'N-nope'" in result.output
    # the stored path keeps ids only (the server names steps by what an agency may see)
    with open_workspace(workspace_url) as ws:
        from lastmile.network.attribution import workspace_attribution

        stored = workspace_attribution(ws).column("path")[0].as_py()
    assert "Nueve" not in stored and stored.endswith(
        "P9 (stated member_of R8; investigation I1 names OC)"
    )


def test_export_networks_keyplayers_attribution(workspace_url: str, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.store import open_workspace

    with open_workspace(workspace_url) as ws:
        fill(ws)
    runner = CliRunner()
    expected = {
        "networks": '"entity_id","network_id"',
        "keyplayers": '"network_id","entity_id","rank","score"',
        "attribution": '"network_id","cartel","score"',
    }
    for what, header in expected.items():
        out = tmp_path / f"{what}.csv"
        result = runner.invoke(app, ["export", what, "-w", workspace_url, "--out", str(out)])
        assert result.exit_code == 0, result.output
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0] == header
    assert len((tmp_path / "networks.csv").read_text().splitlines()) == 6
    assert (tmp_path / "keyplayers.csv").read_text().splitlines()[1].startswith('"N-G1","P4",1,')
    assert (tmp_path / "attribution.csv").read_text().splitlines()[1] == '"N-G1","Unattributed",0'


def test_analyze_runs_everything_and_says_it_in_words(workspace_url: str, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.store import open_workspace

    with open_workspace(workspace_url) as ws:
        fill(ws)
    out = tmp_path / "analysis"
    result = CliRunner().invoke(app, ["analyze", "-w", workspace_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "networks mapped              1 (and 0 upstream" in result.stdout
    assert "unattributed" in result.stdout and "tied to Unattributed" not in result.stdout
    assert "key players of N-G1 (4 people): P4" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "attribution.csv",
        "keyplayers.csv",
        "members.csv",
        "networks.csv",
        "ties.csv",
    ]


def test_a_distributor_supplying_crews_in_his_own_city_is_not_a_hub() -> None:
    """Rule 2: a supplier is a hub only when the units he supplies lie beyond his own cities.
    D supplies two crews, each with its own crew record, all in his city: he is their
    distributor and stays a member (rule 4 then keeps the two crews apart, D with one of
    them). R, in another city, supplies two crews in two cities: a regional hub, cut out."""
    rows = [tie("D", "A1", "supply"), tie("D", "B1", "supply")]
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(1, 4)]
        rows += [tie(a, b, "communication") for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}1", f"G{crew}", "membership"))
    kinds = {"GA": "crew", "GB": "crew"}
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    local = {n: {"Denver, CO"} for n in ["D", "A1", "A2", "A3", "B1", "B2", "B3"]}
    members = distribution_networks(table, kinds, set(), local)
    assert "D" in set(members.column("entity_id").to_pylist())
    assert not any(members.column("upstream").to_pylist())
    regional = table.to_pylist()
    regional = [{**r, "source": "R" if r["source"] == "D" else r["source"]} for r in regional]
    places = {f"A{i}": {"Denver, CO"} for i in range(1, 4)}
    places |= {f"B{i}": {"Omaha, NE"} for i in range(1, 4)} | {"R": {"El Paso, TX"}}
    members = distribution_networks(
        pa.Table.from_pylist(regional, schema=TIE_SCHEMA), kinds, set(), places
    )
    upstream = {r["entity_id"] for r in members.to_pylist() if r["upstream"]}
    assert upstream == set()  # alone upstream: no network of one
    assert set(members.column("network_id").to_pylist()) == {"N-A1", "N-B1"}
    assert "R" not in set(members.column("entity_id").to_pylist())


def test_a_supplier_selling_in_two_cities_is_a_hub_though_named_in_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule 2 by market (``HUBS_BY_MARKET``, the default: docs/networks-rounds.md, "Eighth
    round"): where a supplier sells, not where his records are, makes him local. R has
    records in Denver and Omaha (an agency of each named him, or resolution joined his two
    identities) and supplies a crew in each: he sells in two cities, a regional hub cut out of
    both, although every city his crews are in is one of his own and he calls a member of the
    Denver crew (a tie rule 2's tie-by-tie cut leaves). D, with records in the same two
    cities, supplies two crews of Denver only: their distributor, a member. The default
    judges by market (no switch set before the first two checks)."""
    rows = [tie("R", "A1", "supply"), tie("R", "B1", "supply"), tie("R", "A2", "communication")]
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(1, 4)]
        rows += [tie(a, b, "communication") for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}1", f"G{crew}", "membership"))
    kinds = {"GA": "crew", "GB": "crew"}
    two_cities = {"Denver, CO", "Omaha, NE"}
    apart = {f"A{i}": {"Denver, CO"} for i in range(1, 4)}
    apart |= {f"B{i}": {"Omaha, NE"} for i in range(1, 4)} | {"R": two_cities}
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), kinds, set(), apart
    )
    assert "R" not in set(members.column("entity_id").to_pylist())
    assert set(members.column("network_id").to_pylist()) == {"N-A1", "N-B1"}
    local = [{**r, "source": "D" if r["source"] == "R" else r["source"]} for r in rows]
    places = {n: {"Denver, CO"} for n in ["A1", "A2", "A3", "B1", "B2", "B3"]}
    members = distribution_networks(
        pa.Table.from_pylist(local, schema=TIE_SCHEMA), kinds, set(), places | {"D": two_cities}
    )
    assert "D" in set(members.column("entity_id").to_pylist())
    assert not any(members.column("upstream").to_pylist())
    # Off, R's own cities hold both crews: he is their distributor, a member.
    monkeypatch.setattr(networks, "HUBS_BY_MARKET", False)
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), kinds, set(), apart
    )
    assert "R" in set(members.column("entity_id").to_pylist())


def _distributor_of_two_crews() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """D supplies the heads of two crews (A1.., B1.., three people each, each head a member of
    his crew's organization) and calls A2. The ties and the organizations' kinds."""
    rows = [tie("D", "A1", "supply"), tie("D", "B1", "supply"), tie("D", "A2", "communication")]
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(1, 4)]
        rows += [tie(a, b, "communication") for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}1", f"G{crew}", "membership"))
    return rows, {"GA": "crew", "GB": "crew"}


def test_a_customers_stray_record_elsewhere_does_not_make_his_supplier_regional(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule 2's market by home (``MARKET_BY_HOME``): D, with records in Denver and Omaha,
    supplies two crews of Denver, as in the test above; but A1, the head of one, was also
    named once by an Omaha agency (two of his investigations are in Denver, one in Omaha).
    A1 is a customer who supplies nobody: he counts in his home, Denver, so D sells in one
    city and is the crews' distributor, a member (of crew A's network, whose A2 he calls; rule
    4 keeps the two crews apart). Counting every city of A1's records, D would sell in two
    and be a hub cut out of both crews. With no counts (one investigation
    in each city, a person resolution joined across two identities) A1's criminal ties
    break the tie: his crew is in Denver."""
    rows, kinds = _distributor_of_two_crews()
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    places = {n: {"Denver, CO"} for n in ["A2", "A3", "B1", "B2", "B3"]}
    places |= {"A1": {"Denver, CO", "Omaha, NE"}, "D": {"Denver, CO", "Omaha, NE"}}
    counts = {"A1": {"Denver, CO": 2, "Omaha, NE": 1}}
    for records in (counts, None):
        members = distribution_networks(table, kinds, set(), places, city_records=records)
        assert "D" in set(members.column("entity_id").to_pylist())
        assert not any(members.column("upstream").to_pylist())
        assert "D" in _by_network(members)["N-A1"]
    # Were A1 as much in Omaha as in Denver, and his crew too, D would sell in two cities.
    both = places | {n: {"Denver, CO", "Omaha, NE"} for n in ["A2", "A3"]}
    members = distribution_networks(table, kinds, set(), both)
    assert "D" not in set(members.column("entity_id").to_pylist())
    monkeypatch.setattr(networks, "MARKET_BY_HOME", False)
    members = distribution_networks(table, kinds, set(), places, city_records=counts)
    assert "D" not in set(members.column("entity_id").to_pylist())
    assert set(members.column("network_id").to_pylist()) == {"N-A1", "N-B1"}


def test_a_customer_who_resells_elsewhere_counts_where_he_sells() -> None:
    """Rule 2's market by home spares resellers: W supplies R, who lives in Denver (all his
    records) and supplies X in Omaha; R's home is Denver, but W's goods are sold in Omaha
    too, so W's market is both cities (a wholesaler above a regional distributor), while
    R's is Omaha alone. A retail customer (X, named in Omaha and in Tulsa once each, who
    calls Y of Omaha) counts only in his home, Omaha."""
    rows = [tie("W", "R", "supply"), tie("R", "X", "supply"), tie("X", "Y", "communication")]
    g = networks._graph(pa.Table.from_pylist(rows, schema=TIE_SCHEMA))
    places = {
        "W": {"Denver, CO"},
        "R": {"Denver, CO"},
        "X": {"Omaha, NE", "Tulsa, OK"},
        "Y": {"Omaha, NE"},
    }
    sold = networks.markets(g, places, {"X": {"Omaha, NE": 1, "Tulsa, OK": 1}})
    assert sold == {"W": {"Denver, CO", "Omaha, NE"}, "R": {"Omaha, NE"}}
    # X's case files, where they lean one way, place him before his ties do.
    sold = networks.markets(g, places, {"X": {"Omaha, NE": 1, "Tulsa, OK": 2}})
    assert sold == {"W": {"Denver, CO", "Tulsa, OK"}, "R": {"Tulsa, OK"}}
    # With no majority of his case files (2 of 4) nor of his ties (Y is in none of his
    # cities), X is in every city of his: a regional customer, not a local one with a stray
    # record.
    places |= {"X": {"Omaha, NE", "Tulsa, OK", "Reno, NV"}, "Y": {"Boise, ID"}}
    spread = {"X": {"Omaha, NE": 2, "Tulsa, OK": 1, "Reno, NV": 1}}
    assert networks.markets(g, places, spread)["R"] == {"Omaha, NE", "Tulsa, OK", "Reno, NV"}


def test_a_customers_home_counts_each_criminal_neighbour_once() -> None:
    """``home_cities`` falls back on a strict majority of his criminal *neighbours*, not of
    his ties: X (one case file in Omaha, one in Tulsa) is tied to Y of Omaha by supply and by
    calls (two edges, one person) and to Z1 and Z2 of Tulsa by one tie each. Two of his three
    neighbours are in Tulsa: his home is Tulsa (counting edges, Omaha and Tulsa would tie
    2 to 2 and he would keep both)."""
    rows = [
        tie("Y", "X", "supply"),
        tie("X", "Y", "communication"),
        tie("X", "Z1", "communication"),
        tie("X", "Z2", "communication"),
    ]
    g = networks._graph(pa.Table.from_pylist(rows, schema=TIE_SCHEMA))
    places = {
        "X": {"Omaha, NE", "Tulsa, OK"},
        "Y": {"Omaha, NE"},
        "Z1": {"Tulsa, OK"},
        "Z2": {"Tulsa, OK"},
    }
    home = networks.home_cities(g, places, {"X": {"Omaha, NE": 1, "Tulsa, OK": 1}})
    assert home["X"] == {"Tulsa, OK"}


def test_a_suppliers_market_reaches_one_level_down() -> None:
    """``markets`` follows the supply chain one level below a customer, not to its end: in
    W -> R -> X -> Z (Denver, Omaha, Tulsa, Reno), W sells where R and X live, R where X and
    Z live, X where Z lives; Z's Reno is not W's market (a closure would put it there)."""
    rows = [tie("W", "R", "supply"), tie("R", "X", "supply"), tie("X", "Z", "supply")]
    g = networks._graph(pa.Table.from_pylist(rows, schema=TIE_SCHEMA))
    places = {
        "W": {"Boise, ID"},
        "R": {"Denver, CO"},
        "X": {"Omaha, NE"},
        "Z": {"Reno, NV"},
    }
    assert networks.markets(g, places) == {
        "W": {"Denver, CO", "Omaha, NE"},
        "R": {"Omaha, NE", "Reno, NV"},
        "X": {"Reno, NV"},
    }


def test_a_regional_supply_cell_is_not_merged_into_the_local_crew_it_supplies() -> None:
    """Rule 4: a cell working in three cities, tied to a local crew by supply and calls, is
    not one network with the crew (a supplier above a local crew is not its member); the
    same two groups in one city, with nothing else to tell them apart, stay one network."""
    rows = []
    cell = [f"C{i}" for i in range(5)]
    crew = [f"L{i}" for i in range(5)]
    for group in (cell, crew):
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(group) for b in group[:i]]
    rows += [tie("C0", "L0", "supply", 3), tie("C0", "L0", "communication", 4)]
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    places = {n: {"Denver, CO"} for n in crew} | {
        "C0": {"Denver, CO"},
        "C1": {"Tulsa, OK"},
        "C2": {"Omaha, NE"},
        "C3": {"Tulsa, OK"},
        "C4": {"Omaha, NE"},
    }
    members = distribution_networks(table, {}, set(), places)
    assert set(members.column("network_id").to_pylist()) == {"N-C0", "N-L0"}
    one_city = {n: {"Denver, CO"} for n in cell + crew}
    members = distribution_networks(table, {}, set(), one_city)
    assert set(members.column("network_id").to_pylist()) == {"N-C0"}


def test_a_distributor_with_records_in_two_cities_heads_his_own_crew() -> None:
    """Rule 4 (sixth round): a group's level is where it sells, not where its records are.
    D, whose records are in Denver and Tulsa (two identities of one man, joined by
    resolution), supplies a crew in Denver; his own group works in Denver. Nobody of his
    group works only in Tulsa and nobody he supplies is there: one network with the crew
    (the old test, "works in cities the other does not", cut him from it). Once he supplies
    someone in Tulsa, or one of his people works only there, his group sells beyond the
    crew's city: a level above it, two networks."""
    group = [f"D{i}" for i in range(5)]
    crew = [f"L{i}" for i in range(5)]
    rows = []
    for g in (group, crew):
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(g) for b in g[:i]]
    rows += [tie("D0", "L0", "supply", 3), tie("D0", "L0", "communication", 4)]
    denver = {n: {"Denver, CO"} for n in group + crew}
    places = denver | {"D0": {"Denver, CO", "Tulsa, OK"}}

    def networks(extra: list[dict[str, Any]], where: dict[str, set[str]]) -> set[str]:
        table = pa.Table.from_pylist(rows + extra, schema=TIE_SCHEMA)
        return set(distribution_networks(table, {}, set(), where).column("network_id").to_pylist())

    assert networks([], places) == {"N-D0"}
    sells = [tie("D0", "T", "supply", 2)]
    assert networks(sells, places | {"T": {"Tulsa, OK"}}) == {"N-D0", "N-L0"}
    assert networks([], places | {"D3": {"Tulsa, OK"}}) == {"N-D0", "N-L0"}


def test_a_piece_refused_to_a_group_the_second_pass_split_joins_its_local_part() -> None:
    """Rule 4's second pass (sixth round): Leiden puts a Denver DTO's people (A) and a
    regional cell in three cities (C, with a DTO of its own) in one group, which supplies a
    Denver crew Q through A3; the group works beyond Denver, so Q is refused to it. The
    second pass parts the two DTOs; A alone is a local group, and Q, with no organization of
    its own, joins it. Were Q supplied by the cell's man in Tulsa, it would stay apart."""
    import igraph as ig

    from lastmile.network.networks import split_communities

    a, c, q = ["A0", "A1", "A2", "A3"], ["C0", "C1", "C2", "C3", "C4"], ["Q0", "Q1", "Q2", "Q3"]
    edges: list[tuple[str, str, str, float]] = []
    for group in (a, c, q):
        edges += [(x, y, "communication", 3.3) for i, x in enumerate(group) for y in group[:i]]
    edges += [(p, "DA", "membership", 1.7) for p in a] + [(p, "DB", "membership", 1.7) for p in c]
    edges += [(x, y, "communication", 4.7) for x, y in (("A0", "C0"), ("A1", "C1"), ("A2", "C0"))]
    places = {n: {"Denver, CO"} for n in [*a, *q, "C0", "DA", "DB"]} | {
        "C1": {"Tulsa, OK"},
        "C2": {"Tulsa, OK"},
        "C3": {"Omaha, NE"},
        "C4": {"Omaha, NE"},
    }

    def groups(supplier: str) -> set[frozenset[str]]:
        ties = [*edges, (supplier, "Q0", "supply", 1.0)]
        names = sorted({n for x, y, _, _ in ties for n in (x, y)})
        g = ig.Graph(n=len(names), edges=[(names.index(x), names.index(y)) for x, y, _, _ in ties])
        g.vs["name"] = names
        g.es["kind"] = [k for _, _, k, _ in ties]
        g.es["source_name"] = [x for x, _, _, _ in ties]
        g.es["weight"] = [w for _, _, _, w in ties]
        found = split_communities(g, places=places, organizations={"DA", "DB"})
        return {frozenset(names[v] for v in group) for group in found}

    local = frozenset([*a, "DA"])
    cell = frozenset([*c, "DB"])
    assert groups("A3") == {local | frozenset(q), cell}
    assert groups("C1") == {local, cell, frozenset(q)}


def test_rule_4_with_several_runs_does_not_hang_on_the_seed() -> None:
    """Four planted groups of 20 (ties within 0.3, across 0.06), each in a city of its own:
    rule 4's single Leiden run cuts them differently from seed to seed; the best of 20 runs
    gives one answer for every seed (docs/networks-rounds.md, "Seventh round")."""
    from lastmile.network.networks import split_communities
    from tests.test_network import _planted

    g = _planted(5)
    places = {f"p{v}": {f"City {v // 20}, ST"} for v in range(80)}

    def answers(runs: int) -> set[str]:
        return {str(split_communities(g, places=places, seed=s, runs=runs)) for s in range(10)}

    assert len(answers(1)) > 1
    assert len(answers(20)) == 1


def test_weak_evidence_does_not_undo_a_split_made_on_criminal_ties() -> None:
    """Rule 5 after rule 4: a regional cell and the local crew it supplies, set apart by rule
    4, are not put back together by a stated association between them or by an acquaintance
    X arrested with people of both; X still attaches, to the side he has more ties to."""
    rows = []
    cell = [f"C{i}" for i in range(5)]
    crew = [f"L{i}" for i in range(5)]
    for group in (cell, crew):
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(group) for b in group[:i]]
    rows += [
        tie("C0", "L0", "supply", 3),
        tie("C0", "L0", "communication", 4),
        tie("C2", "L2", "association", 1),
        tie("L3", "X", "co_arrest", 1),
        tie("L4", "X", "association", 1),
        tie("C3", "X", "co_arrest", 1),
    ]
    places = {n: {"Denver, CO"} for n in crew} | {
        "C0": {"Denver, CO"},
        "C1": {"Tulsa, OK"},
        "C2": {"Omaha, NE"},
        "C3": {"Tulsa, OK"},
        "C4": {"Omaha, NE"},
    }
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), {}, set(), places
    )
    nets = _by_network(members)
    assert set(nets) == {"N-C0", "N-L0"}
    assert "X" in nets["N-L0"] and "X" not in nets["N-C0"]


def test_supply_ranking_puts_the_supplier_of_most_people_first() -> None:
    """The default ranking of a workspace network: people supplied in the network, then ties,
    then betweenness; an edge list without supply falls back to ties, then betweenness."""
    from lastmile.network.graph import build_network
    from lastmile.network.keyplayer import SUPPLIES, key_players

    edges = [("S", f"D{i}") for i in range(3)] + [("B", f"X{i}") for i in range(5)]
    edges += [("S", "B")]
    table = pa.table(
        {
            "source": [a for a, _ in edges],
            "target": [b for _, b in edges],
            "weight": [1.0] * len(edges),
        }
    )
    net = build_network(table)
    assert key_players(net, 1, method="supply").table.column("id").to_pylist() == ["B"]
    net.graph.vs[SUPPLIES] = [3 if n == "S" else 0 for n in net.ids]
    ranked = key_players(net, 2, method="supply").table
    assert ranked.column("id").to_pylist() == ["S", "B"]
    assert "supplies 3 of its people" in ranked.column("why")[0].as_py()


def test_a_person_with_no_tie_joins_the_home_network_of_his_case_files() -> None:
    """Rule 6: a subject with no tie at all joins the network that holds most of the people
    his investigations name (the majority of his investigations' homes); with no majority he
    stays out; upstream people and organizations never join this way; and two networks named
    in one case file stay two."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(4)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}0", f"D{crew}", "membership"))
    rows += [tie("K", "A0", "supply"), tie("C", "K", "membership")]
    case_files = {
        "I1": {"A0", "A1", "A2", "B3", "X", "Z", "K", "C", "O"},  # home: A's network
        "I2": {"A3", "X"},  # home: A's network
        "I3": {"B0", "B1", "B2", "Y", "Z"},  # home: B's network
        "I4": {"W"},  # names no one in a network
    }
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA),
        {"DA": "dto", "DB": "dto", "C": "cartel", "O": "gang"},
        {"K"},
        {},
        case_files,
    )
    nets = _by_network(members)
    # X: both his investigations are A's; Y: B's; Z: one each, no majority; W: no home;
    # K (a cartel member) and C (a cartel), O (an organization with no tie) never join
    assert sorted(map(sorted, nets.values())) == [
        ["A0", "A1", "A2", "A3", "DA", "X"],
        ["B0", "B1", "B2", "B3", "DB", "Y"],
    ]
    # without case files, nobody untied is placed
    bare = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA),
        {"DA": "dto", "DB": "dto", "C": "cartel", "O": "gang"},
        {"K"},
        {},
    )
    assert {r["entity_id"] for r in bare.to_pylist()}.isdisjoint({"X", "Y", "Z", "W"})


def test_two_crews_no_case_file_names_together_are_two_networks() -> None:
    """Rules 4 and 5 with case files: two tight crews in one city, with nothing else to tell
    them apart, are one network while an investigation names people of both, and two when
    every investigation names people of one crew only; a weak tie (an arrest together) does
    not join them either then."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(5)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
    rows.append(tie("A0", "B0", "communication", 3))
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    denver = {f"{c}{i}": {"Denver, CO"} for c in "AB" for i in range(5)}
    apart = {"IA": {f"A{i}" for i in range(5)}, "IB": {f"B{i}" for i in range(5)}}
    together = apart | {"IAB": {"A0", "B0"}}

    def networks(ties: pa.Table, files: dict[str, set[str]] | None) -> set[str]:
        members = distribution_networks(ties, {}, set(), denver, files)
        return set(members.column("network_id").to_pylist())

    assert networks(table, None) == {"N-A0"}
    assert networks(table, together) == {"N-A0"}
    assert networks(table, apart) == {"N-A0", "N-B0"}
    # rule 5: the crews apart on criminal ties (A0-B0 called twice: below the minimum) and
    # arrested together are joined by the weak ties unless no case file names both
    weak = [r for r in rows if r["source"] != "A0" or r["target"] != "B0"]
    weak += [tie("A0", "B0", "communication", 2), tie("A1", "B1", "co_arrest", 1)]
    loose = pa.Table.from_pylist(weak, schema=TIE_SCHEMA)
    assert networks(loose, None) == {"N-A0"}
    assert networks(loose, apart) == {"N-A0", "N-B0"}


def test_a_gang_named_in_two_cities_does_not_join_its_members() -> None:
    """Rule 1: membership of a gang or crew joins its members only while the organization is
    named in one city; a gang entity whose records are in two cities (two sets of one name, or
    one name resolved across cities) does not make its members one network."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(4)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}0", "G", "membership"))
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    # Both crews work one city, so that rule 4 has no cities to part them by and the test
    # reads rule 1 alone (crews of two cities joined by one gang are parted by rule 4's
    # distinctness, whatever rule 1 says).
    people = {f"{c}{i}": {"Atown, ST"} for c in "AB" for i in range(4)}

    def networks(gang_cities: set[str], kind: str = "gang") -> set[str]:
        places = people | {"G": gang_cities}
        members = distribution_networks(table, {"G": kind}, set(), places)
        return set(members.column("network_id").to_pylist())

    assert networks({"Atown, ST"}) == {"N-A0"}
    assert networks({"Atown, ST", "Btown, ST"}) == {"N-A0", "N-B0"}
    assert networks({"Atown, ST", "Btown, ST"}, "crew") == {"N-A0", "N-B0"}
    # a DTO works across cities: its members stay one network
    assert networks({"Atown, ST", "Btown, ST"}, "dto") == {"N-A0"}


def test_an_investigation_s_home_is_the_network_holding_most_of_its_entities() -> None:
    """home_networks: most entities first, a network marked ``last`` only when no other
    holds any, the smallest network on a tie; entities in no network do not count."""
    from lastmile.network.networks import home_networks

    named = [("I1", "a"), ("I1", "b"), ("I1", "c"), ("I2", "c"), ("I2", "d"), ("I3", "x")]
    named += [("I4", "u"), ("I4", "v"), ("I4", "a")]
    network_of = {"a": 1, "b": 2, "c": 2, "d": 1, "u": 9, "v": 9}
    assert home_networks(named, network_of) == {"I1": 2, "I2": 1, "I4": 9}
    assert home_networks(named, network_of, last=lambda n: n == 9) == {
        "I1": 2,
        "I2": 1,
        "I4": 1,
    }


def _regional_supplier(crew_size: int) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """S (with his partner S2, ten calls) supplies and calls the head of a Denver crew (A1..)
    and an Omaha crew (B1..) of ``crew_size`` people, the head calling each of his crew; S
    and S2 work in both cities. The ties and each entity's cities."""
    rows = [tie("S", "S2", "communication", 10)]
    for crew in "AB":
        rows += [tie("S", f"{crew}1", "supply", 2), tie("S", f"{crew}1", "communication", 6)]
        rows += [tie(f"{crew}1", f"{crew}{i}", "communication", 5) for i in range(2, crew_size + 1)]
    both = {"Denver, CO", "Omaha, NE"}
    places = {"S": both, "S2": both}
    places |= {f"A{i}": {"Denver, CO"} for i in range(1, crew_size + 1)}
    places |= {f"B{i}": {"Omaha, NE"} for i in range(1, crew_size + 1)}
    return rows, places


def test_a_regional_supplier_is_cut_from_the_local_crews_he_supplies() -> None:
    """Rule 2, tie by tie: S supplies (and calls) the heads of a Denver crew and an Omaha crew,
    and works in both cities himself; his customers being in two cities, he is a regional
    supplier, and his ties to them are between two levels of the market: three networks,
    not one, and a stated association between his partner and a crew member does not join
    them back (rule 5). A supplier whose customers are all in one city is not regional: the
    same ties to one crew keep him in its network, even though he works in a second city.
    The crews are of two people, smaller than a unit of rule 2, so S is no hub (with crews of
    three he would be one when hubs are judged by market: the test above; his partner then
    the test below)."""
    rows, places = _regional_supplier(crew_size=2)
    weak = [tie("S2", "A2", "association", 1)]
    table = pa.Table.from_pylist(rows + weak, schema=TIE_SCHEMA)
    nets = _by_network(distribution_networks(table, {}, set(), places))
    assert sorted(map(sorted, nets.values())) == [["A1", "A2"], ["B1", "B2"], ["S", "S2"]]
    one_crew = [r for r in rows if "B" not in r["source"] + r["target"]]
    one_crew.append(tie("S2", "A2", "communication", 5))
    table = pa.Table.from_pylist(one_crew, schema=TIE_SCHEMA)
    nets = _by_network(distribution_networks(table, {}, set(), places))
    assert sorted(map(sorted, nets.values())) == [["A1", "A2", "S", "S2"]]


def test_a_hubs_partner_is_not_joined_to_a_crew_he_supplies_by_one_association() -> None:
    """Rule 5's exception (``hub_partners``): the test above with crews of three, so that S,
    selling in two cities, is a hub (rule 2 by market) and upstream. His partner S2 (ten calls
    with S, no criminal tie to anyone else) is then alone on the local side; one stated
    association with A2 does not make him a member of crew A, whose people he otherwise never
    deals with. His criminal ties place him beside S, above the crews. With a criminal tie to
    the crew (calls with A2), he is one of them (and S, whose units then share a city, is
    no hub)."""
    rows, places = _regional_supplier(crew_size=3)
    weak = [tie("S2", "A2", "association", 1)]
    table = pa.Table.from_pylist(rows + weak, schema=TIE_SCHEMA)
    nets = _by_network(distribution_networks(table, {}, set(), places))
    assert sorted(map(sorted, nets.values())) == [["A1", "A2", "A3"], ["B1", "B2", "B3"]]
    called = [*rows, tie("S2", "A2", "communication", 5)]
    table = pa.Table.from_pylist(called, schema=TIE_SCHEMA)
    nets = _by_network(distribution_networks(table, {}, set(), places))
    assert any({"A1", "A2", "A3", "S2"} <= names for names in nets.values())


def test_an_organization_named_in_case_files_with_no_subject_in_common_does_not_join() -> None:
    """Rule 1: DTO entity O was resolved from records of two investigations that name no
    subject in common (two organizations of one name). Its members in each case file are two
    networks, and O belongs to one of them. When one person is named in both case files, the
    investigations work one target and O joins all its members."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(1, 4)]
        rows += [tie(a, b, "communication") for i, a in enumerate(people) for b in people[:i]]
        rows += [tie(p, "O", "membership") for p in people]
    table = pa.Table.from_pylist(rows, schema=TIE_SCHEMA)
    denver = {f"{c}{i}": {"Denver, CO"} for c in "AB" for i in range(1, 4)}
    files = {
        "INV-A": {"O", "A1", "A2", "A3"},
        "INV-B": {"O", "B1", "B2", "B3"},
    }
    nets = _by_network(distribution_networks(table, {"O": "dto"}, set(), denver, files))
    assert sorted(map(sorted, nets.values())) == [
        ["A1", "A2", "A3", "O"],
        ["B1", "B2", "B3"],
    ]
    files["INV-B"] = files["INV-B"] | {"A1"}
    nets = _by_network(distribution_networks(table, {"O": "dto"}, set(), denver, files))
    assert sorted(map(sorted, nets.values())) == [["A1", "A2", "A3", "B1", "B2", "B3", "O"]]


def test_a_hub_stays_out_of_the_crews_he_supplies_but_joins_his_own_organization() -> None:
    """Rule 2: R, in El Paso, supplies a Denver crew and an Omaha crew, each with its crew
    record: a hub, cut from both. He is also a stated member of the DTO D of his own cell:
    he is above the crews, not above his own organization, so he is in D's network and not
    upstream. Without that membership he stays upstream (a network of one is none)."""
    rows = [tie("R", "A1", "supply"), tie("R", "B1", "supply")]
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(1, 4)]
        rows += [tie(a, b, "communication") for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}1", f"G{crew}", "membership"))
    cell = ["C1", "C2", "C3"]
    rows += [tie(a, b, "communication") for i, a in enumerate(cell) for b in cell[:i]]
    rows += [tie(p, "D", "membership") for p in cell]
    kinds = {"GA": "crew", "GB": "crew", "D": "dto"}
    places = {f"A{i}": {"Denver, CO"} for i in range(1, 4)}
    places |= {f"B{i}": {"Omaha, NE"} for i in range(1, 4)}
    places |= {n: {"El Paso, TX"} for n in [*cell, "R"]}
    alone = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), kinds, set(), places
    )
    assert "R" not in set(alone.column("entity_id").to_pylist())
    rows.append(tie("R", "D", "membership"))
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA), kinds, set(), places
    )
    assert sorted(map(sorted, _by_network(members).values())) == [
        ["A1", "A2", "A3", "GA"],
        ["B1", "B2", "B3", "GB"],
        ["C1", "C2", "C3", "D", "R"],
    ]
    assert not any(members.column("upstream").to_pylist())


def test_a_fragment_joins_the_home_network_of_its_case_files() -> None:
    """Rule 6 for pieces: a pair tied only to each other joins the network that is home to a
    majority of its investigations; a pair whose case files split evenly, a pair in cities
    disjoint from its home's, and a group of a unit's size (more than 3 entities) stay
    apart."""
    rows = []
    for crew in "AB":
        people = [f"{crew}{i}" for i in range(4)]
        rows += [tie(a, b, "communication", 10) for i, a in enumerate(people) for b in people[:i]]
        rows.append(tie(f"{crew}0", f"D{crew}", "membership"))
    rows += [tie("P1", "P2", "communication", 5), tie("Q1", "Q2", "communication", 5)]
    rows += [tie("R1", "R2", "communication", 5)]
    big = [f"G{i}" for i in range(4)]
    rows += [tie(a, b, "communication", 10) for i, a in enumerate(big) for b in big[:i]]
    case_files = {
        "I1": {"A0", "A1", "A2", "P1"},  # home: A
        "I2": {"A3", "A1", "P2"},  # home: A
        "I3": {"A0", "A1", "Q1", "R1", "R2", "G0", "G1"},  # home: A
        "I4": {"B0", "B1", "Q2"},  # home: B
        "I5": {"A2", "A3", "G2", "G3"},  # home: A (G's own people count for G elsewhere)
    }
    places = {e: {"Tulsa, OK"} for r in rows for e in (r["source"], r["target"])}
    places["R1"] = places["R2"] = {"Fresno, CA"}
    members = distribution_networks(
        pa.Table.from_pylist(rows, schema=TIE_SCHEMA),
        {"DA": "dto", "DB": "dto"},
        set(),
        places,
        case_files,
    )
    nets = sorted(map(sorted, _by_network(members).values()))
    assert ["A0", "A1", "A2", "A3", "DA", "P1", "P2"] in nets
    assert ["Q1", "Q2"] in nets  # one investigation A's, one B's: no majority
    assert ["R1", "R2"] in nets  # a home in another city
    assert ["G0", "G1", "G2", "G3"] in nets  # a unit of its own size
