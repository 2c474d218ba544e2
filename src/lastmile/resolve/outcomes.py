"""The report's figures that need resolution: people arrested, joint records counted once.

(docs/methodology.md, "After resolution")

- An arrest is *joint* when another agency's arrest record names the same resolved person
  within one day. A person arrested jointly counts once; ``distinct_persons_arrested`` counts
  the persons (an arrest whose subject is unknown counts as one person).
- A drug seizure is *joint* when another agency's seizure has the same date, city, drug and
  form, and a quantity within 1 % (in grams, or pills). Chains of such pairs are one event,
  counted once, by its smallest record id.

``joint_records`` counts, by record type, the records another agency's record already counts
(the records left out); ``seizures_deduplicated`` is ``seizures`` without them.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from lastmile.model import Drug, Form, Unit
from lastmile.resolve.cluster import components
from lastmile.store import Workspace
from lastmile.store.backends import register_table
from lastmile.units import GRAMS_PER_UNIT, lb_figure

JOINT_DAYS = 1
JOINT_QUANTITY = 0.01


def _scope(options: Any) -> tuple[str, list[Any]]:
    sql, params = "", []
    if getattr(options, "date_from", None):
        sql += " AND t.date >= ?"
        params.append(options.date_from)
    if getattr(options, "date_to", None):
        sql += " AND t.date <= ?"
        params.append(options.date_to)
    if getattr(options, "division", None):
        from lastmile.report.compute import canonical_division

        sql += " AND i.division = ?"
        params.append(canonical_division(options.division))
    return sql, params


def _groups(con: duckdb.DuckDBPyConnection, table: str, pairs: str, into: str) -> None:
    components(con, f"(SELECT id AS node FROM {table})", pairs, into)


def outcomes(ws: Workspace, options: Any, seizures: dict[str, Any]) -> dict[str, Any]:
    """The three keys the report adds (``None`` figures before any resolution)."""
    where, params = _scope(options)
    store = ws.store
    resolved = bool(store.rows("SELECT 1 FROM entity_members LIMIT 1"))
    arrests = store.query(
        "SELECT t.arrest_id AS id, i.agency_id, t.date, m.entity_id FROM arrests t "
        "JOIN investigations i USING (investigation_id) "
        "LEFT JOIN entity_members m ON m.record_type = 'subjects' AND m.record_id = t.subject_id "
        f"WHERE 1 = 1 {where}",
        params,
    )
    drugs = store.query(
        "SELECT t.seizure_id AS id, i.agency_id, t.date, lower(trim(t.city)) AS city, t.drug, "
        "t.form, t.unit, t.quantity FROM drug_seizures t "
        f"JOIN investigations i USING (investigation_id) WHERE 1 = 1 {where}",
        params,
    )
    con = duckdb.connect()
    try:
        if arrests.num_rows == 0:
            arrests = pa.table(
                {
                    "id": pa.array([], pa.string()),
                    "agency_id": pa.array([], pa.string()),
                    "date": pa.array([], pa.date32()),
                    "entity_id": pa.array([], pa.string()),
                }
            )
        register_table(con, arrests, "a")
        _groups(
            con,
            "a",
            f"""(SELECT x.id AS a, y.id AS b FROM a x JOIN a y ON x.entity_id = y.entity_id
                AND x.agency_id <> y.agency_id AND x.id < y.id
                AND abs(date_diff('day', x.date, y.date)) <= {JOINT_DAYS})""",
            "arrest_groups",
        )
        row = con.execute(
            "SELECT count(*) - count(DISTINCT component), "
            "(SELECT count(DISTINCT entity_id) + count(*) FILTER (WHERE entity_id IS NULL) "
            "FROM a) FROM arrest_groups"
        ).fetchone()
        joint_arrests, persons = (int(row[0]), int(row[1])) if row else (0, 0)

        grams = " ".join(f"WHEN '{u.value}' THEN {GRAMS_PER_UNIT[u]}" for u in GRAMS_PER_UNIT)
        if drugs.num_rows == 0:
            return _result(resolved, persons, joint_arrests, 0, seizures, {}, 0.0)
        register_table(con, drugs, "d")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE dq AS SELECT *, CASE WHEN unit = 'count' THEN "
            f"quantity ELSE quantity * (CASE unit {grams} END) END AS q FROM d"
        )
        _groups(
            con,
            "dq",
            f"""(SELECT x.id AS a, y.id AS b FROM dq x JOIN dq y ON x.date = y.date
                AND x.city = y.city AND x.drug = y.drug AND x.form = y.form
                AND (x.unit = 'count') = (y.unit = 'count') AND x.agency_id <> y.agency_id
                AND x.id < y.id AND abs(x.q - y.q) <= {JOINT_QUANTITY} * greatest(x.q, y.q))""",
            "drug_groups",
        )
        # The records left out: every member of a joint event but its smallest id.
        left_out = con.execute(
            """
            SELECT dq.drug, dq.form, dq.unit = 'count', sum(dq.q), count(*) FROM drug_groups g
            JOIN dq ON dq.id = g.node WHERE g.node <> g.component GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.close()
    grams_by: dict[str, float] = {}
    pills_fentanyl, other_pills = 0.0, 0.0
    joint_drugs = 0
    for drug, form, is_count, q, n in left_out:
        joint_drugs += int(n)
        if is_count:
            if drug == Drug.FENTANYL.value and form == Form.PILL.value:
                pills_fentanyl += q
            else:
                other_pills += q
        else:
            grams_by[drug] = grams_by.get(drug, 0.0) + q
    return _result(
        resolved,
        persons,
        joint_arrests,
        joint_drugs,
        seizures,
        grams_by,
        pills_fentanyl,
        other_pills,
    )


def _result(
    resolved: bool,
    persons: int,
    joint_arrests: int,
    joint_drugs: int,
    seizures: dict[str, Any],
    grams_by: dict[str, float],
    pills_fentanyl: float,
    other_pills: float = 0.0,
) -> dict[str, Any]:
    dedup = dict(seizures)
    if "fentanyl_pills" in dedup:
        dedup["fentanyl_pills"] = round(float(dedup["fentanyl_pills"]) - pills_fentanyl)
    if "other_pills" in dedup:
        dedup["other_pills"] = round(float(dedup["other_pills"]) - other_pills)
    keys = {
        Drug.FENTANYL.value: "fentanyl_powder_lb",
        Drug.METHAMPHETAMINE.value: "methamphetamine_lb",
        Drug.COCAINE.value: "cocaine_lb",
        Drug.HEROIN.value: "heroin_lb",
        Drug.CANNABIS.value: "cannabis_lb",
        Drug.OTHER.value: "other_drugs_lb",
    }
    for drug, g in grams_by.items():
        key = keys.get(drug)
        if key and key in dedup:
            dedup[key] = lb_figure(max(0.0, _grams(dedup[key]) - g))
    return {
        "distinct_persons_arrested": persons if resolved else None,
        "joint_records": {
            "arrests": joint_arrests if resolved else None,
            "drug_seizures": joint_drugs,
        },
        "seizures_deduplicated": dedup,
    }


def _grams(lb: Any) -> float:
    return float(lb) * GRAMS_PER_UNIT[Unit.LB]
