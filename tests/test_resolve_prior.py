"""The person model's prior is estimated from the records at hand: the pairs agreeing on
full name and date of birth are counted and divided by the share of true pairs that rule
finds, as the trained model implies it (docs/resolution-rounds.md, "The prior, estimated")."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lastmile.resolve import persons
from lastmile.resolve.errors import ResolveError

FIRSTS = [
    "ana", "luis", "maria", "jose", "kevin", "sara", "omar", "irene", "pavel", "nadia",
    "tomas", "lucia", "viktor", "elena", "marco", "yusuf", "hana", "igor", "rosa", "dario",
]  # fmt: skip
SURNAMES = [
    "garcia", "novak", "kowalski", "nguyen", "schmidt", "rossi", "yilmaz", "popescu",
    "silva", "jansen", "horvath", "petrov", "kim", "dubois", "smith", "moreno", "weber",
    "costa", "ivanova", "larsen", "bauer", "lopez", "meyer", "ricci", "santos",
]  # fmt: skip

# Three of its tests resolve several times each: about a minute and a half for the module.
pytestmark = pytest.mark.heavy


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]


def _features(people: int, copies: int, dob_missing: float, seed: int) -> pa.Table:
    """``people`` made-up persons, each written ``copies`` times (one record per case file),
    a surname misspelt on a fifth of the records, a given name on a tenth, a date of birth
    mistyped on a fifth and missing on ``dob_missing`` of them, a sex missing on a fifth and
    miswritten on a twentieth."""
    rng = random.Random(seed)
    cols: dict[str, list[Any]] = {c: [] for c in persons.FEATURE_COLUMNS}
    n = 0
    for p in range(people):
        first, sur = rng.choice(FIRSTS), rng.choice(SURNAMES)
        dob = f"{rng.randint(1950, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for _ in range(copies):
            f, s, d, sex = first, sur, dob, "M" if p % 2 else "F"
            if rng.random() < 0.2:
                s = _typo(s, rng)
            if rng.random() < 0.1:
                f = _typo(f, rng)
            r = rng.random()
            if r < 0.1:
                d = f"{d[:-2]}{int(d[-2:]) % 28 + 1:02d}"
            elif r < 0.15:
                d = f"{int(d[:4]) + 1}{d[4:]}"
            elif r < 0.2:
                d = f"{int(d[:4]) - 7}{d[4:]}"
            if rng.random() < 0.05:
                sex = "F" if sex == "M" else "M"
            row: dict[str, Any] = {
                "record_id": f"R{n:05d}",
                "investigation_id": f"case-{n}",
                "first": f,
                "sur1": s,
                "fullname": f"{f} {s}",
                "given_sur": f"{f} {s}",
                "name_keys": [f"{f} {s}"],
                "first_forms": [f],
                "dob": None if rng.random() < dob_missing else d,
                "sex": None if rng.random() < 0.2 else sex,
            }
            for c in persons.FEATURE_COLUMNS:
                cols[c].append(row.get(c))
            n += 1
    types = {c: pa.list_(pa.string()) if c in persons.LIST_COLUMNS else pa.string() for c in cols}
    return pa.table({c: pa.array(v, types[c]) for c, v in cols.items()})


def _trained(features: pa.Table, prior: str = "estimated") -> tuple[float, dict[str, Any]]:
    training: dict[str, Any] = {}
    model = persons.train(features, training=training, prior=prior)
    return float(model["probability_two_random_records_match"]), training


def test_rule_recall_is_read_from_m_and_the_share_of_records_giving_both_fields() -> None:
    model = persons.settings()
    for comp in model["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("label_for_charts") == "the same full name":
                lv["m_probability"] = 0.8
            if lv.get("label_for_charts") == "the same date of birth":
                lv["m_probability"] = 0.5
    model["probability_two_random_records_match"] = 1e-4
    features = _features(50, 2, 0.0, 1)
    half = features.set_column(
        features.column_names.index("dob"),
        "dob",
        pa.array([d if i % 2 else None for i, d in enumerate(features["dob"].to_pylist())]),
    )
    assert persons.rule_recall(model, features) == pytest.approx(0.4)
    assert persons.rule_recall(model, half) == pytest.approx(0.25 * 0.4)
    stated: dict[str, Any] = {}
    kept = persons.estimate_prior(model, half, stated, "stated")
    assert kept["probability_two_random_records_match"] == 1e-4
    assert stated["rule_recall_used"] == 0.6
    assert stated["prior_estimated"] == pytest.approx(1e-4 * 0.6 / 0.1)
    training: dict[str, Any] = {}
    out = persons.estimate_prior(model, half, training)
    # Splink's count was divided by the stated recall; the estimate divides it by 0.1.
    assert out["probability_two_random_records_match"] == pytest.approx(1e-4 * 0.6 / 0.1)
    assert training["rule_recall_estimated"] == pytest.approx(0.1)
    assert training["rule_recall_used"] == pytest.approx(0.1)


def test_the_prior_follows_the_duplication_not_the_rules_reach() -> None:
    """Two lists of the same people written twice each, one giving a date of birth on
    every record and one on half: the full-name-and-date rule finds about a quarter as
    many pairs in the second, so a prior from the rule at a fixed recall would be about
    four times lower there; estimated, the two priors agree. A list where everyone is
    written three times (three times the true pairs) gets the higher prior."""
    complete, complete_training = _trained(_features(300, 2, 0.0, 7))
    sparse, sparse_training = _trained(_features(300, 2, 0.5, 7))
    counted = complete_training["prior_counted"] / sparse_training["prior_counted"]
    assert counted > 2.5, counted
    assert 0.6 < complete / sparse < 1.6, (complete, sparse)
    assert sparse_training["rule_recall_estimated"] < complete_training["rule_recall_estimated"]
    tripled, _ = _trained(_features(200, 3, 0.5, 7))
    assert tripled > 1.5 * sparse, (tripled, sparse)


def test_the_estimated_prior_is_the_default_and_the_stated_one_records_the_estimate() -> None:
    features = _features(150, 2, 0.5, 3)
    stated, training = _trained(features, prior="stated")
    assert training["mode"] == "stated" and training["rule_recall_used"] == 0.6
    assert stated == pytest.approx(training["prior_counted"])
    assert training["prior_estimated"] > 1.5 * stated
    default: dict[str, Any] = {}
    model = persons.train(features, training=default)
    assert default["mode"] == "estimated"
    assert model["probability_two_random_records_match"] == pytest.approx(
        training["prior_estimated"]
    )
    with pytest.raises(ResolveError, match="unknown prior"):
        persons.train(features, prior="guessed")


def _pair_edges(prior: dict[str, Any]) -> list[tuple[str, str]]:
    """The edges ``_person_edges`` keeps of two pairs scored 0.7 on the same full name:
    one whose records carry no stated ties, one where one record does, under a run whose
    prior is ``prior``."""
    import duckdb

    from lastmile.resolve.run import ResolveResult, _empty_pred, _person_edges
    from tests.test_resolve_recall import _model

    model = _model()
    same_name = max(g for g in persons.level_labels(model)["name"])
    rows = []
    for a, b in (("a1", "a2"), ("b1", "b2")):
        row: dict[str, Any] = {c: -1 for c in _empty_pred().column_names if c[:6] == "gamma_"}
        row |= {c: 0.0 for c in _empty_pred().column_names if c[:3] == "mw_"}
        row |= {
            "record_id_l": a,
            "record_id_r": b,
            "match_weight": 1.2,
            "match_probability": 0.7,
            "gamma_name": same_name,
        }
        rows.append(row)
    pred = pa.Table.from_pylist(rows, schema=_empty_pred().schema)
    con = duckdb.connect()
    con.execute("CREATE TABLE judged (a VARCHAR, b VARCHAR, verdict VARCHAR)")
    con.execute("CREATE TABLE src_subjects (record_id VARCHAR)")
    con.execute(
        "CREATE TABLE person_features AS SELECT * FROM (VALUES ('a1', NULL), ('a2', NULL), "
        "('b1', ['org:riverside crew']), ('b2', NULL)) t(record_id, tie_keys)"
    )
    result = ResolveResult(run_id="t", engine="duckdb", trained=True, threshold=0.5)
    result.prior = prior
    _person_edges(con, pred, model, result)
    return con.execute("SELECT a, b FROM person_edges ORDER BY a").fetchall()


def test_with_the_prior_estimated_records_with_ties_on_both_sides_need_the_tied_threshold() -> None:
    """A wrong merge of two records that both carry stated ties joins two groups of the
    network analysis: with the prior estimated such a pair needs cluster.TIED_THRESHOLD
    (0.8); a pair without ties is merged at 0.5. With the stated prior both are merged at
    0.5 (its margin is in the probability already)."""
    estimate = {"rule_recall_estimated": 0.15, "prior_estimated": 4e-4}
    estimated = {"mode": "estimated", "rule_recall_used": 0.15, **estimate}
    assert _pair_edges(estimated) == [("a1", "a2")]
    stated = {"mode": "stated", "rule_recall_used": 0.6, **estimate}
    assert _pair_edges(stated) == [("a1", "a2"), ("b1", "b2")]
    # A training pass skipped: the stated recall was used, and so is 0.5.
    skipped = {"mode": "estimated", "rule_recall_used": 0.6}
    assert _pair_edges(skipped) == [("a1", "a2"), ("b1", "b2")]


def test_resolve_records_the_prior_and_takes_the_stated_one_on_request(tmp_path: Path) -> None:
    """`lastmile resolve` records the prior's estimate with the run (counts_json), with the
    estimated prior by default and the stated one under `--prior stated`; a model saved
    with `--save-model` keeps it, and `--model` applies it."""
    from typer.testing import CliRunner

    from lastmile.cli import app
    from lastmile.ingest import ingest_paths
    from lastmile.store import open_workspace
    from tests.test_resolve import make_operation

    make_operation(tmp_path / "op")
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        assert ingest_paths(ws, [tmp_path / "op"], rejects=tmp_path / "r.csv").rejected == 0
    runner = CliRunner()
    for args, mode in (([], "estimated"), (["--prior", "stated"], "stated")):
        res = runner.invoke(app, ["resolve", *args, "--format", "json", "-w", str(path)])
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["prior"]["mode"] == mode
        with open_workspace(path) as ws:
            rows = ws.store.rows(
                "SELECT counts_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1"
            )
        assert json.loads(str(rows[0][0]))["prior"]["mode"] == mode
    res = runner.invoke(app, ["resolve", "--prior", "guessed", "-w", str(path)])
    assert res.exit_code != 0
    # A saved model carries its prior's estimate, and is applied with it.
    saved = tmp_path / "model.json"
    res = runner.invoke(app, ["resolve", "--save-model", str(saved), "-w", str(path)])
    assert res.exit_code == 0, res.output
    assert json.loads(saved.read_text())[persons.SAVED_PRIOR]["mode"] == "estimated"
    res = runner.invoke(app, ["resolve", "--model", str(saved), "-f", "json", "-w", str(path)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["prior"]["mode"] == "estimated"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**json.loads(saved.read_text()), persons.SAVED_PRIOR: "x"}))
    res = runner.invoke(app, ["resolve", "--model", str(broken), "-w", str(path)])
    assert res.exit_code != 0 and "is not a JSON object" in res.output
    # An edited model is refused in one line, before anything is computed with it.
    good = json.loads(saved.read_text())

    def level(m: object) -> dict[str, object]:
        model = json.loads(json.dumps(good))
        model["comparisons"][0]["comparison_levels"][1]["m_probability"] = m
        return model

    for edited, why in (
        (level("x"), "m_probability 'x' is not a probability"),
        (level(1.5), "m_probability 1.5 is not a probability"),
        ({**good, "comparisons": []}, "no comparison 'name'"),
        ({**good, "probability_two_random_records_match": 1.5}, "not a number in (0, 1)"),
    ):
        broken.write_text(json.dumps(edited))
        res = runner.invoke(app, ["resolve", "--model", str(broken), "-w", str(path)])
        assert res.exit_code == 1 and why in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_explain_states_the_threshold_the_run_applies_to_the_pair(tmp_path: Path) -> None:
    """explain says at what probability the run would merge the pair, by the run's own rule
    (run.threshold_sql): 0.8 when either record carries a stated tie, 0.5 when neither does,
    and 0.5 for both under the stated prior."""
    from lastmile.ingest import ingest_paths
    from lastmile.resolve.judge import explain_pair
    from lastmile.resolve.run import resolve
    from lastmile.store import open_workspace
    from tests.test_resolve import _write, make_operation

    truth = make_operation(tmp_path / "op")
    member = truth["chuy"][0]  # a record of case file I1
    _write(
        tmp_path / "op",
        "relationships",
        ["relationship_id", "investigation_id", "kind", "from_id", "to_id"],
        [
            {
                "relationship_id": "R1",
                "investigation_id": "I1",
                "kind": "member_of",
                "from_id": member,
                "to_id": "O1",
            }
        ],
    )
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        assert ingest_paths(ws, [tmp_path / "op"], rejects=tmp_path / "r.csv").rejected == 0
        for prior, tied_at in (("estimated", "0.8"), ("stated", "0.5")):
            resolve(ws, prior=prior)
            tied = explain_pair(ws, member, truth["p2"][0]).text()
            untied = explain_pair(ws, truth["p3"][0], truth["p2"][0]).text()
            assert f"(merged at {tied_at} or more" in tied
            assert ("carries stated ties" in tied) == (prior == "estimated")
            assert "(merged at 0.5 or more)" in untied
