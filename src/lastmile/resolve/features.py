"""The records to resolve, and the features the matcher compares, built set-based in DuckDB.

Everything here reads the store's record tables into a working DuckDB connection and returns
tables on it:

- ``rec_age(record_type, record_id, seen_at)``: when each record was first loaded (its batch),
  which decides which record is "oldest" for stable entity ids;
- ``sel_recs``: every selector record with its join key (``lastmile.selectors.selector_key``);
  an invalid value keys only itself, so junk ("n/a") joins nothing;
- ``org_recs``: every organization record with its name keys, each scoped to the locality
  its kind works in (``org_locality``), and its bare names;
- ``person_features``: one row per subject record with what the person matcher compares.

Python runs only over *distinct* names, aliases, addresses and identifier lists (parsers are
Python libraries), never over every row; past ``PARALLEL_MIN`` distinct values, in one worker
process per core.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import duckdb
import pyarrow as pa

from lastmile.identifiers import parse_identifiers
from lastmile.model import CARTEL_SYNONYMS
from lastmile.resolve import addresses as addr
from lastmile.resolve import names, persons
from lastmile.store import Workspace
from lastmile.store.backends import register_table

T = TypeVar("T")
R = TypeVar("R")

# A selector held by subject records of more than this many different names, or by more than
# this many subject records, is a shared line (a business number, a junk value, a trap house
# phone): it is never evidence that two records are one person (docs/resolution.md).
COMMON_SELECTOR_NAMES = 3
COMMON_SELECTOR_RECORDS = 50
# Identifiers that name one person for life: two different ones are evidence against a match.
PERSONAL_KINDS = ("ssn", "fbi", "a_number")
# A given name tells a sex when this many full names of the data at hand that bear it state
# one, and this share of them state the same (build_person_features).
SEX_BY_NAME = (5, 0.95)


def settle(con: duckdb.DuckDBPyConnection) -> None:
    """Finish ``con``'s pending result: on a DuckDB workspace it is the store's connection,
    which refuses new work while a result is unread."""
    con.execute("SELECT 1").fetchall()


def _load(ws: Workspace, con: duckdb.DuckDBPyConnection, sql: str, into: str) -> None:
    settle(con)
    table = ws.store.query(sql)
    register_table(con, table, into)


def load_records(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    """Copy the records resolution reads from the store into ``con`` (a few columns each)."""
    seen = (
        "LEFT JOIN source_files f ON f.file_id = t.source_file_id "
        "LEFT JOIN batches b ON b.batch_id = f.batch_id"
    )
    _load(
        ws,
        con,
        "SELECT t.subject_id AS record_id, t.investigation_id, t.full_name, t.given_name, "
        "t.middle_name, t.family_name, t.aliases, t.monikers, t.dob, t.sex, t.addresses, "
        "t.identifiers, b.started_at AS seen_at, t.source_row "
        f"FROM subjects t {seen}",
        "src_subjects",
    )
    _load(
        ws,
        con,
        "SELECT t.selector_id AS record_id, t.investigation_id, t.subject_id, t.kind, t.value, "
        "t.value_normalized, t.value_valid, t.platform, b.started_at AS seen_at, t.source_row "
        f"FROM selectors t {seen}",
        "src_selectors",
    )
    _load(
        ws,
        con,
        "SELECT t.organization_id AS record_id, t.investigation_id, t.name, t.kind, t.aliases, "
        f"b.started_at AS seen_at, t.source_row FROM organizations t {seen}",
        "src_organizations",
    )
    _load(
        ws,
        con,
        "SELECT kind, from_id, to_id FROM relationships",
        "src_relationships",
    )
    _load(
        ws,
        con,
        "SELECT i.investigation_id, i.agency_id, i.division, i.city, i.state, a.poc_name, "
        "a.poc_phone, "
        "a.poc_email FROM investigations i LEFT JOIN agencies a ON a.agency_id = i.agency_id",
        "src_investigations",
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE rec_age AS
        SELECT 'subjects' AS record_type, record_id, seen_at, source_row FROM src_subjects
        UNION ALL SELECT 'selectors', record_id, seen_at, source_row FROM src_selectors
        UNION ALL SELECT 'organizations', record_id, seen_at, source_row FROM src_organizations
        """
    )


def selector_key_sql(kind: str, value: str, platform: str) -> str:
    """``lastmile.selectors.selector_key`` in SQL, over a stored (canonical) platform name."""
    return (
        f"CASE WHEN {kind} = 'account' THEN CASE "
        f"WHEN regexp_full_match({value}, '\\+[0-9]{{6,15}}') THEN 'phone:' || {value} "
        f"WHEN contains({value}, '@') THEN 'email:' || {value} "
        f"ELSE 'account:' || lower(replace(coalesce({platform}, ''), ' ', '')) || ':' || {value} "
        f"END ELSE {kind} || ':' || {value} END"
    )


def comm_key_sql(value: str, platform: str) -> str:
    """The selector key of a communication's end (a stored, normalized ``from_selector`` or
    ``to_selector``) on its platform (``''`` or NULL for calls and texts), as ingest reads an
    endpoint (``lastmile.selectors.guess_kind``): an address is an e-mail; without a platform
    anything else is a phone; on a platform it is an account, which keys as its phone or
    e-mail when it is one (WhatsApp, Signal) and as ``account:platform:handle`` otherwise."""
    kind = (
        f"CASE WHEN coalesce({platform}, '') = '' AND NOT contains({value}, '@') "
        "THEN 'phone' ELSE 'account' END"
    )
    return selector_key_sql(kind, value, platform)


def build_selectors(con: duckdb.DuckDBPyConnection) -> None:
    key = selector_key_sql("kind", "value_normalized", "platform")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE sel_recs AS
        SELECT record_id, investigation_id, subject_id, kind, value_normalized AS value,
            coalesce(value_valid, false) AS valid,
            CASE WHEN coalesce(value_valid, false) THEN {key}
                 ELSE 'invalid:' || record_id END AS key
        FROM src_selectors
        """
    )


# Words that say what kind of organization a name is, not which one ("Guzmán DTO", "Los
# Guzmán" and "Guzman Drug Trafficking Organization" are one name); like the legal-form
# suffixes (Inc., LLC) that company matching removes.
DESIGNATORS = frozenset(
    {
        "dto",
        "drug",
        "trafficking",
        "organization",
        "organisation",
        "org",
        "los",
        "las",
        "the",
        "de",
        "del",
        "cartel",
    }
)


_CARTEL_WORDS = frozenset({"cartel", "de", "del", "la", "el", "the", "los"})


def _cartel_key(name: str) -> str:
    """A name as a cartel's synonyms are matched: folded, without the word "cartel" and
    articles, spaces and dots closed ("C.J.N.G.", "CJNG Cartel", "Cártel del Golfo")."""
    return "".join(w for w in names.fold(name).split() if w not in _CARTEL_WORDS)


_CARTEL_KEYS = {
    _cartel_key(synonym): names.fold(canonical).replace(" ", "")
    for synonym, canonical in CARTEL_SYNONYMS.items()
}
_CARTEL_SYNONYMS_FOLDED = frozenset(names.fold(synonym) for synonym in CARTEL_SYNONYMS)


def _org_name_key(name: str) -> tuple[str, bool]:
    """(key, is a cartel): the folded name, designators removed and spaces closed
    ("Midtown Locos" = "MidtownLocos"); a cartel's synonyms give its canonical name."""
    folded = names.fold(name)
    canonical = _CARTEL_KEYS.get(_cartel_key(name))
    # A synonym as written, or a cartel's key in a name that says "cartel" or spells an
    # acronym ("C.J.N.G."): a crew called "Sinaloa" or "Gulf" is not the cartel.
    words = folded.split()
    if canonical is not None and (
        folded in _CARTEL_SYNONYMS_FOLDED
        or "cartel" in words
        or (len(words) > 1 and all(len(w) == 1 for w in words))
    ):
        return canonical, True
    words = [w for w in folded.split() if w not in DESIGNATORS]
    key = "".join(words) if words else folded.replace(" ", "")
    return key, False


# Where an organization of each kind works, so where one name means one organization
# (docs/resolution.md, "Organizations"). A cartel is one organization wherever it is named. A
# street gang or crew is local: a group of one name in another city is another group (a
# "set" or clique of a national gang included), so its names are keyed by the city of the
# investigation naming it, and by its kind: what the agency says the group is (a gang, or a
# crew) is part of which group it names. A DTO, a business or an organization of another or
# no kind works a region: its names are keyed by the state.
GLOBAL_KINDS = frozenset({"cartel"})
LOCAL_KINDS = frozenset({"gang", "crew"})


def org_locality(kind: str | None, city: str | None, state: str | None) -> str:
    """The place within which one name is one organization of this kind: ``""`` for a
    cartel (everywhere), ``STATE/city/kind`` for a gang or crew (the state alone when the
    investigation gives no city), ``STATE`` for any other kind."""
    if kind in GLOBAL_KINDS:
        return ""
    region = (state or "").strip().upper()
    place = names.fold(city)
    if kind in LOCAL_KINDS and place:
        return f"{region}/{place}/{kind}"
    return region


def org_names(name: str | None, aliases: str | None) -> list[str]:
    """The bare keys (``_org_name_key``, no locality) of the names and aliases that are not
    a cartel's: what two records of one organization in two places have in common."""
    out: set[str] = set()
    for n in [name or "", *(aliases or "").split("|")]:
        if not n.strip():
            continue
        key, cartel = _org_name_key(n)
        if key and not cartel:
            out.add(key)
    return sorted(out)


def org_name_keys(
    name: str | None, aliases: str | None, kind: str | None = None, region: str | None = None
) -> list[str]:
    """The keys an organization is known by: its name and each alias (``_org_name_key``).
    A cartel (by kind, or by a name that is a cartel's synonym) is one organization
    everywhere; any other organization only within ``region`` (``org_locality``): "Los
    Guzmán" in Arizona and in Illinois, or the "Eastside Locos" of Los Angeles and of
    Riverside, are two organizations unless the records give evidence they are one (a
    shared member, in the clustering)."""
    out: set[str] = set()
    for n in [name or "", *(aliases or "").split("|")]:
        if not n.strip():
            continue
        key, cartel = _org_name_key(n)
        if not key:
            continue
        out.add(key if cartel or kind in GLOBAL_KINDS else f"{key}@{region or ''}")
    return sorted(out)


def build_organizations(con: duckdb.DuckDBPyConnection) -> None:
    """``org_recs(record_id, investigation_id, name, kind, keys, names)``: each organization
    record's locality-scoped keys (records sharing one are one organization) and bare names
    (records sharing one and a member may be one: ``run._org_clusters``); and
    ``org_member_of(org_record, subject_record)``, the members each record names."""
    rows = con.execute(
        "SELECT DISTINCT o.name, o.aliases, o.kind, i.city, i.state FROM src_organizations o "
        "LEFT JOIN src_investigations i USING (investigation_id)"
    ).fetchall()
    table = pa.table(
        {
            "name": pa.array([r[0] for r in rows], pa.string()),
            "aliases": pa.array([r[1] for r in rows], pa.string()),
            "kind": pa.array([r[2] for r in rows], pa.string()),
            "city": pa.array([r[3] for r in rows], pa.string()),
            "state": pa.array([r[4] for r in rows], pa.string()),
            "keys": pa.array(
                [org_name_keys(r[0], r[1], r[2], org_locality(r[2], r[3], r[4])) for r in rows],
                pa.list_(pa.string()),
            ),
            "names": pa.array([org_names(r[0], r[1]) for r in rows], pa.list_(pa.string())),
        }
    )
    register_table(con, table, "org_name_map")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE org_recs AS
        SELECT o.record_id, o.investigation_id, o.name, o.kind, m.keys, m.names
        FROM src_organizations o
        LEFT JOIN src_investigations i USING (investigation_id)
        JOIN org_name_map m
          ON m.name IS NOT DISTINCT FROM o.name AND m.aliases IS NOT DISTINCT FROM o.aliases
          AND m.kind IS NOT DISTINCT FROM o.kind AND m.city IS NOT DISTINCT FROM i.city
          AND m.state IS NOT DISTINCT FROM i.state
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE org_member_of AS
        SELECT DISTINCT r.to_id AS org_record, r.from_id AS subject_record
        FROM src_relationships r JOIN org_recs o ON o.record_id = r.to_id
        WHERE r.kind = 'member_of'
        """
    )


# Parsing distinct values with the Python libraries (nameparser, usaddress) runs on one core;
# past this many values it is spread over the machine's cores in worker processes
# (docs/resolution.md, "Parsing").
PARALLEL_MIN = 20_000


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# The module the worker processes load once, before any worker starts: the parsers and the
# functions ``parallel_map`` is given.
WORKER_PRELOAD = ["lastmile.resolve.features"]


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """While worker processes start, the caller's main module is hidden from them: a
    worker started from a fresh interpreter (spawn, forkserver) would otherwise run the
    caller's script again, and a script without a ``__main__`` guard would redo its work.
    The workers need only the importable module-level function they are given."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def parallel_map(fn: Callable[[T], R], values: Sequence[T]) -> list[R]:
    """``[fn(v) for v in values]``, in worker processes when there are many values and more
    than one core (``fn`` must be a module-level function).

    The workers are forked from a fork server (``forkserver``), a fresh single-threaded
    process that has loaded the parsers once (``WORKER_PRELOAD``), never from this
    process: here DuckDB's and Arrow's threads are running, and a process forked from a
    multi-threaded one can deadlock on a lock another thread held (CPython issue 90622).
    The workers do not run the caller's main module again (``_main_hidden``). Where the
    fork server is not available, or a worker fails, the values are parsed here."""
    workers = _workers()
    if len(values) < PARALLEL_MIN or workers < 2:
        return [fn(v) for v in values]
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return [fn(v) for v in values]
    chunk = max(1, len(values) // (workers * 16))
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(WORKER_PRELOAD)
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            # The workers start as the work is submitted, all of it within map().
            with _main_hidden():
                results = pool.map(fn, values, chunksize=chunk)
            return list(results)
    except BrokenProcessPool:  # pragma: no cover - a worker killed (memory)
        return [fn(v) for v in values]


NameIn = tuple[str | None, str | None, str | None, str | None, str | None]
NameRow = tuple[
    str | None, str | None, str | None, str | None, str | None, list[str], list[str], str | None
]


def parse_name_row(row: NameIn) -> NameRow:
    """(first, sur1, sur2, fullname, suffix, name_keys, first_forms, middle) of one distinct
    (full, given, middle, family, aliases)."""
    full, given, middle, family, aliases = row
    parts, other = names.readings(full, given, middle, family)
    keys = sorted(parts.keys() | (other.keys() if other else set()) | names.alias_keys(aliases))
    return (
        parts.first or None,
        parts.surname1 or None,
        parts.surname2 or None,
        parts.full or None,
        parts.suffix or None,
        keys,
        sorted(parts.given_forms),
        # A record whose two readings disagree on which name is given does not say which
        # is its middle name either, unless its full name states its order ("FAMILY, Given").
        (parts.middle or None) if other is None or "," in (full or "") else None,
    )


def moniker_row(text: str | None) -> tuple[list[str], list[str]]:
    """The folded monikers of a record and their cores (names.monikers, names.moniker_cores)."""
    return names.monikers(text), names.moniker_cores(text)


def _name_table(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT DISTINCT full_name, given_name, middle_name, family_name, aliases FROM src_subjects"
    ).fetchall()
    parsed = parallel_map(parse_name_row, rows)
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "full_name",
            "given_name",
            "middle_name",
            "family_name",
            "aliases",
            "first",
            "sur1",
            "sur2",
            "fullname",
            "suffix",
            "name_keys",
            "first_forms",
            "middle",
        )
    }
    for row, out in zip(rows, parsed, strict=True):
        for k, v in zip(cols, (*row, *out), strict=True):
            cols[k].append(v)
    cols["sound"] = [
        names.sound_key(first, sur1)  # type: ignore[arg-type]
        for first, sur1 in zip(cols["first"], cols["sur1"], strict=True)
    ]
    types = {"name_keys": pa.list_(pa.string()), "first_forms": pa.list_(pa.string())}
    table = pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})
    register_table(con, table, "name_map")


def _list_table(
    con: duckdb.DuckDBPyConnection,
    column: str,
    into: str,
    fn: Callable[[str | None], tuple[list[str], ...]],
    names_out: list[str],
) -> None:
    values = [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM src_subjects").fetchall()]
    results = parallel_map(fn, values)
    data: dict[str, pa.Array] = {"raw": pa.array(values, pa.string())}
    for i, name in enumerate(names_out):
        data[name] = pa.array([r[i] for r in results], pa.list_(pa.string()))
    register_table(con, pa.table(data), into)


def build_identifiers(con: duckdb.DuckDBPyConnection) -> None:
    """``subject_ids``: every identifier of every subject record, parsed, valid or not."""
    rows = con.execute(
        "SELECT DISTINCT identifiers FROM src_subjects WHERE identifiers IS NOT NULL"
    ).fetchall()
    raw_list, kinds, raws, values, valids, reasons = [], [], [], [], [], []
    for (text,) in rows:
        for part, ident in zip(
            [p.strip() for p in text.split("|") if p.strip()], parse_identifiers(text), strict=True
        ):
            raw_list.append(text)
            kinds.append(ident.kind)
            raws.append(part)
            values.append(ident.value)
            valids.append(ident.valid)
            reasons.append(ident.reason)
    table = pa.table(
        {
            "identifiers": pa.array(raw_list, pa.string()),
            "kind": pa.array(kinds, pa.string()),
            "raw": pa.array(raws, pa.string()),
            "value": pa.array(values, pa.string()),
            "valid": pa.array(valids, pa.bool_()),
            "reason": pa.array(reasons, pa.string()),
        }
    )
    register_table(con, table, "identifier_map")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE subject_ids AS
        SELECT s.record_id AS subject_id, m.kind, m.raw, m.value, m.valid, m.reason
        FROM src_subjects s JOIN identifier_map m ON m.identifiers = s.identifiers
        """
    )


def build_person_features(con: duckdb.DuckDBPyConnection) -> None:
    """``person_features``: one row per subject record (docs/resolution.md, "Features")."""
    _name_table(con)
    _list_table(
        con,
        "addresses",
        "address_map",
        addr.keys_of,
        ["streets", "places", "words", "nums", "marks"],
    )
    _list_table(con, "monikers", "moniker_map", moniker_row, ["monikers", "cores"])
    # A record's principal moniker: the rarest of its monikers across the records at hand
    # (ties to the smallest), one value per record, which blocking rules can compare
    # (docs/resolution.md, "Blocking").
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE moniker_principal AS
        WITH used AS (
            SELECT s.record_id, unnest(m.cores) AS core FROM src_subjects s
            JOIN moniker_map m ON m.raw = s.monikers
        ), freq AS (SELECT core, count(*) AS n FROM used GROUP BY core)
        SELECT u.record_id, arg_min(u.core, (f.n, u.core)) AS moniker
        FROM used u JOIN freq f USING (core) GROUP BY u.record_id
        """
    )
    build_identifiers(con)
    # Which subject record uses which selector: the selector's own subject, or a stated
    # uses_selector tie.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE subject_selectors AS
        SELECT DISTINCT subject_id, key FROM (
            SELECT subject_id, key FROM sel_recs WHERE subject_id IS NOT NULL AND valid
            UNION ALL
            SELECT r.from_id, s.key FROM src_relationships r
            JOIN sel_recs s ON s.record_id = r.to_id
            WHERE r.kind = 'uses_selector' AND s.valid
        )
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE selector_use AS
        SELECT ss.key, count(*) AS n_records, count(DISTINCT n.fullname) AS n_names,
            count(DISTINCT n.fullname) > {COMMON_SELECTOR_NAMES}
                OR count(*) > {COMMON_SELECTOR_RECORDS} AS common
        FROM subject_selectors ss
        JOIN src_subjects s ON s.record_id = ss.subject_id
        LEFT JOIN name_map n ON n.full_name IS NOT DISTINCT FROM s.full_name
            AND n.given_name IS NOT DISTINCT FROM s.given_name
            AND n.middle_name IS NOT DISTINCT FROM s.middle_name
            AND n.family_name IS NOT DISTINCT FROM s.family_name
            AND n.aliases IS NOT DISTINCT FROM s.aliases
        GROUP BY ss.key
        """
    )
    # Ties: what a record is tied to by the investigation's own statements: the organizations
    # it is a member of (by name key), and the selectors and names of the subjects it
    # supplies, is supplied by, or is family or associate of.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE subject_ties AS
        WITH pairs AS (
            SELECT from_id AS a, to_id AS b, kind FROM src_relationships
            WHERE kind IN ('supplies', 'associate', 'family', 'member_of')
            UNION ALL
            SELECT to_id, from_id, kind FROM src_relationships
            WHERE kind IN ('supplies', 'associate', 'family')
        )
        SELECT DISTINCT a AS subject_id, tie FROM (
            SELECT p.a, 'org:' || unnest(o.keys) AS tie FROM pairs p
            JOIN org_recs o ON o.record_id = p.b
            UNION ALL
            SELECT p.a, 'sel:' || ss.key FROM pairs p
            JOIN subject_selectors ss ON ss.subject_id = p.b
            JOIN selector_use u ON u.key = ss.key AND NOT u.common
        )
        """
    )
    personal = ", ".join(f"'{k}'" for k in PERSONAL_KINDS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE person_features AS
        WITH sel AS (
            SELECT ss.subject_id, list(ss.key ORDER BY ss.key) AS sel_keys
            FROM subject_selectors ss JOIN selector_use u ON u.key = ss.key
            WHERE NOT u.common GROUP BY ss.subject_id
        ), ids AS (
            SELECT subject_id, list(DISTINCT kind || ':' || value) AS id_keys,
                list(DISTINCT kind || ':' || value)
                    FILTER (WHERE kind IN ({personal})) AS id_personal
            FROM subject_ids WHERE valid GROUP BY subject_id
        ), ties AS (
            SELECT subject_id, list(tie ORDER BY tie) AS tie_keys
            FROM subject_ties GROUP BY subject_id
        )
        SELECT s.record_id, s.investigation_id, n.first, n.sur1, n.sur2, n.fullname,
            n.first || ' ' || n.sur1 AS given_sur, n.suffix,
            nullif(n.name_keys, []) AS name_keys, nullif(n.first_forms, []) AS first_forms,
            n.middle, n.sound AS name_sound,
            -- A mistyped given name or surname is a spelling few records write
            -- (persons.RARE_SPELLING): the sound rule compares its record with the rest.
            CASE WHEN least(count(*) OVER (PARTITION BY n.first),
                            count(*) OVER (PARTITION BY n.sur1)) <= {persons.RARE_SPELLING}
                 THEN n.sound END AS name_rare,
            nullif(m.monikers, []) AS monikers, mp.moniker,
            -- 1900-01-01 is the filler many systems write for an unknown date of birth.
            CASE WHEN s.dob > DATE '1900-01-01' AND s.dob <= current_date
                 THEN strftime(s.dob, '%Y-%m-%d') END AS dob,
            CASE WHEN s.sex IN ('M', 'F') THEN s.sex END AS sex,
            nullif(a.streets, []) AS addr_streets, nullif(a.places, []) AS addr_places,
            nullif(a.words, []) AS addr_words, nullif(a.nums, []) AS addr_nums,
            nullif(a.marks, []) AS addr_marks,
            nullif(ids.id_keys, []) AS id_keys, nullif(ids.id_personal, []) AS id_personal,
            sel.sel_keys, ties.tie_keys
        FROM src_subjects s
        LEFT JOIN name_map n ON n.full_name IS NOT DISTINCT FROM s.full_name
            AND n.given_name IS NOT DISTINCT FROM s.given_name
            AND n.middle_name IS NOT DISTINCT FROM s.middle_name
            AND n.family_name IS NOT DISTINCT FROM s.family_name
            AND n.aliases IS NOT DISTINCT FROM s.aliases
        LEFT JOIN address_map a ON a.raw IS NOT DISTINCT FROM s.addresses
        LEFT JOIN moniker_map m ON m.raw IS NOT DISTINCT FROM s.monikers
        LEFT JOIN moniker_principal mp ON mp.record_id = s.record_id
        LEFT JOIN ids ON ids.subject_id = s.record_id
        LEFT JOIN sel ON sel.subject_id = s.record_id
        LEFT JOIN ties ON ties.subject_id = s.record_id
        """
    )
    # The sex a record's given name tells where the record states none: the sex the records
    # at hand that bear the name state, when SEX_BY_NAME[0] full names or more that bear it
    # state one and SEX_BY_NAME[1] of them agree. Read from the data, not from a list of
    # names: "Jan" is a man in Polish records and may be a woman's nickname in others,
    # "Andrea" a man in Italian ones, and a name of both sexes here reads as neither.
    least, share = SEX_BY_NAME
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE person_features AS
        WITH stated AS (
            -- One row per name written and sex stated: one person's many records, written
            -- alike, count once. An initial tells no sex.
            SELECT DISTINCT first, fullname, sex FROM person_features
            WHERE sex IS NOT NULL AND length(first) > 1
        ), named AS (
            SELECT first, CASE
                WHEN count(*) FILTER (WHERE sex = 'M') >= {share} * count(*) THEN 'M'
                WHEN count(*) FILTER (WHERE sex = 'F') >= {share} * count(*) THEN 'F' END AS sex
            FROM stated GROUP BY first HAVING count(DISTINCT fullname) >= {least}
        )
        SELECT f.*, CASE WHEN f.sex IS NULL THEN n.sex END AS sex_by_name
        FROM person_features f LEFT JOIN named n ON n.first = f.first
        """
    )
