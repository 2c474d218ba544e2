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
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from lastmile.export.csvsafe import safe_cell
from lastmile.store import Workspace
from lastmile.store.backends import SCHEMA_KEY
from lastmile.times import utcnow

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


def _clean(e: Entry) -> Entry:
    # What callers sent is logged as they sent it, except NUL, which PostgreSQL text refuses.
    return replace(
        e,
        **{
            f.name: getattr(e, f.name).replace("\x00", "\\x00")
            for f in fields(e)
            if isinstance(getattr(e, f.name), str)
        },
    )


def append(ws: Workspace, e: Entry) -> int:
    """Add one entry at the end of the chain; returns its sequence number."""
    return append_many(ws, [e])[0]


def append_many(ws: Workspace, entries: list[Entry]) -> list[int]:
    """Add entries at the end of the chain, in order, in one transaction (one lock, one read
    of the last entry, one insert); returns their sequence numbers."""
    if not entries:
        return []
    cleaned = [_clean(e) for e in entries]
    with _chain(ws):
        last = ws.store.rows("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0][0]), str(last[0][1])) if last else (0, GENESIS)
        at = utcnow()
        params: list[Any] = []
        seqs = []
        for e in cleaned:
            seq += 1
            h = entry_hash(seq, at, e, prev)
            params += [
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
                h,
            ]
            prev = h
            seqs.append(seq)
        row = "(" + ", ".join("?" * len(COLUMNS)) + ")"
        ws.store.execute(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES "
            + ", ".join([row] * len(cleaned)),
            params,
        )
    return seqs


class Writer:
    """Group commit of the audit trail for a server process: requests hand their entries to
    one thread, which writes whatever has queued up in one transaction, then tells each
    request its entry is stored (the response waits for that). Under load many requests share
    one lock and one commit; the chain is the same as entry by entry."""

    MAX_BATCH = 500

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._queue: queue.Queue[tuple[Entry, Callable[[BaseException | None], None]] | None]
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="lastmile-audit", daemon=True)
        self._thread.start()

    def submit(self, entry: Entry, done: Callable[[BaseException | None], None]) -> None:
        """Queue ``entry``; ``done(None)`` is called once it is stored (``done(exc)`` if the
        write failed), from the writer's thread."""
        self._queue.put((entry, done))

    def write(self, entry: Entry) -> None:
        """Queue ``entry`` and wait until it is stored."""
        stored = threading.Event()
        failure: list[BaseException] = []

        def done(exc: BaseException | None) -> None:
            if exc is not None:
                failure.append(exc)
            stored.set()

        self.submit(entry, done)
        stored.wait()
        if failure:
            raise failure[0]

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            error: BaseException | None = None
            try:
                append_many(self.ws, [e for e, _ in batch])
            except Exception as exc:  # every waiting request hears of it
                error = exc
            for _, done in batch:
                done(error)
            if stop:
                return

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)


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
