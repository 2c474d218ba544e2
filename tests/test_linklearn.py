"""The learned link prediction (lastmile.network.linklearn) through its public functions."""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.network import (
    NetworkError,
    evaluate_links,
    linkpred,
    network_from_graph,
    predict_links,
)
from lastmile.network.linklearn import (
    ATTRIBUTE_SCHEMA,
    BAG_STRIDE,
    EDGE_SCHEMA,
    Bagged,
    LinkContext,
    entity_attributes,
    fit_link_model,
)

runner = CliRunner()


def random_net(n: int = 300, m: int = 600, seed: int = 1) -> tuple[Any, list[tuple[str, str]]]:
    """A graph with no structure at all (Erdős-Rényi): nothing predicts a hidden tie."""
    g = ig.Graph.Erdos_Renyi(n=n, m=m, directed=False, loops=False)
    rng = random.Random(seed)
    g.vs["name"] = [f"v{i:03d}" for i in range(n)]
    pairs = []
    for e in g.es:
        a, b = g.vs[e.source]["name"], g.vs[e.target]["name"]
        pairs.append((a, b) if rng.random() < 0.5 else (b, a))
    return network_from_graph(g), pairs


def ties(rows: list[tuple[str, str, str, int]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"source": s, "target": t, "kind": k, "records": r} for s, t, k, r in rows],
        schema=EDGE_SCHEMA,
    )


def auc_of(table: pa.Table, method: str) -> float:
    return float(next(r["auc"] for r in table.to_pylist() if r["method"] == method))


def test_the_hidden_ties_own_records_never_reach_the_model() -> None:
    """Every edge is a supply tie of the context. If the kinds of the hidden ties were counted
    at their ends, an end would show one more supply tie than it has visible ties, and the model
    would find the hidden ties of this structureless graph (AUC near 1). Without the leak the
    context says nothing the graph does not."""
    ig.set_random_number_generator(random.Random(3))
    net, pairs = random_net()
    context = LinkContext(edge_ties=ties([(a, b, "supply", 1) for a, b in pairs]))
    for seed in (0, 1):
        bare = auc_of(evaluate_links(net, seed=seed), "learned")
        typed = auc_of(evaluate_links(net, seed=seed, context=context), "learned")
        assert typed < min(bare + 0.05, 0.9), (bare, typed)


def test_features_of_a_hidden_pair_do_not_depend_on_its_hidden_records() -> None:
    net, pairs = random_net(n=60, m=120)
    names = net.ids
    index = {v: i for i, v in enumerate(names)}
    edges = np.asarray([(index[a], index[b]) for a, b in pairs], dtype=np.int64)
    hidden, visible = edges[:10], edges[10:]
    full = LinkContext(edge_ties=ties([(a, b, "supply", 2) for a, b in pairs]))
    without = LinkContext(edge_ties=ties([(a, b, "supply", 2) for a, b in pairs[10:]]))
    with_all = fit_link_model(names, visible, full, rounds=1)
    with_visible = fit_link_model(names, visible, without, rounds=1)
    f1 = with_all.features(visible, hidden[:, 0], hidden[:, 1])
    f2 = with_visible.features(visible, hidden[:, 0], hidden[:, 1])
    assert with_all.names == with_visible.names
    np.testing.assert_array_equal(f1, f2)


def test_side_ties_and_records_stay_visible_and_the_model_uses_them() -> None:
    """Each tie of a structureless graph also has a single call (below the graph's evidence
    minimum) and half the negatives' ends share nothing: the neighbourhood scores cannot find the
    hidden ties, the model reading the calls can (the calls are other records: never hidden)."""
    ig.set_random_number_generator(random.Random(5))
    net, pairs = random_net()
    context = LinkContext(side_ties=ties([(a, b, "communication", 1) for a, b in pairs]))
    table = evaluate_links(net, seed=0, context=context)
    assert auc_of(table, "learned") > 0.95
    assert max(auc_of(table, m) for m in linkpred.METHODS) < 0.75


def test_training_sees_only_the_visible_ties(monkeypatch: pytest.MonkeyPatch) -> None:
    net, _ = random_net(n=80, m=160)
    seen: list[np.ndarray] = []
    real = linkpred.fit_link_model

    def spy(names: list[str], visible: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        seen.append(visible)
        return real(names, visible, *args, **kwargs)

    monkeypatch.setattr(linkpred, "fit_link_model", spy)
    table = evaluate_links(net, seed=0).to_pylist()
    hidden = table[0]["positives"]
    (visible,) = seen
    assert hidden == 24 and len(visible) == 160 - hidden
    all_pairs = {tuple(sorted(e.tuple)) for e in net.graph.es}
    assert {tuple(sorted(p)) for p in visible.tolist()} < all_pairs


def test_learned_ranks_and_explains_each_pair() -> None:
    g = ig.Graph.Famous("Zachary")
    g.vs["name"] = [str(i) for i in range(g.vcount())]
    net = network_from_graph(g)
    assert "why" not in predict_links(net, top=1).column_names  # bare graph: Adamic-Adar
    table = predict_links(net, top=5, context=LinkContext())  # a context: learned
    assert table.column_names == [
        "source",
        "target",
        "learned",
        "common_neighbours",
        "adamic_adar",
        "resource_allocation",
        "katz",
        "why",
    ]
    learned = table.column("learned").to_pylist()
    assert table.num_rows == 5 and learned == sorted(learned, reverse=True)
    for why, p in zip(table.column("why").to_pylist(), learned, strict=True):
        assert why.startswith(f"p={p:.2f}")
    # every pair suggested is untied
    tied = {frozenset((g.vs[e.source]["name"], g.vs[e.target]["name"])) for e in g.es}
    ends = zip(table["source"].to_pylist(), table["target"].to_pylist(), strict=True)
    assert not {frozenset(r) for r in ends} & tied


def test_a_tiny_graph_falls_back_to_resource_allocation() -> None:
    g = ig.Graph(n=3, edges=[(0, 1), (1, 2)])
    g.vs["name"] = ["a", "b", "c"]
    (row,) = predict_links(network_from_graph(g), top=5, method="learned").to_pylist()
    assert (row["source"], row["target"]) == ("a", "c")
    assert "too few ties" in row["why"]
    with pytest.raises(NetworkError, match="too few to hide"):
        evaluate_links(network_from_graph(g))


def test_one_node_and_no_negatives() -> None:
    one = ig.Graph(n=1)
    one.vs["name"] = ["solo"]
    assert predict_links(network_from_graph(one)).num_rows == 0
    complete = ig.Graph.Full(6)  # 15 ties, every pair tied: nothing two steps apart
    complete.vs["name"] = list("abcdef")
    net = network_from_graph(complete)
    assert predict_links(net).num_rows == 0
    with pytest.raises(NetworkError, match="no untied pairs"):
        evaluate_links(net)
    model = fit_link_model(net.ids, np.asarray(complete.get_edgelist()))
    assert model.model is None  # no negative to learn from: the fallback, not a crash


def test_links_command_on_an_edge_list_learns_from_topology_when_asked(tmp_path: Path) -> None:
    g = ig.Graph.Famous("Zachary")
    path = tmp_path / "karate.csv"
    path.write_text(
        "source,target\n" + "".join(f"k{a},k{b}\n" for a, b in g.get_edgelist()),
        encoding="utf-8",
    )
    learned = ["links", "--edges", str(path), "--method", "learned", "--top", "3", "-f", "json"]
    result = runner.invoke(app, learned)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and all(r["why"].startswith("p=") for r in rows)
    result = runner.invoke(app, ["links", "--edges", str(path), "--top", "3", "-f", "json"])
    assert "why" not in json.loads(result.stdout)[0]  # an edge list: Adamic-Adar by default
    result = runner.invoke(app, ["links", "--edges", str(path), "--evaluate", "-f", "json"])
    assert result.exit_code == 0, result.output
    methods = [r["method"] for r in json.loads(result.stdout)]
    assert methods == [*linkpred.METHODS, "learned"]
    result = runner.invoke(
        app, ["links", "--edges", str(path), "--method", "katz", "-f", "json", "--top", "2"]
    )
    assert "why" not in json.loads(result.stdout)[0]


def test_attributes_come_from_an_entitys_own_records_never_from_a_ties(
    workspace: Any,
) -> None:
    from tests.test_network_workspace import fill, insert

    fill(workspace)
    # a supply record filed in investigation I9 between P1 and P2: a tie's record
    insert(
        workspace,
        "relationships",
        [
            {
                "relationship_id": "R9",
                "investigation_id": "I9",
                "kind": "supplies",
                "from_id": "S1",
                "to_id": "S2",
            }
        ],
        {},
    )
    table = entity_attributes(workspace)
    assert table.schema == ATTRIBUTE_SCHEMA
    got = {
        (r["entity_id"], r["value"]) for r in table.to_pylist() if r["attribute"] == "investigation"
    }
    assert ("P1", "I1") in got and ("P1", "I2") in got and ("P2", "I1") in got
    assert not any(value == "I9" for _, value in got)
    kinds = {r["entity_id"]: r["value"] for r in table.to_pylist() if r["attribute"] == "kind"}
    assert kinds == {"G1": "organization crew"}


def test_links_command_on_a_workspace_network(workspace_url: str) -> None:
    from lastmile.store import open_workspace
    from tests.test_network_workspace import fill

    with open_workspace(workspace_url) as ws:
        fill(ws)
        ws.store.execute("DELETE FROM entities")
        names = {f"P{i}": f"Persona {i} Example" for i in range(1, 5)}
        for entity, name in names.items():
            ws.store.execute(
                "INSERT INTO entities (entity_id, kind, best_name) VALUES (?, 'person', ?)",
                (entity, name),
            )
    result = runner.invoke(app, ["links", "N-G1", "-w", workspace_url, "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all("why" in r for r in rows)
    people = {"P1", "P2", "P3", "P4"}
    assert all({r["source"], r["target"]} <= people for r in rows)
    # each side is named by its entity's best name, beside its id
    assert all(
        r["source_name"] == names[r["source"]] and r["target_name"] == names[r["target"]]
        for r in rows
    )
    # and so is each person a disruption removes (the JSON keeps the fields)
    disrupt = ["disrupt", "N-G1", "-w", workspace_url, "--steps", "2"]
    result = runner.invoke(app, [*disrupt, "-f", "csv"])
    assert result.exit_code == 0, result.output
    steps = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["removed_name"] for r in steps[1:]] == [names[r["removed"]] for r in steps[1:]]
    result = runner.invoke(app, [*disrupt, "-f", "json"])
    assert "removed_name" not in json.loads(result.stdout)[1]


def test_suggestions_among_some_nodes_learn_from_the_whole_graph() -> None:
    """One network of a workspace: the model learns from every network, suggests in one."""
    a = ig.Graph.Famous("Zachary")
    b = ig.Graph.Famous("Zachary")
    g = a.disjoint_union(b)
    g.vs["name"] = [f"a{i}" for i in range(34)] + [f"b{i}" for i in range(34)]
    net = network_from_graph(g)
    among = [f"b{i}" for i in range(34)]
    table = predict_links(net, top=10, method="learned", among=among)
    assert table.num_rows == 10
    ends = set(table["source"].to_pylist()) | set(table["target"].to_pylist())
    assert ends <= set(among)


def test_a_case_file_shared_with_the_other_ends_neighbours_is_a_feature() -> None:
    """d shares no case file with a, but a's two contacts are in d's case file: the model
    sees it at a's end (and only there), in both orders of the pair."""
    names = ["a", "b", "c", "d", "e", "f"]
    visible = np.asarray([(0, 1), (0, 2), (3, 4), (4, 5), (1, 2)], dtype=np.int64)
    attributes = pa.Table.from_pylist(
        [
            {"entity_id": e, "attribute": "investigation", "value": v}
            for e, v in [("b", "K"), ("c", "K"), ("d", "K"), ("e", "L"), ("a", "M")]
        ],
        schema=ATTRIBUTE_SCHEMA,
    )
    model = fit_link_model(names, visible, LinkContext(attributes=attributes), rounds=1)
    x, y = np.asarray([0, 3]), np.asarray([3, 0])
    f = model.features(visible, x, y)
    col = {c: f[:, i].tolist() for i, c in enumerate(model.names)}
    assert col["shared_investigation"] == [0.0, 0.0]
    assert col["investigation_of_neighbours_x"] == [2.0, 0.0]
    assert col["investigation_of_neighbours_y"] == [0.0, 2.0]


def test_the_model_is_a_bag_of_members_trained_on_their_own_rounds() -> None:
    """Three members, each trained on other hidden ties (their probabilities differ), and the
    score is their mean over both orders of the pair; bag=1 is one model."""
    net, pairs = random_net(n=120, m=300)
    index = {v: i for i, v in enumerate(net.ids)}
    edges = np.asarray([(index[a], index[b]) for a, b in pairs], dtype=np.int64)
    model = fit_link_model(net.ids, edges, rounds=3, bag=3)
    assert isinstance(model.model, Bagged) and len(model.model.members) == 3
    x, y = np.arange(0, 40), np.arange(40, 80)
    each = [replace(model, model=m).score(edges, x, y) for m in model.model.members]
    assert not np.allclose(each[0], each[1]) and not np.allclose(each[1], each[2])
    assert np.allclose(model.score(edges, x, y), np.mean(each, axis=0))
    one = fit_link_model(net.ids, edges, rounds=3, bag=1)
    assert not isinstance(one.model, Bagged)
    # the first member is the model bag=1 trains
    assert np.allclose(one.score(edges, x, y), each[0])
    # a member's rounds are seeded apart from the next member's only while they are fewer
    # than the stride between members
    with pytest.raises(ValueError, match="training rounds"):
        fit_link_model(net.ids, edges, rounds=BAG_STRIDE, bag=2)


def test_the_model_is_the_same_whatever_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training takes the idle cores (linklearn.idle_cores, from 1 to the machine's count);
    the fitted model, hence every score, does not depend on how many it got."""
    import os

    from lastmile.network import linklearn

    assert 1 <= linklearn.idle_cores() <= (os.cpu_count() or 1)
    net, pairs = random_net(n=120, m=300)
    index = {v: i for i, v in enumerate(net.ids)}
    edges = np.asarray([(index[a], index[b]) for a, b in pairs], dtype=np.int64)
    x, y = np.arange(0, 40), np.arange(40, 80)
    scores = []
    for threads in (1, 2):
        monkeypatch.setattr(linklearn, "idle_cores", lambda n=threads: n)
        scores.append(fit_link_model(net.ids, edges, rounds=3, bag=2).score(edges, x, y))
    assert np.array_equal(scores[0], scores[1])
