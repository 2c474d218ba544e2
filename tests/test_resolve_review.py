"""Possible matches (``lastmile review``): the pairs of people a resolution left apart, for an
analyst to judge (docs/resolution.md, "Possible matches")."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.resolve import ResolveError
from lastmile.resolve.judge import explain_entity, judge_pair
from lastmile.resolve.review import COLUMNS, FLOOR, possible_matches, stage
from lastmile.resolve.run import resolve
from lastmile.store import Workspace, open_workspace

from .test_resolve import entity, make_operation


def add_identifier_under_another_name(folder: Path) -> None:
    """Two more subject records of the operation: under different names and dates of birth,
    with one moniker, one phone and one SSN (see the identifier test below)."""
    import csv

    with (folder / "subjects.csv").open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for sid, inv, name, dob in (
            ("X-1", "I1", "Pedro Salas", "1971-02-03"),
            ("X-2", "I2", "Ricardo Mena", "1984-09-10"),
        ):
            w.writerow([sid, inv, name, dob, "", "Flaco", "ssn:219-09-9999", "M"])
    with (folder / "selectors.csv").open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for sid, inv in (("X-1", "I1"), ("X-2", "I2")):
            w.writerow([f"{sid}-P", inv, sid, "phone", "(505) 555-0142"])


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("review")
    # Without the record between the Jr. and his father: the listing of their pair, which a
    # rule keeps apart, is what these tests read.
    truth = make_operation(folder / "op", generation_chain=False)
    add_identifier_under_another_name(folder / "op")
    path = folder / "ws.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [folder / "op"], rejects=folder / "rejects.csv")
        result = resolve(ws)
    yield path, {"truth": truth, "result": result}


def _own_copy(reviewed: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    """A copy of the module's resolved workspace, for a test that writes to it."""
    path = tmp_path / "own.duckdb"
    shutil.copyfile(reviewed[0], path)
    return path


def _pair(rows: list[dict[str, Any]], a: str, b: str) -> dict[str, Any] | None:
    found = [r for r in rows if {r["record_a"], r["record_b"]} == {a, b}]
    return found[0] if found else None


def _check_listing(ws: Workspace, truth: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = possible_matches(ws).to_pylist()
    # A man written once with his date of birth and once without, in another agency's file:
    # the same full name alone falls short of a merge, and is offered for review.
    undated = _pair(rows, *truth["p0"][:2])
    assert undated is not None
    assert undated["why"].startswith("below the threshold")
    assert FLOOR <= undated["probability"] < 0.5
    assert "the same full name" in undated["evidence"]
    # A father and son sharing a phone and an address score high; a rule keeps them apart,
    # and the listing says which.
    family = _pair(rows, truth["jr"][0], truth["sr"][0])
    assert family is not None and family["why"].startswith("kept apart by a rule")
    assert "generation" in family["why"]
    # Most likely first; each pair of entities once, each record in the entity it is listed
    # under, never two records of one entity.
    probs = [r["probability"] for r in rows]
    assert probs == sorted(probs, reverse=True)
    assert all(p >= FLOOR for p in probs)
    keys = [(r["entity_a"], r["entity_b"]) for r in rows]
    assert len(keys) == len(set(keys)) and all(a < b for a, b in keys)
    for r in rows:
        assert entity(ws, r["record_a"]) == r["entity_a"]
        assert entity(ws, r["record_b"]) == r["entity_b"]
        assert r["name_a"] is not None or r["name_b"] is not None
        assert r["record_pairs"] >= 1
    return rows


def test_pairs_left_apart_are_listed_with_why_most_likely_first(
    reviewed: tuple[Path, dict[str, Any]],
) -> None:
    path, ctx = reviewed
    with open_workspace(path, create=False) as ws:
        rows = _check_listing(ws, ctx["truth"])
        stored = ws.store.rows("SELECT count(*) FROM possible_matches")[0][0]
    assert ctx["result"].possible_matches == len(rows)
    # Every pair of records is stored, the listing shows each pair of entities once.
    assert stored == sum(r["record_pairs"] for r in rows)


def test_the_listing_shows_a_pair_of_entities_once_by_its_best_records(
    reviewed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    copy = _own_copy(reviewed, tmp_path)
    with open_workspace(copy, create=False) as ws:
        first = possible_matches(ws).to_pylist()
        top = first[0]
        # Another, weaker pair of the same two entities, as a run stores every pair (the
        # record is another one of the listing's: the reader reads ids, not entities).
        other = next(r for r in first if r["record_a"] != top["record_a"])["record_a"]
        ws.store.execute(
            "INSERT INTO possible_matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (top["entity_a"], top["entity_b"], other, top["record_b"], -1.0, FLOOR, 2, "x", ""),
        )
        again = possible_matches(ws).to_pylist()
        assert [(r["entity_a"], r["entity_b"], r["record_a"]) for r in again] == [
            (r["entity_a"], r["entity_b"], r["record_a"]) for r in first
        ]
        ws.store.execute(
            "UPDATE possible_matches SET probability = 0.999 WHERE record_a = ? AND why = 'x'",
            (other,),
        )
        best = possible_matches(ws, limit=1).to_pylist()[0]
        assert (best["record_a"], best["probability"]) == (other, 0.999)
        listed = [(r["entity_a"], r["entity_b"]) for r in possible_matches(ws).to_pylist()]
        assert listed.count((top["entity_a"], top["entity_b"])) == 1


def test_possible_matches_are_stored_on_postgresql(workspace: Workspace, tmp_path: Path) -> None:
    if workspace.kind != "postgresql":
        pytest.skip("on DuckDB: the module's workspace (reviewed)")
    truth = make_operation(tmp_path / "op", generation_chain=False)  # as the module's
    ingest_paths(workspace, [tmp_path / "op"], rejects=tmp_path / "rejects.csv")
    resolve(workspace)
    _check_listing(workspace, truth)


def test_a_judgement_settles_a_possible_match(
    reviewed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    truth = reviewed[1]["truth"]
    path = _own_copy(reviewed, tmp_path)
    with open_workspace(path) as ws:
        a, b = truth["p0"][:2]
        jr, sr = truth["jr"][0], truth["sr"][0]
        judge_pair(ws, "same", a, b, analyst="tester")
        judge_pair(ws, "different", jr, sr, analyst="tester")
        resolve(ws)
        rows = possible_matches(ws).to_pylist()
        # Confirmed: one person, so no longer a possible match; rejected: apart, and not
        # offered again.
        assert entity(ws, a) == entity(ws, b)
        assert _pair(rows, a, b) is None
        assert entity(ws, jr) != entity(ws, sr)
        assert _pair(rows, jr, sr) is None
        # The rest of the listing is untouched.
        assert _pair(rows, *truth["p60"][:2]) is not None


def test_the_listing_filters_by_entity_probability_and_count(
    reviewed: tuple[Path, dict[str, Any]],
) -> None:
    path, ctx = reviewed
    truth = ctx["truth"]
    with open_workspace(path, create=False) as ws:
        every = possible_matches(ws).to_pylist()
        jr = entity(ws, truth["jr"][0])
        mine = possible_matches(ws, entity=jr).to_pylist()
        assert mine and all(jr in (r["entity_a"], r["entity_b"]) for r in mine)
        assert len(mine) < len(every)
        high = possible_matches(ws, min_probability=0.5).to_pylist()
        assert high and all(r["probability"] >= 0.5 for r in high)
        assert len(high) < len(every)
        assert _pair(high, *truth["p0"][:2]) is None
        assert possible_matches(ws, limit=1).to_pylist() == every[:1]
        # The entity's explanation points to them.
        text = explain_entity(ws, jr).text()
        assert f"possible matches left apart: {len(mine)} (lastmile review {jr})" in text
        for bad, message in (
            ({"min_probability": 1.5}, "between 0 and 1"),
            ({"limit": 0}, "at least 1"),
            ({"entity": "P-nope"}, "no entity 'P-nope'"),
        ):
            with pytest.raises(ResolveError, match=message):
                possible_matches(ws, **bad)


def test_review_needs_a_resolution_that_kept_them(
    reviewed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    with (
        open_workspace(tmp_path / "ws.duckdb") as ws,
        pytest.raises(ResolveError, match="run 'lastmile resolve' first"),
    ):
        possible_matches(ws)
    # A workspace resolved before possible matches were kept: not an empty list.
    path = _own_copy(reviewed, tmp_path)
    with open_workspace(path) as ws:
        ws.store.execute("UPDATE resolution_runs SET counts_json = '{\"edges\": 1}'")
        with pytest.raises(ResolveError, match="kept no possible matches"):
            possible_matches(ws)


def test_cli_review(reviewed: tuple[Path, dict[str, Any]]) -> None:
    path, _ = reviewed
    runner = CliRunner()
    res = runner.invoke(app, ["review", "-w", str(path), "--format", "csv", "--limit", "2"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].replace('"', "").split(",") == list(COLUMNS)
    assert len(lines) == 3
    res = runner.invoke(app, ["review", "-w", str(path), "--min-probability", "2"])
    assert res.exit_code == 1
    assert "between 0 and 1" in res.output and "Traceback" not in res.output


def _staged(**tables: tuple[str, list[tuple[Any, ...]]]) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    for name, (columns, rows) in tables.items():
        con.execute(f"CREATE TEMP TABLE {name} ({columns})")
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    stage(con)
    out = con.sql(
        "SELECT * FROM new_possible_matches ORDER BY entity_a, entity_b, probability DESC"
    ).to_arrow_table()
    return out.to_pylist()


def test_every_pair_of_records_left_apart_is_staged_with_why() -> None:
    members = {
        "r1": "E1", "r2": "E1", "r3": "E2", "r4": "E2", "r5": "E4", "r9": "E3",
        "r6": "E5", "r7": "E6", "r10": "E7", "r11": "E8", "r12": "E9", "r13": "E9",
        "r14": "E10",
    }  # fmt: skip
    scored = [  # (a, b, match_weight, probability, threshold, evidence); a < b as stored
        ("r1", "r3", 1.0, 0.30, 0.5, "ev 1-3"),
        ("r2", "r4", 2.0, 0.45, 0.5, "ev 2-4"),  # E1 and E2's second pair, their best
        ("r1", "r4", -3.0, 0.10, 0.5, "ev 1-4"),  # under the floor: not counted
        ("r1", "r2", 1.0, 0.30, 0.5, "ev 1-2"),  # one entity: not a possible match
        ("r5", "r9", 1.0, 0.30, 0.8, "ev 5-9"),  # r9's entity E3 sorts before r5's E4
        ("r6", "r7", 9.0, 0.99, 0.5, "ev 6-7"),  # linked, the clustering kept them apart
        ("r10", "r11", 9.0, 0.95, 0.5, "ev 10-11"),  # a rule kept them apart
        ("r12", "r14", 1.0, 0.40, 0.5, "ev 12-14"),  # settled: r13 and r14 judged different
    ]
    rows = _staged(
        scored=(
            "a VARCHAR, b VARCHAR, match_weight DOUBLE, probability DOUBLE, "
            "threshold DOUBLE, evidence VARCHAR",
            scored,
        ),
        vetoed=("a VARCHAR, b VARCHAR, veto VARCHAR", [("r10", "r11", "names disagree")]),
        person_edges=("a VARCHAR, b VARCHAR", [("r6", "r7")]),
        new_members=(
            "record_type VARCHAR, record_id VARCHAR, entity_id VARCHAR",
            [("subjects", r, e) for r, e in members.items()],
        ),
        judged=("a VARCHAR, b VARCHAR, verdict VARCHAR", [("r13", "r14", "different")]),
    )
    # Every pair of records is kept (a reader that sees only some records picks the best it
    # sees), each with how many pairs its two entities have.
    e1e2 = [r for r in rows if (r["entity_a"], r["entity_b"]) == ("E1", "E2")]
    assert [(r["record_a"], r["record_b"], r["probability"]) for r in e1e2] == [
        ("r2", "r4", 0.45),
        ("r1", "r3", 0.30),
    ]
    best = e1e2[0]
    assert (best["match_weight"], best["evidence"], best["record_pairs"]) == (2.0, "ev 2-4", 2)
    assert e1e2[1]["record_pairs"] == 2 and e1e2[1]["evidence"] == "ev 1-3"
    assert best["why"] == "below the threshold (0.5)"
    got = {(r["entity_a"], r["entity_b"]): r for r in rows}
    assert set(got) == {("E1", "E2"), ("E3", "E4"), ("E5", "E6"), ("E7", "E8")}
    assert len(rows) == 5
    flipped = got[("E3", "E4")]
    assert (flipped["record_a"], flipped["record_b"]) == ("r9", "r5")
    assert flipped["why"] == "below the threshold (0.8)"
    assert got[("E5", "E6")]["why"] == "linked, kept apart by the clustering"
    assert got[("E7", "E8")]["why"] == "kept apart by a rule: names disagree"


def test_the_lower_floor_changes_no_merge(
    reviewed: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keeping the pairs from 0.2 for review leaves entities, links and flagged identifiers
    as they were with the prediction kept from 0.5."""
    from lastmile.resolve import persons

    source, ctx = reviewed
    path = _own_copy(reviewed, tmp_path)
    monkeypatch.setattr(persons, "PREDICT_FLOOR", persons.ENTITY_PREDICT_FLOOR)
    with open_workspace(path) as ws:
        result = resolve(ws)
        members = ws.store.rows("SELECT record_id, entity_id FROM entity_members ORDER BY 1")
        edges = ws.store.rows("SELECT record_a, record_b FROM match_edges ORDER BY 1, 2")
        listed = possible_matches(ws).num_rows
    with open_workspace(source, create=False) as ws:
        assert ws.store.rows("SELECT record_id, entity_id FROM entity_members ORDER BY 1") == (
            members
        )
        assert ws.store.rows("SELECT record_a, record_b FROM match_edges ORDER BY 1, 2") == edges
        assert listed < possible_matches(ws).num_rows
    assert result.identifier_conflicts == ctx["result"].identifier_conflicts
    assert result.vetoed == ctx["result"].vetoed


def test_an_identifier_shared_under_another_name_is_flagged_whatever_its_score(
    reviewed: tuple[Path, dict[str, Any]],
) -> None:
    """Two records under different names sharing a moniker and a phone are linked by a rule
    (one person under another name) however low they score; the identifier they share is
    still flagged, as for any pair of names that disagree."""
    _, ctx = reviewed
    assert ("X-1", "X-2", "shares an identifier with a record of another name") in (
        ctx["result"].identifier_conflicts
    )


def test_a_reviewed_list_is_judged_from_its_file(
    reviewed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """lastmile review --format csv, a verdict column filled in, lastmile judge --from."""
    import csv

    truth = reviewed[1]["truth"]
    path = _own_copy(reviewed, tmp_path)
    runner = CliRunner()
    listed = tmp_path / "review.csv"
    res = runner.invoke(app, ["review", "-w", str(path), "-f", "csv", "--out", str(listed)])
    assert res.exit_code == 0, res.output
    with listed.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    a, b = truth["p0"][:2]
    jr, sr = truth["jr"][0], truth["sr"][0]
    undated = next(r for r in rows if {r["record_a"], r["record_b"]} == {a, b})
    family = next(r for r in rows if {r["record_a"], r["record_b"]} == {jr, sr})
    other = next(r for r in rows if r not in (undated, family))
    fields = [*rows[0].keys(), "verdict", "note"]
    undated.update(verdict=" Same ", note="called the case agent")
    family.update(verdict="different", note="")
    other.update(verdict="", note="")  # not judged yet
    bad = [
        dict(other, verdict="maybe"),
        dict(other, verdict="same", record_b="S-NOPE"),
        dict(other, verdict="same", record_b=other["record_a"]),
        dict(other, verdict="different", record_a=""),
        # the same pair the other way round, with the other verdict: the first row stands
        dict(
            undated, verdict="different", record_a=undated["record_b"], record_b=undated["record_a"]
        ),
    ]
    judged = tmp_path / "judged.csv"
    with judged.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows([undated, family, other, *bad])
        fh.write("\n")  # a blank line: neither judged nor rejected
    res = runner.invoke(
        app,
        ["judge", "--from", str(judged), "-w", str(path), "--analyst", "tester", "--note", "r1"],
    )
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "judged 2 pairs" in out and "(1 left blank, 5 rejected)" in out
    assert f"{judged}, row 5, column verdict: 'maybe' is not one of same, different" in out
    assert "row 6, column record_b: 'S-NOPE' is not a subject record" in out
    assert "row 7, column record_b: the same record as record_a" in out
    assert "row 8, column record_a: no record id" in out
    assert "row 9, column verdict: row 2 already judges this pair same" in out
    with open_workspace(path, create=False) as ws:
        stored = ws.store.rows(
            "SELECT verdict, record_a, record_b, analyst, note FROM judgements ORDER BY verdict"
        )
    assert [(v, {x, y}, who, note) for v, x, y, who, note in stored] == [
        ("different", {jr, sr}, "tester", "r1"),
        ("same", {a, b}, "tester", "called the case agent"),
    ]
    # Every verdict rejected: nothing judged, and the exit status says so (some rejected,
    # as above, is a partial success, as in ingest).
    all_bad = tmp_path / "all_bad.csv"
    with all_bad.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(bad[:2])
    res = runner.invoke(app, ["judge", "--from", str(all_bad), "-w", str(path)])
    assert res.exit_code == 1, res.output
    assert "(0 left blank, 2 rejected)" in " ".join(res.output.split())
    # A file without the columns, or --from beside a verdict: one clear line, nothing stored.
    headless = tmp_path / "nope.csv"
    headless.write_text("a,b\nx,y\n", encoding="utf-8")
    for args, message in (
        (["--from", str(headless)], "no column record_a, record_b, verdict"),
        (["--from", "/dev/zero"], "a device, not a file"),  # read without end before
        (["same", a, b, "--from", str(judged)], "no VERDICT or IDS"),
        ([], "a VERDICT and record ids, or --from FILE"),
    ):
        res = runner.invoke(app, ["judge", *args, "-w", str(path)])
        assert res.exit_code == 1 and message in " ".join(res.output.split()), res.output
        assert "Traceback" not in res.output
    with open_workspace(path, create=False) as ws:
        assert ws.store.rows("SELECT count(*) FROM judgements")[0][0] == 2


def test_a_judgements_file_is_stored_whole_on_either_store(
    workspace: Workspace, small_operation: Path, tmp_path: Path
) -> None:
    from lastmile.resolve.judge import judge_file

    ingest_paths(workspace, [small_operation], rejects=tmp_path / "rejects.csv")
    judged = tmp_path / "judged.csv"
    judged.write_text(
        "\ufeffverdict,record_b,record_a,note\n"
        'same,S-2,S-1,"a note\nover two lines"\n'  # rows 2-3
        "DIFFERENT,S-4,S-3,\n"
        "no,S-1,S-2,\n"  # row 5: rejected, named by the line it is on
        ",S-1,S-4,\n"
        "same,S-1\n"  # row 7: a field short
        "same,S-1,S-4,,extra\n",  # row 8: a field over
        encoding="utf-8",
    )
    done = judge_file(workspace, judged, analyst="tester")
    assert (done.judged, done.skipped) == (2, 1)
    assert [(r.row, r.column) for r in done.rejected] == [
        (5, "verdict"),
        (7, "record_a"),
        (8, "#5"),
    ]
    assert done.rejected[1].reason == "2 fields where the header has 4"
    rows = workspace.store.rows(
        "SELECT verdict, record_a, record_b, analyst FROM judgements ORDER BY verdict"
    )
    assert rows == [("different", "S-3", "S-4", "tester"), ("same", "S-1", "S-2", "tester")]
    # A header that names a column twice: which one holds the verdict is not for us to guess.
    twice = tmp_path / "twice.csv"
    twice.write_text("record_a,record_b,verdict,verdict\nS-1,S-2,,same\n", encoding="utf-8")
    with pytest.raises(ResolveError, match="column verdict more than once"):
        judge_file(workspace, twice)
    assert workspace.store.rows("SELECT count(*) FROM judgements")[0][0] == 2
