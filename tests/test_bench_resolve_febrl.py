"""bench/resolve_febrl.py: a FEBRL set becomes an interchange folder that ingests whole, with a
truth that names every record's person. The rows here are made up in FEBRL's layout (the
real sets are not in the repository)."""

from __future__ import annotations

import csv
from pathlib import Path

from lastmile.ingest import ingest_paths
from lastmile.store import open_workspace
from tests.bench_modules import load_bench

HEADER = (
    "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, "
    "state, date_of_birth, soc_sec_id"
)
ROWS = [
    "rec-1-org, ada, example, 6, sample street, rose farm, testville, 4011, wa, 19081209, 6988048",
    "rec-1-dup-0, ada, exampel, 6, samplestreet, , testville, 4011, wa, 19081332, 6988084",
    "rec-1-dup-1, , example, , sample street, rose farm, testville, 4011, wa, , ",
    "rec-2-org, bo, fictional, 12, made up road, , nowhere, 2600, act, 19600210, 2635962",
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_a_febrl_set_ingests_whole_and_the_truth_names_every_record(tmp_path: Path) -> None:
    bench = load_bench("resolve_febrl")
    source = tmp_path / "febrl"
    source.mkdir()
    (source / "dataset1.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    made = bench.write_folder(source, "1", tmp_path / "out", seed=1)
    assert made == {
        "records": 4,
        "persons": 2,
        "investigations": made["investigations"],
        "dates_not_calendar_dates_left_blank": 1,  # 1908-13-32
    }
    with open_workspace(tmp_path / "ws.duckdb") as ws:
        result = ingest_paths(ws, [tmp_path / "out"], rejects=tmp_path / "rejects.csv")
    assert result.rejected == 0
    subjects = {s["subject_id"]: s for s in _rows(tmp_path / "out" / "subjects.csv")}
    truth = {
        r["record_id"]: r["entity_id"] for r in _rows(tmp_path / "out" / "truth" / "records.csv")
    }
    assert set(subjects) == set(truth)
    assert sorted(truth.values()) == ["FEBRL-1", "FEBRL-1", "FEBRL-1", "FEBRL-2"]
    # One person at most once in a case file, as the resolver reads a case file.
    assert len({(s["investigation_id"], truth[i]) for i, s in subjects.items()}) == 4
    by_name = {s["full_name"]: s for s in subjects.values()}
    ada = by_name["ada example"]
    assert ada["dob"] == "1908-12-09"
    assert ada["identifiers"] == "other:6988048"
    assert ada["addresses"] == "6 sample street, rose farm, testville WA 4011"
    assert by_name["example"]["identifiers"] == "" and by_name["example"]["dob"] == ""
    assert by_name["ada exampel"]["dob"] == ""


def test_febrl_set_4_is_two_agencies_files(tmp_path: Path) -> None:
    """Set 4 links two files: each is one agency's, every person once in each."""
    bench = load_bench("resolve_febrl")
    source = tmp_path / "febrl"
    source.mkdir()
    (source / "dataset4a.csv").write_text("\n".join([HEADER, ROWS[0], ROWS[3]]) + "\n")
    (source / "dataset4b.csv").write_text(
        "\n".join([HEADER, ROWS[1], ROWS[3].replace("rec-2-org", "rec-2-dup-0")]) + "\n"
    )
    bench.write_folder(source, "4", tmp_path / "out", seed=1)
    investigations = {
        r["investigation_id"]: r["agency_id"]
        for r in _rows(tmp_path / "out" / "investigations.csv")
    }
    agencies: dict[str, set[str]] = {}
    for subject in _rows(tmp_path / "out" / "subjects.csv"):
        agencies.setdefault(subject["full_name"], set()).add(
            investigations[subject["investigation_id"]]
        )
    assert agencies == {
        "ada example": {"XA-PD"},
        "ada exampel": {"XB-SO"},
        "bo fictional": {"XA-PD", "XB-SO"},
    }
    assert len(_rows(tmp_path / "out" / "subjects.csv")) == 4
    assert bench.iso_date("19990219") == "1999-02-19"
    assert bench.iso_date("19990230") == bench.iso_date("1999021") == bench.iso_date("") == ""
