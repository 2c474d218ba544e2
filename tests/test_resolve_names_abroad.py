"""Resolution of names of other countries, end to end: what a hostile review of names as
other agencies' lists write them found merged wrongly or missed (docs/resolution.md,
"Names of other countries").

The operation is test_resolve's small one (its crowd trains the model), with pairs added:
relatives or namesakes whose names differ only where a name of their country differs (a
compound given name's second part, the Arabic article, a sex only the given name tells),
living at one address with one date of birth left blank; and one person written in Han
characters or Hangul in one file and in Latin letters in another, or with a compound given
name hyphenated in one and joined in another.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from lastmile.ingest import ingest_paths
from lastmile.resolve.run import resolve
from lastmile.store import open_workspace
from tests.test_resolve import entity, make_operation

# (person, investigation, full name, date of birth, sex, address)
ADDED = [
    # Brothers: a compound given name's second part is what tells them apart.
    ("jean_pierre", "I1", "Jean-Pierre Dupont", "1961-05-02", "", "14 Rue Example, Tucson, AZ"),
    ("jean_paul", "I2", "Jean-Paul Dupont", "", "", "14 Rue Example, Tucson, AZ"),
    ("abdel_rahman", "I1", "Abdel Rahman Hassan", "1970-08-09", "", "7 Example Ave, Denver, CO"),
    ("abdel_aziz", "I3", "Abdel Aziz Hassan", "", "", "7 Example Ave, Denver, CO"),
    # Two men of one given name and birthday: the Arabic article is no surname in common.
    ("al_rashid", "I1", "Ahmed Al-Rashid", "1983-03-03", "", ""),
    ("al_zahrani", "I2", "Ahmed Al-Zahrani", "1983-03-03", "", ""),
    # A brother and sister, her sex not written: her given name says it.
    ("valentin", "I1", "Valentin Sokolov", "1988-11-30", "M", "5 Example Ct, Denver, CO"),
    ("valentina", "I2", "Valentina Sokolova", "", "", "5 Example Ct, Denver, CO"),
    # One man of a given name the data read as a woman's: the same name on both records is
    # no evidence of two sexes.
    ("andrea", "I1", "Andrea Rossi", "1977-07-07", "M", "2 Example Way, Denver, CO"),
    ("andrea", "I2", "Andrea Rossi", "", "", "2 Example Way, Denver, CO"),
    # One woman in Hangul and in a passport's spelling; one in Han characters and Pinyin.
    ("park", "I1", "박지훈", "1992-04-04", "", ""),
    ("park", "I3", "PARK, Jihun", "1992-04-04", "", ""),
    ("wang", "I2", "王秀英", "1979-12-12", "", ""),
    ("wang", "I4", "WANG, Xiuying", "1979-12-12", "", ""),
    # A compound given name hyphenated or spaced on one record, joined on the other.
    ("seoyeon", "I1", "Seo-yeon Choi", "1994-06-06", "", ""),
    ("seoyeon", "I2", "CHOI, SEOYEON", "1994-06-06", "", ""),
    ("abdulrahman", "I3", "Abdul Rahman Nasser", "1968-02-02", "", ""),
    ("abdulrahman", "I4", "Abdulrahman Nasser", "1968-02-02", "", ""),
]
# Others of those given names who state their sex, and how many: what the data at hand reads
# a name by (Andrea: 20 women and the one man above, 95 % women).
NAMED = [("Valentin", "M", 6), ("Valentina", "F", 6), ("Andrea", "F", 20)]


@pytest.fixture(scope="module")
def abroad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, list[str]]]]:
    folder = tmp_path_factory.mktemp("abroad")
    truth = make_operation(folder / "op")
    subjects = folder / "op" / "subjects.csv"
    with subjects.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with subjects.open("a", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        for n, (person, inv, full, dob, sex, address) in enumerate(ADDED):
            sid = f"{inv}-X{n:03d}"
            w.writerow(
                {
                    "subject_id": sid,
                    "investigation_id": inv,
                    "full_name": full,
                    "dob": dob,
                    "sex": sex,
                    "addresses": address,
                }
            )
            truth.setdefault(person, []).append(sid)
        for k, (given, sex) in enumerate((g, x) for g, x, n in NAMED for _ in range(n)):
            w.writerow(
                {
                    "subject_id": f"I4-N{k:03d}",
                    "investigation_id": "I4",
                    # A surname of letters: digits fold away, and every name is another's.
                    "full_name": f"{given} Example{chr(97 + k % 26)}{chr(97 + k // 26)}",
                    "sex": sex,
                }
            )
    path = folder / "ws.duckdb"
    with open_workspace(path) as ws:
        assert ingest_paths(ws, [folder / "op"], rejects=folder / "r.csv").rejected == 0
        resolve(ws)
    yield path, truth


@pytest.mark.parametrize(
    "a, b",
    [
        ("jean_pierre", "jean_paul"),
        ("abdel_rahman", "abdel_aziz"),
        ("al_rashid", "al_zahrani"),
        ("valentin", "valentina"),
    ],
)
def test_relatives_whose_names_differ_as_their_countries_write_them_are_two_people(
    abroad: tuple[Path, dict[str, list[str]]], a: str, b: str
) -> None:
    path, truth = abroad
    with open_workspace(path) as ws:
        assert entity(ws, truth[a][0]) != entity(ws, truth[b][0])


@pytest.mark.parametrize("person", ["park", "wang", "andrea", "seoyeon", "abdulrahman"])
def test_one_person_written_as_other_countries_write_is_one_entity(
    abroad: tuple[Path, dict[str, list[str]]], person: str
) -> None:
    path, truth = abroad
    with open_workspace(path) as ws:
        assert len({entity(ws, r) for r in truth[person]}) == 1
