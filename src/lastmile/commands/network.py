"""Network verbs: key players, disruption, link prediction on any edge list (docs/networks.md)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lastmile.cli import (
    CommandError,
    DebugOpt,
    FormatOpt,
    OutOpt,
    TableFormat,
    WorkspaceOpt,
    _emit,
    _emit_table,
    _progress,
    app,
    err_console,
    export_app,
    friendly,
)
from lastmile.terminal import plain

if TYPE_CHECKING:
    import pyarrow as pa

    from lastmile.network import Network

EdgesOpt = Annotated[
    Path | None,
    typer.Option(
        "--edges",
        help="An edge list CSV: source,target[,weight] with a header row (weights count ties).",
    ),
]
MatrixOpt = Annotated[
    bool,
    typer.Option(
        "--matrix", help="The file is an adjacency matrix (labels in row 1 and column 1)."
    ),
]
NetworkArg = Annotated[
    str | None, typer.Argument(help="A network id of the workspace (lastmile networks).")
]


def _stored(ws: Any) -> bool:
    """Whether the workspace holds a network analysis as recent as its last resolve; if not,
    say in one line that the answer is computed now (docs/networks.md, "Stored analysis")."""
    from lastmile.network.stored import latest_analysis

    run = latest_analysis(ws)
    if run is not None and run.fresh:
        return True
    why = (
        "no network analysis is stored"
        if run is None
        else "the stored network analysis predates the last resolve"
    )
    err_console.print(
        plain(f"note: {why}: computed now (lastmile analyze stores it)"), soft_wrap=True
    )
    return False


def _load(
    network: str | None, edges: Path | None, matrix: bool, workspace: str | None = None
) -> Network:
    from lastmile.network import load_network

    if edges is not None and network is not None:
        raise CommandError("give a NETWORK of the workspace or --edges FILE.csv, not both")
    if edges is None:
        if network is None:
            raise CommandError("give a NETWORK of the workspace (lastmile networks) or --edges")
        from lastmile.network.networks import workspace_network
        from lastmile.network.stored import read_network_graph
        from lastmile.store import open_workspace

        with open_workspace(workspace, create=False) as ws:
            if _stored(ws):
                graph: Network = read_network_graph(ws, network)
                return graph
            return workspace_network(ws, network)
    net = load_network(edges, matrix=matrix)
    for note in net.notes:
        err_console.print(plain(f"note: {edges}: {note}"), soft_wrap=True)
    return net


def _stored_key_players(
    network: str | None,
    edges: Path | None,
    k: int,
    method: KeyMethod,
    seed: int,
    workspace: str | None,
) -> pa.Table | None:
    """The stored top ``k`` of a workspace network (rank,id,score,why), when the request is
    the stored one (default ranking, seed 0, k within what analyze keeps); else None."""
    from lastmile.network.analyze import KEY_PLAYERS_STORED
    from lastmile.network.graph import NetworkError
    from lastmile.network.stored import latest_analysis, read_key_players, read_members
    from lastmile.store import open_workspace

    if network is None or edges is not None or method is not KeyMethod.supply or seed != 0:
        return None
    if k > KEY_PLAYERS_STORED:
        return None
    with open_workspace(workspace, create=False) as ws:
        run = latest_analysis(ws)
        if run is None or not run.fresh:
            return None
        table = read_key_players(ws, network)
        if table.num_rows == 0:
            if read_members(ws, network).num_rows == 0:
                raise NetworkError(
                    f"no network {network!r} in this workspace (see lastmile networks)"
                )
            return None
    if table.num_rows < k:  # a network of fewer than k people: all of them are stored
        err_console.print(
            plain(f"note: only {table.num_rows} nodes: ranked all of them"), soft_wrap=True
        )
    import pyarrow.compute as pc

    top = table.filter(pc.less_equal(table.column("rank"), k))
    return top.select(["rank", "entity_id", "score", "why"]).rename_columns(
        ["rank", "id", "score", "why"]
    )


class KeyMethod(StrEnum):
    supply = "supply"
    keyplayer = "keyplayer"
    betweenness = "betweenness"
    degree = "degree"
    weighted_degree = "weighted_degree"
    eigenvector = "eigenvector"


@app.command()
@friendly
def keyplayers(
    network: NetworkArg = None,
    edges: EdgesOpt = None,
    matrix: MatrixOpt = False,
    k: Annotated[int, typer.Option("-k", help="How many key players.")] = 5,
    method: Annotated[
        KeyMethod | None,
        typer.Option(
            help="supply: most people supplied in the network, then the fall of the largest "
            "component on one's removal alone, then a stated role of distributor, then ties, "
            "then betweenness "
            "(default on a workspace network); keyplayer: Borgatti's fragmentation set (default "
            "on an edge list, which has no direction of supply)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of sampling and communities.")] = 0,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The k people whose removal breaks the network most, each explained (rank,id,score,why)."""
    from lastmile.network import key_players

    if method is None:
        method = KeyMethod.supply if network is not None and edges is None else KeyMethod.keyplayer
    stored = _stored_key_players(network, edges, k, method, seed, workspace)
    if stored is not None:
        _emit_table(_with_names(stored, workspace), format, out, f"key players ({method.value})")
        return
    net = _load(network, edges, matrix, workspace)
    result = key_players(net, k, method=method.value, seed=seed)
    for note in result.notes[len(net.notes) :]:
        err_console.print(plain(f"note: {note}"), soft_wrap=True)
    table = result.table
    if format is not TableFormat.json:
        table = table.select(["rank", "id", "score", "why"])
    if network is not None and edges is None:
        table = _with_names(table, workspace)
    _emit_table(table, format, out, f"key players ({method.value})")


def _with_names(
    table: pa.Table, workspace: str | None, columns: dict[str, str] | None = None
) -> pa.Table:
    """``table`` with each entity's best name beside its id, for each id column -> name
    column of ``columns`` (default ``id`` -> ``name``): an analyst reads a workspace
    network's people by name (an edge list has no names, and keeps the columns the issue
    names: rank,id,score,why)."""
    import pyarrow as pa

    from lastmile.comms.owners import best_names
    from lastmile.store import open_workspace

    columns = columns or {"id": "name"}
    ids = {c: table.column(c).to_pylist() for c in columns}
    with open_workspace(workspace, create=False) as ws:
        names = best_names(ws, [i for c in columns for i in ids[c]])
    for column, name in columns.items():
        at = table.column_names.index(column) + 1
        named = pa.array([names.get(i) if i is not None else None for i in ids[column]])
        table = table.add_column(at, name, named.cast(pa.string()))
    return table


class Strategy(StrEnum):
    betweenness = "betweenness"
    degree = "degree"
    keyplayer = "keyplayer"
    list = "list"


def _ids_of(text: str) -> list[str]:
    """The ids of a ``--remove`` list: one CSV row, so that a quoted id may hold a comma; each
    trimmed and composed (NFC), as the edge list's ids are, so that "José" typed with a
    combining accent is the José of the file."""
    import csv
    import io
    import unicodedata

    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise CommandError(f"--remove: not a list of ids ({exc})") from None
    return [unicodedata.normalize("NFC", t).strip() for row in rows for t in row if t.strip()]


@app.command()
@friendly
def disrupt(
    network: NetworkArg = None,
    edges: EdgesOpt = None,
    matrix: MatrixOpt = False,
    strategy: Annotated[Strategy, typer.Option(help="Whom to remove first.")] = (
        Strategy.betweenness
    ),
    sequential: Annotated[
        bool,
        typer.Option(
            "--sequential/--all-at-once",
            help="Recompute the ranking after each removal, or rank once on the intact network.",
        ),
    ] = False,
    steps: Annotated[int | None, typer.Option(help="Removals (default: 10 or the list).")] = None,
    remove: Annotated[
        str | None,
        typer.Option(
            help="For --strategy list: ids in order, comma-separated as a CSV row (quote an id "
            "that holds a comma: '\"Smith, John\",7')."
        ),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Draw the curve to this .png or .svg file.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of sampling.")] = 0,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Remove people step by step; after each: largest component, components, efficiency."""
    from lastmile.network import disrupt as simulate
    from lastmile.network import disruption_notes, plot_disruption

    targets = _ids_of(remove) if remove else None
    if targets and strategy is not Strategy.list:
        raise CommandError("--remove goes with --strategy list")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        # Said before the simulation, which can take minutes, not after it.
        raise CommandError(f"{plot}: the plot must be a .png or .svg file")
    net = _load(network, edges, matrix, workspace)
    table = simulate(
        net, strategy=strategy.value, steps=steps, sequential=sequential, targets=targets, seed=seed
    )
    removals = table.num_rows - 1
    if steps is not None and removals < steps:
        err_console.print(
            plain(
                f"note: {removals:,} removal{'s' if removals != 1 else ''}, "
                "all the network or the list allows"
            ),
            soft_wrap=True,
        )
    for note in disruption_notes(
        net, strategy.value, steps=removals, sequential=sequential, seed=seed
    ):
        err_console.print(plain(f"note: {note}"), soft_wrap=True)
    if plot is not None:
        label = f"{strategy.value}, {'sequential' if sequential else 'all at once'}"
        plot_disruption({label: table}, plot, title=str(edges or network))
        err_console.print(plain(f"wrote {plot}"), soft_wrap=True)
    if format is TableFormat.json:
        _emit(json.dumps(table.to_pylist(), indent=2) + "\n", out)
        return
    if network is not None and edges is None:
        table = _with_names(table, workspace, {"removed": "removed_name"})
    _emit_table(table, format, out, f"disruption ({strategy.value})")


class LinkMethod(StrEnum):
    common_neighbours = "common_neighbours"
    adamic_adar = "adamic_adar"
    resource_allocation = "resource_allocation"
    katz = "katz"
    learned = "learned"


@app.command()
@friendly
def links(
    network: NetworkArg = None,
    edges: EdgesOpt = None,
    matrix: MatrixOpt = False,
    top: Annotated[int, typer.Option(help="How many likely missing ties.")] = 20,
    method: Annotated[
        LinkMethod | None,
        typer.Option(
            help="The score to rank by (learned: a model trained on this network and its "
            "records). Default: learned on a workspace network, adamic_adar on --edges."
        ),
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option("--evaluate", help="Instead: hide 15% of ties and report each method's AUC."),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the hidden ties and of training.")] = 0,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain",
            help="Train the learned model again even if the workspace keeps one "
            "(it is kept with the stored analysis; docs/networks.md, Kept model).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Likely missing ties, with their scores and (learned) why, for checking."""
    from lastmile.network import evaluate_links, predict_links

    net = _load(network, edges, matrix, workspace)
    context = None
    if method is None:
        method = LinkMethod.adamic_adar if edges is not None else LinkMethod.learned
    among = None
    model = None
    if edges is None and (evaluate or method is LinkMethod.learned):
        from lastmile.network.linklearn import network_context, workspace_graph
        from lastmile.network.linkstore import workspace_link_model
        from lastmile.store import open_workspace

        # A DuckDB file this user can not write (archived, shared read-only) is opened
        # read-only: the answer is given, and the model is not kept.
        with open_workspace(workspace, create=False, read_only=not _writable(workspace)) as ws:
            if evaluate:
                context = network_context(ws, net)
            else:  # learn from every network of the workspace, suggest within this one
                from lastmile.network.stored import latest_analysis, read_members

                among = net.ids
                run = latest_analysis(ws)
                stored = read_members(ws) if run is not None and run.fresh else None
                net, context = workspace_graph(ws, stored)
                with _progress() as progress:
                    task = progress.add_task("link model", total=1.0)
                    found = workspace_link_model(
                        ws,
                        net,
                        context,
                        run,
                        seed=seed,
                        retrain=retrain,
                        progress=lambda stage, f: progress.update(
                            task, description=stage, completed=f
                        ),
                    )
                model = found.model
                err_console.print(plain(found.note), soft_wrap=True)
    if evaluate:
        table = evaluate_links(net, seed=seed, context=context)
        _emit_table(table, format, out, "link prediction AUC")
        return
    table = predict_links(
        net, top=top, method=method.value, context=context, seed=seed, among=among, model=model
    )
    if network is not None and edges is None:
        table = _with_names(table, workspace, {"source": "source_name", "target": "target_name"})
    _emit_table(table, format, out, "likely ties")


def _writable(workspace: str | Path | None) -> bool:
    """False for a DuckDB file that exists and this process may not write; True otherwise
    (a PostgreSQL workspace's rights are the server's to check)."""
    from lastmile.store import resolve_workspace

    name = resolve_workspace(workspace)
    if name.startswith(("postgresql://", "postgres://")):
        return True
    path = Path(name)
    return not path.exists() or os.access(path, os.W_OK)


@app.command()
@friendly
def networks(
    members: Annotated[
        bool, typer.Option("--members", help="Instead: entity_id,network_id of every member.")
    ] = False,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Distribution networks of the resolved entities: people, places, multi-city, arrests."""
    from lastmile.network.networks import workspace_networks
    from lastmile.network.stored import read_members, read_networks
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        if _stored(ws):
            membership, summary = read_members(ws), read_networks(ws)
            membership = membership.sort_by(
                [("network_id", "ascending"), ("entity_id", "ascending")]
            )
        else:
            membership, summary = workspace_networks(ws)
    if members:
        _emit_table(membership.select(["entity_id", "network_id"]), format, out, "members")
        return
    _emit_table(summary, format, out, "distribution networks")


@app.command()
@friendly
def attribution(
    network: Annotated[
        str | None,
        typer.Argument(help="Only this network (lastmile networks) (default: every network)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The cartel supplying each network, its score, the agency label and the evidence path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from lastmile.comms.owners import best_names
    from lastmile.export.tables import Col
    from lastmile.network.attribution import named_path, path_steps
    from lastmile.network.graph import NetworkError

    with _open_ws(workspace) as ws:
        table = _attribution(ws)
        if network is not None:
            table = table.filter(pc.equal(table.column("network_id"), network))
            if table.num_rows == 0:
                raise NetworkError(
                    f"no attributed network {network!r} in this workspace (see lastmile "
                    "networks; upstream networks are evidence, not attributed)"
                )
        paths = [p or "" for p in table.column("path").to_pylist()]
        names = best_names(ws, [e for p in paths for e in path_steps(p)[0]])
    # The stored path keeps ids (what the server and export read); the command line also
    # gives it with each step named, and shows that one on a terminal.
    table = table.append_column("named_path", pa.array([named_path(p, names) for p in paths]))
    _emit_table(
        table,
        format,
        out,
        "cartel attribution",
        layout={"named_path": Col("path", 8, "fold")},
        hide=("path",),
    )


def _open_ws(workspace: str | None) -> Any:
    from lastmile.store import open_workspace

    return open_workspace(workspace, create=False)


def _attribution(ws: Any) -> Any:
    from lastmile.network.attribution import workspace_attribution
    from lastmile.network.stored import read_attribution

    return read_attribution(ws) if _stored(ws) else workspace_attribution(ws)


ExportOut = Annotated[Path, typer.Option("--out", "-o", help="The CSV file to write.")]


def _write(table: Any, out: Path) -> None:
    from lastmile.export import write_csv

    _emit(write_csv(table) or "", out)


@export_app.command("networks")
@friendly
def export_networks(
    out: ExportOut, workspace: WorkspaceOpt = None, debug: DebugOpt = False
) -> None:
    """entity_id,network_id of every member of every distribution network."""
    from lastmile.network.networks import workspace_networks
    from lastmile.network.stored import read_members

    with _open_ws(workspace) as ws:
        members = read_members(ws) if _stored(ws) else workspace_networks(ws)[0]
    _write(members.select(["entity_id", "network_id"]), out)


@export_app.command("keyplayers")
@friendly
def export_keyplayers(
    out: ExportOut, workspace: WorkspaceOpt = None, debug: DebugOpt = False
) -> None:
    """network_id,entity_id,rank,score: the top 10 of every network (default ranking)."""
    from lastmile.network.analyze import KEY_PLAYERS_STORED
    from lastmile.network.networks import workspace_key_players
    from lastmile.network.stored import read_key_players

    with _open_ws(workspace) as ws:
        if _stored(ws):
            table = read_key_players(ws)
        else:
            table = workspace_key_players(ws, KEY_PLAYERS_STORED)
    _write(table.select(["network_id", "entity_id", "rank", "score"]), out)


@export_app.command("attribution")
@friendly
def export_attribution(
    out: ExportOut, workspace: WorkspaceOpt = None, debug: DebugOpt = False
) -> None:
    """network_id,cartel,score of every network that is not upstream."""
    with _open_ws(workspace) as ws:
        table = _attribution(ws)
    _write(table.select(["network_id", "cartel", "score"]), out)


@app.command()
@friendly
def analyze(
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Also write ties, networks, members, key players, attribution."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Every network analysis: networks, key players, cartel attribution.

    Stored in the workspace for the reading verbs, the report and the server
    (docs/networks.md)."""
    from lastmile.export import write_csv
    from lastmile.network.analyze import run_analysis
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        result = run_analysis(ws)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, table in (
            ("ties", result.ties),
            ("networks", result.networks),
            ("members", result.members),
            ("keyplayers", result.key_players),
            ("attribution", result.attribution),
        ):
            write_csv(table, out_dir / f"{name}.csv")
        err_console.print(plain(f"wrote {out_dir}/"), soft_wrap=True)
    _emit(result.summary(), None)
