"""Event deconfliction: planned operations at the same place and time.

Agencies submit planned operations (search warrant, buy-bust, surveillance, arrest) with a
place (latitude and longitude in degrees, WGS 84; an address kept as text) and a start and an
end. Two submissions conflict when they come from different agencies, or from different
divisions of one agency, lie within ``distance_m`` of each other (great-circle distance by the
haversine formula on a sphere of the Earth's mean radius, 6,371.0088 km, IUGG) and overlap in
time (each starts before the other ends). A conflict is recorded once, when the later of the
two is submitted, and both sides read it at once (a poll and a server-sent event stream); each
is told only the other's agency, division and point of contact, never the other operation's
place, time, kind or address.

The search runs in the store, in SQL (a bounding box on latitude first, then the haversine),
never as a Python loop over operations.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from lastmile.store import Workspace
from lastmile.times import naive_utc, utcnow

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_DISTANCE_M = 1_000.0


class OperationKind(StrEnum):
    SEARCH_WARRANT = "search_warrant"
    BUY_BUST = "buy_bust"
    SURVEILLANCE = "surveillance"
    ARREST = "arrest"


class OperationError(ValueError):
    """A planned operation that cannot be accepted; the message says which field and why."""


@dataclass(frozen=True)
class PlannedOperation:
    agency_id: str
    division: str
    submitted_by: str
    kind: str
    latitude: float
    longitude: float
    address: str
    starts_at: datetime
    ends_at: datetime

    def validate(self) -> None:
        try:
            OperationKind(self.kind)
        except ValueError:
            kinds = ", ".join(k.value for k in OperationKind)
            raise OperationError(f"kind {self.kind!r}: expected one of {kinds}") from None
        for name, value, bound in (
            ("latitude", self.latitude, 90),
            ("longitude", self.longitude, 180),
        ):
            if not math.isfinite(value) or not -bound <= value <= bound:
                raise OperationError(
                    f"{name} {value}: outside the Earth (expected -{bound} to {bound} degrees)"
                )
        if self.ends_at <= self.starts_at:
            raise OperationError(
                f"end {self.ends_at.isoformat()} is not after start {self.starts_at.isoformat()}"
            )
        if len(self.address) > 500:
            raise OperationError("address is longer than 500 characters")


def haversine_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """The great-circle distance in metres between two points, as SQL (DuckDB and PostgreSQL)."""
    return (
        f"2 * {EARTH_RADIUS_M} * asin(sqrt(least(1.0, "
        f"power(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * "
        f"cos(radians({lat2})) * power(sin(radians({lon2} - {lon1}) / 2), 2))))"
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The same distance in Python (for tests and single values)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def submit(
    ws: Workspace, op: PlannedOperation, distance_m: float = DEFAULT_DISTANCE_M
) -> dict[str, Any]:
    """Record a planned operation and the conflicts it makes; returns its id and conflicts."""
    op.validate()
    start, end = naive_utc(op.starts_at), naive_utc(op.ends_at)
    op_id = uuid.uuid4().hex[:16]
    now = utcnow()
    lat_margin = math.degrees(distance_m / EARTH_RADIUS_M)
    dist = haversine_sql("?", "?", "o.latitude", "o.longitude")
    with ws.store.transaction():
        ws.store.execute(
            "INSERT INTO planned_operations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                op_id,
                op.agency_id,
                op.division,
                op.submitted_by,
                op.kind,
                op.latitude,
                op.longitude,
                op.address,
                start,
                end,
                now,
            ),
        )
        found = ws.store.rows(
            f"SELECT o.operation_id, {dist} AS d FROM planned_operations o "
            "WHERE o.operation_id <> ? AND o.starts_at < ? AND o.ends_at > ? "
            "AND (o.agency_id <> ? OR coalesce(o.division, '') <> ?) "
            "AND o.latitude BETWEEN ? AND ? "
            f"AND {dist} <= ? ORDER BY d",
            (
                op.latitude,
                op.latitude,
                op.longitude,
                op_id,
                end,
                start,
                op.agency_id,
                op.division,
                op.latitude - lat_margin,
                op.latitude + lat_margin,
                op.latitude,
                op.latitude,
                op.longitude,
                distance_m,
            ),
        )
        for other_id, d in found:
            ws.store.execute(
                "INSERT INTO operation_conflicts VALUES (?, ?, ?, ?, ?)",
                (uuid.uuid4().hex[:16], op_id, other_id, float(d), now),
            )
    return {"operation_id": op_id, "conflicts": conflicts_of(ws, op.agency_id, operation_id=op_id)}


def conflicts_of(
    ws: Workspace,
    agency_id: str,
    *,
    operation_id: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """The conflicts touching ``agency_id``'s operations: for each, its own operation and the
    other side's agency, division and point of contact only."""
    sides = []
    for mine, theirs in (
        ("operation_id", "other_operation_id"),
        ("other_operation_id", "operation_id"),
    ):
        sides.append(
            "SELECT c.conflict_id, c.detected_at, c.distance_m, m.operation_id, m.kind, "
            "m.address, m.starts_at, m.ends_at, t.agency_id AS other_agency, "
            "t.division AS other_division, a.name, a.poc_name, a.poc_phone_normalized, "
            f"a.poc_email_normalized FROM operation_conflicts c "
            f"JOIN planned_operations m ON m.operation_id = c.{mine} "
            f"JOIN planned_operations t ON t.operation_id = c.{theirs} "
            "LEFT JOIN agencies a ON a.agency_id = t.agency_id WHERE m.agency_id = ?"
        )
    params: list[Any] = [agency_id, agency_id]
    sql = f"SELECT * FROM ({' UNION ALL '.join(sides)}) x WHERE 1 = 1"
    if operation_id:
        sql += " AND x.operation_id = ?"
        params.append(operation_id)
    if since:
        # Exclusive: ``since`` is a cursor, the detected_at of the last notice the caller
        # was given, not to be given twice (resolve.conflicts_of's --since is a time the
        # reader names, inclusive: at worst it repeats, never misses).
        sql += " AND x.detected_at > ?"
        params.append(naive_utc(since))
    sql += " ORDER BY x.detected_at, x.conflict_id"
    out = []
    for row in ws.store.rows(sql, params):
        (
            cid,
            detected,
            dist,
            op_id,
            kind,
            address,
            start,
            end,
            agency,
            division,
            name,
            poc,
            phone,
            email,
        ) = row
        out.append(
            {
                "conflict_id": cid,
                "detected_at": detected.isoformat(),
                "distance_m": round(float(dist), 1),
                "your_operation": {
                    "operation_id": op_id,
                    "kind": kind,
                    "address": address,
                    "starts_at": start.isoformat(),
                    "ends_at": end.isoformat(),
                },
                "other_agency": {
                    "agency_id": agency,
                    "name": name or agency,
                    "division": division or None,
                    "poc_name": poc,
                    "poc_phone": phone,
                    "poc_email": email,
                },
            }
        )
    return out


def operations_of(ws: Workspace, agency_id: str) -> list[dict[str, Any]]:
    rows = ws.store.rows(
        "SELECT operation_id, division, submitted_by, kind, latitude, longitude, address, "
        "starts_at, ends_at, submitted_at FROM planned_operations WHERE agency_id = ? "
        "ORDER BY starts_at, operation_id",
        (agency_id,),
    )
    keys = (
        "operation_id",
        "division",
        "submitted_by",
        "kind",
        "latitude",
        "longitude",
        "address",
        "starts_at",
        "ends_at",
        "submitted_at",
    )
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in zip(keys, r, strict=True)}
        for r in rows
    ]
