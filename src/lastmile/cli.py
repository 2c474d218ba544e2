"""The ``lastmile`` command: one thin command per verb.

Each command parses its options, calls one function of the package, and formats the answer.
Every command takes ``--workspace`` (a DuckDB file, default ``./lastmile.duckdb`` or
``$LASTMILE_WORKSPACE``, or a ``postgresql://`` URL) and writes its result to standard output
unless ``--out FILE`` is given. Errors are one line; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import json
import shlex
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lastmile import __version__
from lastmile.terminal import labelled, plain

app = typer.Typer(
    name="lastmile",
    help="Multi-agency drug-investigation analysis: ingest, resolve, map, deconflict, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        help="DuckDB file or postgresql:// URL (default: $LASTMILE_WORKSPACE or ./lastmile.duckdb)",
        show_default=False,
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the result here instead of stdout.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


class CommandError(Exception):
    """A user-facing failure with its exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _user_errors() -> tuple[type[BaseException], ...]:
    from lastmile.ingest import IngestError
    from lastmile.report.compute import ReportError
    from lastmile.store import StoreError
    from lastmile.store.backends import driver_errors

    return (
        CommandError,
        IngestError,
        ReportError,
        StoreError,
        OSError,
        ValueError,
        *driver_errors(),
    )


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into one clear line (a traceback only with --debug)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except _user_errors() as exc:
            if kwargs.get("debug"):
                raise
            # The message may quote data or arguments: plain text, control characters visible.
            err_console.print(labelled("error:", "red", exc), highlight=False, soft_wrap=True)
            raise typer.Exit(getattr(exc, "code", 1)) from None

    return wrapper


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        err_console.print(plain(f"wrote {out}"), highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _command_line() -> str:
    return "lastmile " + " ".join(shlex.quote(a) for a in sys.argv[1:])


# -- ingest ----------------------------------------------------------------------------------


class IngestFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
@friendly
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Interchange folders or CSV files.")],
    workspace: WorkspaceOpt = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Rejects file (default: lastmile-rejects/BATCH.csv)"),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(help="Read the files through a mapping: a preset name or a YAML file."),
    ] = None,
    investigation: Annotated[
        str | None, typer.Option(help="The investigation the mapped files belong to.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A mapping parameter, NAME=VALUE.")
    ] = None,
    supersedes: Annotated[
        str | None,
        typer.Option(
            help="A corrected return: replace what batch BATCH stored from files of the same "
            "names (docs/format.md).",
            metavar="BATCH",
        ),
    ] = None,
    format: Annotated[IngestFormat, typer.Option("--format", "-f")] = IngestFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Load files as one batch: every good row lands, or nothing does.

    Without --mapping, PATHS are interchange folders or files (docs/format.md); with it, files
    in another layout (docs/mappings.md; presets: `lastmile mappings`).
    """
    from lastmile.ingest import IngestError, ingest_paths
    from lastmile.ingest.mapping import load_mapping
    from lastmile.store import discard_new_workspace, open_workspace, workspace_exists

    chosen = load_mapping(mapping) if mapping else None
    params = _params(param, investigation)
    if params and chosen is None:
        raise CommandError("--investigation and --param go with --mapping")

    existed = workspace_exists(workspace)
    try:
        with open_workspace(workspace) as ws, _progress() as progress:
            task = progress.add_task("ingest", total=1.0)

            def report(stage: str, fraction: float) -> None:
                progress.update(task, description=stage, completed=fraction)

            result = ingest_paths(
                ws,
                paths,
                mapping=chosen,
                params=params,
                rejects=rejects,
                progress=report,
                supersedes=supersedes,
            )
    except IngestError:
        if not existed:
            discard_new_workspace(workspace)  # a failed first batch leaves no empty workspace
        raise

    # Values, file names and column names come from the files: printed as plain text.
    for reject in result.first_rejects:
        err_console.print(
            labelled("rejected", "yellow", reject.line()), highlight=False, soft_wrap=True
        )
    if result.rejects_total > len(result.first_rejects):
        err_console.print(f"... {result.rejects_total - len(result.first_rejects)} more")
    for name, cols in result.ignored_columns.items():
        err_console.print(
            plain(f"note: {name}: ignored unknown columns: {', '.join(cols)}"),
            highlight=False,
            soft_wrap=True,
        )
    for skipped in result.skipped:
        err_console.print(plain(f"note: {skipped}"), highlight=False, soft_wrap=True)
    if result.superseded_files:
        names = ", ".join(result.superseded_files)
        err_console.print(
            plain(f"replaced what batch {result.supersedes} stored from {names}"),
            highlight=False,
            soft_wrap=True,
        )
    if result.rejects_file:
        err_console.print(plain(f"rejects: {result.rejects_file}"), highlight=False, soft_wrap=True)
    for note in result.notes:
        err_console.print(labelled("warning:", "yellow", note), highlight=False, soft_wrap=True)

    if format is IngestFormat.json:
        _emit(json.dumps(result.as_dict(), indent=2) + "\n", out)
        return
    table = Table(title=f"batch {result.batch_id}")
    for col in ("record type", "files", "rows", "loaded", "duplicate", "rejected"):
        table.add_column(col, justify="left" if col == "record type" else "right")
    for name, c in result.counts.items():
        table.add_row(
            name, *(f"{v:,}" for v in (c.files, c.rows, c.loaded, c.duplicate, c.rejected))
        )
    table.add_row(
        "total",
        "",
        "",
        f"{result.loaded:,}",
        f"{result.duplicate:,}",
        f"{result.rejected:,}",
        style="bold",
    )
    _print_table(table, out)


def _print_table(table: Table, out: Path | None) -> None:
    if out is None:
        out_console.print(table)
    else:
        with out.open("w", encoding="utf-8") as fh:
            Console(file=fh, width=120).print(table)


def _params(pairs: list[str] | None, investigation: str | None) -> dict[str, str]:
    params = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--param {pair!r}: expected NAME=VALUE")
        params[name.strip()] = value.strip()
    if investigation:
        params["investigation"] = investigation
    return params


@app.command()
@friendly
def mappings(out: OutOpt = None, debug: DebugOpt = False) -> None:
    """The mapping presets: what each reads and the parameters it needs."""
    from lastmile.ingest.mapping import presets

    blocks = []
    for m in presets().values():
        records = ", ".join(sorted({r.record_type.name for r in m.records}))
        flags = " ".join(
            "--investigation ID" if p == "investigation" else f"--param {p}=VALUE" for p in m.params
        )
        blocks.append(
            f"{m.name}  ({m.format} -> {records})\n"
            f"  lastmile ingest --mapping {m.name} {flags} FILES...\n"
            f"  {' '.join(m.description.split())}\n"
            f"  example: src/lastmile/ingest/presets/{m.example}\n"
        )
    _emit("\n".join(blocks), out)


# -- report ----------------------------------------------------------------------------------


class ReportFormat(StrEnum):
    json = "json"
    md = "md"
    html = "html"


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from None


@app.command()
@friendly
def report(
    workspace: WorkspaceOpt = None,
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.json,
    out: OutOpt = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    division: Annotated[
        str | None, typer.Option(help='DEA field division, e.g. "Rocky Mountain".')
    ] = None,
    lethal_dose_mg: Annotated[float, typer.Option(help="A potentially lethal dose.")] = 2.0,
    pill_lethal_share: Annotated[
        float, typer.Option(help="Share of pills holding a lethal dose.")
    ] = 0.6,
    powder_purity: Annotated[float, typer.Option(help="Fentanyl purity of powder.")] = 0.113,
    social_media: Annotated[
        list[str] | None,
        typer.Option("--social-media", help="Count this platform as social media too."),
    ] = None,
    title: Annotated[str, typer.Option(help="The report's title.")] = "Operation report",
    debug: DebugOpt = False,
) -> None:
    """The operation's outcomes, with the method stated."""
    from lastmile.report import ReportOptions, compute_report, render_report
    from lastmile.store import open_workspace
    from lastmile.units import DoseMethod

    options = ReportOptions(
        date_from=_parse_date(date_from, "--from"),
        date_to=_parse_date(date_to, "--to"),
        division=division,
        dose_method=DoseMethod(lethal_dose_mg, pill_lethal_share, powder_purity),
        title=title,
        command=_command_line(),
        network_detail=True,
        **_platform_options(social_media),
    )
    with open_workspace(workspace, read_only=True) as ws:
        data = compute_report(ws, options)
    _emit(render_report(data, format.value), out)


def _platform_options(extra_social: list[str] | None) -> dict[str, Any]:
    if not extra_social:
        return {}
    from lastmile.model import PLATFORM_SYNONYMS, SOCIAL_MEDIA_DEFAULT, Platform

    by_name = {p.value.lower(): p.value for p in Platform}
    by_name.update({k: v.value for k, v in PLATFORM_SYNONYMS.items()})
    chosen = set()
    for name in extra_social:
        if name.strip().lower() not in by_name:
            raise CommandError(f"unknown platform {name!r}")
        chosen.add(by_name[name.strip().lower()])
    return {"social_media": frozenset(p.value for p in SOCIAL_MEDIA_DEFAULT) | chosen}


# -- communications analyses ------------------------------------------------------------------


class TableFormat(StrEnum):
    table = "table"
    tsv = "tsv"
    json = "json"
    csv = "csv"


FormatOpt = Annotated[
    TableFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="table, tsv, json or csv (default: table on a terminal, tsv otherwise)",
        show_default=False,
    ),
]


def _emit_table(
    data: Any,
    fmt: TableFormat | None,
    out: Path | None,
    title: str,
    layout: Any = None,
    hide: tuple[str, ...] = (),
) -> None:
    """A pyarrow table as a table fitted to the terminal, TSV, JSON records or CSV.

    Without --format: a table when writing to a terminal, else tab-separated values (as gh
    and kubectl do). CSV and TSV text cells are safe against spreadsheet formulas
    (lastmile.export.csvsafe). ``layout`` (column name -> ``export.tables.Col``) overrides
    how this command's columns show on a terminal, and ``hide`` leaves columns out of the
    terminal table only (the other formats keep every column)."""
    from lastmile.comms import to_rows
    from lastmile.export import write_csv
    from lastmile.export.tables import fit_table, to_tsv

    if fmt is None:
        fmt = TableFormat.table if out is None and sys.stdout.isatty() else TableFormat.tsv
    if fmt is TableFormat.json:
        _emit(json.dumps(to_rows(data), indent=2, default=str) + "\n", out)
        return
    if fmt is TableFormat.csv:
        _emit(write_csv(data) or "", out)
        return
    if fmt is TableFormat.tsv:
        _emit(to_tsv(data), out)
        return
    width = out_console.width if out is None else 120
    shown = data.drop_columns([c for c in hide if c in data.column_names])
    table, dropped = fit_table(shown, width, f"{title} ({data.num_rows:,} rows)", layout)
    _print_table(table, out)
    if dropped:
        note = f"not shown for width: {', '.join(dropped)} (see --format tsv, json or csv)"
        err_console.print(note, highlight=False, markup=False)


@app.command()
@friendly
def contacts(
    selector: Annotated[str, typer.Argument(help="A phone, account or email, as written.")],
    limit: Annotated[int, typer.Option(help="How many contacts.")] = 25,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Top contacts of a selector: counts, first and last contact, direction, platforms."""
    from lastmile.comms import contacts as top_contacts
    from lastmile.store import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        data = top_contacts(ws, selector, limit=limit)
    _emit_table(data, format, out, f"contacts of {selector}")


@app.command()
@friendly
def common(
    selectors: Annotated[list[str], typer.Argument(help="Two or more targets.")],
    min_targets: Annotated[int, typer.Option(help="Contacts shared by at least this many.")] = 2,
    limit: Annotated[int, typer.Option()] = 100,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Numbers and accounts several targets have in common (common-call analysis)."""
    from lastmile.comms import common as common_contacts
    from lastmile.store import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        data = common_contacts(ws, selectors, min_targets=min_targets, limit=limit)
    _emit_table(data, format, out, f"common contacts of {len(selectors)} targets")


@app.command()
@friendly
def handovers(
    max_gap_days: Annotated[
        int | None, typer.Option(help="Longest silence between phones.")
    ] = None,
    min_similarity: Annotated[
        float | None, typer.Option(help="Least share of contacts in common (0-1).")
    ] = None,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Likely burner replacements: a selector goes silent and a new one takes its contacts."""
    from lastmile.comms import handovers as find_handovers
    from lastmile.store import open_workspace

    overrides: dict[str, Any] = {}
    if max_gap_days is not None:
        overrides["max_gap_days"] = max_gap_days
    if min_similarity is not None:
        overrides["min_similarity"] = min_similarity
    with open_workspace(workspace, read_only=True) as ws:
        data = find_handovers(ws, **overrides)
    _emit_table(data, format, out, "likely handovers")


@app.command()
@friendly
def timeline(
    selector_or_subject: Annotated[str, typer.Argument(help="A selector or a subject id.")],
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Events by day and hour (UTC), ready for charts."""
    from lastmile.comms import timeline as events_timeline
    from lastmile.store import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        data = events_timeline(ws, selector_or_subject)
    _emit_table(data, format, out, f"timeline of {selector_or_subject}")


# -- synth and demo --------------------------------------------------------------------------


class ScaleChoice(StrEnum):
    tiny = "tiny"
    division = "division"
    national = "national"


@app.command()
@friendly
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.")] = Path("synth"),
    scale: Annotated[ScaleChoice, typer.Option("--scale")] = ScaleChoice.national,
    seed: Annotated[int, typer.Option(help="Same seed and options: byte-identical files.")] = 2022,
    communications: Annotated[
        int | None, typer.Option(help="Communication events (default: set by the scale).")
    ] = None,
    toll_records: Annotated[
        bool, typer.Option("--toll-records", help="Also write calls and texts as carrier CDRs.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a synthetic operation (interchange files and truth/) with known right answers."""
    from lastmile.synth import generate

    with _progress() as progress:
        task = progress.add_task("synth", total=1.0)
        summary = generate(
            scale.value,
            seed,
            out,
            communications=communications,
            toll_records=toll_records,
            progress=lambda stage, f: progress.update(task, description=stage, completed=f),
        )
    table = Table(title=f"{scale.value} operation, seed {seed}: {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.counts.items():
        table.add_row(name, f"{rows:,}")
    out_console.print(table)


@app.command()
@friendly
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for everything.")] = Path(
        "demo-output"
    ),
    scale: Annotated[ScaleChoice, typer.Option("--scale")] = ScaleChoice.national,
    seed: Annotated[int, typer.Option()] = 2022,
    communications: Annotated[int | None, typer.Option()] = None,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Synthesize an operation, ingest it, and report it: the whole pipeline on fictional data."""
    from lastmile.pipeline import run_demo

    with _progress() as progress:
        task = progress.add_task("demo", total=1.0)
        result = run_demo(
            out,
            scale=scale.value,
            seed=seed,
            communications=communications,
            workspace=workspace,
            progress=lambda stage, f: progress.update(task, description=stage, completed=f),
        )
    r = result.report
    s = r["seizures"]
    pc = r["platform_cases"]
    lines = [
        f"[bold]{r['title']}[/bold] ({r['filters']['from']} to {r['filters']['to']})",
        f"  investigations      {r['investigations']:>14,}",
        f"  arrests             {r['arrests']:>14,}",
        f"  fentanyl pills      {s['fentanyl_pills']:>14,}",
        f"  fentanyl powder     {s['fentanyl_powder_lb']:>14,.1f} lb",
        f"  methamphetamine     {s['methamphetamine_lb']:>14,.1f} lb",
        f"  firearms            {s['firearms']:>14,}",
        f"  currency            {s['currency_usd']:>14,.0f} USD",
        f"  deadly doses        {r['deadly_doses']:>14,}",
        f"  social media or encrypted platforms {pc['any']:,} investigations",
        "",
        f"ingested {result.batch.loaded:,} rows ({result.batch.rejected:,} rejected) "
        f"into {result.workspace}",
        f"report: {result.html}  (also {result.json.name}, {result.markdown.name})",
    ]
    if result.resolution is not None:
        res = result.resolution
        lines.insert(
            -1,
            f"resolved {res.records.get('subjects', 0):,} subject records into "
            f"{res.entities.get('person', 0):,} people; {res.conflicts:,} conflicts "
            "(a target another agency or division also works: lastmile conflicts), "
            f"{res.possible_conflicts:,} of them possible (through a line passed on); "
            f"{res.possible_matches:,} possible matches for an analyst to judge "
            "(lastmile review)",
        )
    for line in lines:
        out_console.print(line, highlight=False)
    from lastmile.report.render import networks_text

    section = networks_text(r)
    if section:
        out_console.print("")
        for line in section:
            out_console.print(plain(line), highlight=False)


# -- status ----------------------------------------------------------------------------------


@app.command()
@friendly
def status(
    workspace: WorkspaceOpt = None,
    files: Annotated[
        bool,
        typer.Option(
            "--files", help="Also list every file read: batch, path, SHA-256, size, time read."
        ),
    ] = False,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """What the workspace holds: schema version, records per table, batches."""
    from lastmile.ingest.custody import source_files
    from lastmile.store import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        info: dict[str, Any] = {
            "workspace": ws.store.url if ws.kind == "duckdb" else "postgresql",
            "store": ws.kind,
            "schema_version": ws.schema_version,
            "tables": ws.record_counts(),
        }
        if files:
            info["files"] = source_files(ws)
    _emit(json.dumps(info, indent=2, default=str) + "\n", out)


def version_callback(value: bool) -> None:
    if value:
        print(f"lastmile {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True)
    ] = False,
) -> None:
    """lastmile: the system behind a multi-agency drug operation."""


# -- verbs of the later rooms -----------------------------------------------------------------

# ``lastmile export ...``: one group that every room adds its exports to.
export_app = typer.Typer(help="Export results.", no_args_is_help=True)
app.add_typer(export_app, name="export")

# -- verbs of the later rooms -----------------------------------------------------------------
# Each room's commands live in lastmile/commands/<room>.py and register themselves on ``app``
# when imported here (one line per room), so that cli.py stays a short table of contents.


def _register_rooms() -> None:
    import importlib
    import pkgutil

    import lastmile.commands

    for info in pkgutil.iter_modules(lastmile.commands.__path__):
        importlib.import_module(f"lastmile.commands.{info.name}")


_register_rooms()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
