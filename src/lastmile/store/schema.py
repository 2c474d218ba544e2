"""The store's tables, derived from the vocabulary in ``model.py``.

Each record type becomes one table with its columns, typed, plus:

- for a selector column ``x``: ``x`` keeps the value as written, ``x_normalized`` the
  normalized form (E.164 for phones...), ``x_valid`` whether it normalized;
- for a timestamp column ``x``: ``x`` is UTC and ``x_original`` keeps the text as written
  where it differs from the canonical text of ``x`` (NULL where it is that text:
  :func:`time_as_written_sql` gives the text as written either way);
- provenance: ``source_row``, ``content_hash`` and ``source_file_id``, which names a row of
  ``source_files`` (the file's path and name, and the batch that read it). The agency a record
  comes from is the agency of its investigation (of an agency's own row: that agency).

A record type without an id of its own (communications) is keyed by its content: the event is
stored once in ``{name}`` under ``event_key`` and every report of it in ``{name}_sources``,
so one call that arrives in two overlapping returns is one event with two sources. A source is
one line (``source_row``) of one file, by name, of one investigation reporting the event.

This module describes what the schema *should* be. The migrations in ``migrations/`` are
frozen SQL that bring any older store to it; a test checks that the two agree.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass

import duckdb

from lastmile.model import RECORD_TYPES, ColumnType, RecordType

# An MD5 digest, kept as a UUID: 16 bytes instead of 32 characters of hex. Random hex text
# barely compresses, and writing it was most of the cost of storing 5 million events.
HASH = "UUID"


def _byte_swap_sql(value: str) -> str:
    """A UHUGEINT expression with its 16 bytes in reverse order: four steps that each swap
    the halves of every 128-, 64-, 32- and 16-bit group (``value`` is named twice per step;
    DuckDB computes a repeated subexpression of a projection once)."""
    for bits in (64, 32, 16, 8):
        mask = sum(((1 << bits) - 1) << k for k in range(0, 128, 2 * bits))
        m = f"{mask}::UHUGEINT"
        value = f"((({value}) & {m}) << {bits}) | ((({value}) >> {bits}) & {m})"
    return value


# The first DuckDB known to cast a UHUGEINT to a UUID.
NUMBER_TO_UUID_SINCE = (2, 0, 1)


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")[:3]
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


@functools.cache
def _number_to_uuid() -> bool:
    """Whether this DuckDB casts a UHUGEINT to a UUID (2.0.1 does; the cast is from 2026).
    Told by the version where it can be: asking a fresh in-memory database cost a tenth of
    a second (its start and close) of every command that checks records."""
    version = _version(duckdb.__version__)
    if version is not None and version >= NUMBER_TO_UUID_SINCE:
        return True
    con = duckdb.connect()
    try:
        con.execute("SELECT CAST(1::UHUGEINT AS UUID)")
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


def digest_sql(text: str) -> str:
    """The HASH of a DuckDB text expression: its MD5 digest kept as a UUID, the UUID whose
    bytes are the digest's in order (:func:`digest`).

    ``md5_number`` gives the digest as a number without writing it out as hex and parsing
    the hex back (together a third of the cost of a key), but reads its bytes little-endian:
    the bytes are swapped back before the cast, so the keys are the same as those of
    ``CAST(unhex(md5(text)) AS UUID)``, which earlier versions stored (a test pins known
    keys). A DuckDB without the UHUGEINT-to-UUID cast takes that older way."""
    return digest_from_number_sql(digest_number_sql(text))


def digest_number_sql(text: str) -> str:
    """The first half of :func:`digest_sql`: the MD5 digest of a DuckDB text expression, as
    :func:`digest_from_number_sql` takes it. A query over many rows computes this in one
    level and the other half in the level above, over the column: the byte swap names its
    operand sixteen times, and the SQL with sixteen copies of a long text expression took as
    long to bind and optimize as a small table of records took to check."""
    return f"md5({text})" if not _number_to_uuid() else f"md5_number({text})"


def digest_from_number_sql(number: str) -> str:
    """The HASH (:func:`digest_sql`) from :func:`digest_number_sql`'s value ``number`` (best a
    column: it is named sixteen times)."""
    if not _number_to_uuid():
        return f"CAST(unhex({number}) AS UUID)"
    return f"CAST({_byte_swap_sql(number)} AS UUID)"


def digest(text: str) -> uuid.UUID:
    """:func:`digest_sql` in Python, for anyone who recomputes a key outside DuckDB: the
    UUID whose bytes are the MD5 digest of the UTF-8 text."""
    return uuid.UUID(bytes=hashlib.md5(text.encode()).digest())


# How lastmile writes a stored time (UTC) as text: ISO 8601 with a T and a Z, to the second.
CANONICAL_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def time_as_written_sql(time: str, original: str, store_kind: str) -> str:
    """SQL giving a stored time's text as written: ``original`` (``{ts}_original``) where it
    was kept, else the canonical text of ``time`` (UTC, ISO 8601 with T and Z, to the second),
    which is what was written (ingest keeps the text only where it differs from that:
    ``lastmile.ingest.validate.original_sql``). ``store_kind``: ``duckdb`` or ``postgresql``."""
    if store_kind == "postgresql":
        canonical = f"""to_char({time}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
    else:
        canonical = f"strftime({time}, '{CANONICAL_TIME_FORMAT}')"
    return f"coalesce({original}, {canonical})"


# Per-file facts live once in source_files, not on each of millions of rows: writing the path,
# batch and agency on every event's source (with a digest to identify it) was about a sixth of
# the national ingest's time.
PROVENANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_row", "BIGINT"),
    ("content_hash", HASH),
    ("source_file_id", "UUID"),
)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def create_sql(self) -> str:
        cols = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in self.columns)
        return f"CREATE TABLE {self.name} (\n    {cols}\n);"


def record_columns(rt: RecordType, *, added: bool = False) -> tuple[tuple[str, str], ...]:
    """The stored columns of a record type's own fields (no provenance): those in the table
    from the start, or (``added``) those a later migration added (``Column.since``)."""
    out: list[tuple[str, str]] = []
    for col in rt.columns:
        if bool(col.since) != added:
            continue
        out.append((col.name, col.sql_type))
        if col.type is ColumnType.SELECTOR:
            out.append((f"{col.name}_normalized", "TEXT"))
            out.append((f"{col.name}_valid", "BOOLEAN"))
        elif col.type is ColumnType.TIMESTAMP:
            out.append((f"{col.name}_original", "TEXT"))
    return tuple(out)


def is_content_keyed(rt: RecordType) -> bool:
    return not rt.id_column


# Columns of a content-keyed record that describe the event itself; the rest (ids, raw text,
# investigation, grades) belong to each source that reported it.
EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "communications": ("time", "from_selector", "to_selector", "kind", "platform", "duration_s"),
}


def record_tables(rt: RecordType) -> tuple[Table, ...]:
    cols = record_columns(rt)
    grades = (("source_reliability", "TEXT"), ("info_credibility", "TEXT"))
    if not is_content_keyed(rt):
        later = record_columns(rt, added=True)
        return (Table(rt.name, cols + grades + PROVENANCE_COLUMNS + later),)
    event_fields = EVENT_COLUMNS[rt.name]
    typed = dict(cols)
    event: list[tuple[str, str]] = [("event_key", HASH)]
    source: list[tuple[str, str]] = [("event_key", HASH)]
    for col in rt.columns:
        if col.name not in event_fields:
            source.append((col.name, typed[col.name]))
        elif col.type is ColumnType.SELECTOR:
            # The event is between normalized selectors; each source keeps how it wrote them.
            event += [(col.name, "TEXT"), (f"{col.name}_valid", "BOOLEAN")]
            source.append((f"{col.name}_raw", "TEXT"))
        elif col.type is ColumnType.TIMESTAMP:
            event.append((col.name, "TIMESTAMP"))
            source.append((f"{col.name}_original", "TEXT"))
        else:
            event.append((col.name, typed[col.name]))
    return (
        Table(rt.name, tuple(event)),
        Table(f"{rt.name}_sources", tuple(source) + grades + PROVENANCE_COLUMNS),
    )


SOURCE_FILES = Table(
    "source_files",
    (
        ("file_id", "UUID"),
        ("batch_id", "TEXT"),
        ("path", "TEXT"),  # as given to the command
        ("name", "TEXT"),  # the file's name: a source is identified by it, not by its folder
        # Chain of custody (migration 0004): every file read, whether or not it stored rows.
        ("sha256", "TEXT"),  # hex SHA-256 of the bytes as received (NULL before version 4)
        ("size_bytes", "BIGINT"),
        ("read_at", "TIMESTAMP"),  # UTC
        ("records", "BIGINT"),  # records (or event sources) it stored
        ("superseded_by", "TEXT"),  # the batch whose corrected return replaced its records
    ),
)

BATCHES = Table(
    "batches",
    (
        ("batch_id", "TEXT"),
        ("started_at", "TIMESTAMP"),
        ("finished_at", "TIMESTAMP"),
        ("paths", "TEXT"),
        ("loaded", "BIGINT"),
        ("duplicate", "BIGINT"),
        ("rejected", "BIGINT"),
        ("counts_json", "TEXT"),
        ("rejects_file", "TEXT"),
        ("lastmile_version", "TEXT"),
        ("supersedes", "TEXT"),  # the batch this one replaced (lastmile ingest --supersedes)
    ),
)


# Derived tables: what later stages conclude from the records. A rerun of the stage rewrites
# them; nothing upstream reads them (../shared/DESIGN.md, "Data flow").
ENTITIES = Table(
    "entities",
    (
        ("entity_id", "TEXT"),
        ("kind", "TEXT"),
        ("best_name", "TEXT"),
        ("names", "TEXT"),
        ("selectors", "TEXT"),
        ("first_seen", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ),
)
ENTITY_MEMBERS = Table(
    "entity_members",
    (
        ("record_type", "TEXT"),
        ("record_id", "TEXT"),
        ("entity_id", "TEXT"),
        ("probability", "DOUBLE PRECISION"),
    ),
)
# Migration 0005 (docs/resolution.md): what resolution keeps beside entities.
SUBJECT_IDENTIFIERS = Table(
    "subject_identifiers",
    (
        ("subject_id", "TEXT"),
        ("kind", "TEXT"),
        ("raw", "TEXT"),
        ("value", "TEXT"),
        ("valid", "BOOLEAN"),
        ("reason", "TEXT"),
    ),
)
MATCH_EDGES = Table(
    "match_edges",
    (
        ("record_a", "TEXT"),
        ("record_b", "TEXT"),
        ("match_weight", "DOUBLE PRECISION"),
        ("probability", "DOUBLE PRECISION"),
        ("evidence", "TEXT"),
    ),
)
# Migration 0016 (docs/resolution.md, "Possible matches"): pairs the resolution left apart
# for an analyst to judge (lastmile.resolve.review).
POSSIBLE_MATCHES = Table(
    "possible_matches",
    (
        ("entity_a", "TEXT"),
        ("entity_b", "TEXT"),
        ("record_a", "TEXT"),
        ("record_b", "TEXT"),
        ("match_weight", "DOUBLE PRECISION"),
        ("probability", "DOUBLE PRECISION"),
        ("record_pairs", "BIGINT"),
        ("why", "TEXT"),
        ("evidence", "TEXT"),
    ),
)
RESOLUTION_RUNS = Table(
    "resolution_runs",
    (
        ("run_id", "TEXT"),
        ("started_at", "TIMESTAMP"),
        ("finished_at", "TIMESTAMP"),
        ("engine", "TEXT"),
        ("trained", "BOOLEAN"),
        ("threshold", "DOUBLE PRECISION"),
        ("model_json", "TEXT"),
        ("counts_json", "TEXT"),
        ("lastmile_version", "TEXT"),
    ),
)
# Migration 0008 (docs/networks.md): what network analysis concludes (lastmile analyze).
NETWORK_TABLES: tuple[Table, ...] = (
    Table(
        "ties",
        (
            ("source", "TEXT"),
            ("target", "TEXT"),
            ("kind", "TEXT"),
            ("records", "BIGINT"),
            ("record_ids", "TEXT"),
            ("grades", "TEXT"),
            ("first_at", "TEXT"),
            ("last_at", "TEXT"),
        ),
    ),
    Table(
        "networks",
        (
            ("network_id", "TEXT"),
            ("upstream", "BOOLEAN"),
            ("people", "BIGINT"),
            ("organizations", "BIGINT"),
            ("investigations", "BIGINT"),
            ("agencies", "TEXT"),
            ("cities", "TEXT"),
            ("states", "TEXT"),
            ("divisions", "TEXT"),
            ("multi_city", "BOOLEAN"),
            ("arrests", "BIGINT"),
            ("seizures", "BIGINT"),
            ("communities", "BIGINT"),
        ),
    ),
    Table(
        "network_members",
        (
            ("network_id", "TEXT"),
            ("entity_id", "TEXT"),
            ("upstream", "BOOLEAN"),
            ("community", "TEXT"),
        ),
    ),
    Table(
        "key_players",
        (
            ("network_id", "TEXT"),
            ("entity_id", "TEXT"),
            ("rank", "BIGINT"),
            ("score", "DOUBLE PRECISION"),
            ("why", "TEXT"),
        ),
    ),
    Table(
        "attributions",
        (
            ("network_id", "TEXT"),
            ("cartel", "TEXT"),
            ("score", "DOUBLE PRECISION"),
            ("label", "TEXT"),
            ("agrees", "BOOLEAN"),
            ("path", "TEXT"),
        ),
    ),
    Table(
        "analysis_runs",
        (
            ("run_id", "TEXT"),
            ("started_at", "TIMESTAMP"),
            ("finished_at", "TIMESTAMP"),
            ("seconds_json", "TEXT"),
            ("counts_json", "TEXT"),
            ("lastmile_version", "TEXT"),
            # migration 0012: the resolution run it was computed on ('' for none)
            ("resolution_run_id", "TEXT"),
        ),
    ),
)
# Migration 0011 (docs/networks.md, "Kept model"): the fitted learned link model, kept with the
# stored analysis (lastmile.network.linkstore).
LINK_MODELS = Table(
    "link_models",
    (
        ("run_id", "TEXT"),
        ("seed", "BIGINT"),
        ("params", "TEXT"),
        ("code", "TEXT"),
        ("data", "TEXT"),
        ("format", "TEXT"),
        ("sha256", "TEXT"),
        ("model", "BYTEA"),
        ("trained_at", "TIMESTAMP"),
        ("seconds", "DOUBLE PRECISION"),
        ("lastmile_version", "TEXT"),
    ),
)
DERIVED_TABLES: tuple[Table, ...] = (
    ENTITIES,
    ENTITY_MEMBERS,
    SUBJECT_IDENTIFIERS,
    MATCH_EDGES,
    POSSIBLE_MATCHES,
    RESOLUTION_RUNS,
    *NETWORK_TABLES,
    LINK_MODELS,
)
# What analysts say, and what was announced: not derived, never rewritten by a rerun.
JUDGEMENTS = Table(
    "judgements",
    (
        ("judgement_id", "TEXT"),
        ("verdict", "TEXT"),
        ("record_a", "TEXT"),
        ("record_b", "TEXT"),
        ("entity_id", "TEXT"),
        ("analyst", "TEXT"),
        ("note", "TEXT"),
        ("made_at", "TIMESTAMP"),
    ),
)
CONFLICTS = Table(
    "conflicts",
    (
        ("target_id", "TEXT"),
        ("target_kind", "TEXT"),
        ("agency_id", "TEXT"),
        ("division", "TEXT"),
        ("other_agency_id", "TEXT"),
        ("other_division", "TEXT"),
        ("first_seen", "TIMESTAMP"),
        ("last_seen", "TIMESTAMP"),
        ("basis", "TEXT"),
        # Migration 0013: when the conflict was first seen as confirmed (NULL while only
        # possible: conflicts.POSSIBLE_BASES).
        ("confirmed_since", "TIMESTAMP"),
        # Migration 0014: whether the latest resolution found it (conflicts.write).
        ("is_current", "BOOLEAN"),
        # Migration 0015: since when every run has found it (the run that first found it,
        # or found it again after one that did not: conflicts.write).
        ("current_since", "TIMESTAMP"),
    ),
)
KEPT_TABLES: tuple[Table, ...] = (JUDGEMENTS, CONFLICTS)


# The server's tables (migration 0007, lastmile/server): accounts, access, shares, the audit
# trail and planned operations. They hold no case records, so record counts leave them out.
def _t(name: str, *columns: str) -> Table:
    pairs = (c.partition(" ") for c in columns)
    return Table(name, tuple((n, sql_type) for n, _, sql_type in pairs))


SERVER_TABLES: tuple[Table, ...] = (
    _t(
        "users",
        "username TEXT",
        "agency_id TEXT",
        "role TEXT",
        "password_hash TEXT",
        "totp_secret TEXT",
        "disabled BOOLEAN",
        "failed_attempts INTEGER",
        "locked_at TIMESTAMP",
        "created_at TIMESTAMP",
        "updated_at TIMESTAMP",
    ),
    _t(
        "agency_access",
        "agency_id TEXT",
        "disabled BOOLEAN",
        "changed_by TEXT",
        "changed_at TIMESTAMP",
    ),
    _t(
        "api_tokens",
        "token_id TEXT",
        "username TEXT",
        "name TEXT",
        "token_hash TEXT",
        "created_at TIMESTAMP",
        "expires_at TIMESTAMP",
        "revoked_at TIMESTAMP",
    ),
    _t(
        "shares",
        "share_id TEXT",
        "investigation_id TEXT",
        "agency_id TEXT",
        "username TEXT",
        "granted_by TEXT",
        "granted_at TIMESTAMP",
        "revoked_by TEXT",
        "revoked_at TIMESTAMP",
    ),
    _t(
        "audit_log",
        "seq BIGINT",
        "logged_at TIMESTAMP",
        "username TEXT",
        "agency_id TEXT",
        "client TEXT",
        "method TEXT",
        "path TEXT",
        "action TEXT",
        "outcome TEXT",
        "status INTEGER",
        "records BIGINT",
        "detail TEXT",
        "prev_hash TEXT",
        "entry_hash TEXT",
    ),
    _t(
        "planned_operations",
        "operation_id TEXT",
        "agency_id TEXT",
        "division TEXT",
        "submitted_by TEXT",
        "kind TEXT",
        "latitude DOUBLE PRECISION",
        "longitude DOUBLE PRECISION",
        "address TEXT",
        "starts_at TIMESTAMP",
        "ends_at TIMESTAMP",
        "submitted_at TIMESTAMP",
    ),
    _t(
        "operation_conflicts",
        "conflict_id TEXT",
        "operation_id TEXT",
        "other_operation_id TEXT",
        "distance_m DOUBLE PRECISION",
        "detected_at TIMESTAMP",
    ),
    _t("server_settings", "name TEXT", "value TEXT"),
    # Migration 0009: sessions, for the idle time-out.
    _t(
        "sessions",
        "session_id TEXT",
        "username TEXT",
        "started_at TIMESTAMP",
        "last_seen_at TIMESTAMP",
        "ended_at TIMESTAMP",
    ),
)


def expected_tables() -> tuple[Table, ...]:
    tables: list[Table] = []
    for rt in RECORD_TYPES:
        tables.extend(record_tables(rt))
    tables += [SOURCE_FILES, BATCHES, *DERIVED_TABLES, *KEPT_TABLES, *SERVER_TABLES]
    return tuple(tables)
