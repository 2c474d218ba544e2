"""The stored network analysis: writing it (``lastmile analyze``) and reading it back.

``lastmile analyze`` computes (:func:`lastmile.network.analyze.analyze`) and then
:func:`store_analysis` rewrites the tables of migration 0008 in **one transaction** on either
store: ``ties``, ``networks``, ``network_members``, ``key_players``, ``attributions``, and adds
one ``analysis_runs`` row; the link models kept with the previous analysis (migration 0011,
:mod:`lastmile.network.linkstore`) are deleted in the same transaction. Each table goes in
through the store's bulk path (an Arrow table registered on the DuckDB staging connection, then
``INSERT ... SELECT`` on DuckDB or ``COPY`` on PostgreSQL), never row by row. A failure before
the commit leaves the previous analysis whole: readers never see half of one.

Reading (for the CLI, the report and the server; every function returns an Arrow table, or
``None`` / a plain value as said):

- :func:`latest_analysis`: the last run (``AnalysisRun``) or ``None``; ``fresh`` says whether
  it was computed on the last ``lastmile resolve`` (entity ids and members come from
  resolution: an analysis of an earlier resolution describes entities that may have changed).
  The run stores the id of the resolution it read (migration 0012), so no clock is compared;
  :func:`latest_resolution_run` gives that id;
- :func:`read_networks`, :func:`read_members`, :func:`read_key_players`,
  :func:`read_attribution`, :func:`read_ties`: the stored tables, optionally for one network
  (or one entity's ties), in a stable order;
- :func:`investigation_networks`: each investigation's *home* network (below).

**Home network of an investigation; seizures of a network.** Seizure records name an
investigation, not a person. An investigation's home network is the network holding most of
its members (the entities of its subject and organization records), a local network before an
upstream one, the smallest ``network_id`` on a tie. A network's ``seizures`` are the seizure
records (drug, firearm, currency) of the investigations whose home network it is: each seizure
counts for one network at most, so the networks' seizures never add up to more than the
operation's. An investigation whose members are in no network gives its seizures to none.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lastmile import __version__
from lastmile.store import Workspace
from lastmile.store.backends import register_table
from lastmile.store.schema import NETWORK_TABLES

if TYPE_CHECKING:
    from lastmile.network.analyze import Analysis

__all__ = [
    "AnalysisRun",
    "investigation_networks",
    "latest_analysis",
    "latest_resolution_run",
    "network_seizures",
    "read_attribution",
    "read_key_players",
    "read_members",
    "read_networks",
    "read_ties",
    "store_analysis",
]

_ARROW = {
    "TEXT": pa.string(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE PRECISION": pa.float64(),
    "TIMESTAMP": pa.timestamp("us"),
}
SCHEMAS: dict[str, pa.Schema] = {
    t.name: pa.schema([(name, _ARROW[kind]) for name, kind in t.columns]) for t in NETWORK_TABLES
}
# The tables a run rewrites (analysis_runs keeps one row per run).
RESULT_TABLES = ("ties", "networks", "network_members", "key_players", "attributions")


@dataclass(frozen=True)
class AnalysisRun:
    """One ``lastmile analyze``: when, seconds per stage, counts; ``fresh`` when it was
    computed on the latest ``lastmile resolve`` (or none has run)."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    seconds: dict[str, float]
    counts: dict[str, int]
    lastmile_version: str
    fresh: bool


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _tables(analysis: Analysis) -> dict[str, pa.Table]:
    ties = analysis.ties.rename_columns(
        [
            "first_at" if c == "first" else "last_at" if c == "last" else c
            for c in analysis.ties.column_names
        ]
    )
    given = {
        "ties": ties,
        "networks": analysis.networks,
        "network_members": analysis.members,
        "key_players": analysis.key_players,
        "attributions": analysis.attribution,
    }
    return {
        name: given[name].select(SCHEMAS[name].names).cast(SCHEMAS[name]) for name in RESULT_TABLES
    }


def latest_resolution_run(ws: Workspace) -> str:
    """The run id of the last ``lastmile resolve`` (by the store's clock); ``''`` when none
    has run (a value, so that "none yet" is never taken for "not read yet")."""
    rows = ws.store.rows(
        "SELECT run_id FROM resolution_runs ORDER BY finished_at DESC, started_at DESC LIMIT 1"
    )
    return str(rows[0][0]) if rows else ""


def store_analysis(
    ws: Workspace,
    analysis: Analysis,
    *,
    started: float,
    resolution_run: str,
) -> str:
    """Replace the stored analysis with ``analysis`` in one transaction; returns the run id.

    ``started`` (seconds since the epoch) is when the analysis began reading the workspace and
    ``resolution_run`` the latest resolution run then (:func:`latest_resolution_run`, read
    before the analysis: a resolve that finishes while it runs must leave it stale);
    ``analysis.seconds`` gains ``store``, the time of the write."""
    begin = time.perf_counter()
    store = ws.store
    con = store.staging()
    tables = _tables(analysis)
    for name, table in tables.items():
        register_table(con, table, f"analysis_{name}")
    run_id = str(uuid.uuid4())
    with store.transaction():
        for name in RESULT_TABLES:
            store.execute(f"DELETE FROM {name}")
        # the kept link models were trained with the previous analysis (linkstore.py)
        store.execute("DELETE FROM link_models")
        for name in RESULT_TABLES:
            cols = SCHEMAS[name].names
            store.append(con, name, cols, f"SELECT {', '.join(cols)} FROM analysis_{name}")
        analysis.seconds["store"] = time.perf_counter() - begin
        store.execute(
            "INSERT INTO analysis_runs (run_id, started_at, finished_at, seconds_json, "
            "counts_json, lastmile_version, resolution_run_id) VALUES (?, "
            "CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?, ?, ?, ?)",
            (
                run_id,
                _timestamp(started),
                _timestamp(time.time()),
                json.dumps({k: round(v, 3) for k, v in analysis.seconds.items()}),
                json.dumps(analysis.counts()),
                __version__,
                resolution_run,
            ),
        )
    for name in RESULT_TABLES:
        con.execute(f"DROP TABLE IF EXISTS analysis_{name}")
    return run_id


def latest_analysis(ws: Workspace) -> AnalysisRun | None:
    """The last stored analysis, or ``None`` when ``lastmile analyze`` never ran."""
    rows = ws.store.rows(
        "SELECT run_id, started_at, finished_at, seconds_json, counts_json, lastmile_version, "
        "resolution_run_id FROM analysis_runs ORDER BY finished_at DESC, started_at DESC LIMIT 1"
    )
    if not rows:
        return None
    run_id, started_at, finished_at, seconds, counts, version, computed_on = rows[0]
    if computed_on is None:  # stored before migration 0012: only the times can tell
        resolved = ws.store.rows("SELECT max(finished_at) FROM resolution_runs")[0][0]
        fresh = resolved is None or started_at >= resolved
    else:
        fresh = computed_on == latest_resolution_run(ws)
    return AnalysisRun(
        run_id=str(run_id),
        started_at=started_at,
        finished_at=finished_at,
        seconds=json.loads(seconds or "{}"),
        counts=json.loads(counts or "{}"),
        lastmile_version=str(version or ""),
        fresh=fresh,
    )


def _read(ws: Workspace, name: str, where: str, params: list[Any], order: str) -> pa.Table:
    schema = SCHEMAS[name]
    table = ws.store.query(
        f"SELECT {', '.join(schema.names)} FROM {name} {where} ORDER BY {order}", params
    )
    if table.num_rows == 0:
        return schema.empty_table()
    return table.select(schema.names).cast(schema)


def read_networks(ws: Workspace, *, upstream: bool | None = None) -> pa.Table:
    """The stored networks, largest first (``upstream`` True or False keeps only those)."""
    where, params = ("", []) if upstream is None else ("WHERE upstream = ?", [upstream])
    return _read(ws, "networks", where, params, "people DESC, network_id")


def read_members(ws: Workspace, network_id: str | None = None) -> pa.Table:
    """network_id, entity_id, upstream, community of every member (or one network's)."""
    where, params = ("", []) if network_id is None else ("WHERE network_id = ?", [network_id])
    return _read(ws, "network_members", where, params, "network_id, entity_id")


def read_key_players(
    ws: Workspace, network_id: str | None = None, k: int | None = None
) -> pa.Table:
    """network_id, entity_id, rank, score, why: the stored top of each network (or one),
    ranks 1..``k`` when given."""
    clauses: list[str] = []
    params: list[Any] = []
    if network_id is not None:
        clauses.append("network_id = ?")
        params.append(network_id)
    if k is not None:
        clauses.append("rank <= ?")
        params.append(k)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return _read(ws, "key_players", where, params, "network_id, rank")


def read_attribution(ws: Workspace, network_id: str | None = None) -> pa.Table:
    """network_id, cartel, score, label, agrees, path of every local network (or one)."""
    where, params = ("", []) if network_id is None else ("WHERE network_id = ?", [network_id])
    return _read(ws, "attributions", where, params, "network_id")


def read_ties(ws: Workspace, entity_id: str | None = None) -> pa.Table:
    """The stored typed ties (all, or those of one entity), by kind and ends."""
    if entity_id is None:
        return _read(ws, "ties", "", [], "kind, source, target")
    return _read(
        ws, "ties", "WHERE source = ? OR target = ?", [entity_id, entity_id], "kind, source, target"
    )


INVESTIGATION_MEMBERS = """
    SELECT DISTINCT s.investigation_id, m.entity_id FROM subjects s
    JOIN entity_members m ON m.record_type = 'subjects' AND m.record_id = s.subject_id
    UNION
    SELECT DISTINCT o.investigation_id, m.entity_id FROM organizations o
    JOIN entity_members m ON m.record_type = 'organizations' AND m.record_id = o.organization_id
"""

_SEIZURES = """
    SELECT investigation_id, count(*) FROM (
        SELECT DISTINCT 'drug' AS kind, seizure_id, investigation_id FROM drug_seizures
        UNION SELECT DISTINCT 'firearm', seizure_id, investigation_id FROM firearm_seizures
        UNION SELECT DISTINCT 'currency', seizure_id, investigation_id FROM currency_seizures
    ) AS seized GROUP BY investigation_id
"""


def investigation_networks(ws: Workspace, members: pa.Table | None = None) -> dict[str, str]:
    """investigation_id -> its home network (the module's docstring says how it is chosen).

    ``members`` (entity_id, network_id, upstream) defaults to the stored members."""
    if members is None:
        members = read_members(ws)
    from lastmile.network.networks import home_networks

    network_of = {
        str(r["entity_id"]): (bool(r["upstream"]), str(r["network_id"]))
        for r in members.select(["entity_id", "network_id", "upstream"]).to_pylist()
    }
    named = (
        (str(investigation), str(entity))
        for investigation, entity in ws.store.rows(INVESTIGATION_MEMBERS)
        if investigation is not None
    )
    # local before upstream, then most members, then the smallest id
    homes = home_networks(named, network_of, last=lambda network: network[0])
    return {inv: network_id for inv, (_, network_id) in homes.items()}


def network_seizures(ws: Workspace, members: pa.Table | None = None) -> dict[str, int]:
    """network_id -> seizure records of the investigations whose home network it is."""
    home = investigation_networks(ws, members)
    seized: dict[str, int] = {}
    for investigation, n in ws.store.rows(_SEIZURES):
        nid = home.get(str(investigation))
        if nid is not None:
            seized[nid] = seized.get(nid, 0) + int(n)
    return seized


def read_network_graph(ws: Workspace, network_id: str) -> Any:
    """One stored network as a :class:`lastmile.network.Network` (its criminal ties among its
    members, weighted by records), for the analyses run on demand (disrupt, links...)."""
    from lastmile.network.graph import NetworkError
    from lastmile.network.networks import network_graphs

    members = read_members(ws, network_id)
    if members.num_rows == 0:
        known = read_networks(ws).column("network_id").to_pylist()[:5]
        hint = f" (for example {', '.join(known)}; see lastmile networks)" if known else ""
        raise NetworkError(f"no network {network_id!r} in this workspace{hint}")
    inside = "SELECT entity_id FROM network_members WHERE network_id = ?"
    ties = _read(
        ws,
        "ties",
        f"WHERE source IN ({inside}) AND target IN ({inside})",
        [network_id, network_id],
        "kind, source, target",
    )
    ties = ties.rename_columns(
        ["first" if c == "first_at" else "last" if c == "last_at" else c for c in ties.column_names]
    )
    graphs = network_graphs(ws, ties, members)
    if network_id not in graphs:
        raise NetworkError(f"network {network_id!r} has no ties to analyse")
    return graphs[network_id]
