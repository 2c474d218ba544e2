"""``lastmile screen``: find the social-media posts that sell drugs (issue 12)."""

from __future__ import annotations

import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lastmile.cli import (
    CommandError,
    DebugOpt,
    OutOpt,
    WorkspaceOpt,
    _params,
    app,
    err_console,
    friendly,
)
from lastmile.terminal import labelled, plain

if TYPE_CHECKING:
    import pyarrow as pa


class ScreenFormat(StrEnum):
    csv = "csv"
    json = "json"


def render(results: pa.Table, fmt: ScreenFormat) -> str:
    """CSV (lists ``|``-separated) or JSON lines (one object a post)."""
    # pyarrow is imported where used: every command loads this module, and pyarrow's
    # import cost a toll record's ingest a tenth of a CPU-second.
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if fmt is ScreenFormat.json:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results.to_pylist())
    flat = results
    for name in ("indicators", "drugs", "selectors"):
        i = flat.column_names.index(name)
        flat = flat.set_column(i, name, pc.binary_join(flat[name], "|"))
    buf = io.BytesIO()
    pacsv.write_csv(flat, buf)
    return buf.getvalue().decode("utf-8")


@app.command()
@friendly
def screen(
    paths: Annotated[list[Path], typer.Argument(help="Posts: CSV with a text column, JSON lines.")],
    format: Annotated[ScreenFormat, typer.Option("--format", "-f")] = ScreenFormat.csv,
    mapping: Annotated[
        str | None, typer.Option(help="Read another layout through a mapping (record posts).")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A mapping parameter, NAME=VALUE.")
    ] = None,
    lexicon: Annotated[
        Path | None, typer.Option(help="A lexicon file instead of the shipped one.")
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            help="lexicon, or combined: the lexicon score averaged with a small text model "
            "trained at run time on synthetic posts (needs lastmile\\[screen])."
        ),
    ] = "combined",
    investigation: Annotated[
        str | None,
        typer.Option(help="Attach the posts, authors and found selectors to this investigation."),
    ] = None,
    workspace: WorkspaceOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Screen posts for drug sales, one row a post.

    Label (sale, possible, none), score, indicators, drugs implied and contact selectors
    (docs/methodology.md, "Screening")."""
    from lastmile.ingest.mapping import load_mapping
    from lastmile.screen import LexiconError, load_lexicon, screen_posts
    from lastmile.screen.model import ModelUnavailable
    from lastmile.screen.read import read_posts

    try:
        lex = load_lexicon(lexicon)
    except LexiconError as exc:
        raise CommandError(str(exc)) from None
    chosen = load_mapping(mapping) if mapping else None
    params = _params(param, investigation if chosen is not None else None)
    if chosen is not None and "investigation" in chosen.params and not params.get("investigation"):
        # Screening alone needs no investigation; the mapping's column is not used.
        params["investigation"] = "-"
    posts = read_posts(paths, chosen, params)
    for problem in posts.problems[:20]:
        err_console.print(labelled("skipped", "yellow", problem))
    if len(posts.problems) > 20:
        err_console.print(f"... {len(posts.problems) - 20} more")
    try:
        results = screen_posts(posts.table, lex, method)
    except ModelUnavailable as exc:
        raise CommandError(str(exc)) from None
    import pyarrow.compute as pc

    counts = pc.value_counts(results["label"]).to_pylist() if results.num_rows else []
    summary = ", ".join(f"{c['counts']:,} {c['values']}" for c in counts)
    err_console.print(f"screened {results.num_rows:,} posts: {summary or 'none'}", highlight=False)
    if investigation:
        from lastmile.screen.attach import attach
        from lastmile.store import open_workspace

        with open_workspace(workspace) as ws:
            result = attach(ws, investigation, posts.table, results)
        for reject in result.first_rejects:
            err_console.print(labelled("rejected", "yellow", reject.line()))
        err_console.print(
            plain(
                f"attached to {investigation}: {result.loaded:,} records loaded, "
                f"{result.duplicate:,} already there, {result.rejected:,} rejected"
            )
        )
    text = render(results, format)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        err_console.print(plain(f"wrote {out}"))
    if posts.problems and not posts.table.num_rows:
        raise typer.Exit(1)
