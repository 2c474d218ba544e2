"""Need-to-know, written once: every read of case data goes through this module.

The rule (docs/server.md, "Need-to-know"):

- An analyst or supervisor sees in full the investigations of their own agency and those
  shared with their agency or with them by name. An admin or auditor sees case data only when
  an investigation is shared with them by name (they manage accounts and read the audit trail;
  they are not on the case).
- A disabled agency's investigations are seen by nobody, and shares to it stop (its users
  cannot sign in).
- A record is visible when its investigation is. An entity exists for a user when at least one
  of its member records is visible, and shows only the names and selectors of those records.
- Another agency's overlap shows only as a conflict notice: that agency's name and point of
  contact, never its records, investigations, their number or their names.
- The operation report's totals and breakdowns are aggregates; every signed-in user sees them.

:func:`visible_sql` is the one definition of "visible"; every function below filters with it,
in SQL with parameters (never values pasted into SQL).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from lastmile.model import RECORD_TYPES_BY_NAME, SelectorKind
from lastmile.selectors import guess_kind, normalize, selector_key
from lastmile.server.auth import Principal, Refusal
from lastmile.store import Workspace
from lastmile.store.schema import record_columns
from lastmile.times import utcnow

CASE_ROLES = ("analyst", "supervisor")  # read their own agency's cases
SHARE_ROLE = "supervisor"
UPLOAD_ROLES = ("analyst", "supervisor")

# Record types kept per investigation (communications: one row per source, with its event).
RECORD_TABLES = (
    "subjects",
    "organizations",
    "selectors",
    "relationships",
    "arrests",
    "drug_seizures",
    "firearm_seizures",
    "currency_seizures",
    "posts",
)
EXPORTS = ("investigations", *RECORD_TABLES, "communications")
MAX_LIMIT = 500


class NotFound(Refusal):
    """Missing, or hidden from the caller: the two answer the same."""

    default_status = 404


class Forbidden(Refusal):
    default_status = 403


def visible_sql(p: Principal) -> tuple[str, list[Any]]:
    """SQL selecting the ``investigation_id`` of every investigation ``p`` may see, with its
    parameters. The only definition of need-to-know in lastmile."""
    sql = (
        "SELECT vi.investigation_id FROM investigations vi "
        "WHERE vi.agency_id NOT IN (SELECT agency_id FROM agency_access WHERE disabled) "
        "AND ((? AND vi.agency_id = ?) OR vi.investigation_id IN ("
        "SELECT vs.investigation_id FROM shares vs WHERE vs.revoked_at IS NULL "
        "AND (vs.username = ? OR (? AND vs.agency_id = ?))))"
    )
    own = p.role in CASE_ROLES
    return sql, [own, p.agency_id, p.username, own, p.agency_id]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _dicts(ws: Workspace, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    table = ws.store.query(sql, params)
    names = table.column_names
    return (
        [
            {n: _plain(v) for n, v in zip(names, row, strict=True)}
            for row in zip(*(table.column(n).to_pylist() for n in names), strict=True)
        ]
        if table.num_rows
        else []
    )


def _fields(name: str) -> list[str]:
    return [c for c, _ in record_columns(RECORD_TYPES_BY_NAME[name])]


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


# -- investigations ----------------------------------------------------------------------------


def list_investigations(
    ws: Workspace, p: Principal, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    vis, params = visible_sql(p)
    cols = ", ".join(f"i.{c}" for c in _fields("investigations"))
    return _dicts(
        ws,
        f"SELECT {cols} FROM investigations i WHERE i.investigation_id IN ({vis}) "
        "ORDER BY i.investigation_id LIMIT ? OFFSET ?",
        [*params, _limit(limit), max(0, offset)],
    )


def _visible_investigation(ws: Workspace, p: Principal, investigation_id: str) -> dict[str, Any]:
    vis, params = visible_sql(p)
    cols = ", ".join(f"i.{c}" for c in _fields("investigations"))
    rows = _dicts(
        ws,
        f"SELECT {cols} FROM investigations i WHERE i.investigation_id = ? "
        f"AND i.investigation_id IN ({vis})",
        [investigation_id, *params],
    )
    if not rows:
        raise NotFound(f"no investigation {investigation_id!r}")
    return rows[0]


def get_investigation(
    ws: Workspace, p: Principal, investigation_id: str, limit: int = 200
) -> dict[str, Any]:
    """An investigation the caller may see, with its records (each list up to ``limit``);
    :class:`NotFound` for one hidden or missing alike."""
    out = _visible_investigation(ws, p, investigation_id)
    n = _limit(limit)
    records: dict[str, list[dict[str, Any]]] = {}
    for name in RECORD_TABLES:
        cols = ", ".join(_fields(name))
        key = RECORD_TYPES_BY_NAME[name].id_column
        records[name] = _dicts(
            ws,
            f"SELECT {cols} FROM {name} WHERE investigation_id = ? ORDER BY {key} LIMIT ?",
            [investigation_id, n],
        )
    records["communications"] = _dicts(
        ws,
        "SELECT s.communication_id, e.time, e.from_selector, e.to_selector, e.kind, "
        "e.platform, e.duration_s FROM communications_sources s "
        "JOIN communications e ON e.event_key = s.event_key "
        "WHERE s.investigation_id = ? ORDER BY e.time, s.communication_id LIMIT ?",
        [investigation_id, n],
    )
    out["records"] = records
    return out


# -- entities ----------------------------------------------------------------------------------

# The records an entity is made of, with what they say of it.
MEMBERS_SQL = (
    "SELECT 'subjects' AS record_type, subject_id AS record_id, investigation_id, "
    "coalesce(full_name, concat_ws(' ', given_name, family_name)) AS name, "
    "concat_ws('|', aliases, monikers) AS aliases, CAST(NULL AS TEXT) AS selector "
    "FROM subjects "
    "UNION ALL SELECT 'organizations', organization_id, investigation_id, name, aliases, "
    "CAST(NULL AS TEXT) FROM organizations "
    "UNION ALL SELECT 'selectors', selector_id, investigation_id, CAST(NULL AS TEXT), "
    "CAST(NULL AS TEXT), kind || ':' || coalesce(value_normalized, value) FROM selectors"
)


def _visible_members_sql(p: Principal) -> tuple[str, list[Any]]:
    vis, params = visible_sql(p)
    return (
        "SELECT em.entity_id, r.record_type, r.record_id, r.investigation_id, r.name, "
        "r.aliases, r.selector FROM entity_members em "
        f"JOIN ({MEMBERS_SQL}) r ON r.record_type = em.record_type "
        "AND r.record_id = em.record_id "
        f"WHERE r.investigation_id IN ({vis})",
        params,
    )


def list_entities(
    ws: Workspace, p: Principal, kind: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Entities with at least one visible record, named from visible records only."""
    members, params = _visible_members_sql(p)
    where = "WHERE e.kind = ?" if kind else ""
    return _dicts(
        ws,
        f"SELECT e.entity_id, e.kind, min(coalesce(m.name, m.selector)) AS name, "
        "count(*) AS records, count(DISTINCT m.investigation_id) AS investigations "
        f"FROM entities e JOIN ({members}) m ON m.entity_id = e.entity_id {where} "
        "GROUP BY e.entity_id, e.kind ORDER BY e.entity_id LIMIT ? OFFSET ?",
        [*params, *([kind] if kind else []), _limit(limit), max(0, offset)],
    )


def _split(text: Any) -> list[str]:
    return [t.strip() for t in str(text or "").split("|") if t.strip()]


def get_entity(ws: Workspace, p: Principal, entity_id: str) -> dict[str, Any]:
    """One entity as the caller may see it; NotFound when none of its records is visible."""
    members, params = _visible_members_sql(p)
    rows = _dicts(
        ws,
        f"SELECT e.kind, m.record_type, m.record_id, m.investigation_id, m.name, m.aliases, "
        f"m.selector FROM entities e JOIN ({members}) m ON m.entity_id = e.entity_id "
        "WHERE e.entity_id = ? ORDER BY m.record_type, m.record_id",
        [*params, entity_id],
    )
    if not rows:
        raise NotFound(f"no entity {entity_id!r}")
    names: list[str] = []
    selectors: list[str] = []
    for r in rows:
        for n in [r["name"], *_split(r["aliases"])]:
            if n and n not in names:
                names.append(n)
        if r["selector"] and r["selector"] not in selectors:
            selectors.append(r["selector"])
    return {
        "entity_id": entity_id,
        "kind": rows[0]["kind"],
        "name": names[0] if names else (selectors[0] if selectors else entity_id),
        "names": names,
        "selectors": selectors,
        "records": [
            {k: r[k] for k in ("record_type", "record_id", "investigation_id")} for r in rows
        ],
    }


# -- search ------------------------------------------------------------------------------------

# Every searchable field: names, aliases, selectors, identifiers and case numbers.
_HAYSTACK = (
    ("investigations", "investigation_id", ("investigation_id", "case_number")),
    (
        "subjects",
        "subject_id",
        ("subject_id", "full_name", "given_name", "family_name", "aliases", "monikers"),
    ),
    ("organizations", "organization_id", ("organization_id", "name", "aliases")),
    ("selectors", "selector_id", ("selector_id", "value", "value_normalized")),
    ("posts", "post_id", ("post_id", "author")),
)


def _haystack_sql() -> str:
    parts = []
    for table, key, fields in _HAYSTACK:
        for f in fields:
            parts.append(
                f"SELECT '{table}' AS record_type, {key} AS record_id, investigation_id, "
                f"'{f}' AS field, CAST({f} AS TEXT) AS value FROM {table} WHERE {f} IS NOT NULL"
            )
    return " UNION ALL ".join(parts)


def _like_pattern(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(ws: Workspace, p: Principal, q: str, limit: int = 50) -> list[dict[str, Any]]:
    """Records whose names, aliases, selectors, ids or case numbers contain ``q`` (case
    folded), or whose selector normalizes to the same value; visible records only."""
    q = q.strip()
    if not q:
        raise Refusal("search text is empty")
    if len(q) > 200:
        raise Refusal("search text is longer than 200 characters")
    kind = guess_kind(q)
    norm = normalize(kind, q)
    exact = norm.value if norm.valid else q
    vis, params = visible_sql(p)
    return _dicts(
        ws,
        "SELECT h.record_type, h.record_id, h.investigation_id, h.field, h.value, "
        f"em.entity_id FROM ({_haystack_sql()}) h "
        "LEFT JOIN entity_members em ON em.record_type = h.record_type "
        "AND em.record_id = h.record_id "
        f"WHERE h.investigation_id IN ({vis}) "
        "AND (lower(h.value) LIKE ? ESCAPE '\\' OR h.value = ?) "
        "ORDER BY h.record_type, h.record_id, h.field LIMIT ?",
        [*params, _like_pattern(q), exact, _limit(limit)],
    )


# -- conflicts (target deconfliction) ----------------------------------------------------------


# Which investigation each subject, organization and selector record is in (what entity
# membership and need-to-know join on; lighter than MEMBERS_SQL, which also carries names).
RECORDS_SQL = (
    "SELECT 'subjects' AS record_type, subject_id AS record_id, investigation_id FROM subjects "
    "UNION ALL SELECT 'organizations', organization_id, investigation_id FROM organizations "
    "UNION ALL SELECT 'selectors', selector_id, investigation_id FROM selectors"
)


def _agency_notices(ws: Workspace, agencies: set[str]) -> dict[str, dict[str, Any]]:
    """Conflict notices' contacts for several agencies, in one query."""
    if not agencies:
        return {}
    ids = sorted(agencies)
    rows = _dicts(
        ws,
        "SELECT agency_id, name, poc_name, poc_phone_normalized AS poc_phone, "
        f"poc_email_normalized AS poc_email FROM agencies WHERE agency_id IN ({_marks(len(ids))})",
        ids,
    )
    found = {str(r["agency_id"]): r for r in rows}
    return {a: found.get(a, {"agency_id": a, "name": a}) for a in ids}


def target_conflicts(ws: Workspace, p: Principal) -> list[dict[str, Any]]:
    """Entities the caller sees that another agency also works in investigations hidden from
    the caller: for each, the caller's own records of it and the other agency's contact."""
    vis, params = visible_sql(p)
    rows = ws.store.rows(
        f"WITH vi AS ({vis}), "
        "m AS (SELECT em.entity_id, r.record_type, r.record_id, r.investigation_id "
        f"FROM entity_members em JOIN ({RECORDS_SQL}) r ON r.record_type = em.record_type "
        "AND r.record_id = em.record_id), "
        "v AS (SELECT * FROM m WHERE investigation_id IN (SELECT investigation_id FROM vi)), "
        "h AS (SELECT DISTINCT m.entity_id, i.agency_id FROM m "
        "JOIN investigations i ON i.investigation_id = m.investigation_id "
        "WHERE m.entity_id IN (SELECT entity_id FROM v) "
        "AND m.investigation_id NOT IN (SELECT investigation_id FROM vi) "
        f"AND i.agency_id <> ? AND i.agency_id NOT IN ({_DISABLED})) "
        "SELECT DISTINCT v.entity_id, v.record_type, v.record_id, v.investigation_id, "
        "h.agency_id FROM v JOIN h ON h.entity_id = v.entity_id "
        "ORDER BY v.entity_id, h.agency_id, v.record_type, v.record_id",
        [*params, p.agency_id],
    )
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entity_id, rtype, rid, inv, agency in rows:
        grouped[(entity_id, agency)].append(
            {"record_type": rtype, "record_id": rid, "investigation_id": inv}
        )
    notices = _agency_notices(ws, {a for _, a in grouped})
    return [
        {
            "kind": "target",
            "entity_id": entity_id,
            "your_records": recs,
            "other_agency": notices[agency],
        }
        for (entity_id, agency), recs in grouped.items()
    ]


def deconflict_selector(
    ws: Workspace, p: Principal, value: str, kind: str | None = None
) -> dict[str, Any]:
    """Target deconfliction of one selector: the caller's records that hold it, and for each
    other agency that holds it in a case hidden from the caller, that agency's contact."""
    value = value.strip()
    if not value or len(value) > 200:
        raise Refusal("a selector of 1 to 200 characters is needed")
    try:
        k = SelectorKind(kind) if kind else guess_kind(value)
    except ValueError:
        raise Refusal(
            f"kind {kind!r}: expected one of {', '.join(s.value for s in SelectorKind)}"
        ) from None
    norm = normalize(k, value)
    key = selector_key(k, norm.value)
    vis, params = visible_sql(p)
    rows = ws.store.rows(
        "SELECT s.selector_id, s.investigation_id, i.agency_id, "
        f"s.investigation_id IN ({vis}) AS visible FROM selectors s "
        "JOIN investigations i ON i.investigation_id = s.investigation_id "
        "WHERE s.value_normalized = ? AND s.kind = ? "
        "AND i.agency_id NOT IN (SELECT agency_id FROM agency_access WHERE disabled) "
        "ORDER BY s.selector_id",
        [*params, norm.value, k.value],
    )
    mine = [{"selector_id": r[0], "investigation_id": r[1]} for r in rows if r[3]]
    notices = _agency_notices(ws, {r[2] for r in rows if not r[3]})
    return {
        "selector": key,
        "valid": norm.valid,
        "your_records": mine,
        "conflicts": [{"kind": "target", "other_agency": n} for _, n in sorted(notices.items())],
    }


# -- exports -----------------------------------------------------------------------------------


def export_table(ws: Workspace, p: Principal, name: str) -> pa.Table:
    """Every visible record of one type (``EXPORTS``), as a table."""
    if name not in EXPORTS:
        raise Refusal(f"export {name!r}: expected one of {', '.join(EXPORTS)}")
    vis, params = visible_sql(p)
    if name == "communications":
        sql = (
            "SELECT s.communication_id, s.investigation_id, e.time, e.from_selector, "
            "e.to_selector, e.kind, e.platform, e.duration_s FROM communications_sources s "
            "JOIN communications e ON e.event_key = s.event_key "
            f"WHERE s.investigation_id IN ({vis}) ORDER BY e.time, s.communication_id"
        )
    else:
        cols = _fields(name)
        key = RECORD_TYPES_BY_NAME[name].id_column
        sql = (
            f"SELECT {', '.join(cols)} FROM {name} WHERE investigation_id IN ({vis}) ORDER BY {key}"
        )
    return ws.store.query(sql, params)


# -- shares ------------------------------------------------------------------------------------


def _own_investigation(ws: Workspace, p: Principal, investigation_id: str) -> None:
    inv = _visible_investigation(ws, p, investigation_id)
    if p.role != SHARE_ROLE or inv["agency_id"] != p.agency_id:
        raise Forbidden("only a supervisor of the investigation's agency shares it")


def list_shares(ws: Workspace, p: Principal, investigation_id: str) -> list[dict[str, Any]]:
    _own_investigation(ws, p, investigation_id)
    return _dicts(
        ws,
        "SELECT share_id, investigation_id, agency_id, username, granted_by, granted_at "
        "FROM shares WHERE investigation_id = ? AND revoked_at IS NULL ORDER BY granted_at",
        [investigation_id],
    )


def share_investigation(
    ws: Workspace,
    p: Principal,
    investigation_id: str,
    agency_id: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """Share an investigation with another agency or with one named user."""
    _own_investigation(ws, p, investigation_id)
    if bool(agency_id) == bool(username):
        raise Refusal("share with an agency_id or with a username (one of the two)")
    if agency_id and not ws.store.rows("SELECT 1 FROM agencies WHERE agency_id = ?", (agency_id,)):
        raise Refusal(f"no agency {agency_id!r}")
    if username and not ws.store.rows("SELECT 1 FROM users WHERE username = ?", (username,)):
        raise Refusal(f"no user {username!r}")
    share = {
        "share_id": uuid.uuid4().hex[:12],
        "investigation_id": investigation_id,
        "agency_id": agency_id or None,
        "username": username or None,
        "granted_by": p.username,
        "granted_at": utcnow(),
    }
    ws.store.execute(
        "INSERT INTO shares VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)", list(share.values())
    )
    return {k: _plain(v) for k, v in share.items()}


def revoke_share(ws: Workspace, p: Principal, investigation_id: str, share_id: str) -> None:
    _own_investigation(ws, p, investigation_id)
    if not ws.store.rows(
        "SELECT 1 FROM shares WHERE share_id = ? AND investigation_id = ? AND revoked_at IS NULL",
        (share_id, investigation_id),
    ):
        raise NotFound(f"no share {share_id!r} of {investigation_id}")
    ws.store.execute(
        "UPDATE shares SET revoked_by = ?, revoked_at = ? WHERE share_id = ?",
        (p.username, utcnow(), share_id),
    )


def require_case_role(p: Principal, roles: tuple[str, ...], what: str) -> None:
    if p.role not in roles:
        raise Forbidden(f"{what} needs the role {' or '.join(roles)}")


def check_upload(
    ws: Workspace, p: Principal, investigation_ids: set[str], agencies: set[str]
) -> None:
    """An upload may add records only to its uploader's agency: investigations of other
    agencies (even shared ones) are refused, and so are investigations.csv rows of another
    agency."""
    other = sorted(a for a in agencies if a != p.agency_id)
    if other:
        raise Forbidden(f"the upload names investigations of other agencies: {', '.join(other)}")
    for inv in sorted(investigation_ids):
        rows = ws.store.rows(
            "SELECT agency_id FROM investigations WHERE investigation_id = ?", (inv,)
        )
        if rows and rows[0][0] != p.agency_id:
            raise Forbidden(f"investigation {inv!r} belongs to another agency")


# -- networks, key players and attribution -----------------------------------------------------
#
# What `lastmile analyze` concludes (migration 0008) is read under the same rule: an entity
# exists for the caller when one of its records is visible; a tie is shown when both its ends
# exist for the caller and at least one record behind it is visible (for a communication tie:
# at least one event with a visible source between selectors that visible records say the two
# ends own). Only the visible records of a tie are listed, and its grades and dates only when
# every record behind it is visible. Whatever else a network holds (entities, records or ties
# the caller may not see) shows only as a conflict notice with the other agency's contact:
# never the hidden path, its size or its names.

# Where the records behind each kind of tie are kept (ties.record_ids).
TIE_RECORDS = {
    "supply": ("relationships", "relationship_id"),
    "membership": ("relationships", "relationship_id"),
    "association": ("relationships", "relationship_id"),
    "family": ("relationships", "relationship_id"),
    "co_arrest": ("arrests", "arrest_id"),
    "shared_selector": ("selectors", "selector_id"),
}
_CHUNK = 500


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _entity_names(ws: Workspace, p: Principal, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The entities of ``ids`` that exist for the caller: kind and a name from visible
    records."""
    members, params = _visible_members_sql(p)
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for entity_id, kind, name in ws.store.rows(
            "SELECT e.entity_id, e.kind, min(coalesce(m.name, m.selector)) FROM entities e "
            f"JOIN ({members}) m ON m.entity_id = e.entity_id "
            f"WHERE e.entity_id IN ({_marks(len(chunk))}) GROUP BY e.entity_id, e.kind",
            [*params, *chunk],
        ):
            out[str(entity_id)] = {"entity_id": str(entity_id), "kind": kind, "name": name}
    return out


def _hidden_agencies(ws: Workspace, p: Principal, entity_ids: list[str]) -> set[str]:
    """Agencies holding records of these entities in investigations hidden from the caller
    (any agency: :func:`_other_agencies` keeps those a notice may name)."""
    vis, params = visible_sql(p)
    out: set[str] = set()
    for chunk in _chunks(sorted(set(entity_ids))):
        out |= {
            str(r[0])
            for r in ws.store.rows(
                "SELECT DISTINCT i.agency_id FROM entity_members em "
                f"JOIN ({MEMBERS_SQL}) r ON r.record_type = em.record_type "
                "AND r.record_id = em.record_id "
                "JOIN investigations i ON i.investigation_id = r.investigation_id "
                f"WHERE em.entity_id IN ({_marks(len(chunk))}) "
                f"AND r.investigation_id NOT IN ({vis})",
                [*chunk, *params],
            )
        }
    return out


def _other_agencies(ws: Workspace, p: Principal, agencies: set[str]) -> set[str]:
    disabled = {str(r[0]) for r in ws.store.rows(_DISABLED)}
    return {a for a in agencies if a != p.agency_id and a not in disabled}


_DISABLED = "SELECT agency_id FROM agency_access WHERE disabled"


def _records_seen(
    ws: Workspace, p: Principal, table: str, key: str, ids: list[str]
) -> dict[str, tuple[bool, set[str]]]:
    """For each record id: whether the caller sees it (every row with that id visible, so a
    reused id never opens a hidden record) and the agencies holding it."""
    vis, params = visible_sql(p)
    seen: dict[str, tuple[bool, set[str]]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for rid, agency, visible in ws.store.rows(
            f"SELECT r.{key}, i.agency_id, r.investigation_id IN ({vis}) FROM {table} r "
            "JOIN investigations i ON i.investigation_id = r.investigation_id "
            f"WHERE r.{key} IN ({_marks(len(chunk))})",
            [*params, *chunk],
        ):
            ok, agencies = seen.get(str(rid), (True, set()))
            seen[str(rid)] = (ok and bool(visible), agencies | {str(agency)})
    return seen


def _owners_sql(p: Principal, n: int) -> tuple[str, list[Any]]:
    """Which of ``n`` entities (placeholders) own which selector values, by visible records
    only: a visible selector record of a visible subject, or a visible uses_selector / owns
    relationship."""
    vis, params = visible_sql(p)
    sql = (
        "SELECT DISTINCT s.value_normalized AS value, o.entity_id AS owner FROM selectors s "
        "JOIN subjects sj ON sj.subject_id = s.subject_id "
        "JOIN entity_members o ON o.record_type = 'subjects' AND o.record_id = s.subject_id "
        f"WHERE s.investigation_id IN ({vis}) AND sj.investigation_id IN ({vis}) "
        f"AND o.entity_id IN ({_marks(n)}) "
        "UNION SELECT DISTINCT s.value_normalized, o.entity_id FROM relationships r "
        "JOIN selectors s ON s.selector_id = r.to_id "
        "JOIN entity_members o ON o.record_type = 'subjects' AND o.record_id = r.from_id "
        "WHERE r.kind IN ('uses_selector', 'owns') "
        f"AND r.investigation_id IN ({vis}) AND s.investigation_id IN ({vis}) "
        f"AND o.entity_id IN ({_marks(n)})"
    )
    return sql, [params, params, params, params]


def _visible_calls(ws: Workspace, p: Principal, entities: list[str]) -> dict[tuple[str, str], int]:
    """Events with a visible source between selectors the entities own (by visible records):
    how many for each pair (smaller id first)."""
    if len(entities) < 2:
        return {}
    vis, vparams = visible_sql(p)
    owners, groups = _owners_sql(p, len(entities))
    params = [*groups[0], *groups[1], *entities, *groups[2], *groups[3], *entities, *vparams]
    return {
        (str(a), str(b)): int(n)
        for a, b, n in ws.store.rows(
            f"WITH o AS ({owners}) "
            "SELECT least(f.owner, t.owner), greatest(f.owner, t.owner), "
            "count(DISTINCT c.event_key) FROM communications_sources src "
            "JOIN communications c ON c.event_key = src.event_key "
            "JOIN o f ON f.value = c.from_selector JOIN o t ON t.value = c.to_selector "
            f"WHERE src.investigation_id IN ({vis}) AND f.owner <> t.owner "
            "GROUP BY least(f.owner, t.owner), greatest(f.owner, t.owner)",
            params,
        )
    }


def _judge_ties(
    ws: Workspace, p: Principal, ties: list[dict[str, Any]], entities: set[str]
) -> tuple[list[dict[str, Any]], set[str], bool]:
    """The ties the caller may see (between ``entities``, those that exist for the caller),
    each with its visible records only; the agencies holding hidden records of them; and
    whether every tie was shown whole."""
    shown: list[dict[str, Any]] = []
    agencies: set[str] = set()
    whole = True
    seen: dict[str, dict[str, tuple[bool, set[str]]]] = {}
    for kind, (table, key) in TIE_RECORDS.items():
        ids = [i for t in ties if t["kind"] == kind for i in _split(t["record_ids"])]
        if ids:
            seen.setdefault(table, {}).update(_records_seen(ws, p, table, key, ids))
    calls = _visible_calls(
        ws,
        p,
        sorted(
            {t["source"] for t in ties if t["kind"] == "communication"}
            | {t["target"] for t in ties if t["kind"] == "communication"}
        )
        if any(t["kind"] == "communication" for t in ties)
        else [],
    )
    for t in ties:
        ends_seen = t["source"] in entities and t["target"] in entities
        if t["kind"] == "communication":
            pair = (min(t["source"], t["target"]), max(t["source"], t["target"]))
            n = calls.get(pair, 0) if ends_seen else 0
            visible_ids: list[str] = []
            complete = n >= int(t["records"] or 0)
        else:
            table_key = TIE_RECORDS.get(t["kind"])
            verdicts = seen.get(table_key[0], {}) if table_key else {}
            ids = _split(t["record_ids"])
            visible_ids = [i for i in ids if verdicts.get(i, (False, set()))[0]]
            for i in ids:
                if not verdicts.get(i, (False, set()))[0]:
                    agencies |= verdicts.get(i, (False, set()))[1]
            n = len(visible_ids) if ends_seen else 0
            complete = len(visible_ids) == len(ids)
        if n == 0:
            whole = False
            continue
        whole = whole and complete
        shown.append(
            {
                "source": t["source"],
                "target": t["target"],
                "kind": t["kind"],
                "records": n,
                "record_ids": visible_ids,
                "grades": _split(t["grades"]) if complete else None,
                "first_at": t["first_at"] if complete else None,
                "last_at": t["last_at"] if complete else None,
            }
        )
    return shown, _other_agencies(ws, p, agencies), whole


def _notices(ws: Workspace, agencies: set[str], **where: Any) -> list[dict[str, Any]]:
    return [
        {"kind": "network", **where, "other_agency": n}
        for _, n in sorted(_agency_notices(ws, agencies).items())
    ]


_NETWORK_COLS = ("network_id", "upstream")
_TIE_COLS = ("source", "target", "kind", "records", "record_ids", "grades", "first_at", "last_at")


class _NetworkView:
    """One network as the caller may see it (or NotFound)."""

    def __init__(self, ws: Workspace, p: Principal, network_id: str) -> None:
        rows = ws.store.rows(
            "SELECT network_id, upstream FROM networks WHERE network_id = ?", (network_id,)
        )
        members = ws.store.rows(
            "SELECT entity_id, community FROM network_members WHERE network_id = ? "
            "ORDER BY entity_id",
            (network_id,),
        )
        ids = [str(m[0]) for m in members]
        self.entities = _entity_names(ws, p, ids)
        if not rows or not self.entities:
            raise NotFound(f"no network {network_id!r}")
        self.network_id = network_id
        self.upstream = bool(rows[0][1])
        self.community = {str(e): c for e, c in members}
        hidden = _hidden_agencies(ws, p, ids)
        all_ties = _dicts(
            ws,
            f"SELECT {', '.join('t.' + c for c in _TIE_COLS)} FROM ties t "
            "WHERE t.source IN (SELECT entity_id FROM network_members WHERE network_id = ?) "
            "AND t.target IN (SELECT entity_id FROM network_members WHERE network_id = ?) "
            "ORDER BY t.kind, t.source, t.target",
            [network_id, network_id],
        )
        self.ties, tie_agencies, ties_whole = _judge_ties(ws, p, all_ties, set(self.entities))
        self.complete = ties_whole and not hidden and len(self.entities) == len(ids)
        self.conflicts = _notices(
            ws, _other_agencies(ws, p, hidden) | tie_agencies, network_id=network_id
        )
        investigations, ip = _visible_members_sql(p)
        self.investigations = sorted(
            {
                str(r[0])
                for chunk in _chunks(sorted(self.entities))
                for r in ws.store.rows(
                    f"SELECT DISTINCT m.investigation_id FROM ({investigations}) m "
                    f"WHERE m.entity_id IN ({_marks(len(chunk))})",
                    [*ip, *chunk],
                )
            }
        )

    def summary(self, ws: Workspace, analysis: dict[str, Any] | None = None) -> dict[str, Any]:
        kinds = [e["kind"] for e in self.entities.values()]
        places = (
            ws.store.rows(
                "SELECT DISTINCT agency_id, city, state, division FROM investigations "
                f"WHERE investigation_id IN ({_marks(len(self.investigations))})",
                self.investigations,
            )
            if self.investigations
            else []
        )

        def distinct(i: int) -> list[str]:
            return sorted({str(r[i]) for r in places if r[i]})

        return {
            "network_id": self.network_id,
            "upstream": self.upstream,
            "people": kinds.count("person"),
            "organizations": kinds.count("organization"),
            "investigations": len(self.investigations),
            "agencies": distinct(0),
            "cities": distinct(1),
            "states": distinct(2),
            "divisions": distinct(3),
            "communities": len({self.community.get(e) for e in self.entities}),
            "complete": self.complete,
            "conflicts": self.conflicts,
            "analysis": analysis_state(ws) if analysis is None else analysis,
        }


def analysis_state(ws: Workspace) -> dict[str, Any] | None:
    """When the stored analysis ran and whether a resolution finished after it began: a
    stale analysis may name entity ids that a later resolution merged or split, so every
    network answer says so rather than passing old networks off as current (the server never
    reruns the analysis itself: it is minutes of work, started by ``lastmile analyze``)."""
    from lastmile.network.stored import latest_analysis

    run = latest_analysis(ws)
    if run is None:
        return None
    return {
        "run_id": run.run_id,
        "analysed_at": run.finished_at.isoformat() if run.finished_at else None,
        "fresh": run.fresh,
    }


def list_networks(
    ws: Workspace, p: Principal, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Networks with at least one entity that exists for the caller, counted from what the
    caller sees (never the network's full size)."""
    members, params = _visible_members_sql(p)
    ids = [
        str(r[0])
        for r in ws.store.rows(
            "SELECT DISTINCT nm.network_id FROM network_members nm "
            f"WHERE nm.entity_id IN (SELECT m.entity_id FROM ({members}) m) "
            "ORDER BY nm.network_id LIMIT ? OFFSET ?",
            [*params, _limit(limit), max(0, offset)],
        )
    ]
    state = analysis_state(ws)
    return [_NetworkView(ws, p, n).summary(ws, state) for n in ids]


def get_network(ws: Workspace, p: Principal, network_id: str) -> dict[str, Any]:
    """One network as the caller sees it: its visible members (with their community), the
    ties between them, and conflict notices for what is hidden."""
    view = _NetworkView(ws, p, network_id)
    out = view.summary(ws)
    out["members"] = [
        {**e, "community": view.community.get(e["entity_id"])}
        for e in sorted(view.entities.values(), key=lambda e: e["entity_id"])
    ]
    out["ties"] = view.ties
    return out


def key_players(ws: Workspace, p: Principal, network_id: str) -> dict[str, Any]:
    """The network's key players that exist for the caller, ranked among themselves, with
    their scores; the reasons (which count the whole network) only when the caller sees the
    whole network."""
    view = _NetworkView(ws, p, network_id)
    rows = ws.store.rows(
        "SELECT entity_id, score, why FROM key_players WHERE network_id = ? "
        "ORDER BY rank, entity_id",
        (network_id,),
    )
    players: list[dict[str, Any]] = []
    for entity_id, score, why in rows:
        e = view.entities.get(str(entity_id))
        if e is None:
            continue
        players.append(
            {
                "rank": len(players) + 1,
                **e,
                "score": score,
                "why": why if view.complete else None,
            }
        )
    return {
        "network_id": network_id,
        "complete": view.complete,
        "key_players": players,
        "conflicts": view.conflicts,
        "analysis": analysis_state(ws),
    }


def attribution(ws: Workspace, p: Principal, network_id: str) -> dict[str, Any]:
    """The cartel that supplies a network and how sure: the evidence path through visible
    steps only (a run of hidden steps becomes one notice, never its length), the agencies'
    label and the final reason only when every step is visible."""
    from lastmile.network.attribution import path_steps

    view = _NetworkView(ws, p, network_id)
    rows = ws.store.rows(
        "SELECT cartel, score, label, agrees, path FROM attributions WHERE network_id = ?",
        (network_id,),
    )
    if not rows:
        return {
            "network_id": network_id,
            "cartel": None,
            "score": None,
            "path": [],
            "conflicts": view.conflicts,
            "analysis": analysis_state(ws),
        }
    cartel, score, label, agrees, path = rows[0]
    entities, labels, reason = path_steps(str(path or ""))
    seen = _entity_names(ws, p, entities)
    hops: list[dict[str, Any]] = []
    for a, b, text in zip(entities, entities[1:], labels, strict=False):
        kind = text.split(" ", 1)[0]
        hops += _dicts(
            ws,
            f"SELECT {', '.join(_TIE_COLS)} FROM ties WHERE kind = ? "
            "AND ((source = ? AND target = ?) OR (source = ? AND target = ?))",
            [kind, a, b, b, a],
        )[:1] or [{"source": a, "target": b, "kind": kind, "records": 0, "record_ids": ""}]
    shown, tie_agencies, ties_whole = _judge_ties(ws, p, hops, set(seen))
    visible_hops = {(t["source"], t["target"], t["kind"]) for t in shown}
    steps: list[dict[str, Any]] = []
    hidden_entities: list[str] = []

    def hide() -> None:
        if not steps or steps[-1].get("step") != "hidden":
            steps.append({"step": "hidden"})

    for i, e in enumerate(entities):
        if i > 0:
            hop = hops[i - 1]
            tie = next(
                (
                    t
                    for t in shown
                    if (t["source"], t["target"], t["kind"])
                    == (hop["source"], hop["target"], hop["kind"])
                ),
                None,
            )
            if tie is not None and (hop["source"], hop["target"], hop["kind"]) in visible_hops:
                steps.append({"step": "tie", **tie})
            else:
                hide()
        if e in seen:
            steps.append({"step": "entity", **seen[e]})
        else:
            hidden_entities.append(e)
            hide()
    hidden = _hidden_agencies(ws, p, entities) | tie_agencies
    whole = ties_whole and not hidden_entities and not hidden
    conflicts = _notices(ws, _other_agencies(ws, p, hidden), network_id=network_id)
    for c in view.conflicts:
        if c not in conflicts:
            conflicts.append(c)
    return {
        "network_id": network_id,
        "cartel": cartel,
        "score": score,
        "label": label if view.complete and whole else None,
        "agrees": agrees if view.complete and whole else None,
        "path": steps,
        "reason": reason if whole else None,
        "complete": view.complete and whole,
        "conflicts": conflicts,
        "analysis": analysis_state(ws),
    }


# -- judgements and corrected uploads ------------------------------------------------------------


def check_judgeable(ws: Workspace, p: Principal, record_ids: list[str]) -> None:
    """A user judges only records they may see: each named subject record must be visible
    (every row with its id), else it is missing for them (NotFound, as for no record)."""
    require_case_role(p, CASE_ROLES, "a judgement")
    vis, params = visible_sql(p)
    for rid in record_ids:
        rows = ws.store.rows(
            f"SELECT investigation_id IN ({vis}) FROM subjects WHERE subject_id = ?",
            [*params, rid],
        )
        if not rows or not all(bool(r[0]) for r in rows):
            raise NotFound(f"no subject record {rid!r}")


def possible_matches(
    ws: Workspace,
    p: Principal,
    entity_id: str | None = None,
    min_probability: float = 0.0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The possible matches (lastmile.resolve.review) whose two records the caller may both
    see (every row of each id, as for a judgement), most likely first. Each side is named by
    its record, not by its entity's best name, which a hidden record may have given; the
    count of the entities' record pairs is left out, as it counts hidden records. A pair of
    entities is shown by the best-scored pair of their records that the caller may see
    (every pair is stored, migration 0017), and not at all when the caller sees none."""
    from lastmile.resolve.review import BEST_PAIRS

    vis, params = visible_sql(p)
    seen = (
        "SELECT s.subject_id, min(coalesce(s.full_name, "
        "concat_ws(' ', s.given_name, s.middle_name, s.family_name))) AS name "
        f"FROM subjects s LEFT JOIN ({vis}) v ON v.investigation_id = s.investigation_id "
        "GROUP BY s.subject_id HAVING count(v.investigation_id) = count(*)"
    )
    visible_pairs = (
        "WHERE pm.record_a IN (SELECT subject_id FROM seen) "
        "AND pm.record_b IN (SELECT subject_id FROM seen)"
    )
    where = ["pm.probability >= ?"]
    args: list[Any] = [*params, float(min_probability)]
    if entity_id is not None:
        where.append("(pm.entity_a = ? OR pm.entity_b = ?)")
        args += [entity_id, entity_id]
    return _dicts(
        ws,
        f"WITH seen AS ({seen}) "
        "SELECT pm.entity_a, pm.record_a, a.name AS name_a, pm.entity_b, pm.record_b, "
        "b.name AS name_b, pm.probability, pm.why, pm.evidence "
        f"FROM ({BEST_PAIRS.format(where=visible_pairs)}) pm "
        "JOIN seen a ON a.subject_id = pm.record_a JOIN seen b ON b.subject_id = pm.record_b "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY pm.probability DESC, pm.entity_a, pm.entity_b LIMIT ?",
        [*args, _limit(limit)],
    )


def check_entity_judgeable(ws: Workspace, p: Principal, entity_id: str, records: list[str]) -> None:
    """A split names visible subject records of an entity that exists for the caller."""
    get_entity(ws, p, entity_id)
    check_judgeable(ws, p, records)


def check_supersedes(ws: Workspace, p: Principal, batch_id: str) -> None:
    """A corrected upload replaces only a batch of the uploader's own agency: every record it
    stored is in an investigation of that agency. Another agency's batch answers as a missing
    one does."""
    files = "SELECT file_id FROM source_files WHERE batch_id = ?"
    parts = [
        f"SELECT i.agency_id FROM {table} r JOIN investigations i "
        f"ON i.investigation_id = r.investigation_id WHERE r.source_file_id IN ({files})"
        for table in ("investigations", *RECORD_TABLES, "communications_sources")
    ]
    agencies = {
        str(r[0])
        for r in ws.store.rows(
            f"SELECT DISTINCT agency_id FROM ({' UNION ALL '.join(parts)}) a",
            [batch_id] * len(parts),
        )
    }
    if agencies != {p.agency_id}:
        raise NotFound(f"no batch {batch_id!r} of agency {p.agency_id}")
