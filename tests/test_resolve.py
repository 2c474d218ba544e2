"""Entity resolution through its public interfaces: resolve, export, explain, judge, conflicts.

The operation is small and written here: a crowd of ordinary people, some seen by several
agencies, and the hard cases the issue names (a Jr. and his father, a business line on 60
records, an identifier on two different people, a family phone, cartel aliases).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.ingest import ingest_paths
from lastmile.resolve import ResolveError
from lastmile.resolve.conflicts import BASES
from lastmile.resolve.judge import explain_entity, explain_pair, judge_pair, split_entity
from lastmile.resolve.run import resolve
from lastmile.store import Workspace, open_workspace

FIRST = ["James", "Maria", "Luis", "Ana", "Kevin", "Rosa", "Tyrone", "Carlos", "Linda", "Omar"]
LAST = ["Smith", "Ochoa", "Brown", "Reyes", "Nguyen", "Castro", "Patel", "Moore", "Diaz", "Kim"]
INVESTIGATIONS = [
    ("I1", "A1", "Rocky Mountain", "CO", "Denver"),
    ("I2", "A2", "Phoenix", "AZ", "Phoenix"),
    ("I3", "A3", "Chicago", "IL", "Chicago"),
    ("I4", "A1", "Phoenix", "AZ", "Tucson"),
]


def _write(folder: Path, name: str, header: list[str], rows: list[dict[str, str]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        w.writerows(rows)


def write_agencies(folder: Path) -> None:
    """``agencies.csv`` of three local agencies, A1 to A3."""
    _write(
        folder,
        "agencies",
        ["agency_id", "name", "kind"],
        [{"agency_id": f"A{i}", "name": f"Agency {i}", "kind": "local"} for i in (1, 2, 3)],
    )


def write_investigations(
    folder: Path, investigations: list[tuple[str, str, str, str, str]]
) -> None:
    """``investigations.csv`` of ``(id, agency, division, state, city)`` rows, all opened on
    one day."""
    _write(
        folder,
        "investigations",
        ["investigation_id", "agency_id", "division", "state", "city", "opened"],
        [
            {
                "investigation_id": i,
                "agency_id": a,
                "division": d,
                "state": s,
                "city": c,
                "opened": "2022-06-01",
            }
            for i, a, d, s, c in investigations
        ],
    )


def make_operation(folder: Path, *, generation_chain: bool = True) -> dict[str, list[str]]:
    """Write the operation; returns the subject records of each true person.
    ``generation_chain=False`` leaves out the record between a Jr. and his father."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "agencies",
        ["agency_id", "name", "kind", "poc_name", "poc_phone", "poc_email"],
        [
            {
                "agency_id": f"A{i}",
                "name": f"Agency {i}",
                "kind": "local",
                "poc_name": f"Det. Example {i}",
                "poc_phone": f"303-555-01{i:02d}",
                "poc_email": f"poc{i}@example.gov",
            }
            for i in (1, 2, 3)
        ],
    )
    write_investigations(folder, INVESTIGATIONS)
    subjects: list[dict[str, str]] = []
    selectors: list[dict[str, str]] = []
    truth: dict[str, list[str]] = {}

    def subject(person: str, inv: str, full: str, dob: str = "", **extra: str) -> str:
        sid = f"{inv}-S{len(subjects):03d}"
        subjects.append(
            {"subject_id": sid, "investigation_id": inv, "full_name": full, "dob": dob, **extra}
        )
        truth.setdefault(person, []).append(sid)
        return sid

    def phone(inv: str, sid: str, value: str) -> None:
        selectors.append(
            {
                "selector_id": f"{inv}-P{len(selectors):03d}",
                "investigation_id": inv,
                "subject_id": sid,
                "kind": "phone",
                "value": value,
            }
        )

    # The crowd: 100 people, half of them seen by two or three investigations, written the
    # ways agencies write names.
    for n in range(100):
        first, last = FIRST[n % 10], LAST[n // 10]
        dob = f"19{60 + n % 40}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        number = f"(602) 555-{1000 + n:04d}"
        invs = rng.sample(["I1", "I2", "I3", "I4"], k=1 + (n % 2) + (n % 5 == 0))
        for k, inv in enumerate(invs):
            full = [
                f"{first} {last}",
                f"{last.upper()}, {first}",
                f"{first.upper()} {last.upper()}",
            ][k]
            sid = subject(
                f"p{n}",
                inv,
                full,
                dob if k != 1 or n % 3 else "",
                addresses=f"{100 + n} Example St, Phoenix, AZ" if n % 4 else "",
            )
            if k == 0 or n % 2:
                phone(inv, sid, number)
    # Jesús Guzmán López, written three ways.
    a = subject("chuy", "I1", "Jesús Guzmán López", "1980-02-03", monikers="Chuy")
    phone("I1", a, "+1 480 555 0111")
    b = subject("chuy", "I3", "GUZMAN, Jesus", "1980-02-03", monikers="CHUY")
    phone("I3", b, "480.555.0111")
    c = subject("chuy", "I2", "Jesus Guzman Lopez", "1980-03-02")
    phone("I2", c, "4805550111")
    # People of other countries: a Polish name with letters that have no accent to strip
    # (ł, ó), and a Russian name in Cyrillic in one file and in Latin letters in another.
    subject("lukasz", "I1", "Łukasz Wróbel", "1985-03-14", sex="M")
    subject("lukasz", "I2", "LUKASZ WROBEL", "1985-03-14", sex="M")
    subject("vsevolod", "I3", "Всеволод Сорокин", "1979-10-21", sex="M")
    subject("vsevolod", "I4", "Vsevolod Sorokin", "1979-10-21", sex="M")
    # A Jr. and his father: same phone, same address, never one person.
    jr = subject("jr", "I1", "Robert Vale Jr.", "2001-04-05", addresses="9 Elm St, Denver, CO")
    sr = subject("sr", "I2", "Robert Vale Sr.", "1975-04-05", addresses="9 Elm St, Denver, CO")
    phone("I1", jr, "720-555-0133")
    phone("I2", sr, "720-555-0133")
    # ... and a record of the family's that states no generation, between them: "Robert
    # Vale" at the same address on the same phone joins either, never both.
    if generation_chain:
        vale = subject("vale", "I3", "Robert Vale", addresses="9 Elm St, Denver, CO")
        phone("I3", vale, "720-555-0133")
    # A family phone: two sisters, one phone, two agencies.
    s1 = subject("ana_ruiz", "I1", "Ana Ruiz", "1990-01-01")
    s2 = subject("carmen_ruiz", "I3", "Carmen Ruiz", "1994-07-09")
    phone("I1", s1, "312-555-0177")
    phone("I3", s2, "312-555-0177")
    # A business line on 60 records of 60 different people.
    for n in range(60):
        # ... each written with one junk SSN, as a form's example value
        sid = subject(
            f"biz{n}", "I4", f"{FIRST[n % 10]}o Bizname{n}", identifiers="ssn:111-22-3333"
        )
        phone("I4", sid, "303-555-0100")
    # Nameless records, known only by a moniker and a phone: one on a phone that only p4
    # uses (they are p4), one on the sisters' family phone (nobody can say which sister).
    nameless = subject("p4", "I2", "", monikers="Flaco")
    phone("I2", nameless, "602.555.1004")
    family = subject("nameless_family", "I3", "", monikers="Flaca")
    phone("I3", family, "312-555-0177")
    # Dates of birth that say nothing: the filler 1900-01-01, before 1900, in the future.
    # Two people of one name and such a date are two people for all the records know.
    for n, (dob, name) in enumerate(
        (
            ("1900-01-01", "Hector Salgado"),
            ("1850-05-05", "Rufino Tellez"),
            ("2099-01-01", "Ines Varela"),
        )
    ):
        for inv in ("I1", "I2"):
            subject(f"filler{n}{inv}", inv, name, dob)
    # One SSN on two clearly different people, and a malformed one kept.
    subject("lopez", "I1", "Maria Lopez", "1990-05-05", identifiers="ssn:123-45-6789")
    subject("chang", "I2", "Peter Chang", "1960-11-11", identifiers="ssn:123456789")
    subject("bad_id", "I3", "Nobody Special", "1970-01-01", identifiers="ssn:000-00-0000")
    header = [
        "subject_id",
        "investigation_id",
        "full_name",
        "dob",
        "addresses",
        "monikers",
        "identifiers",
        "sex",
    ]
    _write(folder, "subjects", header, subjects)
    _write(
        folder,
        "selectors",
        ["selector_id", "investigation_id", "subject_id", "kind", "value"],
        selectors,
    )
    _write(
        folder,
        "communications",
        ["investigation_id", "time", "from_selector", "to_selector", "kind"],
        [
            {
                "investigation_id": "I1",
                "time": "2022-07-01T10:00:00Z",
                "from_selector": "312-555-0177",
                "to_selector": "+14805550111",
                "kind": "call",
            },
            {
                "investigation_id": "I1",
                "time": "2022-07-01T11:00:00Z",
                "from_selector": "312-555-0177",
                "to_selector": "720-555-0133",
                "kind": "text",
            },
        ],
    )
    _write(
        folder,
        "organizations",
        ["organization_id", "investigation_id", "name", "kind", "aliases"],
        [
            {"organization_id": "O1", "investigation_id": "I1", "name": "CJNG", "kind": "cartel"},
            {
                "organization_id": "O2",
                "investigation_id": "I2",
                "name": "Cártel de Jalisco Nueva Generación",
                "kind": "cartel",
            },
            {
                "organization_id": "O3",
                "investigation_id": "I3",
                "name": "Jalisco New Generation Cartel",
                "kind": "cartel",
            },
            {
                "organization_id": "O4",
                "investigation_id": "I3",
                "name": "Sinaloa Cartel",
                "kind": "cartel",
            },
            # Synonyms written with dots, with the word cartel, in Spanish.
            {
                "organization_id": "O5",
                "investigation_id": "I4",
                "name": "C.J.N.G.",
                "kind": "cartel",
            },
            {
                "organization_id": "O6",
                "investigation_id": "I2",
                "name": "CJNG Cartel",
                "kind": "cartel",
            },
            {
                "organization_id": "O7",
                "investigation_id": "I1",
                "name": "Cártel del Golfo",
                "kind": "cartel",
            },
            {
                "organization_id": "O8",
                "investigation_id": "I2",
                "name": "Gulf Cartel",
                "kind": "cartel",
            },
        ],
    )
    return truth


@pytest.fixture(scope="module")
def resolved(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, list[str]]]]:
    folder = tmp_path_factory.mktemp("op")
    truth = make_operation(folder / "op")
    path = folder / "ws.duckdb"
    with open_workspace(path) as ws:
        result = ingest_paths(ws, [folder / "op"], rejects=folder / "rejects.csv")
        assert result.rejected == 0
        resolve(ws)
    yield path, truth


def _own_copy(
    resolved: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> tuple[Path, dict[str, list[str]]]:
    """A copy of the module's resolved workspace, for a test that writes to it."""
    path = tmp_path / "ws.duckdb"
    path.write_bytes(resolved[0].read_bytes())
    return path, resolved[1]


def entity(ws: Workspace, record_id: str) -> str:
    rows = ws.store.rows("SELECT entity_id FROM entity_members WHERE record_id = ?", (record_id,))
    assert len(rows) == 1, record_id
    return str(rows[0][0])


def test_every_record_is_in_exactly_one_entity(resolved: tuple[Path, dict[str, list[str]]]) -> None:
    path, _ = resolved
    with open_workspace(path) as ws:
        counts = ws.store.rows(
            "SELECT (SELECT count(*) FROM subjects) + (SELECT count(*) FROM selectors) + "
            "(SELECT count(*) FROM organizations), count(*), count(DISTINCT record_id) "
            "FROM entity_members"
        )[0]
    assert counts[0] == counts[1] == counts[2]


def test_people_written_differently_are_one_person(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    path, truth = resolved
    with open_workspace(path) as ws:
        assert len({entity(ws, r) for r in truth["chuy"]}) == 1
        # Names in other alphabets are transliterated, not dropped (names.fold).
        assert len({entity(ws, r) for r in truth["lukasz"]}) == 1
        assert len({entity(ws, r) for r in truth["vsevolod"]}) == 1
        merged = sum(len({entity(ws, r) for r in truth[f"p{n}"]}) == 1 for n in range(100))
    assert merged >= 90


def test_an_entity_is_shown_by_its_fullest_written_name(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    """Of "Jesús Guzmán López", "GUZMAN, Jesus" and "Jesus Guzman Lopez", two records share
    the spelling of the first, and it keeps its accents and natural order."""
    path, truth = resolved
    with open_workspace(path) as ws:

        def best(person: str) -> str:
            rows = ws.store.rows(
                "SELECT best_name FROM entities WHERE entity_id = ?",
                (entity(ws, truth[person][0]),),
            )
            return str(rows[0][0])

        assert best("chuy") == "Jesús Guzmán López"
        assert best("vsevolod") == "Vsevolod Sorokin"


def test_the_best_name_prefers_the_fullest_writing_over_the_most_frequent(
    tmp_path: Path,
) -> None:
    """Within one spelling, natural order beats "FAMILY, Given", mixed case beats capitals
    and lower case, accents beat none, each even against more records."""
    folder = tmp_path / "op"
    folder.mkdir()
    write_agencies(folder)
    write_investigations(folder, INVESTIGATIONS)
    people = {
        # the comma form would win on byte order, the capitals on frequency
        "dolores": (
            [
                "IBARRA NÚÑEZ, Dolores",
                "DOLORES IBARRA NÚÑEZ",
                "DOLORES IBARRA NÚÑEZ",
                "Dolores Ibarra Núñez",
            ],
            "Dolores Ibarra Núñez",
        ),
        # the unaccented writing would win on frequency
        "ramon": (["Ramon Avila Soto", "Ramón Ávila Soto", "Ramon Avila Soto"], "Ramón Ávila Soto"),
        # all lower case is not mixed case
        "teodoro": (["teodoro quiroga", "teodoro quiroga", "Teodoro Quiroga"], "Teodoro Quiroga"),
    }
    subjects, selectors = [], []
    for n, (person, (writings, _)) in enumerate(people.items()):
        for k, full in enumerate(writings):
            inv = INVESTIGATIONS[k][0]
            sid = f"{inv}-{person}"
            subjects.append(
                {
                    "subject_id": sid,
                    "investigation_id": inv,
                    "full_name": full,
                    "dob": "1970-03-0" + str(n + 1),
                }
            )
            selectors.append(
                {
                    "selector_id": f"{sid}-P",
                    "investigation_id": inv,
                    "subject_id": sid,
                    "kind": "phone",
                    "value": f"(602) 555-017{n}",
                }
            )
    _write(folder, "subjects", ["subject_id", "investigation_id", "full_name", "dob"], subjects)
    _write(
        folder,
        "selectors",
        ["selector_id", "investigation_id", "subject_id", "kind", "value"],
        selectors,
    )
    with open_workspace(tmp_path / "ws.duckdb") as ws:
        assert ingest_paths(ws, [folder], rejects=tmp_path / "rejects.csv").rejected == 0
        resolve(ws)
        for person, (_, best) in people.items():
            ids = {
                entity(ws, f"{inv}-{person}")
                for inv, *_ in INVESTIGATIONS[: len(people[person][0])]
            }
            assert len(ids) == 1, person
            rows = ws.store.rows("SELECT best_name FROM entities WHERE entity_id = ?", (ids.pop(),))
            assert rows == [(best,)], person


def test_shared_things_never_merge_different_people(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    path, truth = resolved
    with open_workspace(path) as ws:
        assert entity(ws, truth["jr"][0]) != entity(ws, truth["sr"][0])
        assert entity(ws, truth["ana_ruiz"][0]) != entity(ws, truth["carmen_ruiz"][0])
        assert entity(ws, truth["lopez"][0]) != entity(ws, truth["chang"][0])
        business = {entity(ws, truth[f"biz{n}"][0]) for n in range(60)}
        assert len(business) == 60
        # The phone itself is one selector entity.
        phones = ws.store.rows(
            "SELECT count(DISTINCT m.entity_id) FROM selectors s JOIN entity_members m "
            "ON m.record_id = s.selector_id WHERE s.value = '303-555-0100'"
        )
        assert phones == [(1,)]


def test_a_nameless_record_joins_the_one_person_its_phone_points_to(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    path, truth = resolved
    with open_workspace(path) as ws:
        p4 = {entity(ws, r) for r in truth["p4"]}
        assert len(p4) == 1
        # A family phone points to two people: the nameless record stays on its own.
        (family,) = truth["nameless_family"]
        sisters = {entity(ws, truth["ana_ruiz"][0]), entity(ws, truth["carmen_ruiz"][0])}
        assert entity(ws, family) not in sisters
        evidence = ws.store.rows(
            "SELECT evidence FROM match_edges WHERE ? IN (record_a, record_b)", (truth["p4"][-1],)
        )
    assert any("nameless" in str(e) for (e,) in evidence)


def test_cartel_aliases_are_one_organization(resolved: tuple[Path, dict[str, list[str]]]) -> None:
    path, _ = resolved
    with open_workspace(path) as ws:
        assert entity(ws, "O1") == entity(ws, "O2") == entity(ws, "O3") != entity(ws, "O4")
        assert entity(ws, "O1") == entity(ws, "O5") == entity(ws, "O6")
        assert entity(ws, "O7") == entity(ws, "O8") not in (entity(ws, "O1"), entity(ws, "O4"))


def test_a_jr_and_a_sr_stay_apart_through_a_record_of_neither(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    """The veto kept the pair Jr.-Sr. apart, but "Robert Vale" linked to each joined them in
    one entity: the clustering keeps two generations apart as it keeps a judged pair."""
    path, truth = resolved
    with open_workspace(path) as ws:
        jr, sr = entity(ws, truth["jr"][0]), entity(ws, truth["sr"][0])
        assert jr != sr
        linked = ws.store.rows(
            "SELECT record_a, record_b FROM match_edges WHERE ? IN (record_a, record_b)",
            (truth["vale"][0],),
        )
    assert linked, "the record of neither generation links to neither: nothing is tested"


def test_an_analysts_same_wins_over_two_generations(
    resolved: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    """A clerk's "Sr." on a Jr.'s record: the analyst who judged them one man is obeyed."""
    path, truth = _own_copy(resolved, tmp_path)
    jr, sr = truth["jr"][0], truth["sr"][0]
    with open_workspace(path) as ws:
        judge_pair(ws, "same", jr, sr, analyst="tester")
        resolve(ws)
        assert entity(ws, jr) == entity(ws, sr)


def test_an_identifier_two_people_hold_is_flagged_and_merges_nothing(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    """Maria Lopez and Peter Chang hold one SSN: another name, another date of birth, a score
    near 0, so the pair never reached the prediction and was never flagged."""
    path, truth = resolved
    lopez, chang = truth["lopez"][0], truth["chang"][0]
    with open_workspace(path) as ws:
        assert entity(ws, lopez) != entity(ws, chang)
        (counts,) = ws.store.rows("SELECT counts_json FROM resolution_runs")[0]
    flagged = {(a, b) for a, b, _ in json.loads(counts)["identifier_conflicts"]}
    assert (min(lopez, chang), max(lopez, chang)) in flagged
    # explain says so of either entity, after the run that printed it.
    with open_workspace(path) as ws:
        text = explain_entity(ws, entity(ws, chang)).text()
    assert f"identifier conflict: {chang} shares an identifier" in text and lopez in text
    # One SSN on 60 people is a junk value: not 1,770 conflicts.
    business = {truth[f"biz{n}"][0] for n in range(60)}
    assert not {r for pair in flagged for r in pair} & business


def test_a_date_of_birth_that_says_nothing_merges_nobody(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    path, truth = resolved
    with open_workspace(path) as ws:
        for n in range(3):
            assert entity(ws, truth[f"filler{n}I1"][0]) != entity(ws, truth[f"filler{n}I2"][0])


def test_malformed_identifiers_are_kept_and_flagged(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    path, truth = resolved
    with open_workspace(path) as ws:
        rows = ws.store.rows(
            "SELECT raw, valid, reason FROM subject_identifiers WHERE subject_id = ?",
            (truth["bad_id"][0],),
        )
    assert rows and rows[0][0] == "ssn:000-00-0000" and rows[0][1] is False and rows[0][2]


def test_ids_are_stable_and_judgements_win_over_the_model(
    resolved: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    path, truth = _own_copy(resolved, tmp_path)
    with open_workspace(path) as ws:
        before = ws.store.rows("SELECT record_id, entity_id FROM entity_members ORDER BY 1")
        resolve(ws)
        assert ws.store.rows("SELECT record_id, entity_id FROM entity_members ORDER BY 1") == before
        chuy = truth["chuy"]
        old_id = entity(ws, chuy[0])
        # Split the oldest record's entity: the part holding the oldest record keeps the id.
        split_entity(ws, old_id, [chuy[2]], analyst="tester")
        judge_pair(ws, "same", truth["p1"][0], truth["p2"][0], analyst="tester")
        resolve(ws)
        assert entity(ws, chuy[0]) == entity(ws, chuy[1]) == old_id
        assert entity(ws, chuy[2]) != old_id
        assert entity(ws, truth["p1"][0]) == entity(ws, truth["p2"][0])
        who = ws.store.rows("SELECT DISTINCT analyst FROM judgements")
        assert who == [("tester",)]
        # A split's judgements name the entity they split; a pair's name none.
        split_from = ws.store.rows(
            "SELECT DISTINCT verdict, entity_id, note FROM judgements ORDER BY verdict"
        )
        assert split_from == [("different", old_id, "split"), ("same", None, "")]
        text = explain_pair(ws, truth["p1"][0], truth["p2"][0]).text()
        assert "judged same by tester" in text
        with pytest.raises(ResolveError, match="no subject"):
            judge_pair(ws, "same", "NOPE", truth["p1"][0])
        with pytest.raises(ResolveError, match="twice"):
            explain_pair(ws, truth["p1"][0], truth["p1"][0])


def test_conflicts_name_only_the_other_side(resolved: tuple[Path, dict[str, list[str]]]) -> None:
    path, truth = resolved
    runner = CliRunner()
    out = runner.invoke(app, ["conflicts", "--agency", "A1", "--format", "csv", "-w", str(path)])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0].startswith('"agency_id","division","target_id"')
    assert "Det. Example" in out.output and "I2" not in out.output
    # How each conflict was found: a word of BASES, which names no case of the other side.
    rows = list(csv.DictReader(lines))
    assert rows and {r["basis"] for r in rows} <= set(BASES)
    # The target is named as the agency's own records write him, not by the best name that
    # another agency's record gave his entity ("Jesús Guzmán López" is A1's writing).
    with open_workspace(path) as ws:
        chuy = entity(ws, truth["chuy"][0])
    for agency, own in (("A2", "Jesus Guzman Lopez"), ("A3", "GUZMAN, Jesus")):
        listed = runner.invoke(
            app, ["conflicts", "--agency", agency, "-f", "json", "-w", str(path)]
        )
        names = {r["target_name"] for r in json.loads(listed.output) if r["target_id"] == chuy}
        assert names == {own}, (agency, names)
    # Two divisions of one agency are two sides: A1's Phoenix division (I4) is not shown the
    # name its Rocky Mountain division (I1) wrote, and the other way round.
    listed = runner.invoke(app, ["conflicts", "--agency", "A1", "-f", "json", "-w", str(path)])
    rows = [r for r in json.loads(listed.output) if r["other_agency_id"] == "A1"]
    assert rows
    with open_workspace(path) as ws:
        for r in rows:
            own = ws.store.rows(
                "SELECT s.full_name FROM entity_members m JOIN subjects s "
                "ON s.subject_id = m.record_id JOIN investigations i USING (investigation_id) "
                "WHERE m.entity_id = ? AND i.agency_id = 'A1' AND i.division = ?",
                (r["target_id"], r["division"]),
            )
            assert r["target_name"] in {n for (n,) in own}, r
    table = runner.invoke(
        app, ["conflicts", "-w", str(path), "-f", "table"], env={"COLUMNS": "250"}
    )
    assert table.exit_code == 0 and "subject record" in table.output, table.output
    assert "basis" in table.output
    with open_workspace(path) as ws:
        targets = {str(r[0]) for r in ws.store.rows("SELECT target_id FROM conflicts")}
        # Jesús is worked by A1, A2 and A3; the sisters' shared phone raises nothing.
        assert entity(ws, truth["chuy"][0]) in targets
        assert entity(ws, truth["ana_ruiz"][0]) not in targets
        assert entity(ws, truth["carmen_ruiz"][0]) not in targets


def test_conflicts_before_any_resolution_say_so(tmp_path: Path) -> None:
    """An empty list would read as "no conflicts", which no resolution has established."""
    make_operation(tmp_path / "op")
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        ingest_paths(ws, [tmp_path / "op"], rejects=tmp_path / "r.csv")
    out = CliRunner().invoke(app, ["conflicts", "-w", str(path)])
    assert out.exit_code == 1 and "run 'lastmile resolve' first" in out.output, out.output


def test_cli_export_and_explain(
    resolved: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    path, truth = resolved
    runner = CliRunner()
    out_csv = tmp_path / "m.csv"
    res = runner.invoke(app, ["export", "memberships", "--out", str(out_csv), "-w", str(path)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out_csv.open()))
    assert set(rows[0]) == {"record_id", "entity_id", "score"}
    a, b = truth["chuy"][:2]
    res = runner.invoke(app, ["explain", a, b, "-w", str(path)])
    assert res.exit_code == 0 and "one entity" in res.output and "name:" in res.output
    res = runner.invoke(app, ["explain", "NO-SUCH-ENTITY", "-w", str(path)])
    assert res.exit_code == 1 and "no entity or record 'NO-SUCH-ENTITY'" in res.output
    # One record id: the entity it is in, explained.
    res = runner.invoke(app, ["explain", a, "-w", str(path)])
    assert res.exit_code == 0, res.output
    entity = next(r["entity_id"] for r in rows if r["record_id"] == a)
    assert res.output.startswith(f"record {a} is in {entity} (person)"), res.output
    assert b in res.output and "probability" in res.output


def test_an_explanation_adds_up_to_its_match_weight(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    """Splink's waterfall in words: the prior, each field's weight and the adjustment for
    how common a name is add up to the match weight shown (to the rounding of each part)."""
    import re

    path, _ = resolved
    with open_workspace(path) as ws:
        edges = ws.store.rows(
            "SELECT record_a, record_b, match_weight FROM match_edges "
            "WHERE match_weight IS NOT NULL AND evidence NOT LIKE 'their entities%'"
        )
        assert len(edges) > 50
        adjusted = 0
        for a, b, weight in edges:
            lines = explain_pair(ws, a, b).lines
            parts = [line for line in lines if line.startswith("- ")]
            assert parts[0].startswith("- the prior (")
            # "(+10.3, -3.6 as this value is common here)": a weight opens a parenthesis
            # or follows a comma
            numbers = [float(x) for x in re.findall(r"(?:\(|, )([+-]\d+\.\d)", " ".join(parts))]
            adjusted += sum("common here" in p or "rare here" in p for p in parts)
            assert abs(sum(numbers) - weight) <= 0.05 * len(numbers) + 1e-9, (lines, weight)
    assert adjusted > 0


def test_report_counts_people_and_joint_records_once(tmp_path: Path) -> None:
    """Two agencies arrest one man a day apart and report one seizure: counted once."""
    folder = tmp_path / "op"
    chuy = make_operation(folder)["chuy"]
    with (folder / "arrests.csv").open("w", encoding="utf-8") as f:
        f.write("arrest_id,investigation_id,subject_id,date,city,state\n")
        f.write(f"AR1,I1,{chuy[0]},2022-07-01,Denver,CO\nAR2,I3,{chuy[1]},2022-07-02,Denver,CO\n")
    with (folder / "drug_seizures.csv").open("w", encoding="utf-8") as f:
        f.write("seizure_id,investigation_id,date,city,state,drug,form,quantity,unit\n")
        f.write("D1,I1,2022-07-01,Denver,CO,fentanyl,pill,10000,count\n")
        f.write("D2,I2,2022-07-01,DENVER,CO,fentanyl,pill,10050,count\n")
        f.write("D3,I2,2022-07-01,Denver,CO,fentanyl,pill,20000,count\n")
    from lastmile.report.compute import compute_report

    with open_workspace(tmp_path / "ws.duckdb") as ws:
        ingest_paths(ws, [folder], rejects=tmp_path / "rejects.csv")
        before = compute_report(ws)
        assert before["distinct_persons_arrested"] is None
        resolve(ws)
        report = compute_report(ws)
    assert report["arrests"] == 2 and report["distinct_persons_arrested"] == 1
    assert report["joint_records"] == {"arrests": 1, "drug_seizures": 1}
    assert report["seizures"]["fentanyl_pills"] == 40050
    assert report["seizures_deduplicated"]["fentanyl_pills"] == 30000


def test_contacts_show_each_selectors_owner(resolved: tuple[Path, dict[str, list[str]]]) -> None:
    path, truth = resolved
    from lastmile.comms import contacts

    with open_workspace(path) as ws:
        table = contacts(ws, "312-555-0177")
        rows = {r["contact"]: r for r in table.to_pylist()}
        chuy = entity(ws, truth["chuy"][0])
    assert rows["+14805550111"]["contact_owner_id"] == chuy
    assert "guzm" in rows["+14805550111"]["contact_owner"].lower()
    # The Vales' phone is used by a father and his son: no single owner.
    assert rows["+17205550133"]["contact_owner_id"] is None


def test_resolve_writes_on_both_stores(workspace: Workspace, tmp_path: Path) -> None:
    """The small operation on DuckDB and PostgreSQL: every record in one entity, the cartel's
    aliases one organization, and a rerun keeps the ids."""
    small = Path(__file__).parent / "fixtures" / "small_operation"
    ingest_paths(workspace, [small], rejects=tmp_path / "rejects.csv")
    result = resolve(workspace)
    assert result.records["subjects"] == 5
    members = workspace.store.rows(
        "SELECT record_type, record_id, entity_id FROM entity_members ORDER BY 1, 2"
    )
    total = workspace.store.rows(
        "SELECT (SELECT count(*) FROM subjects) + (SELECT count(*) FROM organizations) + "
        "(SELECT count(*) FROM selectors)"
    )[0][0]
    assert len(members) == len({(t, r) for t, r, _ in members}) == total
    resolve(workspace)
    again = workspace.store.rows(
        "SELECT record_type, record_id, entity_id FROM entity_members ORDER BY 1, 2"
    )
    assert again == members


def test_records_judged_different_stay_apart_even_through_others(
    resolved: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    """A 'different' judgement is a cannot-link constraint, not just a removed edge: the
    two records do not meet through a third record linked to both."""
    source, truth = resolved
    path = tmp_path / "ws.duckdb"
    path.write_bytes(source.read_bytes())
    first, middle, last = truth["chuy"]
    with open_workspace(path) as ws:
        assert entity(ws, first) == entity(ws, middle) == entity(ws, last)
        judge_pair(ws, "different", first, last, analyst="tester")
        resolve(ws)
        assert entity(ws, first) != entity(ws, last)
        assert entity(ws, middle) in {entity(ws, first), entity(ws, last)}


def test_clusters_never_join_conflicting_records_through_a_third() -> None:
    """Father (1975) and son (2001) are each linked to a record with no date of birth: the
    stronger link wins, the weaker is refused; a date one typo apart is no conflict."""
    import duckdb

    from lastmile.resolve import cluster
    from lastmile.resolve.run import DOB_CONFLICT

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE n AS SELECT * FROM (VALUES ('sr', '1975-04-05'), ('x', NULL), "
        "('jr', '2001-09-17'), ('sr2', '1975-04-06'), ('y', NULL)) t(node, value)"
    )
    con.execute(
        "CREATE TABLE e AS SELECT * FROM (VALUES ('sr', 'x', 0.9, false), "
        "('x', 'jr', 0.8, false), ('sr', 'sr2', 0.7, false), ('jr', 'y', 0.6, false)) "
        "t(a, b, probability, forced)"
    )
    con.execute("CREATE TABLE k (a VARCHAR, b VARCHAR)")
    rebuilt = cluster.constrained_components(
        con,
        "(SELECT node FROM n)",
        "e",
        "k",
        "n",
        DOB_CONFLICT.format(x="x.value", y="y.value"),
        "cc",
    )
    got = dict(con.execute("SELECT node, component FROM cc").fetchall())
    assert rebuilt == 1
    assert got["sr"] == got["x"] == got["sr2"] != got["jr"] == got["y"]
    # An analyst's 'same' (forced) overrides the dates, never a 'different'.
    con.execute("INSERT INTO e VALUES ('sr', 'jr', 0.1, true)")
    cluster.constrained_components(
        con,
        "(SELECT node FROM n)",
        "e",
        "k",
        "n",
        DOB_CONFLICT.format(x="x.value", y="y.value"),
        "cc",
    )
    got = dict(con.execute("SELECT node, component FROM cc").fetchall())
    assert got["sr"] == got["jr"] == got["x"]
    con.execute("INSERT INTO k VALUES ('sr', 'y')")
    cluster.constrained_components(
        con,
        "(SELECT node FROM n)",
        "e",
        "k",
        "n",
        DOB_CONFLICT.format(x="x.value", y="y.value"),
        "cc",
    )
    got = dict(con.execute("SELECT node, component FROM cc").fetchall())
    assert got["sr"] != got["y"]


def test_explain_scores_two_records_that_were_never_compared(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    """Jesús and one of the business line's customers share nothing a blocking rule looks
    at: explain still applies the saved model and shows each field's weight."""
    path, truth = resolved
    with open_workspace(path) as ws:
        text = explain_pair(ws, truth["chuy"][0], truth["biz7"][0]).text()
    assert "not linked directly" in text
    assert "the model of the last run scores them: match weight" in text
    assert "- name: names disagree (" in text
    assert "never compared" in text


def test_explain_names_the_case_file_that_lists_two_records_apart(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    """Two subject records of one case file are two people by the case's own account, and
    explain says so; records of two case files (the Jr. and his father) get no such line."""
    path, truth = resolved
    with open_workspace(path) as ws:
        one_case = explain_pair(ws, truth["jr"][0], truth["ana_ruiz"][0]).text()
        two_cases = explain_pair(ws, truth["jr"][0], truth["sr"][0]).text()
    assert "both are subject records of case file I1, which lists them as two people" in one_case
    assert "case file" not in two_cases.replace("or they are subject records of one case", "")


def test_timeline_shows_whom_the_events_are_about(
    resolved: tuple[Path, dict[str, list[str]]],
) -> None:
    path, truth = resolved
    from lastmile.comms import timeline
    from lastmile.comms.owners import owner_of

    with open_workspace(path) as ws:
        chuy = entity(ws, truth["chuy"][0])
        rows = timeline(ws, "480 555 0111").to_pylist()
        assert rows and {(r["owner_id"], r["owner"]) for r in rows} == {(chuy, rows[0]["owner"])}
        assert "guzm" in rows[0]["owner"].lower()
        # A subject record's timeline is its person's; a family phone has no single owner.
        assert owner_of(ws, truth["chuy"][1], [])[0] == chuy
        assert owner_of(ws, None, ["+13125550177"]) == ("", "")


def test_a_split_never_gives_two_entities_one_id() -> None:
    """An entity that kept the id made from record R's name, split so that R's part is not
    its heir: R's new cluster takes another id, not the one its old entity keeps."""
    import hashlib

    import duckdb

    from lastmile.resolve import cluster

    old = "P-" + hashlib.md5(b"person:subjects:R").hexdigest()[:12]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE rec_age AS SELECT * FROM (VALUES ('subjects', 'Q', TIMESTAMP '2022-01-01', "
        "1), ('subjects', 'R', TIMESTAMP '2022-02-01', 1)) t(record_type, record_id, seen_at, "
        "source_row)"
    )
    con.execute(
        f"CREATE TABLE prev_members AS SELECT * FROM (VALUES ('subjects', 'Q', '{old}'), "
        f"('subjects', 'R', '{old}')) t(record_type, record_id, entity_id)"
    )
    con.execute(
        f"CREATE TABLE prev_entities AS SELECT '{old}' AS entity_id, "
        "TIMESTAMP '2022-03-01' AS first_seen"
    )
    con.execute(
        "CREATE TABLE clusters AS SELECT * FROM (VALUES ('subjects', 'Q', 'c1', 'person'), "
        "('subjects', 'R', 'c2', 'person')) t(record_type, record_id, cluster, kind)"
    )
    cluster.stable_ids(con, "clusters", "ids")
    got = dict(con.execute("SELECT record_id, entity_id FROM ids").fetchall())
    assert got["Q"] == old and got["R"] != old


def test_the_latest_verdict_on_a_pair_wins_whatever_order_the_store_returns(
    tmp_path: Path,
) -> None:
    """Judgements are read back in no stated order; the latest one made on a pair (in
    either record order) decides it, not the last row read."""
    import duckdb as _duckdb

    from lastmile.resolve import run

    with open_workspace(tmp_path / "ws.duckdb") as ws:
        rows = [
            ("j1", "same", "r1", "r2", "2026-01-03 10:00:00"),
            ("j2", "different", "r2", "r1", "2026-01-01 10:00:00"),
            ("j3", "different", "r3", "r4", "2026-01-05 10:00:00"),
            ("j4", "same", "r3", "r4", "2026-01-02 10:00:00"),
        ]
        for jid, verdict, a, b, at in rows:
            ws.store.execute(
                "INSERT INTO judgements VALUES (?, ?, ?, ?, NULL, 'tester', '', "
                "CAST(? AS TIMESTAMP))",
                (jid, verdict, a, b, at),
            )
        con = _duckdb.connect()
        assert run._load_judgements(ws, con) == 2
        got = dict(
            ((a, b), v) for a, b, v in con.execute("SELECT a, b, verdict FROM judged").fetchall()
        )
    assert got == {("r1", "r2"): "same", ("r3", "r4"): "different"}
