"""The synthetic operation: determinism, well-formed files, ground truth and calibration.

Figures are computed straight from the written CSVs with DuckDB SQL, the way a report
would, so a test failure means the files (not some internal counter) are off.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.model import ENCRYPTED_DEFAULT, RECORD_TYPES, SOCIAL_MEDIA_DEFAULT
from lastmile.synth import Scale, SynthError, calibration, generate
from tests.bench_modules import load_bench

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
        assert header.split(",") == [c.name for c in rt.columns], rt.name
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
    assert _one(con, "SELECT count(*) FROM communications") == 2_000
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


def test_records_are_messy(division: Path) -> None:
    con = _con(division)
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


@pytest.mark.slow
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


def _mass(value: float, target: float) -> bool:
    """A mass summed from records written in lb or oz with two decimals: exact but for that
    rounding (well under 0.05%)."""
    return abs(value - target) <= 0.0005 * target


@pytest.mark.slow
def test_national_calibration(national: Path) -> None:
    f = _figures(national)
    # Counts are exact by construction (whole units, largest remainder); masses are exact up
    # to writing each record in lb or oz with two decimals.
    assert (f["investigations"], f["arrests"], f["pills"]) == (1436, 3337, 44_000_000)
    assert (f["guns"], f["usd"], f["either"]) == (8_497, 100_000_000, 1_100)
    assert _mass(f["powder_lb"], 6_500) and _mass(f["meth_lb"], 91_000)
    assert _near(f["doses"], 193_000_000, 0.001)


@pytest.mark.slow
def test_national_divisions(national: Path) -> None:
    assert_rocky_mountain(_figures(national, "Rocky Mountain"))
    lou = _figures(national, "Louisville")
    assert (lou["investigations"], lou["arrests"], lou["pills"]) == (28, 137, 1_053_545)
    assert (lou["guns"], lou["usd"]) == (621, 4_120_000)
    assert _mass(lou["doses"], 1_762_240) and _mass(lou["meth_lb"], 544)
    oma = _figures(national, "Omaha")
    assert (oma["investigations"], oma["arrests"], oma["guns"]) == (26, 87, 60)
    det = _figures(national, "Detroit")
    assert det["pills"] == 1_500_000 and det["doses"] > 3_800_000 and _mass(det["meth_lb"], 201)


def assert_rocky_mountain(rm: dict[str, float]) -> None:
    assert (rm["investigations"], rm["sinaloa"], rm["jalisco"], rm["arrests"]) == (72, 60, 12, 65)
    assert (rm["social"], rm["encrypted"], rm["either"]) == (17, 25, 33)
    assert (rm["pills"], rm["guns"], rm["usd"]) == (375_000, 100, 1_800_000)
    assert _mass(rm["powder_lb"], 25) and _mass(rm["meth_lb"], 126)


# The fast calibration check (a division-scale operation, some 20 s): not marked slow.
def test_division_scale_is_rocky_mountain(division: Path) -> None:
    con = _con(division)
    assert con.execute("SELECT DISTINCT division FROM investigations").fetchall() == [
        ("Rocky Mountain",)
    ]
    assert_rocky_mountain(_figures(division))


def test_national_split_keeps_the_fixed_divisions() -> None:
    for seed in (2022, 7):
        plans = {p.division: p for p in calibration.national_plan(np.random.default_rng(seed))}
        assert len(plans) == 23
        for division, fixed in calibration.FIXED.items():
            plan = plans[division]
            for key, value in fixed.items():
                got = plan.investigations if key == "investigations" else plan.totals[key]
                assert got == value, (division, key)
        for division, cartels in calibration.FIXED_CARTELS.items():
            assert plans[division].cartels == cartels
        for division, split in calibration.FIXED_PLATFORMS.items():
            assert plans[division].platforms == split
        total = sum(p.investigations for p in plans.values())
        assert total == calibration.NATIONAL["investigations"]
        for q in calibration.QUANTITIES:
            assert sum(p.totals[q] for p in plans.values()) == calibration.NATIONAL[q], q
        assert sum(p.platforms.any for p in plans.values()) == calibration.NATIONAL["platform_any"]


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


# --------------------------------------------------------------------------------------------
# the truth/ contract and hard records
# --------------------------------------------------------------------------------------------

TIE_KINDS = (
    "communication",
    "supply",
    "membership",
    "association",
    "family",
    "co_arrest",
    "partner",
    "lawyer",
    "workplace",
    "business",
)


def test_ties_join_known_entities(division: Path) -> None:
    con = _con(division)
    kinds = ", ".join(f"'{k}'" for k in TIE_KINDS)
    assert _one(con, f"SELECT count(*) FROM truth_ties WHERE kind NOT IN ({kinds})") == 0
    assert _one(con, "SELECT count(*) FROM truth_ties WHERE observed NOT IN ('true', 'false')") == 0
    for col in ("entity_a", "entity_b"):
        missing = (
            f"SELECT count(*) FROM truth_ties WHERE {col} NOT IN "
            "(SELECT entity_id FROM truth_entities)"
        )
        assert _one(con, missing) == 0, col
    # Person-person ties are written once per pair and kind, smaller id first.
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_ties WHERE kind <> 'membership' AND entity_a >= entity_b",
        )
        == 0
    )
    # Some ties are hidden from every record, some shown; a share of ties is non-criminal.
    observed = _one(con, "SELECT avg((observed = 'true')::INT) FROM truth_ties")
    assert 0.05 < observed < 0.95
    civil = _one(
        con,
        "SELECT avg((kind IN ('family', 'partner', 'lawyer', 'workplace', 'business'))::INT) "
        "FROM truth_ties WHERE kind <> 'membership'",
    )
    assert 0.15 < civil < 0.4


def test_networks_and_key_players_agree_with_entities(division: Path) -> None:
    con = _con(division)
    wrong = con.execute(
        "SELECT n.network_id FROM truth_networks n LEFT JOIN (SELECT network_id, count(*) AS k "
        "FROM truth_entities WHERE kind = 'person' GROUP BY 1) e USING (network_id) "
        "WHERE n.size::INT <> coalesce(e.k, 0) OR (n.multi_city = 'true') <> "
        "(length(n.cities) - length(replace(n.cities, '|', '')) > 0)"
    ).fetchall()
    assert wrong == []
    sizes = [r[0] for r in con.execute("SELECT size::INT FROM truth_networks").fetchall()]
    assert min(s for s in sizes if s > 0) <= 15 and max(sizes) >= 60
    # Key players appear in some subject record, scores fall with rank.
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_key_players WHERE entity_id NOT IN (SELECT r.entity_id "
            "FROM truth_records r WHERE r.record_type = 'subjects')",
        )
        == 0
    )
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_key_players a JOIN truth_key_players b USING "
            "(network_id) WHERE a.rank::INT < b.rank::INT AND a.score::INT < b.score::INT",
        )
        == 0
    )


def test_selector_owners_cover_the_selectors_in_records(division: Path) -> None:
    con = _con(division)
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_entities WHERE kind = 'selector' AND entity_id NOT IN "
            "(SELECT selector_entity_id FROM truth_selector_owners)",
        )
        == 0
    )
    assert (
        _one(
            con,
            "SELECT count(*) FROM truth_selector_owners WHERE person_entity_id NOT IN "
            "(SELECT entity_id FROM truth_entities WHERE kind = 'person') "
            'OR ("from" IS NOT NULL AND "to" IS NOT NULL AND "from" >= "to")',
        )
        == 0
    )
    # Some phones have several users: households, crews, burners passed on.
    assert (
        _one(
            con,
            "SELECT count(*) FROM (SELECT selector_entity_id FROM truth_selector_owners "
            "GROUP BY 1 HAVING count(DISTINCT person_entity_id) > 1)",
        )
        > 0
    )


@pytest.mark.slow
def test_joint_records_are_one_event_reported_twice(national: Path) -> None:
    con = _con(national)
    rows = con.execute(
        "SELECT a.investigation_id = b.investigation_id, a.date = b.date, a.city = b.city, "
        "ra.entity_id = rb.entity_id FROM truth_joint_records j "
        "JOIN arrests a ON a.arrest_id = j.record_id JOIN arrests b ON b.arrest_id = j.same_as "
        "JOIN truth_records ra ON ra.record_id = a.subject_id "
        "JOIN truth_records rb ON rb.record_id = b.subject_id"
    ).fetchall()
    assert len(rows) >= 20
    assert all(r == (False, True, True, True) for r in rows)
    seizures = con.execute(
        "WITH s AS (SELECT seizure_id, investigation_id, date, city, amount::BIGINT AS q "
        "FROM currency_seizures UNION ALL SELECT seizure_id, investigation_id, date, city, "
        "quantity::BIGINT FROM drug_seizures WHERE form = 'pill') "
        "SELECT a.investigation_id = b.investigation_id, a.date = b.date, a.city = b.city, "
        "abs(a.q - b.q) <= 1 FROM truth_joint_records j "
        "JOIN s a ON a.seizure_id = j.record_id JOIN s b ON b.seizure_id = j.same_as"
    ).fetchall()
    assert seizures and all(r == (False, True, True, True) for r in seizures)
    ids = "SELECT arrest_id FROM arrests UNION ALL SELECT seizure_id FROM currency_seizures "
    ids += "UNION ALL SELECT seizure_id FROM drug_seizures"
    assert (
        _one(con, f"SELECT count(*) FROM truth_joint_records WHERE record_id NOT IN ({ids})") == 0
    )


IDENTIFIER = {
    "ssn": r"(9\d\d|000)-\d{2}-\d{4}",
    "dl": r"[A-Z]{2}-\d{9}",
    "passport": r"MX-G\d{8}",
    "a_number": r"A\d{9}",
    "fbi": r"\d{6}[A-Z]{2}\d",
    "state_id": r"[A-Z]{2}\d{8}",
    "other": r"MATRICULA-\d{7}",
}


def test_identifiers_are_fictional_with_realistic_errors(division: Path) -> None:
    con = _con(division)
    values = [
        v
        for (cell,) in con.execute(
            "SELECT identifiers FROM subjects WHERE identifiers IS NOT NULL"
        ).fetchall()
        for v in cell.split("|")
    ]
    assert len(values) > 100
    kinds = {v.split(":", 1)[0] for v in values}
    assert kinds <= set(IDENTIFIER) and {"ssn", "dl"} <= kinds
    well = [v for v in values if re.fullmatch(IDENTIFIER[v.split(":")[0]], v.split(":", 1)[1])]
    # A few are mistyped (a wrong or a missing digit), but every SSN stays never-issued.
    assert 0.9 < len(well) / len(values) < 1.0
    for v in values:
        if v.startswith("ssn:") and re.fullmatch(r"ssn:\d{3}-.*", v):
            assert v[4] == "9" or v[4:7] == "000", v


def test_records_hold_deception_and_gaps(division: Path) -> None:
    con = _con(division)
    n = _one(con, "SELECT count(*) FROM subjects")
    nameless = _one(
        con,
        "SELECT count(*) FROM subjects WHERE full_name IS NULL AND given_name IS NULL "
        "AND family_name IS NULL",
    )
    assert 0.04 < nameless / n < 0.12  # known only by a moniker or a phone
    dup = _one(
        con,
        "SELECT count(*) FROM (SELECT s.investigation_id, r.entity_id FROM subjects s "
        "JOIN truth_records r ON r.record_id = s.subject_id GROUP BY 1, 2 HAVING count(*) > 1)",
    )
    assert dup >= 1
    # Hard negatives: one address written for two different people.
    shared = _one(
        con,
        "SELECT count(*) FROM (SELECT lower(split_part(s.addresses, ',', 1)) AS a "
        "FROM subjects s JOIN truth_records r ON r.record_id = s.subject_id "
        "WHERE s.addresses IS NOT NULL GROUP BY 1 HAVING count(DISTINCT r.entity_id) > 1)",
    )
    assert shared > 0
    assert _one(con, "SELECT count(*) FROM truth_records WHERE discoverable = 'false'") >= 0


@pytest.mark.slow
def test_naive_rules_pay_for_hard_negatives(national: Path) -> None:
    bench = load_bench("synth_difficulty")
    scores = bench.resolution(national)  # type: ignore[attr-defined]
    three = scores["three_rules_transitive"]
    assert three["f1"] <= 0.85 and three["precision"] < 0.95
    assert scores["exact_name_and_dob"]["recall"] < 0.5


@pytest.mark.slow
def test_networks_have_the_shape_of_real_ones(national: Path) -> None:
    bench = load_bench("synth_difficulty")
    stats = bench.networks(national)  # type: ignore[attr-defined]
    small = stats["up_to_150"]
    assert small["max_over_mean_degree"] >= 4
    assert 0.1 <= small["clustering"] <= 0.6
    assert stats["over_150"]["max_over_mean_degree"] >= 4


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "huge"}, "unknown scale"),
        ({"seed": -1}, "seed -1 is out of range"),
        ({"seed": 2**40}, "out of range"),
        ({"communications": -5}, "communications -5 is out of range"),
    ],
)
def test_bad_arguments_are_one_line(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"scale": "tiny", "seed": 1, "out_dir": tmp_path / "op"}
    args.update(kwargs)
    with pytest.raises(SynthError, match=message):
        generate(**args)  # type: ignore[arg-type]
    assert not (tmp_path / "op").exists()


def test_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "op").mkdir()
    (tmp_path / "op" / "notes.txt").write_text("mine")
    with pytest.raises(SynthError, match="exists and is not empty"):
        generate("tiny", 1, tmp_path / "op")
    assert [p.name for p in (tmp_path / "op").iterdir()] == ["notes.txt"]
    res = CliRunner().invoke(app, ["synth", "--scale", "tiny", "--out", str(tmp_path / "op")])
    assert res.exit_code == 1
    assert "exists and is not empty" in res.output and "Traceback" not in res.output


def test_a_failed_write_leaves_nothing_that_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lastmile.synth.writer import Writer

    real = Writer.table

    def fill_up(self: Writer, name: str, table: object) -> None:
        if name.startswith("truth/"):
            raise OSError(f"cannot write {self.out_dir / name}: No space left on device")
        real(self, name, table)  # type: ignore[arg-type]

    monkeypatch.setattr(Writer, "table", fill_up)
    with pytest.raises(OSError, match="No space left"):
        generate("tiny", 1, tmp_path / "op")
    assert list(tmp_path.iterdir()) == []
