"""Where the truth's cross-agency overlaps that no conflict names are lost.

Reads a workspace resolved by ``lastmile resolve`` (its conflicts, memberships and records)
and a synthetic operation's truth (``truth/overlaps.csv``, ``truth/records.csv``), scores the
conflicts as ``bench/resolve.py`` does (an overlap of person G between agencies A and B is
found when an entity holding a subject record of G has a conflict from A to B), and gives
every missed overlap the first cause that applies. A *fragment* is an entity holding G's
subject records on one side (agency A or B); the other agency is its *other side*. A
selector is *owned* by a fragment when ``lastmile.resolve.conflicts`` makes the fragment its
owner (``selector_owner``: no other entity's records use it, and it is not a shared line).

- ``one_entity``: an entity holds G's subject records in both agencies, yet no conflict
  names the pair (a fault of the conflict rule or of the agency mapping);
- ``credit_lost``: this code's rule credits a fragment with a case of the other agency (a
  selector record of a selector it owns, a line the case obtained toll records or a
  platform return of, a burner chain holding one of the case's lines:
  ``lastmile.resolve.conflicts``), yet the conflicts scored do not name the pair: on the
  stored conflicts of an older resolution, what this code's rule adds;
- ``toll_records_contact``: the other side's communications (toll records, platform
  returns) show a selector the fragment owns, which the rule does not credit: a contact of
  the case's targets, or a line in returns too sparse to tell;
- ``fragments_share_selector``: a selector used by G's fragments only (no other person)
  links the two sides, or is held by the other side: resolution kept G's records apart
  (a shared selector is not proof), and the conflict rule, which never credits a selector
  used by several entities, cannot tell this from a family phone (nor credits a line of
  G's alone that is a shared line: on the records of more than three names);
- ``shared_with_other_people``: the same, through a selector that another person's records
  use too (a family phone, a shared line): the guard that must hold;
- ``recall``: nothing the fragments use appears on the other side: only resolution can
  find it.

``undiscoverable`` counts the misses where all of G's records on one side are marked not
discoverable by the truth (they share no evidence with another record of G). ``raised``
counts the cross-agency conflicts (target and pair of agencies) and how many of them the
truth lists (a person of the target's records in subject records of both agencies);
``raised_by_basis`` the same by the conflict's basis (the strongest of its rows': a basis
index beyond ``BASES`` reads as none, for conflicts stored before the basis was);
``raised_confirmed`` those whose basis states more than a possible conflict (not one of
``conflicts.POSSIBLE_BASES``).
``--recompute`` scores, instead of the stored conflicts, those this code's rule finds on the
stored resolution (nothing is resolved again or written). Prints JSON.

    .venv/bin/python bench/conflict_misses.py /work/data/div7 -w RESOLVED.duckdb [--recompute]

docs/resolution-rounds.md ("Deconfliction: where the missed overlaps are lost") reads it.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lastmile.resolve import conflicts, run
from lastmile.resolve.features import comm_key_sql, selector_key_sql
from lastmile.store import Workspace, open_workspace
from lastmile.store.backends import register_table

CAUSES = (
    "one_entity",
    "credit_lost",
    "toll_records_contact",
    "fragments_share_selector",
    "shared_with_other_people",
    "recall",
)


def recomputed(ws: Workspace) -> tuple[pa.Table, pa.Table, pa.Table]:
    """What this code's rule finds on the workspace's stored resolution (its memberships),
    without resolving again: the conflicts (``target_id, agency_id, other_agency_id,
    basis``), the
    cases it credits each target with (``target_id, investigation_id``) and the owner of each
    selector key (``key, entity_id``, NULL when it has none)."""
    con = ws.store.staging()
    run.build_features(ws, con)
    register_table(
        con,
        ws.store.query("SELECT record_type, record_id, entity_id FROM entity_members"),
        "new_members",
    )
    conflicts.load_lines(ws, con)
    conflicts.compute(con)
    found: pa.Table = con.sql(
        "SELECT DISTINCT target_id, agency_id, other_agency_id, basis FROM new_conflicts"
    ).to_arrow_table()
    credited: pa.Table = con.sql(
        "SELECT DISTINCT target_id, investigation_id FROM target_cases"
    ).to_arrow_table()
    owners: pa.Table = con.sql("SELECT key, entity_id FROM selector_owner").to_arrow_table()
    return found, credited, owners


def load(folder: Path, workspace: str, recompute: bool = False) -> duckdb.DuckDBPyConnection:
    """The workspace's records, memberships and conflicts (stored, or with ``recompute``
    those this code finds) and the truth, in an in-memory connection."""
    con = duckdb.connect()
    key = selector_key_sql("kind", "value_normalized", "platform")
    comm_key = comm_key_sql("value", "platform")
    tables = [
        ("inv", "SELECT investigation_id, agency_id FROM investigations"),
        ("members", "SELECT record_type, record_id, entity_id FROM entity_members"),
        ("subj", "SELECT subject_id AS record_id, investigation_id FROM subjects"),
        (
            "sel",
            "SELECT selector_id AS record_id, investigation_id, subject_id, kind, "
            "value_normalized, coalesce(value_valid, false) AS valid, platform FROM selectors",
        ),
        ("rel", "SELECT kind, from_id, to_id FROM relationships"),
        (
            "comm_values",
            "SELECT DISTINCT s.investigation_id, coalesce(c.platform, '') AS platform, "
            "c.from_selector AS value FROM communications c "
            "JOIN communications_sources s ON s.event_key = c.event_key "
            "UNION SELECT s.investigation_id, coalesce(c.platform, ''), c.to_selector "
            "FROM communications c JOIN communications_sources s ON s.event_key = c.event_key",
        ),
    ]
    if not recompute:
        tables.append(
            ("stored", "SELECT target_id, agency_id, other_agency_id, basis FROM conflicts")
        )
    with open_workspace(workspace, read_only=True) as ws:
        found, credited, owners = recomputed(ws)
        register_table(con, credited, "credited")
        register_table(con, owners, "owners")
        if recompute:
            register_table(con, found, "stored")
        for name, sql in tables:
            register_table(con, ws.store.query(sql), name)
    truth = folder / "truth"
    bases = "[" + ", ".join(f"'{b}'" for b in conflicts.BASES) + "]"
    con.execute(
        f"""
        CREATE TEMP TABLE truth AS SELECT record_id, entity_id AS g,
            discoverable <> 'false' AS discoverable
        FROM read_csv('{truth / "records.csv"}', all_varchar = true);
        CREATE TEMP TABLE truth_overlaps AS SELECT DISTINCT entity_id AS g, agency_a AS a,
            agency_b AS b FROM read_csv('{truth / "overlaps.csv"}', all_varchar = true)
        WHERE agency_a <> agency_b;
        -- Each subject record: its agency, its entity, its true person.
        CREATE TEMP TABLE side AS
        SELECT s.record_id, i.agency_id AS agency, m.entity_id AS e, t.g, t.discoverable
        FROM subj s JOIN inv i USING (investigation_id)
        LEFT JOIN members m ON m.record_id = s.record_id AND m.record_type = 'subjects'
        JOIN truth t ON t.record_id = s.record_id;
        CREATE TEMP TABLE sel_keys AS
        SELECT s.record_id, s.subject_id, i.agency_id AS agency, {key} AS key
        FROM sel s JOIN inv i USING (investigation_id) WHERE s.valid;
        -- Which entity uses which selector key (its own selector records and stated
        -- uses_selector ties, as resolution reads them).
        CREATE TEMP TABLE uses AS SELECT DISTINCT k.key, k.subject_id, sd.e, sd.g FROM (
            SELECT subject_id, key FROM sel_keys WHERE subject_id IS NOT NULL
            UNION ALL
            SELECT r.from_id, k.key FROM rel r JOIN sel_keys k ON k.record_id = r.to_id
            WHERE r.kind = 'uses_selector'
        ) k JOIN side sd ON sd.record_id = k.subject_id;
        CREATE TEMP TABLE key_users AS SELECT key, count(DISTINCT e) AS entities,
            count(DISTINCT g) AS people, count(DISTINCT subject_id) AS records
        FROM uses GROUP BY key;
        -- Where each selector key is held, by agency: selector records, any end of a
        -- communication.
        CREATE TEMP TABLE held AS
        SELECT key, agency, 'record' AS how FROM sel_keys
        UNION
        SELECT {comm_key}, i.agency_id, 'comms' FROM comm_values c
        JOIN inv i USING (investigation_id);
        CREATE TEMP TABLE hit AS SELECT DISTINCT o.* FROM truth_overlaps o
        JOIN side s ON s.g = o.g
        JOIN stored c ON c.target_id = s.e AND c.agency_id = o.a AND c.other_agency_id = o.b;
        CREATE TEMP TABLE missed AS SELECT * FROM truth_overlaps EXCEPT SELECT * FROM hit;
        -- A cross-agency conflict is in the truth when a person of the target's subject
        -- records is in subject records of both agencies.
        -- Its basis: the strongest of its rows' (one per pair of divisions).
        CREATE TEMP TABLE raised AS
        SELECT c.target_id, least(c.agency_id, c.other_agency_id) AS a,
            greatest(c.agency_id, c.other_agency_id) AS b,
            bool_or(EXISTS (SELECT 1 FROM side s JOIN truth_overlaps o ON o.g = s.g
                    AND least(o.a, o.b) = least(c.agency_id, c.other_agency_id)
                    AND greatest(o.a, o.b) = greatest(c.agency_id, c.other_agency_id)
                    WHERE s.e = c.target_id)) AS in_truth,
            {bases}[min(coalesce(list_position({bases}, c.basis), {len(conflicts.BASES) + 1}))]
                AS basis
        FROM stored c WHERE c.agency_id <> c.other_agency_id GROUP BY ALL;
        """
    )
    return con


def classify(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per missed overlap with its cause (the first of ``CAUSES`` that applies)."""
    rows = con.execute(
        """
        WITH frag AS (   -- the fragments of G on each side of a missed overlap
            SELECT m.g, m.a, m.b, s.e, s.agency AS here,
                CASE WHEN s.agency = m.a THEN m.b ELSE m.a END AS there,
                bool_and(NOT s.discoverable) AS undiscoverable
            FROM missed m JOIN side s ON s.g = m.g AND s.agency IN (m.a, m.b)
            GROUP BY ALL
        ), both_sides AS (
            SELECT g, a, b FROM frag GROUP BY g, a, b, e HAVING count(DISTINCT here) = 2
        ), fkeys AS (   -- each fragment's selectors, and whether it owns them
            SELECT f.g, f.a, f.b, f.e, f.here, f.there, u.key, ku.people,
                EXISTS (SELECT 1 FROM owners o WHERE o.key = u.key AND o.entity_id = f.e)
                    AS owned
            FROM frag f JOIN uses u ON u.e = f.e JOIN key_users ku ON ku.key = u.key
        ), evidence AS (
            -- a fragment's selector held by the other side, and how
            SELECT k.g, k.a, k.b, k.owned, k.people, h.how FROM fkeys k
            JOIN held h ON h.key = k.key AND h.agency = k.there
            UNION ALL
            -- a selector used by a fragment on each side
            SELECT k1.g, k1.a, k1.b, false, k1.people, 'linked' FROM fkeys k1
            JOIN fkeys k2 ON k2.g = k1.g AND k2.a = k1.a AND k2.b = k1.b
                AND k2.key = k1.key AND k2.here <> k1.here AND k2.e <> k1.e
        ), flags AS (
            SELECT g, a, b,
                bool_or(owned AND how = 'comms') AS toll_records_contact,
                bool_or(NOT owned AND people = 1) AS fragments_share_selector,
                bool_or(NOT owned AND people > 1) AS shared_with_other_people
            FROM evidence GROUP BY g, a, b
        )
        SELECT m.g, m.a, m.b,
            EXISTS (SELECT 1 FROM both_sides x WHERE x.g = m.g AND x.a = m.a AND x.b = m.b),
            EXISTS (SELECT 1 FROM frag x JOIN credited c ON c.target_id = x.e
                    JOIN inv i ON i.investigation_id = c.investigation_id
                    WHERE x.g = m.g AND x.a = m.a AND x.b = m.b AND i.agency_id = x.there),
            coalesce(f.toll_records_contact, false),
            coalesce(f.fragments_share_selector, false),
            coalesce(f.shared_with_other_people, false),
            coalesce((SELECT bool_or(x.undiscoverable) FROM frag x
                      WHERE x.g = m.g AND x.a = m.a AND x.b = m.b), false),
            (SELECT count(DISTINCT x.e) FROM frag x WHERE x.g = m.g AND x.a = m.a AND x.b = m.b)
        FROM missed m LEFT JOIN flags f ON f.g = m.g AND f.a = m.a AND f.b = m.b
        ORDER BY m.g, m.a, m.b
        """
    ).fetchall()
    out = []
    for g, a, b, *flags, undiscoverable, fragments in rows:
        cause = next((c for c, f in zip(CAUSES, flags, strict=False) if f), "recall")
        out.append(
            {
                "person": g,
                "agencies": [a, b],
                "cause": cause,
                "undiscoverable": bool(undiscoverable),
                "fragments": int(fragments),
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a synthetic operation (with truth/)")
    parser.add_argument("-w", "--workspace", required=True, help="a resolved workspace")
    parser.add_argument("--details", type=int, default=0, help="list this many misses")
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="score the conflicts this code's rule finds on the stored resolution, not the "
        "stored conflicts",
    )
    args = parser.parse_args(argv)
    con = load(args.folder, args.workspace, args.recompute)
    row = con.execute(
        "SELECT (SELECT count(*) FROM truth_overlaps), (SELECT count(*) FROM hit)"
    ).fetchone()
    total, found = (int(x) for x in row) if row else (0, 0)
    misses = classify(con)
    causes = Counter(m["cause"] for m in misses)
    raised = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE in_truth), count(DISTINCT target_id) FROM raised"
    ).fetchone()
    possible = ", ".join(f"'{b}'" for b in conflicts.POSSIBLE_BASES)
    confirmed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE in_truth) FROM raised "
        f"WHERE basis IS NULL OR basis NOT IN ({possible})"
    ).fetchone()
    by_basis = con.execute(
        "SELECT coalesce(basis, 'none'), count(*), count(*) FILTER (WHERE in_truth) FROM raised "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    out: dict[str, Any] = {
        "operation": str(args.folder),
        "conflicts": "recomputed" if args.recompute else "stored",
        "truth_cross_agency_overlaps": total,
        "found": found,
        "recall": round(found / total, 4) if total else 1.0,
        "missed": len(misses),
        "causes": {c: causes.get(c, 0) for c in CAUSES},
        "undiscoverable": sum(m["undiscoverable"] for m in misses),
        "raised": dict(
            zip(("target_agency_pairs", "in_truth", "targets"), raised or (), strict=True)
        ),
        "raised_confirmed": dict(
            zip(("target_agency_pairs", "in_truth"), confirmed or (), strict=True)
        ),
        "raised_by_basis": {str(b): {"pairs": n, "in_truth": t} for b, n, t in by_basis},
    }
    if args.details:
        out["details"] = misses[: args.details]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
