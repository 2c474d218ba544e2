"""Chain of custody and schema verbs: ``lastmile verify`` and ``lastmile migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lastmile.cli import (
    DebugOpt,
    FormatOpt,
    OutOpt,
    TableFormat,
    WorkspaceOpt,
    _emit_table,
    app,
    err_console,
    friendly,
)
from lastmile.terminal import plain


@app.command()
@friendly
def verify(
    folder: Annotated[Path, typer.Argument(help="A folder (or a file) that was ingested.")],
    workspace: WorkspaceOpt = None,
    format: FormatOpt = TableFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Which files on disk still match what was ingested.

    Each file is matched, changed, not ingested or missing; exits with 1 when a file changed
    or is missing."""
    from lastmile.ingest.custody import CHANGED, MISSING
    from lastmile.ingest.custody import verify as verify_files
    from lastmile.store import open_workspace

    with open_workspace(workspace, read_only=True) as ws:
        data = verify_files(ws, folder)
    shown = data
    if format is TableFormat.table:
        # On screen, a hash's first 12 hex digits tell files apart; JSON and CSV give it whole.
        import pyarrow.compute as pc

        short = pc.utf8_slice_codeunits(data.column("sha256"), 0, 12)
        shown = data.set_column(data.schema.get_field_index("sha256"), "sha256", short)
    _emit_table(shown, format, out, f"files in {folder}")
    statuses = data.column("status").to_pylist()
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    err_console.print(
        plain(", ".join(f"{n} {s}" for s, n in counts.items()) or "no files"), highlight=False
    )
    if CHANGED in counts or MISSING in counts:
        raise typer.Exit(1)


@app.command()
@friendly
def migrate(workspace: WorkspaceOpt = None, debug: DebugOpt = False) -> None:
    """Bring an existing workspace to this lastmile's schema version.

    Reading commands do not: they open it read-only and ask for this."""
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        version, applied = ws.schema_version, ws.migrated
    if applied:
        done = ", ".join(str(v) for v in applied)
        err_console.print(f"schema version {version} (applied migrations {done})")
    else:
        err_console.print(f"schema version {version}: nothing to do")
