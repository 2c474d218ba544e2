"""Edge lists as real files come: separators, encodings, quoting, blank lines, stray cells.

Each bad file is refused in one line naming the file, the row as numbered in the file (the
header is row 1, blank lines count), the column or cell, and the reason; each good variant
gives the same graph as the plain comma-separated file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.network import (
    Network,
    NetworkError,
    build_network,
    key_players,
    load_network,
)
from lastmile.network.centrality import eigenvector

runner = CliRunner()
PLAIN = "source,target,weight\na,b,2\nb,c,1\n"


def _write(tmp_path: Path, data: bytes | str, name: str = "e.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _ties(path: Path) -> dict[frozenset[str], float]:
    g = load_network(path).graph
    return {frozenset((g.vs[e.source]["name"], g.vs[e.target]["name"])): e["weight"] for e in g.es}


@pytest.mark.parametrize(
    "data",
    [
        PLAIN.replace(",", "\t"),  # tab-separated (what lastmile itself writes)
        PLAIN.replace(",", ";"),  # a spreadsheet where the comma is the decimal mark
        "\ufeff" + PLAIN,  # UTF-8 with a byte-order mark (Excel's CSV UTF-8)
        PLAIN.replace("\n", "\r\n"),  # CRLF line endings
        "Source,TARGET,Weight,date\na,b,2,2020-01-01\nb,c,1,2020-01-02\n",  # other columns
        'source,target,weight\n\na,b,2\n\nb,c,"1"\n\n',  # blank lines, a quoted number
        "source,target,weight\n   \na,b,2\n\t\nb,c,1\n",  # lines of white space only
        PLAIN.replace("\n", "\r"),  # CR line endings: the "CSV (Macintosh)" of old spreadsheets
        # ids trimmed of spaces of every kind, and a byte-order mark left by joining two files
        "source,target,weight\na\u00a0,b\t,2\n\u200bb,\ufeffc\u3000,1\n",
    ],
)
def test_separators_encodings_and_line_endings_give_the_same_graph(
    tmp_path: Path, data: str
) -> None:
    assert _ties(_write(tmp_path, data)) == _ties(_write(tmp_path, PLAIN, "plain.csv"))


def test_ids_with_commas_quotes_unicode_and_leading_zeros_are_kept_as_written(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        'source,target\n"Smith, J","O""Neil"\n007,7\n0007,José Ñúñez\n"two\nlines",李\n',
    )
    assert set(load_network(path).ids) == {
        "Smith, J",
        'O"Neil',
        "007",
        "7",
        "0007",
        "José Ñúñez",
        "two\nlines",
        "李",
    }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # an unquoted decimal comma: DuckDB's sniffer read it as a fifth column, weight 1
        ("source,target,weight\na,b,1,5\n", "row 2: 4 cells but the header names 3"),
        ('source,target,weight\na,b,"1,5"\n', r"row 2: weight: 1,5 is not a number \(write .*1\.5"),
        # "1,000": a thousands separator as likely as a decimal comma; the hint gives both
        ('source,target,weight\na,b,"1,000"\n', r"write 1000 for a thousands separator, 1\.000"),
        # rows as numbered in the file: blank lines and a cell's line break count
        ("source,target,weight\n\na,b,1\n\n\nb,c,0\n", "row 6: weight: 0 is not positive"),
        ('source,target,weight\n"a\nb",c,1\nb,c,-1\n', "row 4: weight: -1 is not positive"),
        # a quote never closed: DuckDB dropped the last record without a word
        ('source,target\na,b\n"c,d\ne,f\n', r'row 3: a quote \("\) opens a cell that is never'),
        # ... with more than the csv module's cell limit (128 KiB) after it
        (
            'source,target\na,b\n"c,d\n' + "e,f\n" * 40_000,
            r'row 3: a quote \("\) opens a cell that is never',
        ),
        ('source,target\na,b\n"c"x,d\n', "row 3: a quoted cell has text after its closing"),
        (b"source,target\na,b\nJos\xe9,c\n", "row 3: not UTF-8 text"),
        ("source,target\na,b\n".encode("utf-16"), "row 1: the file is UTF-16 text"),
        ("Source,target,source\na,b,c\n", "row 1: the header names the column source twice"),
        ("source,target,weight\na,b,1e-320\n", "row 2: weight: 1e-320 is too small"),
        ("source\ttarget\n\n", "no rows after the header"),
        # a row with only another column written is a row, not a blank line
        ("source,target,note\na,b,\n,,note\n", "row 3: source: empty"),
        # a long line, not a quote never closed (the csv module's cell limit said so)
        ("source,target\na,b\n" + "x" * 2_100_000 + ",b\n", "row 3: line longer than the max"),
        # lines ending in CR alone keep their numbers
        ("source,target,weight\ra,b,1\r\rb,c,0\r", "row 4: weight: 0 is not positive"),
        # each row's weight is a number, but the two rows of one tie sum past the largest
        ("source,target,weight\na,b,1e308\nb,a,1e308\n", "tie between a and b sum past"),
        ("source,target,weight\na,b,1e-300\nb,c,1e300\n", "span too wide a range"),
    ],
)
def test_bad_files_are_refused_with_their_row_and_reason(
    tmp_path: Path, data: str | bytes, reason: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(NetworkError, match=reason) as refused:
        load_network(path)
    assert str(refused.value).startswith(f"{path}: ")


def test_an_id_is_one_person_however_its_letters_are_composed(tmp_path: Path) -> None:
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    path = _write(tmp_path, f"source,target\n{composed},b\n{decomposed},c\n")
    assert sorted(load_network(path).ids) == sorted([composed, "b", "c"])


def test_tiny_weights_give_the_betweenness_of_any_other_scale(tmp_path: Path) -> None:
    """Lengths 1 / 1e-308 are numbers, but a path of two overflowed: the middle of a path
    of five read 0.75 instead of 2/3."""
    pairs = "a,b,{w}\nb,c,{w}\nc,d,{w}\nd,e,{w}\n"
    tiny = load_network(_write(tmp_path, "source,target,weight\n" + pairs.format(w="1e-308")))
    plain = load_network(_write(tmp_path, "source,target,weight\n" + pairs.format(w=1), "p.csv"))
    assert any("scaled" in note for note in tiny.notes)
    assert key_players(tiny, 5, method="betweenness").table.column("score").to_pylist() == (
        key_players(plain, 5, method="betweenness").table.column("score").to_pylist()
    )


def test_a_bad_file_is_one_line_on_every_command(tmp_path: Path) -> None:
    path = _write(tmp_path, "source,target,weight\na,b,1\nc,d,1,5\n")
    for command in (["keyplayers"], ["disrupt", "--format", "json"], ["links"]):
        result = runner.invoke(app, [*command, "--edges", str(path)])
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"error: {path}: row 3: 4 cells but the header names 3 ")
        assert "Traceback" not in result.output


def _two_stars_and_a_blob() -> Network:
    """Three components: each has a top eigenvector person (scored 1), the blob's inner
    people differ in the last bits of ARPACK's answer from run to run."""
    import random as stdrandom

    draw = stdrandom.Random(4)
    blob = [(f"b{i}", f"b{j}") for i in range(40) for j in range(i + 1, 40) if draw.random() < 0.2]
    stars = [
        (f"{hub}", f"{hub}{leaf}") for hub in ("s", "t") for leaf in range(4 if hub == "s" else 6)
    ]
    pairs = [*blob, *stars]
    return build_network(
        pa.table(
            {
                "source": [a for a, _ in pairs],
                "target": [b for _, b in pairs],
                "weight": [1.0 + (i % 3) for i in range(len(pairs))],
            }
        )
    )


def test_eigenvector_is_the_same_whatever_the_random_state_and_ties_go_to_betweenness() -> None:
    """igraph's ARPACK starts from Python's random state: the same file gave the component
    tops (all 1) in a different order from run to run (CAVIAR phase 10, --method eigenvector)."""
    import random as stdrandom

    net = _two_stars_and_a_blob()
    runs = []
    for seed in range(8):
        stdrandom.seed(seed)
        runs.append(eigenvector(net.graph).tolist())
    assert all(r == runs[0] for r in runs)
    stdrandom.seed(3)
    table = key_players(net, 3, method="eigenvector").table
    # the three component tops all score 1; the tie goes to betweenness: the blob's top, then
    # the hub of six leaves, then the hub of four
    assert table.column("score").to_pylist() == [1.0, 1.0, 1.0]
    assert table.column("id").to_pylist()[1:] == ["t", "s"]
    assert table.column("id").to_pylist()[0].startswith("b")


def test_link_scores_are_computed_in_blocks_of_bounded_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`lastmile links` on a million random ties asked for 4.3 GiB at once (paths of length 3
    of ten million candidate pairs) and died; in blocks the peak follows PAIR_BUDGET and the
    scores are the same."""
    import tracemalloc

    import igraph as ig
    import numpy as np

    from lastmile.network import linklearn
    from lastmile.network.linkpred import _adjacency, _candidates, edge_index

    g = ig.Graph.Erdos_Renyi(n=300, m=1200)
    a = _adjacency(g.vcount(), edge_index(g))
    x, y, _ = _candidates(a)

    def peak(budget: int) -> tuple[int, tuple[np.ndarray, ...]]:
        monkeypatch.setattr(linklearn, "PAIR_BUDGET", budget)
        tracemalloc.start()
        scores = linklearn.neighbourhood(a, x, y)
        rowdot = linklearn._rowdot(a @ a, x, y)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top, (*scores, rowdot)

    whole, expected = peak(10**12)
    blocked, got = peak(20_000)
    assert all(np.allclose(e, g_) for e, g_ in zip(expected, got, strict=True))
    assert blocked < whole / 4
    assert [(b.start, b.stop) for b in linklearn.pair_blocks(np.array([3, 3, 3, 9, 1]), 6)] == [
        (0, 2),
        (2, 3),
        (3, 4),
        (4, 5),
    ]


def test_every_note_is_one_line(tmp_path: Path) -> None:
    """A note longer than the 80 columns of a pipe was folded over two lines ("...into 18
    ties" / "(weights summed)"), so a script reading stderr line by line saw half notes."""
    path = _write(tmp_path, "source,target\na,b\nb,a\nb,c\nc,d\nc,c\n", "a_rather_long_name.csv")
    for command in (["keyplayers", "-k", "2"], ["disrupt", "--steps", "1"], ["links"]):
        result = runner.invoke(app, [*command, "--edges", str(path)])
        assert result.exit_code == 0, result.output
        lines = result.stderr.splitlines()
        assert any(len(line) > 80 for line in lines)
        assert all(line.startswith("note: ") for line in lines), lines


def test_sampled_efficiency_follows_the_same_people_from_step_to_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above EXACT_EFFICIENCY people efficiency is estimated from sampled sources. Drawn again
    at each step, the sample moved the estimate more than the removal did (a million random
    ties: 0.1823 intact, 0.1839 after removing the top two). Removing an isolated person who
    is not a sampled source leaves every sampled distance as it was: only the normalisation
    by n - 1 changes."""
    import igraph as ig

    from lastmile.network import disruption

    monkeypatch.setattr(disruption, "EXACT_EFFICIENCY", 50)
    monkeypatch.setattr(disruption, "EFFICIENCY_BUDGET", 1)
    # five isolated people first, then a random graph: removing one renumbers all the others
    er = ig.Graph.Erdos_Renyi(n=400, m=900)
    g = ig.Graph(n=405, edges=[(a + 5, b + 5) for a, b in er.get_edgelist()])
    g.vs["name"] = [f"p{v}" for v in range(g.vcount())]
    g.es["weight"] = [1.0] * g.ecount()
    g.es["distance"] = [1.0] * g.ecount()
    net = Network(graph=g)
    sampled = set(disruption.efficiency_sources(g))
    assert len(sampled) == disruption.MIN_EFFICIENCY_SOURCES
    lonely = next(f"p{v}" for v in range(5) if f"p{v}" not in sampled)
    rows = disruption.disrupt(net, strategy="list", targets=[lonely]).to_pylist()
    n = g.vcount()
    assert rows[1]["efficiency"] == pytest.approx(
        rows[0]["efficiency"] * (n - 1) / (n - 2), abs=2e-6
    )


def test_a_matrix_not_in_utf8_is_refused_with_file_and_row(tmp_path: Path) -> None:
    """--matrix printed Python's codec message, without the file or the row."""
    from lastmile.network import read_adjacency

    path = _write(tmp_path, b",a,b\na,0,1\nb,1,0\n\xe9,0,0\n", "m.csv")
    with pytest.raises(NetworkError, match=f"{path}: row 4: not UTF-8 text"):
        read_adjacency(path)
