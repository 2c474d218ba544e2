"""The learned link model kept with the stored analysis (migration 0011,
lastmile.network.linkstore), on both stores, through the `links` command: the first call
trains and keeps the bag, the next ones read it and score the same; a rerun of analyze on
changed data, a changed key, a corrupted model or --retrain train it again."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.store import Workspace, open_workspace
from tests.test_network_workspace import insert

runner = CliRunner()
KEPT = "link model: kept in the workspace"
TRAINED = "link model: trained in"


def fill_crews(ws: Workspace, crews: int = 4, size: int = 10, seed: int = 3) -> None:
    """``crews`` crews of ``size`` people, each its own investigation in its own city: a head
    who supplies three lieutenants, who supply the rest, and a few associations inside the
    crew. Every subject record is its own person."""
    rng = random.Random(seed)
    subjects, entities, members, relationships, investigations = [], [], [], [], []
    for c in range(crews):
        inv = f"I{c}"
        investigations.append(
            {
                "investigation_id": inv,
                "agency_id": "DEA",
                "division": "Rocky Mountain",
                "city": f"City{c}",
                "state": "CO",
                "opened": "2022-06-01",
            }
        )
        people = [f"{c}-{i}" for i in range(size)]
        for i, p in enumerate(people):
            role = "leader" if i == 0 else "distributor" if i < 4 else "dealer"
            subjects.append(
                {
                    "subject_id": f"S{p}",
                    "investigation_id": inv,
                    "role": role,
                    "source_reliability": "B",
                    "info_credibility": "2",
                }
            )
            entities.append({"entity_id": f"P{p}", "kind": "person", "best_name": f"Person {p}"})
            members.append(
                {
                    "record_type": "subjects",
                    "record_id": f"S{p}",
                    "entity_id": f"P{p}",
                    "probability": 1.0,
                }
            )
        pairs = [(0, 1), (0, 2), (0, 3)] + [(1 + (i % 3), i) for i in range(4, size)]
        pairs += [tuple(rng.sample(range(1, size), 2)) for _ in range(3)]
        for k, (a, b) in enumerate(pairs):
            relationships.append(
                {
                    "relationship_id": f"R{c}-{k}",
                    "investigation_id": inv,
                    "kind": "supplies" if k < size - 1 else "associate",
                    "from_id": f"S{people[a]}",
                    "to_id": f"S{people[b]}",
                    "source_reliability": "B",
                    "info_credibility": "2",
                }
            )
    # two people of crew 0's case file with no tie: isolated nodes of its graph
    for p in ("0-x1", "0-x2"):
        subjects.append({"subject_id": f"S{p}", "investigation_id": "I0", "role": "dealer"})
        entities.append({"entity_id": f"P{p}", "kind": "person", "best_name": f"Person {p}"})
        members.append(
            {
                "record_type": "subjects",
                "record_id": f"S{p}",
                "entity_id": f"P{p}",
                "probability": 1.0,
            }
        )
    insert(ws, "investigations", investigations, {"opened": "DATE"})
    insert(ws, "subjects", subjects, {})
    insert(ws, "entities", entities, {})
    insert(ws, "entity_members", members, {})
    insert(ws, "relationships", relationships, {})


def links(url: str, *extra: str) -> tuple[list[dict[str, object]], str]:
    result = runner.invoke(app, ["links", "N-P0-0", "-w", url, "-f", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), " ".join(result.stderr.split())  # unwrapped


def analysed(url: str) -> str:
    with open_workspace(url) as ws:
        fill_crews(ws)
    result = runner.invoke(app, ["analyze", "-w", url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["networks", "-w", url, "-f", "json"])
    ids = [r["network_id"] for r in json.loads(result.stdout)]
    assert "N-P0-0" in ids, ids
    return url


def test_the_second_call_reads_the_kept_model_and_scores_the_same(workspace_url: str) -> None:
    url = analysed(workspace_url)
    first, note = links(url)
    assert TRAINED in note and "kept in the workspace for the next calls" in note
    assert first and all("why" in r and r["learned"] > 0 for r in first)
    with open_workspace(url) as ws:
        ((seed, model, sha),) = ws.store.rows("SELECT seed, model, sha256 FROM link_models")
        assert seed == 0 and len(bytes(model)) > 1000 and len(sha) == 64
    second, note = links(url)
    assert KEPT in note and TRAINED not in note
    assert second == first  # scores and explanations equal to the fresh fit's
    # --retrain fits again (the same, with the same seed) and keeps one model per seed
    third, note = links(url, "--retrain")
    assert TRAINED in note and "(--retrain)" in note
    assert third == first
    # another seed is another model, kept beside; seed 0's is still read
    other, note = links(url, "--seed", "1")
    assert TRAINED in note and other
    assert links(url)[1].startswith(KEPT)
    with open_workspace(url) as ws:
        assert sorted(r[0] for r in ws.store.rows("SELECT seed FROM link_models")) == [0, 1]


def test_new_records_and_a_rerun_of_analyze_make_the_kept_model_stale(
    workspace_url: str,
) -> None:
    url = analysed(workspace_url)
    links(url)
    with open_workspace(url) as ws:
        # a record ingested after the analysis, no resolve: the analysis is still fresh, but
        # the graph the model learns from has a new tie
        insert(
            ws,
            "relationships",
            [
                {
                    "relationship_id": "R-new",
                    "investigation_id": "I0",
                    "kind": "associate",
                    "from_id": "S0-4",
                    "to_id": "S0-9",
                    "source_reliability": "B",
                    "info_credibility": "2",
                }
            ],
            {},
        )
    _, note = links(url)
    assert TRAINED in note and "stale: data changed" in note
    assert links(url)[1].startswith(KEPT)  # the model of the new data is kept in its place
    # a rerun of analyze deletes the kept models with the analysis they were trained with
    assert runner.invoke(app, ["analyze", "-w", url]).exit_code == 0
    with open_workspace(url) as ws:
        assert ws.store.rows("SELECT count(*) FROM link_models")[0][0] == 0
    _, note = links(url)
    assert TRAINED in note and "kept in the workspace" in note
    # a resolve after the analysis: nothing is kept or read until analyze runs again
    with open_workspace(url) as ws:
        ws.store.execute(
            "INSERT INTO resolution_runs (run_id, started_at, finished_at) VALUES "
            "('later', CAST('2999-01-01' AS TIMESTAMP), CAST('2999-01-01' AS TIMESTAMP))"
        )
    _, note = links(url)
    assert TRAINED in note and "not kept: the analysis is stale" in note


def test_a_corrupted_or_stale_kept_model_is_trained_again_never_used(workspace_url: str) -> None:
    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        # bytes that do not match their digest
        ws.store.execute("UPDATE link_models SET model = ?", (b"PK\x03\x04 not a model",))
    again, note = links(url)
    assert TRAINED in note and "do not match their SHA-256" in note and again == first
    with open_workspace(url) as ws:
        # bytes that match their digest (tampered with both) but are no skops file
        import hashlib

        junk = b"\x80\x04\x95 a pickle, say"
        ws.store.execute(
            "UPDATE link_models SET model = ?, sha256 = ?", (junk, hashlib.sha256(junk).hexdigest())
        )
    again, note = links(url)
    assert TRAINED in note and "can not be used" in note and again == first
    with open_workspace(url) as ws:
        # a model of other code (a new feature, another scikit-learn)
        ws.store.execute("UPDATE link_models SET code = 'older'")
    again, note = links(url)
    assert TRAINED in note and "stale: code or libraries changed" in note and again == first
    assert links(url)[1].startswith(KEPT)


def test_a_kept_model_naming_a_type_not_trusted_is_refused(workspace_url: str) -> None:
    """skops reads only the types it is told to trust: a kept 'model' that names a function
    (here os.system) is refused before anything in it runs, and the model is trained again."""
    import hashlib
    import os

    import skops.io as sio

    url = analysed(workspace_url)
    first, _ = links(url)
    planted = sio.dumps({"features": [], "members": [os.system], "reference": [0.0]})
    with open_workspace(url) as ws:
        ws.store.execute(
            "UPDATE link_models SET model = ?, sha256 = ?",
            (planted, hashlib.sha256(planted).hexdigest()),
        )
    again, note = links(url)
    assert TRAINED in note and "holds types not trusted" in note and "system" in note
    assert again == first


def test_the_graph_from_the_stored_members_is_the_graph_cut_anew(workspace_url: str) -> None:
    """With a fresh analysis, links reads the networks' members from it instead of cutting
    the networks again: the graph the model learns from (names, ties in order, context) is the
    same, in whatever order the store returns the members."""
    from lastmile.network.linklearn import training_digest, workspace_graph
    from lastmile.network.stored import read_members

    url = analysed(workspace_url)
    with open_workspace(url) as ws:
        stored = read_members(ws)
        assert {"P0-x1", "P0-x2"} <= set(stored.column("entity_id").to_pylist())

        def digest(members: object) -> str:
            net, context = workspace_graph(ws, members)  # type: ignore[arg-type]
            edges = np.asarray(net.graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
            return training_digest(net.ids, edges, context)

        anew = digest(None)
        assert digest(stored) == anew
        assert digest(stored.take(list(range(stored.num_rows))[::-1])) == anew


def test_a_failure_while_keeping_a_model_leaves_the_kept_one_whole(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old model is deleted and the new one written in one transaction: a failure between
    the two (a crash, a full disk, a lost connection) leaves the old one, still read."""
    from lastmile.network.linklearn import workspace_graph
    from lastmile.network.linkstore import workspace_link_model

    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        before = ws.store.rows("SELECT sha256, trained_at FROM link_models")
        real = ws.store.execute

        def failing(sql: str, params: Any = ()) -> None:
            if sql.startswith("INSERT INTO link_models"):  # the old row is deleted by now
                raise RuntimeError("planted failure")
            real(sql, params)

        monkeypatch.setattr(ws.store, "execute", failing)
        net, context = workspace_graph(ws)
        with pytest.raises(RuntimeError, match="planted failure"):
            workspace_link_model(ws, net, context, retrain=True)
        monkeypatch.setattr(ws.store, "execute", real)
        assert ws.store.rows("SELECT sha256, trained_at FROM link_models") == before
    again, note = links(url)
    assert note.startswith(KEPT) and again == first
