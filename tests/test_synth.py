"""The synthetic operation: determinism, well-formed files, ground truth and calibration.

Figures are computed straight from the written CSVs with DuckDB SQL, the way a report
would, so a test failure means the files (not some internal counter) are off.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from lastmile.model import ENCRYPTED_DEFAULT, RECORD_TYPES, SOCIAL_MEDIA_DEFAULT
from lastmile.synth import Scale, generate

LB_G = 453.59237
# The truth/ files and their columns: a contract with the resolver, networks and screening.
TRUTH_COLUMNS: dict[str, str] = {
    "records": "record_id,entity_id,record_type,discoverable",
    "entities": "entity_id,kind,network_id,cartel,role",
    "ties": "entity_a,entity_b,kind,observed",
    "selector_owners": "selector_entity_id,person_entity_id,from,to",
    "networks": "network_id,cartel,size,cities,multi_city",
    "key_players": "network_id,entity_id,rank,score",
    "handovers": "old_selector,new_selector,date",
    "overlaps": "entity_id,investigation_a,investigation_b,agency_a,agency_b,first_date,"
    "shared_selectors",
    "joint_records": "record_id,same_as",
}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate(Scale.TINY, 2022, out, toll_records=True)
    return out


@pytest.fixture(scope="session")
def division(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("division")
    generate(Scale.DIVISION, 2022, out, communications=50_000)
    return out


@pytest.fixture(scope="session")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate(Scale.NATIONAL, 2022, out, communications=200_000)
    return out


def _con(folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for rt in RECORD_TYPES:
        path = str(folder / rt.file_name)
        con.execute(
            f"CREATE VIEW {rt.name} AS SELECT * FROM read_csv('{path}', header=true, "
            "all_varchar=true)"
        )
    for name in TRUTH_COLUMNS:
        path = str(folder / "truth" / f"{name}.csv")
        con.execute(
            f"CREATE VIEW truth_{name} AS SELECT * FROM read_csv('{path}', header=true, "
            "all_varchar=true)"
        )
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0] or 0)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


# --------------------------------------------------------------------------------------------
# determinism and well-formedness
# --------------------------------------------------------------------------------------------


def test_same_seed_same_bytes(tiny: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate("tiny", 2022, again, toll_records=True)
    assert _files(again) == _files(tiny)


def test_other_seed_other_operation(tiny: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate("tiny", 7, other)
    assert (other / "subjects.csv").read_bytes() != (tiny / "subjects.csv").read_bytes()


def test_files_have_exactly_the_model_columns(tiny: Path) -> None:
    for rt in RECORD_TYPES:
        header = (tiny / rt.file_name).read_text(encoding="utf-8").splitlines()[0]
        # Subjects carry issue 10's ``identifiers`` column ahead of the model.
        extra = ["identifiers"] if rt.name == "subjects" else []
        assert header.split(",") == [c.name for c in rt.columns] + extra, rt.name
    toll = sorted((tiny / "toll_records").glob("*.csv"))
    assert toll
    for path in toll:
        header = path.read_text().splitlines()[0]
        assert header == "orig_number,term_number,start_time,duration_sec,direction,event_type"


def test_tiny_is_small_but_complete(tiny: Path) -> None:
    con = _con(tiny)
    assert _one(con, "SELECT count(*) FROM investigations") == 6
    assert _one(con, "SELECT count(DISTINCT division) FROM investigations") == 3
    assert _one(con, "SELECT count(DISTINCT agency_id) FROM investigations") >= 4
    assert _one(con, "SELECT count(*) FROM communications") == 400
    assert _one(con, "SELECT count(*) FROM communications WHERE kind = 'app_message'") > 0
    assert _one(con, "SELECT count(*) FROM selectors WHERE kind = 'account'") > 0
    assert _one(con, "SELECT count(*) FROM truth_overlaps") > 0
    assert _one(con, "SELECT count(*) FROM truth_handovers") > 0


def test_references_resolve(tiny: Path) -> None:
    con = _con(tiny)
    for rt in RECORD_TYPES:
        if rt.investigation_column and rt.name != "investigations":
            missing = _one(
                con,
                f"SELECT count(*) FROM {rt.name} WHERE investigation_id NOT IN "
                "(SELECT investigation_id FROM investigations)",
            )
            assert missing == 0, rt.name
    assert (
        _one(
            con,
            "SELECT count(*) FROM investigations WHERE agency_id NOT IN "
            "(SELECT agency_id FROM agencies)",
        )
        == 0
    )
    for table in ("selectors", "arrests"):
        assert (
            _one(
                con,
                f"SELECT count(*) FROM {table} WHERE subject_id IS NOT NULL AND "
                "subject_id NOT IN (SELECT subject_id FROM subjects)",
            )
            == 0
        ), table
    ids = (
        "SELECT subject_id FROM subjects UNION ALL SELECT organization_id FROM "
        "organizations UNION ALL SELECT selector_id FROM selectors"
    )
    for col in ("from_id", "to_id"):
        assert _one(con, f"SELECT count(*) FROM relationships WHERE {col} NOT IN ({ids})") == 0
    # A relationship stays inside its investigation.
    assert (
        _one(
            con,
            "SELECT count(*) FROM relationships WHERE NOT starts_with(from_id, "
            "investigation_id) OR NOT starts_with(to_id, investigation_id)",
        )
        == 0
    )


def test_phones_are_fictional(tiny: Path) -> None:
    con = _con(tiny)
    values = [
        r[0]
        for r in con.execute(
            "SELECT value FROM selectors WHERE kind = 'phone' UNION ALL "
            "SELECT poc_phone FROM agencies UNION ALL "
            "SELECT from_selector FROM communications WHERE platform IS NULL "
            "  OR platform IN ('WhatsApp', 'Signal') UNION ALL "
            "SELECT to_selector FROM communications WHERE platform IS NULL "
            "  OR platform IN ('WhatsApp', 'Signal')"
        ).fetchall()
    ]
    assert values
    for v in values:
        digits = re.sub(r"\D", "", v)
        # US: NXX = 555; Mexico: subscriber numbers end in 555xxxx as well.
        assert digits[-7:-4] == "555", v
    for path in (tiny / "toll_records").glob("*.csv"):
        for line in path.read_text().splitlines()[1:]:
            orig, term = line.split(",")[:2]
            assert orig.isdigit() and term.isdigit()
            assert orig[-7:-4] == "555" and term[-7:-4] == "555"


def test_records_are_messy(national: Path) -> None:
    con = _con(national)
    # Spanish surnames with and without accents, handles with "@", phones in many layouts.
    assert _one(con, "SELECT count(*) FROM subjects WHERE family_name LIKE '%á%'") > 0
    assert _one(con, "SELECT count(*) FROM subjects WHERE dob IS NULL") > 0
    assert _one(con, "SELECT count(*) FROM selectors WHERE value LIKE '@%'") > 0
    assert _one(con, "SELECT count(*) FROM selectors WHERE value LIKE '(%) %-%'") > 0
    assert _one(con, "SELECT count(*) FROM selectors WHERE value LIKE '+52 %'") > 0


# --------------------------------------------------------------------------------------------
# ground truth
# --------------------------------------------------------------------------------------------


def test_truth_covers_every_record(tiny: Path) -> None:
    con = _con(tiny)
    for table, col, kind in (
        ("subjects", "subject_id", "person"),
        ("organizations", "organization_id", "organization"),
        ("selectors", "selector_id", "selector"),
    ):
        n = _one(con, f"SELECT count(*) FROM {table}")
        joined = _one(
            con,
            f"SELECT count(*) FROM {table} t JOIN truth_records r ON r.record_id = t.{col} "
            f"JOIN truth_entities e ON e.entity_id = r.entity_id AND e.kind = '{kind}'",
        )
        assert n == joined > 0, table
    assert _one(con, "SELECT count(*) - count(DISTINCT record_id) FROM truth_records") == 0
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_key_players WHERE entity_id NOT IN "
            "(SELECT entity_id FROM truth_entities WHERE kind = 'person')",
        )
        == 0
    )
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_handovers WHERE NOT regexp_full_match("
            "old_selector, '\\+[0-9]{11,12}') OR new_selector = old_selector",
        )
        == 0
    )


def test_truth_files_keep_their_columns(tiny: Path) -> None:
    for name, header in TRUTH_COLUMNS.items():
        first = (tiny / "truth" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert first == header, name


def test_overlaps_are_exactly_the_pairs_of_investigations(tiny: Path) -> None:
    con = _con(tiny)
    computed = con.execute(
        "WITH s AS (SELECT DISTINCT r.entity_id, s.investigation_id, i.agency_id, i.opened "
        "FROM subjects s JOIN truth_records r ON r.record_id = s.subject_id "
        "JOIN investigations i USING (investigation_id)) "
        "SELECT a.entity_id, a.investigation_id, b.investigation_id, a.agency_id, b.agency_id, "
        "greatest(a.opened::DATE, b.opened::DATE)::VARCHAR FROM s a JOIN s b "
        "ON a.entity_id = b.entity_id AND a.investigation_id < b.investigation_id ORDER BY ALL"
    ).fetchall()
    written = con.execute(
        "SELECT entity_id, least(investigation_a, investigation_b), "
        "greatest(investigation_a, investigation_b), "
        "CASE WHEN investigation_a < investigation_b THEN agency_a ELSE agency_b END, "
        "CASE WHEN investigation_a < investigation_b THEN agency_b ELSE agency_a END, "
        "first_date FROM truth_overlaps ORDER BY ALL"
    ).fetchall()
    assert computed == written and written


def test_same_person_in_two_agencies_nationally(national: Path) -> None:
    con = _con(national)
    assert (
        _one(
            con,
            "SELECT count(DISTINCT entity_id) FROM truth_overlaps WHERE agency_a <> agency_b",
        )
        > 100
    )


# --------------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------------

FIGURES_SQL = """
WITH inv AS (SELECT * FROM investigations WHERE {where}
             AND opened::DATE <= DATE '2023-05-01'
             AND (closed IS NULL OR closed::DATE >= DATE '2022-05-01')),
drugs AS (
    SELECT d.drug, d.form, d.quantity::DOUBLE AS q,
           d.quantity::DOUBLE * CASE d.unit WHEN 'kg' THEN 1000 WHEN 'lb' THEN {lb}
                WHEN 'oz' THEN 28.349523125 ELSE 1 END AS grams
    FROM drug_seizures d JOIN inv USING (investigation_id)
    WHERE d.date::DATE BETWEEN DATE '2022-05-01' AND DATE '2023-05-01'),
platforms AS (
    SELECT investigation_id, platform FROM selectors WHERE platform IS NOT NULL
    UNION SELECT DISTINCT investigation_id, platform FROM communications
    WHERE platform IS NOT NULL)
SELECT
  (SELECT count(*) FROM inv) AS investigations,
  (SELECT count(*) FROM arrests JOIN inv USING (investigation_id)) AS arrests,
  (SELECT sum(q) FROM drugs WHERE drug = 'fentanyl' AND form = 'pill') AS pills,
  (SELECT sum(grams) / {lb} FROM drugs WHERE drug = 'fentanyl' AND form <> 'pill') AS powder_lb,
  (SELECT sum(grams) / {lb} FROM drugs WHERE drug = 'methamphetamine') AS meth_lb,
  (SELECT sum(count::INT) FROM firearm_seizures JOIN inv USING (investigation_id)) AS guns,
  (SELECT sum(amount::DOUBLE) FROM currency_seizures JOIN inv USING (investigation_id)) AS usd,
  (SELECT count(DISTINCT investigation_id) FROM platforms JOIN inv USING (investigation_id)
     WHERE platform IN ({social})) AS social,
  (SELECT count(DISTINCT investigation_id) FROM platforms JOIN inv USING (investigation_id)
     WHERE platform IN ({encrypted})) AS encrypted,
  (SELECT count(DISTINCT investigation_id) FROM platforms JOIN inv USING (investigation_id)
     WHERE platform IN ({social}, {encrypted})) AS either,
  (SELECT count(*) FROM inv WHERE cartel = 'Sinaloa') AS sinaloa,
  (SELECT count(*) FROM inv WHERE cartel = 'Jalisco') AS jalisco
"""


def _figures(folder: Path, division: str | None = None) -> dict[str, float]:
    con = _con(folder)
    where = "true" if division is None else f"division = '{division}'"
    sql = FIGURES_SQL.format(
        where=where,
        lb=LB_G,
        social=", ".join(f"'{p.value}'" for p in sorted(SOCIAL_MEDIA_DEFAULT)),
        encrypted=", ".join(f"'{p.value}'" for p in sorted(ENCRYPTED_DEFAULT)),
    )
    cur = con.execute(sql)
    row = cur.fetchone()
    assert row is not None
    figures = {d[0]: float(v or 0) for d, v in zip(cur.description, row, strict=True)}
    figures["doses"] = figures["pills"] * 0.6 + figures["powder_lb"] * LB_G * 1000 * 0.113 / 2
    return figures


def _near(value: float, target: float, tolerance: float = 0.02) -> bool:
    return abs(value - target) <= tolerance * target


@pytest.mark.slow
def test_national_calibration(national: Path) -> None:
    f = _figures(national)
    assert f["investigations"] == 1436
    assert f["arrests"] == 3337
    assert _near(f["pills"], 44_000_000)
    assert _near(f["powder_lb"], 6_500)
    assert _near(f["meth_lb"], 91_000)
    assert _near(f["guns"], 8_497)
    assert _near(f["usd"], 100_000_000)
    assert _near(f["doses"], 193_000_000)
    assert _near(f["either"], 1_100)


@pytest.mark.slow
def test_national_divisions(national: Path) -> None:
    rm = _figures(national, "Rocky Mountain")
    assert (rm["investigations"], rm["sinaloa"], rm["jalisco"], rm["arrests"]) == (72, 60, 12, 65)
    assert (rm["social"], rm["encrypted"]) == (17, 25)
    assert _near(rm["pills"], 375_000) and _near(rm["powder_lb"], 25)
    assert _near(rm["meth_lb"], 126) and _near(rm["guns"], 100) and _near(rm["usd"], 1_800_000)
    lou = _figures(national, "Louisville")
    assert (lou["investigations"], lou["arrests"]) == (28, 137)
    assert _near(lou["doses"], 1_762_240) and _near(lou["meth_lb"], 544)
    assert lou["guns"] == 621 and lou["usd"] > 4_000_000
    oma = _figures(national, "Omaha")
    assert (oma["investigations"], oma["arrests"], oma["guns"]) == (26, 87, 60)
    det = _figures(national, "Detroit")
    assert det["doses"] > 3_800_000 and _near(det["meth_lb"], 201)


@pytest.mark.slow
def test_division_scale_is_rocky_mountain(division: Path) -> None:
    con = _con(division)
    assert con.execute("SELECT DISTINCT division FROM investigations").fetchall() == [
        ("Rocky Mountain",)
    ]
    rm = _figures(division)
    assert (rm["investigations"], rm["sinaloa"], rm["jalisco"], rm["arrests"]) == (72, 60, 12, 65)
    assert (rm["social"], rm["encrypted"]) == (17, 25)
    assert _near(rm["pills"], 375_000) and _near(rm["powder_lb"], 25)
    assert _near(rm["meth_lb"], 126) and _near(rm["guns"], 100) and _near(rm["usd"], 1_800_000)


@pytest.mark.slow
def test_dates_inside_the_window(national: Path) -> None:
    con = _con(national)
    assert (
        _one(
            con,
            "SELECT count(*) FROM investigations WHERE opened::DATE < "
            "DATE '2022-05-01' OR opened::DATE > DATE '2023-05-01'",
        )
        == 0
    )
    for table in ("arrests", "drug_seizures", "firearm_seizures", "currency_seizures"):
        assert (
            _one(
                con,
                f"SELECT count(*) FROM {table} WHERE date::DATE < DATE '2022-05-01' "
                "OR date::DATE > DATE '2023-05-01'",
            )
            == 0
        ), table
