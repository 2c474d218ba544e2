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
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from lastmile.model import RECORD_TYPES_BY_NAME, SelectorKind
from lastmile.selectors import guess_kind, normalize, selector_key
from lastmile.server.auth import Principal, Refusal, utcnow
from lastmile.store import Workspace
from lastmile.store.schema import record_columns

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


def _agency_notice(ws: Workspace, agency_id: str) -> dict[str, Any]:
    rows = _dicts(
        ws,
        "SELECT agency_id, name, poc_name, poc_phone_normalized AS poc_phone, "
        "poc_email_normalized AS poc_email FROM agencies WHERE agency_id = ?",
        [agency_id],
    )
    return rows[0] if rows else {"agency_id": agency_id, "name": agency_id}


def target_conflicts(ws: Workspace, p: Principal) -> list[dict[str, Any]]:
    """Entities the caller sees that another agency also works in investigations hidden from
    the caller: for each, the caller's own records of it and the other agency's contact."""
    vis, params = visible_sql(p)
    rows = ws.store.rows(
        "WITH m AS (SELECT em.entity_id, r.record_type, r.record_id, r.investigation_id, "
        f"i.agency_id, r.investigation_id IN ({vis}) AS visible "
        f"FROM entity_members em JOIN ({MEMBERS_SQL}) r ON r.record_type = em.record_type "
        "AND r.record_id = em.record_id "
        "JOIN investigations i ON i.investigation_id = r.investigation_id) "
        "SELECT DISTINCT v.entity_id, v.record_type, v.record_id, v.investigation_id, "
        "h.agency_id FROM m v JOIN m h ON h.entity_id = v.entity_id "
        "WHERE v.visible AND NOT h.visible AND h.agency_id <> ? "
        "AND h.agency_id NOT IN (SELECT agency_id FROM agency_access WHERE disabled) "
        "ORDER BY v.entity_id, h.agency_id, v.record_type, v.record_id",
        [*params, p.agency_id],
    )
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entity_id, rtype, rid, inv, agency in rows:
        rec = {"record_type": rtype, "record_id": rid, "investigation_id": inv}
        if rec not in grouped[(entity_id, agency)]:
            grouped[(entity_id, agency)].append(rec)
    return [
        {
            "kind": "target",
            "entity_id": entity_id,
            "your_records": recs,
            "other_agency": _agency_notice(ws, agency),
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
    others = sorted({r[2] for r in rows if not r[3]})
    return {
        "selector": key,
        "valid": norm.valid,
        "your_records": mine,
        "conflicts": [{"kind": "target", "other_agency": _agency_notice(ws, a)} for a in others],
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
