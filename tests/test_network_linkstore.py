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

# Each test trains the link model a few times: minutes for the module.
pytestmark = pytest.mark.heavy

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
    from lastmile.network.stored import latest_analysis

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
            workspace_link_model(ws, net, context, latest_analysis(ws), retrain=True)
        monkeypatch.setattr(ws.store, "execute", real)
        assert ws.store.rows("SELECT sha256, trained_at FROM link_models") == before
    again, note = links(url)
    assert note.startswith(KEPT) and again == first


def kept_rows(ws: Workspace) -> list[tuple[Any, ...]]:
    return ws.store.rows("SELECT run_id, seed, sha256, trained_at FROM link_models ORDER BY seed")


def test_what_the_call_returns_says_where_the_model_came_from(workspace_url: str) -> None:
    """``kept`` (read, no training), ``stored`` (trained and kept) and ``seconds`` (the
    training's, also when the kept one is read) of the model a call gets."""
    from lastmile.network.linklearn import workspace_graph
    from lastmile.network.linkstore import workspace_link_model
    from lastmile.network.stored import latest_analysis

    url = analysed(workspace_url)
    with open_workspace(url) as ws:
        net, context = workspace_graph(ws)
        run = latest_analysis(ws)
        first = workspace_link_model(ws, net, context, run)
        assert (first.kept, first.stored) == (False, True) and first.seconds > 0
        again = workspace_link_model(ws, net, context, run)
        assert (again.kept, again.stored) == (True, False)
        assert again.seconds == pytest.approx(first.seconds, abs=1e-3)
        assert again.model.members and len(again.model.members) == len(first.model.members)
        stale = workspace_link_model(ws, net, context, None)  # no analysis: trained, unkept
        assert (stale.kept, stale.stored) == (False, False) and stale.seconds > 0


def test_a_write_the_store_refuses_still_gives_the_answer(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace that refuses the write (a read-only database user, a full disk): the model
    is trained and used, the note says it could not be kept, and the kept one stays whole."""
    from lastmile.network.linklearn import workspace_graph
    from lastmile.network.linkstore import workspace_link_model
    from lastmile.network.stored import latest_analysis
    from lastmile.store.backends import StoreError

    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        before = kept_rows(ws)
        real = ws.store.execute

        def refusing(sql: str, params: Any = ()) -> None:
            if sql.startswith(("DELETE FROM link_models", "INSERT INTO link_models")):
                raise StoreError("planted: permission denied for table link_models")
            real(sql, params)

        monkeypatch.setattr(ws.store, "execute", refusing)
        net, context = workspace_graph(ws)
        found = workspace_link_model(ws, net, context, latest_analysis(ws), retrain=True)
        monkeypatch.setattr(ws.store, "execute", real)
        assert (found.kept, found.stored) == (False, False) and found.model.members
        assert "could not keep it in the workspace: planted" in found.note
        assert kept_rows(ws) == before
    again, note = links(url)
    assert note.startswith(KEPT) and again == first


def test_a_read_only_workspace_file_gets_its_answer_unkept(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DuckDB file this user can not write is opened read-only: a kept model is read, a
    new one is trained and used, not kept, and the file is not written."""
    import os
    import stat
    from pathlib import Path

    if workspace_url.startswith("postgresql://"):
        pytest.skip("a file's permissions: DuckDB only")
    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        before = kept_rows(ws)
    path = Path(url)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    real = os.access

    def access(p: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if Path(p) == path and mode & os.W_OK:  # as for any user but root, who writes anyway
            return False
        return real(p, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    try:
        again, note = links(url)
        assert note.startswith(KEPT) and again == first
        retrained, note = links(url, "--retrain")
        assert TRAINED in note and "not kept: the workspace is opened read-only" in note
        assert retrained == first
        other, note = links(url, "--seed", "1")
        assert other and "not kept: the workspace is opened read-only" in note
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with open_workspace(url) as ws:
        assert kept_rows(ws) == before


def test_a_reading_call_does_not_wait_behind_a_writer(workspace_url: str) -> None:
    """On PostgreSQL the model is kept only if no ingest, resolve or analyze holds the
    workspace's writer lock now: else it is used and not kept, without waiting."""
    import threading
    import time

    import psycopg

    if not workspace_url.startswith("postgresql://"):
        pytest.skip("the writer lock of a PostgreSQL workspace")
    from lastmile.store.backends import SCHEMA_KEY, PostgresStore

    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        before = kept_rows(ws)
    writer = psycopg.connect(url, autocommit=True)  # another command, ingesting
    writer.execute(f"SELECT pg_advisory_lock({PostgresStore.INGEST_LOCK}, {SCHEMA_KEY})")
    # should the call wait after all, the writer finishes in 30 s and the test fails, not hangs
    done = threading.Timer(30, writer.close)
    done.start()
    try:
        begin = time.monotonic()
        again, note = links(url, "--retrain")
        waited = time.monotonic() - begin
    finally:
        done.cancel()
        writer.close()
    assert TRAINED in note and "not kept: another lastmile command is writing" in note
    assert again == first and waited < 30
    with open_workspace(url) as ws:
        assert kept_rows(ws) == before
    _, note = links(url, "--retrain")  # the writer is gone: kept again
    assert "kept in the workspace for the next calls" in note


def test_without_skops_the_model_is_trained_and_not_kept(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """skops is an optional dependency: an install without it still answers."""
    import sys

    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        before = kept_rows(ws)
    for module in [m for m in sys.modules if m == "skops" or m.startswith("skops.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "skops", None)  # import skops raises ImportError
    monkeypatch.setitem(sys.modules, "skops.io", None)
    again, note = links(url, "--retrain")
    assert TRAINED in note and "not kept: skops is not installed" in note and again == first
    with open_workspace(url) as ws:
        assert kept_rows(ws) == before


def test_the_code_key_needs_no_source_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """An install that ships compiled files only (no .py) has no source to read: the code key
    is the modules' files as installed, read as bytes."""
    import inspect

    from lastmile.network.linklearn import code_digest

    want = code_digest()

    def no_source(obj: object) -> str:
        raise OSError("could not get source code")

    monkeypatch.setattr(inspect, "getsource", no_source)
    monkeypatch.setattr(inspect, "getsourcelines", no_source)
    assert code_digest() == want and len(want) == 64


def test_a_kept_model_of_another_shape_is_trained_again(workspace_url: str) -> None:
    """Members fitted on another number of features, or a reference row that is not numbers,
    are refused (and the model trained again), never a crash while scoring."""
    import hashlib

    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier

    from lastmile.network.linkstore import TRUSTED

    url = analysed(workspace_url)
    first, _ = links(url)
    with open_workspace(url) as ws:
        ((blob,),) = ws.store.rows("SELECT model FROM link_models")
    payload = sio.loads(bytes(blob), trusted=list(TRUSTED))
    narrow = HistGradientBoostingClassifier(max_iter=5).fit(
        np.arange(40, dtype=float).reshape(20, 2), np.tile([0.0, 1.0], 10)
    )
    for planted, why in (
        ({**payload, "members": [narrow]}, "another number of features"),
        ({**payload, "reference": "not numbers"}, "not what it should be"),
    ):
        data = sio.dumps(planted)
        with open_workspace(url) as ws:
            ws.store.execute(
                "UPDATE link_models SET model = ?, sha256 = ?",
                (data, hashlib.sha256(data).hexdigest()),
            )
        again, note = links(url)
        assert TRAINED in note and "can not be used" in note and why in note, note
        assert again == first


def test_one_kept_model_per_run_and_seed(workspace_url: str) -> None:
    """The table's primary key (run_id, seed), on both stores."""
    url = analysed(workspace_url)
    links(url)
    with open_workspace(url) as ws:
        with pytest.raises(Exception, match=r"(?i)duplicate|unique|primary key"):
            ws.store.execute(
                "INSERT INTO link_models (run_id, seed) SELECT run_id, seed FROM link_models"
            )
        assert ws.store.rows("SELECT count(*) FROM link_models")[0][0] == 1


def test_each_round_is_reported_even_when_it_finds_no_untied_pair() -> None:
    """A complete graph has no untied pair two or three steps apart: no round learns, but
    each is still reported done to the progress bar."""
    from lastmile.network.linklearn import fit_link_model

    names = [f"v{i}" for i in range(5)]
    edges = np.asarray([(a, b) for a in range(5) for b in range(a + 1, 5)], dtype=np.int64)
    heard: list[str] = []
    model = fit_link_model(
        names, edges, seed=0, rounds=3, bag=2, progress=lambda stage, f: heard.append(stage)
    )
    assert model.members == []
    assert [h for h in heard if ": round " in h] == [
        f"member {b}/2: round {r}/3" for b in (1, 2) for r in (1, 2, 3)
    ]
