"""The stored network analysis (migration 0008), on both stores: lastmile analyze writes it in
one transaction, the reading verbs, exports and the report read it back."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.network import analyze as analyze_module
from lastmile.network.analyze import run_analysis
from lastmile.network.stored import (
    latest_analysis,
    read_attribution,
    read_key_players,
    read_members,
    read_networks,
    read_ties,
)
from lastmile.report import ReportOptions, compute_report, render_report
from lastmile.store import Workspace, open_workspace
from tests.test_network_workspace import fill, insert

RESULT_TABLES = ("ties", "networks", "network_members", "key_players", "attributions")


def fill_labelled(ws: Workspace) -> None:
    """The graph of test_network_workspace, one network N-G1 supplied by a Sinaloa member
    (P9); investigation I1 labelled Jalisco by its agency (wrong), I2 labelled Sinaloa, I3 has
    no one in a network. Seizures: two in I1, one in I2, one in I3."""
    fill(ws)
    insert(
        ws,
        "investigations",
        [
            {
                "investigation_id": inv,
                "agency_id": agency,
                "division": "Rocky Mountain",
                "city": city,
                "state": "CO",
                "cartel": label,
                "opened": "2022-06-01",
            }
            for inv, agency, city, label in (
                ("I1", "DEA", "Denver", "Jalisco"),
                ("I2", "APD", "Aurora", "Sinaloa Cartel"),
                ("I3", "DEA", "Pueblo", "Sinaloa"),
            )
        ],
        {"opened": "DATE"},
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
                "relationship_id": rid,
                "investigation_id": "I1",
                "kind": kind,
                "from_id": a,
                "to_id": b,
                "source_reliability": "A",
                "info_credibility": "2",
            }
            for rid, kind, a, b in (("R8", "member_of", "S9", "OC"), ("R9", "supplies", "S9", "S2"))
        ],
        {},
    )
    insert(
        ws,
        "entity_members",
        [
            {"record_type": t, "record_id": r, "entity_id": e, "probability": 1.0}
            for t, r, e in (("organizations", "OC", "C1"), ("subjects", "S9", "P9"))
        ],
        {},
    )
    insert(
        ws,
        "drug_seizures",
        [
            {
                "seizure_id": sid,
                "investigation_id": inv,
                "date": "2022-07-01",
                "drug": "fentanyl",
                "form": "pill",
                "quantity": 100.0,
                "unit": "count",
            }
            for sid, inv in (("D1", "I1"), ("D2", "I1"), ("D3", "I2"), ("D4", "I3"))
        ],
        {"date": "DATE"},
    )
    insert(
        ws,
        "entities",
        [
            {"entity_id": "P1", "kind": "person", "best_name": "Rafa Example"},
            {"entity_id": "P4", "kind": "person", "best_name": "Cuatro Example"},
        ],
        {},
    )


def snapshot(ws: Workspace) -> dict[str, list[dict[str, Any]]]:
    return {
        "ties": read_ties(ws).to_pylist(),
        "networks": read_networks(ws).to_pylist(),
        "network_members": read_members(ws).to_pylist(),
        "key_players": read_key_players(ws).to_pylist(),
        "attributions": read_attribution(ws).to_pylist(),
    }


def test_analyze_stores_every_table(workspace: Workspace) -> None:
    fill_labelled(workspace)
    assert latest_analysis(workspace) is None
    result = run_analysis(workspace)
    stored = snapshot(workspace)
    assert len(stored["ties"]) == result.ties.num_rows > 0
    supply = next(t for t in stored["ties"] if t["kind"] == "supply" and t["source"] == "P2")
    assert (supply["target"], supply["record_ids"], supply["grades"]) == ("P1", "R1", "B2")
    calls = next(t for t in stored["ties"] if t["kind"] == "communication")
    assert calls["record_ids"] == "" and calls["first_at"].startswith("2022-06-0")
    local = [n for n in stored["networks"] if not n["upstream"]]
    (net,) = local
    assert net["network_id"] == "N-G1"
    # D1, D2 (I1) and D3 (I2) belong to investigations whose members are in N-G1; D4 (I3) not
    assert net["seizures"] == 3
    assert net["communities"] >= 1 and net["cities"] == "Aurora, CO|Denver, CO"
    members = [m for m in stored["network_members"] if m["network_id"] == "N-G1"]
    # P3 has no criminal tie but shares a phone with P4: rule 5 attaches him (networks.md)
    assert {m["entity_id"] for m in members} == {"P1", "P2", "P3", "P4", "G1"}
    # communities are of the people's graph: an organization is a member, not a node of it
    assert all(not m["upstream"] for m in members)
    assert {m["entity_id"] for m in members if m["community"] is not None} == {
        "P1",
        "P2",
        "P3",
        "P4",
    }
    keys = [k for k in stored["key_players"] if k["network_id"] == "N-G1"]
    assert [k["rank"] for k in keys] == list(range(1, len(keys) + 1))
    assert keys[0]["entity_id"] == "P4" and "fragmentation" in keys[0]["why"]
    (attr,) = stored["attributions"]
    assert (attr["cartel"], attr["label"], attr["agrees"]) == ("Sinaloa", "Jalisco", False)
    run = latest_analysis(workspace)
    assert run is not None and run.fresh
    assert {"ties", "networks", "key players", "attribution", "store"} <= set(run.seconds)
    assert run.counts["networks"] == 1 and run.counts["ties"] == len(stored["ties"])


def _resolution_finished(ws: Workspace, run_id: str, at: str) -> None:
    """A ``lastmile resolve`` run as the store records it, finished at ``at`` by its clock."""
    ws.store.execute(
        "INSERT INTO resolution_runs (run_id, started_at, finished_at) VALUES "
        "(?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP))",
        (run_id, at, at),
    )


def test_freshness_follows_the_resolution_run_not_the_clocks(workspace: Workspace) -> None:
    fill_labelled(workspace)
    run_analysis(workspace)  # no resolution yet
    run = latest_analysis(workspace)
    assert run is not None and run.fresh
    # the store's clock is years behind the client's: the times would call both answers wrong
    _resolution_finished(workspace, "R-1", "2001-01-01 00:00:00")
    run = latest_analysis(workspace)
    assert run is not None and not run.fresh  # computed before any resolution
    run_analysis(workspace)
    run = latest_analysis(workspace)
    assert run is not None and run.fresh
    _resolution_finished(workspace, "R-2", "2001-01-02 00:00:00")
    run = latest_analysis(workspace)
    assert run is not None and not run.fresh  # started after R-2 finished, by the clocks
    run_analysis(workspace)
    _resolution_finished(workspace, "R-3", "2999-01-01 00:00:00")  # the store's clock ahead
    run_analysis(workspace)
    run = latest_analysis(workspace)
    assert run is not None and run.fresh  # started before R-3 finished, by the clocks
    # a resolve that finishes while an analysis runs leaves that analysis stale
    _resolution_finished(workspace, "R-4", "2999-01-02 00:00:00")
    run = latest_analysis(workspace)
    assert run is not None and not run.fresh
    # a run stored before migration 0012 names no resolution: its times decide
    workspace.store.execute("UPDATE analysis_runs SET resolution_run_id = NULL")
    run = latest_analysis(workspace)
    assert run is not None and not run.fresh


@pytest.mark.parametrize("resolved_before", [False, True])
def test_a_resolve_that_finishes_during_the_analysis_leaves_it_stale(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, resolved_before: bool
) -> None:
    fill_labelled(workspace)
    if resolved_before:
        _resolution_finished(workspace, "R-1", "2001-01-01 00:00:00")
    computing = analyze_module.analyze

    def resolved_meanwhile(ws: Workspace, **options: Any) -> Any:
        result = computing(ws, **options)
        _resolution_finished(ws, "R-meanwhile", "2999-01-01 00:00:00")
        return result

    monkeypatch.setattr(analyze_module, "analyze", resolved_meanwhile)
    run_analysis(workspace)
    run = latest_analysis(workspace)
    assert run is not None and not run.fresh


def test_rerun_rewrites_and_keeps_one_row_per_run(workspace: Workspace) -> None:
    fill_labelled(workspace)
    run_analysis(workspace)
    first = snapshot(workspace)
    run_analysis(workspace)
    assert snapshot(workspace) == first
    # a new crew: three people who call each other often enough (rule 1) form a second network
    insert(
        workspace,
        "relationships",
        [
            {
                "relationship_id": r,
                "investigation_id": "I3",
                "kind": "supplies",
                "from_id": a,
                "to_id": b,
            }
            for r, a, b in (("R20", "U1", "U2"), ("R21", "U2", "U3"))
        ],
        {},
    )
    insert(
        workspace,
        "subjects",
        [{"subject_id": s, "investigation_id": "I3"} for s in ("U1", "U2", "U3")],
        {},
    )
    insert(
        workspace,
        "entity_members",
        [
            {"record_type": "subjects", "record_id": s, "entity_id": f"Q{s}", "probability": 1.0}
            for s in ("U1", "U2", "U3")
        ],
        {},
    )
    run_analysis(workspace)
    again = snapshot(workspace)
    assert {n["network_id"] for n in again["networks"]} == {"N-G1", "N-QU1"}
    assert len(again["network_members"]) == len(first["network_members"]) + 3
    new = next(n for n in again["networks"] if n["network_id"] == "N-QU1")
    assert new["seizures"] == 1  # D4 of I3 now has a home network
    assert workspace.store.rows("SELECT count(*) FROM analysis_runs")[0][0] == 3


def test_a_failure_mid_write_leaves_the_previous_analysis_whole(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_labelled(workspace)
    run_analysis(workspace)
    before = snapshot(workspace)
    workspace.store.execute("DELETE FROM relationships WHERE relationship_id = 'R9'")
    real = workspace.store.append
    written: list[str] = []

    def failing(staging: Any, table: str, columns: Any, select_sql: str) -> int:
        if table == "key_players":  # ties, networks and members are already rewritten
            raise RuntimeError("planted failure")
        written.append(table)
        return real(staging, table, columns, select_sql)

    monkeypatch.setattr(workspace.store, "append", failing)
    with pytest.raises(RuntimeError, match="planted failure"):
        run_analysis(workspace)
    assert written == ["ties", "networks", "network_members"]
    assert snapshot(workspace) == before
    assert workspace.store.rows("SELECT count(*) FROM analysis_runs")[0][0] == 1
    monkeypatch.setattr(workspace.store, "append", real)
    run_analysis(workspace)
    after = snapshot(workspace)
    assert after["ties"] != before["ties"]  # the supply tie R9 is gone once the write succeeds
    assert after["attributions"] != before["attributions"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_exports_and_reading_verbs_use_the_stored_analysis(
    workspace_url: str, tmp_path: Path
) -> None:
    with open_workspace(workspace_url) as ws:
        fill_labelled(ws)
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "-w", workspace_url])
    assert result.exit_code == 0, result.output
    with open_workspace(workspace_url) as ws:
        stored = snapshot(ws)
        run = latest_analysis(ws)
        assert run is not None and f"stored in the workspace (run {run.run_id})" in result.stdout
        # Plant a mark in the stored tables: the verbs must show it, not recompute.
        ws.store.execute("UPDATE attributions SET cartel = 'Planted', score = 0.5")
        ws.store.execute("UPDATE key_players SET why = 'planted why' WHERE rank = 1")
    for what in ("networks", "keyplayers", "attribution"):
        out = tmp_path / f"{what}.csv"
        result = runner.invoke(app, ["export", what, "-w", workspace_url, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "computed now" not in result.output
    assert read_csv(tmp_path / "networks.csv") == [
        {"entity_id": m["entity_id"], "network_id": m["network_id"]}
        for m in stored["network_members"]
    ]
    assert read_csv(tmp_path / "keyplayers.csv") == [
        {
            "network_id": k["network_id"],
            "entity_id": k["entity_id"],
            "rank": str(k["rank"]),
            "score": f"{k['score']:g}" if k["score"] != int(k["score"]) else str(int(k["score"])),
        }
        for k in stored["key_players"]
    ]
    assert read_csv(tmp_path / "attribution.csv") == [
        {"network_id": a["network_id"], "cartel": "Planted", "score": "0.5"}
        for a in stored["attributions"]
    ]
    result = runner.invoke(app, ["attribution", "-w", workspace_url, "-f", "json"])
    assert [r["cartel"] for r in json.loads(result.stdout)] == ["Planted"]
    result = runner.invoke(app, ["networks", "-w", workspace_url, "-f", "json"])
    rows = json.loads(result.stdout)
    assert rows[0]["network_id"] == "N-G1" and rows[0]["seizures"] == 3
    result = runner.invoke(
        app, ["keyplayers", "N-G1", "-k", "2", "-w", workspace_url, "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)
    assert top[0]["why"] == "planted why" and len(top) == 2
    # a workspace network's key players are named by their entities' best names
    with open_workspace(workspace_url) as ws:
        names = dict(ws.store.rows("SELECT entity_id, best_name FROM entities"))
    assert [r["name"] for r in top] == [names.get(r["id"]) for r in top]
    assert top[0]["id"] == "P4" and top[0]["name"] == "Cuatro Example"
    # another ranking is computed on the stored graph, not read
    result = runner.invoke(
        app,
        ["keyplayers", "N-G1", "-k", "1", "--method", "degree", "-w", workspace_url, "-f", "csv"],
    )
    assert result.exit_code == 0 and "planted" not in result.stdout
    result = runner.invoke(app, ["keyplayers", "N-nope", "-w", workspace_url])
    assert result.exit_code == 1 and "no network 'N-nope'" in result.output


def test_reading_verbs_compute_on_demand_and_say_so(workspace_url: str) -> None:
    with open_workspace(workspace_url) as ws:
        fill_labelled(ws)
    runner = CliRunner()
    result = runner.invoke(app, ["attribution", "-w", workspace_url, "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "no network analysis is stored: computed now" in result.stderr
    assert json.loads(result.stdout)[0]["cartel"] == "Sinaloa"
    assert runner.invoke(app, ["analyze", "-w", workspace_url]).exit_code == 0
    result = runner.invoke(app, ["attribution", "-w", workspace_url, "-f", "json"])
    assert "computed now" not in result.stderr
    with open_workspace(workspace_url) as ws:
        ws.store.execute("UPDATE attributions SET cartel = 'Planted'")
        # a resolve after the analysis: its entities may have changed
        ws.store.execute(
            "INSERT INTO resolution_runs (run_id, started_at, finished_at) VALUES "
            "('later', CAST('2999-01-01' AS TIMESTAMP), CAST('2999-01-01' AS TIMESTAMP))"
        )
        run = latest_analysis(ws)
        assert run is not None and not run.fresh
    result = runner.invoke(app, ["attribution", "-w", workspace_url, "-f", "json"])
    assert "predates the last resolve: computed now" in result.stderr
    assert json.loads(result.stdout)[0]["cartel"] == "Sinaloa"


def test_report_networks_section_and_cartel_labels(workspace: Workspace) -> None:
    fill_labelled(workspace)
    before = compute_report(workspace, ReportOptions(network_detail=True))
    assert before["networks"] == {
        "analysis": None,
        "note": "No network analysis is stored in this workspace: run 'lastmile analyze' for "
        "the networks section.",
    }
    assert "by_attributed_cartel" not in before
    assert "No network analysis is stored" in render_report(before, "md")
    run_analysis(workspace)
    aggregate = compute_report(workspace)
    # by default (the server's report for every user) no person and no network is named
    assert "largest" not in aggregate["networks"]
    assert "multi_city_networks" not in aggregate["networks"]
    assert "Rafa Example" not in render_report(aggregate, "html")
    after = compute_report(workspace, ReportOptions(network_detail=True))
    for key, value in before.items():
        if key not in ("generated_at", "networks", "provenance"):
            assert after[key] == value, key  # the existing figures do not move
    net = after["networks"]
    # P9 and the cartel are upstream, but a membership of a cartel joins no network
    assert (net["mapped"], net["upstream"], net["attributed"], net["unattributed"]) == (
        1,
        0,
        1,
        0,
    )
    assert net["multi_city_networks"] == [
        {"network_id": "N-G1", "people": 4, "cities": ["Aurora, CO", "Denver, CO"]}
    ]
    assert net["by_cartel"] == [{"cartel": "Sinaloa", "networks": 1, "people": 4}]
    (largest,) = net["largest"]
    # the key players are named from their entities (P1 is Rafa Example)
    named = {k["entity_id"]: k for k in largest["key_players"]}
    assert [k["rank"] for k in largest["key_players"]][:2] == [1, 2]
    assert set(named["P1"]) == {"rank", "entity_id", "name", "score"}
    assert named["P1"]["name"] == "Rafa Example"
    labels = after["cartel_labels"]
    # I1 (Jalisco) and I2 (Sinaloa Cartel) are at home in N-G1, attributed to Sinaloa;
    # I3 has no one in a network.
    assert (labels["agree"], labels["disagree"], labels["not_in_network"]) == (1, 1, 1)
    assert labels["by_label"] == [
        {"label": "Jalisco", "attributed": "Sinaloa", "investigations": 1},
        {"label": "Sinaloa", "attributed": "Sinaloa", "investigations": 1},
    ]
    attributed = {r["name"]: r["investigations"] for r in after["by_attributed_cartel"]}
    assert attributed == {"Sinaloa": 2, "Unattributed": 1}
    md = render_report(after, "md")
    assert "## Networks" in md and "1 agree with their agency's cartel label and 1 do not" in md
    assert "Rafa Example" in md and "Aurora, CO; Denver, CO" in md
    html = render_report(after, "html")
    assert 'id="networks"' in html and "Rafa Example" in html
