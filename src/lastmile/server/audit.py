"""The audit trail: who did what, when, from where, and how many records, for every request
that reads or changes case data, refusals included.

The log is append-only and tamper-evident: entry ``n`` carries ``prev_hash``, the
``entry_hash`` of entry ``n - 1``, and its own ``entry_hash`` is the SHA-256 of its fields
and ``prev_hash``. Editing, inserting or deleting an entry breaks the chain from there on,
which :func:`verify` reports. On PostgreSQL, rules also turn UPDATE and DELETE of the table
into no-ops (migration 0007), so the server's own role cannot rewrite it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from lastmile.export.csvsafe import safe_cell
from lastmile.server.auth import utcnow
from lastmile.store import Workspace
from lastmile.store.backends import SCHEMA_KEY

GENESIS = "0" * 64
COLUMNS = (
    "seq",
    "logged_at",
    "username",
    "agency_id",
    "client",
    "method",
    "path",
    "action",
    "outcome",
    "status",
    "records",
    "detail",
    "prev_hash",
    "entry_hash",
)
_CHAIN_LOCK = 7425  # PostgreSQL advisory lock (per schema): one writer of the chain at a time
VERIFY_BATCH = 10_000


@dataclass(frozen=True)
class Entry:
    username: str
    agency_id: str
    client: str
    method: str
    path: str
    action: str
    outcome: str  # ok, refused or error
    status: int
    records: int = 0
    detail: str = ""


# What an entry's hash covers, besides its number, time and the hash before it: every field of
# Entry, in order (one list, so that a field added to Entry is chained too).
ENTRY_FIELDS = fields(Entry)


def entry_hash(seq: int, at: datetime, e: Entry | dict[str, Any], prev_hash: str) -> str:
    """The SHA-256 (hex) of one entry's fields and the hash before it."""
    get = e.get if isinstance(e, dict) else lambda k: getattr(e, k)
    values = [
        seq,
        at.isoformat(),
        *(get(field.name) for field in ENTRY_FIELDS),
        prev_hash,
    ]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def _chain(ws: Workspace) -> Iterator[None]:
    if ws.kind == "postgresql":
        conn = ws.store.conn  # type: ignore[attr-defined]
        with conn.transaction():
            # Its own lock, not the ingest's: an upload being loaded never holds up the log.
            ws.store.execute(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK}, {SCHEMA_KEY})")
            yield
    else:
        with ws.store.transaction():
            yield


def append(ws: Workspace, e: Entry) -> int:
    """Add one entry at the end of the chain; returns its sequence number."""
    # What callers sent is logged as they sent it, except NUL, which PostgreSQL text refuses.
    e = replace(
        e,
        **{
            f.name: getattr(e, f.name).replace("\x00", "\\x00")
            for f in fields(e)
            if isinstance(getattr(e, f.name), str)
        },
    )
    with _chain(ws):
        last = ws.store.rows("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0][0]) + 1, str(last[0][1])) if last else (1, GENESIS)
        at = utcnow()
        ws.store.execute(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                at,
                e.username,
                e.agency_id,
                e.client,
                e.method,
                e.path,
                e.action,
                e.outcome,
                e.status,
                e.records,
                e.detail,
                prev,
                entry_hash(seq, at, e, prev),
            ),
        )
    return seq


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


def verify(ws: Workspace) -> Verdict:
    """Check the whole chain, in order of seq, in batches."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    while True:
        rows = ws.store.rows(
            f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
            (expected_seq, VERIFY_BATCH),
        )
        if not rows:
            break
        for row in rows:
            r = dict(zip(COLUMNS, row, strict=True))
            seq = int(r["seq"])
            if seq != expected_seq:
                return Verdict(False, count, expected_seq, f"entry {expected_seq} is missing")
            if r["prev_hash"] != prev:
                return Verdict(False, count, seq, f"entry {seq} does not follow entry {seq - 1}")
            if entry_hash(seq, r["logged_at"], r, prev) != r["entry_hash"]:
                return Verdict(False, count, seq, f"entry {seq} was changed after it was written")
            prev = str(r["entry_hash"])
            expected_seq += 1
            count += 1
    extra = ws.store.rows("SELECT count(*) FROM audit_log")[0][0]
    if int(extra) != count:
        return Verdict(False, count, None, f"{int(extra) - count} entries are out of sequence")
    return Verdict(True, count)


def search(
    ws: Workspace,
    *,
    username: str | None = None,
    agency_id: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    contains: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Entries matching every filter given, oldest first."""
    where: list[str] = []
    params: list[Any] = []
    for col, value in (
        ("username", username),
        ("agency_id", agency_id),
        ("action", action),
        ("outcome", outcome),
    ):
        if value:
            where.append(f"{col} = ?")
            params.append(value)
    if since:
        where.append("logged_at >= ?")
        params.append(since)
    if until:
        where.append("logged_at <= ?")
        params.append(until)
    if contains:
        where.append("(lower(path) LIKE ? OR lower(detail) LIKE ?)")
        pattern = f"%{contains.lower()}%"
        params += [pattern, pattern]
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq LIMIT ? OFFSET ?"
    params += [max(1, min(limit, 100_000)), max(0, offset)]
    return [
        {
            k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in zip(COLUMNS, r, strict=True)
        }
        for r in ws.store.rows(sql, params)
    ]


def to_csv(entries: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    writer.writeheader()
    # Details hold what callers typed: no cell may run as a spreadsheet formula.
    writer.writerows({k: safe_cell(v) for k, v in e.items()} for e in entries)
    return buf.getvalue()
