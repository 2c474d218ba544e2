"""The resolution verbs: resolve, export memberships, explain, judge, review, conflicts
(docs/resolution.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

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
    app,
    err_console,
    export_app,
    friendly,
)
from lastmile.terminal import labelled, plain


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class Prior(StrEnum):
    estimated = "estimated"
    stated = "stated"


@app.command()
@friendly
def resolve(
    workspace: WorkspaceOpt = None,
    engine: Annotated[Engine, typer.Option(help="Where Splink runs.")] = Engine.duckdb,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="A saved model (JSON) to use instead of training."),
    ] = None,
    save_model: Annotated[
        Path | None, typer.Option("--save-model", help="Write the model used here (JSON).")
    ] = None,
    corroborate_dates: Annotated[
        bool,
        typer.Option(
            "--corroborate-dates/--no-corroborate-dates",
            help="Merge records whose dates of birth conflict when all their records "
            "together share two kinds of evidence (a false identity's false date). On by "
            "default; --no-corroborate-dates keeps every date conflict apart "
            "(docs/resolution.md).",
        ),
    ] = True,
    prior: Annotated[
        Prior,
        typer.Option(
            help="The prior of the trained model: counted from the pairs agreeing on full "
            "name and date of birth and divided by that rule's recall, estimated from the "
            "trained model (the default; records with stated ties are then merged at 0.8) "
            "or stated (0.6, as before; docs/resolution.md, 'The prior, estimated').",
        ),
    ] = Prior.estimated,
    format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Resolve persons, organizations and selectors into entities with stable ids."""
    from lastmile.resolve.judge import missing_judged_records
    from lastmile.resolve.run import identifier_conflict_line
    from lastmile.resolve.run import resolve as run_resolve
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        result = run_resolve(
            ws,
            engine=engine.value,
            model_path=model,
            save_model=save_model,
            corroborate_dates=corroborate_dates,
            prior=prior.value,
        )
        missing = missing_judged_records(ws)
    for rid in missing:
        err_console.print(
            labelled(
                "warning:",
                "yellow",
                f"a judgement names {rid}, which is no longer in the workspace; it was not applied",
            )
        )
    data = result.as_dict()
    if format is TableFormat.json:
        _emit(json.dumps(data, indent=2) + "\n", out)
        return
    lines = [
        f"resolved {result.records.get('subjects', 0):,} subject records into "
        f"{result.entities.get('person', 0):,} persons, "
        f"{result.records.get('organizations', 0):,} organization records into "
        f"{result.entities.get('organization', 0):,} organizations, "
        f"{result.records.get('selectors', 0):,} selector records into "
        f"{result.entities.get('selector', 0):,} selectors",
        f"model {'trained on these records' if result.trained else f'from {model}'}; "
        f"pairs merged at probability >= {result.threshold}: {result.edges:,}",
    ]
    if result.prior.get("rule_recall_estimated") is not None:
        p = result.prior
        lines.append(
            f"prior from {p['mode']} recall {p['rule_recall_used']:.2f} of full name and date "
            f"of birth (estimated {p['rule_recall_estimated']:.2f}, prior "
            f"{p.get('prior_estimated') or 0:.2g}; used "
            f"{result.model.get('probability_two_random_records_match') or 0:.2g})"
        )
    if result.vetoed:
        lines.append(
            "not merged by rule: " + ", ".join(f"{k} {v:,}" for k, v in result.vetoed.items())
        )
    if result.common_selectors:
        lines.append(f"shared selectors not used as evidence: {result.common_selectors:,}")
    if result.invalid_identifiers:
        lines.append(f"malformed identifiers kept and flagged: {result.invalid_identifiers:,}")
    for note in result.training_skipped:
        lines.append(f"training step skipped (too few records): {note}")
    for a, b, why in result.identifier_conflicts:
        lines.append(identifier_conflict_line(a, why, b))
    lines.append(
        f"conflicts: {result.conflicts:,} ({result.new_conflicts:,} new, "
        f"{result.found_again_conflicts:,} found again, "
        f"{result.upgraded_conflicts:,} upgraded from possible to confirmed; "
        f"{result.possible_conflicts:,} possible, through a line passed on): "
        "lastmile conflicts"
        + (f" (stamped {result.conflicts_stamped_at} UTC)" if result.conflicts_stamped_at else "")
    )
    lines.append(
        f"possible matches left for an analyst to judge: {result.possible_matches:,} "
        "(lastmile review)"
    )
    lines.append(f"{result.seconds:.1f} s")
    _emit("\n".join(lines) + "\n", out)


@export_app.command("memberships")
@friendly
def export_memberships(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write record_id,entity_id,score for every resolved record."""
    from lastmile.export import write_csv
    from lastmile.resolve.errors import ResolveError
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        data = ws.store.query(
            "SELECT record_id, entity_id, probability AS score FROM entity_members "
            "ORDER BY record_type, record_id"
        )
    if data.num_rows == 0:
        raise ResolveError("nothing resolved yet; run 'lastmile resolve' first")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(data, out)
    err_console.print(plain(f"wrote {out} ({data.num_rows:,} records)"))


@app.command()
@friendly
def explain(
    ids: Annotated[list[str], typer.Argument(help="ENTITY, or RECORD RECORD.")],
    workspace: WorkspaceOpt = None,
    format: Annotated[TableFormat, typer.Option("--format", "-f")] = TableFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Why records were merged.

    The agreeing fields with their match weights, shared selectors, identifiers and
    judgements."""
    from lastmile.resolve.errors import ResolveError
    from lastmile.resolve.judge import explain_entity, explain_pair
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        if len(ids) == 1:
            exp = explain_entity(ws, ids[0])
        elif len(ids) == 2:
            exp = explain_pair(ws, ids[0], ids[1])
        else:
            raise ResolveError("explain takes one entity id or two record ids")
    if format is TableFormat.json:
        _emit(json.dumps(exp.as_dict(), indent=2) + "\n", out)
    else:
        _emit(exp.text(), out)


class Verdict(StrEnum):
    same = "same"
    different = "different"
    split_entity = "split"


@app.command()
@friendly
def judge(
    verdict: Annotated[Verdict | None, typer.Argument(help="same, different, or split.")] = None,
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="RECORD RECORD (same/different), or ENTITY RECORD... (split)."),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A judgements file: 'lastmile review --format csv' with a verdict column "
            "(same, different, or blank to skip), in place of VERDICT and IDS.",
        ),
    ] = None,
    analyst: Annotated[str, typer.Option(help="Who judges (default: the user name).")] = "",
    note: Annotated[str, typer.Option(help="Why (a file's note column wins).")] = "",
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Confirm or reject a pair, split records out of an entity, or judge a list (--from).

    --from FILE stores the verdicts of a reviewed list of possible matches.

    Applied by every later 'lastmile resolve', over the model."""
    from lastmile.resolve.errors import ResolveError
    from lastmile.resolve.judge import judge_file, judge_pair, split_entity
    from lastmile.store import open_workspace

    if from_file is not None:
        if verdict is not None or ids:
            raise ResolveError("--from takes the verdicts from the file: no VERDICT or IDS")
        with open_workspace(workspace, create=False) as ws:
            done = judge_file(ws, from_file, analyst=analyst, note=note)
        # Record ids and reasons come from the file: printed as plain text.
        for reject in done.rejected:
            err_console.print(
                labelled("rejected", "yellow", reject.line()), highlight=False, soft_wrap=True
            )
        err_console.print(
            plain(
                f"judged {done.judged:,} pairs from {from_file} ({done.skipped:,} left blank, "
                f"{len(done.rejected):,} rejected); run 'lastmile resolve' to apply"
            ),
            highlight=False,
            soft_wrap=True,
        )
        # As ingest: some rows rejected is a partial success (each named above); a file of
        # which every verdict was rejected judged nothing, and a script must see that.
        if done.rejected and not done.judged:
            raise typer.Exit(1)
        return
    if verdict is None or not ids:
        raise ResolveError("judge takes a VERDICT and record ids, or --from FILE")
    with open_workspace(workspace, create=False) as ws:
        if verdict is Verdict.split_entity:
            if len(ids) < 2:
                raise ResolveError("split takes an entity id and the records to separate")
            n = split_entity(ws, ids[0], ids[1:], analyst=analyst, note=note)
            msg = f"split {len(ids) - 1} records out of {ids[0]} ({n} pairs judged different)"
        else:
            if len(ids) != 2:
                raise ResolveError(f"{verdict.value} takes two record ids")
            judge_pair(ws, verdict.value, ids[0], ids[1], analyst=analyst, note=note)
            msg = f"judged {ids[0]} and {ids[1]} {verdict.value}"
    err_console.print(plain(msg + "; run 'lastmile resolve' to apply"))


@app.command()
@friendly
def review(
    entity: Annotated[
        str | None, typer.Argument(help="Only the possible matches of this entity.")
    ] = None,
    min_probability: Annotated[
        float | None,
        typer.Option(
            "--min-probability",
            help="Only pairs scored at least this (default: all that are kept, from 0.2).",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="The first so many.")] = None,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Possible matches: pairs of people the resolution left apart, most likely first.

    Each pair of entities once, with its best-scored records, why they are apart and the
    evidence; check one with 'lastmile explain RECORD RECORD', settle it with 'lastmile
    judge same|different RECORD RECORD' (docs/resolution.md, "Possible matches")."""
    from lastmile.resolve.review import FLOOR, possible_matches
    from lastmile.store import open_workspace

    floor = FLOOR if min_probability is None else min_probability
    with open_workspace(workspace, create=False) as ws:
        data = possible_matches(ws, entity=entity, min_probability=floor, limit=limit)
    _emit_table(data, format, out, "possible matches")


@app.command()
@friendly
def conflicts(
    agency: Annotated[
        str | None, typer.Option(help="An agency's id or name (default: every agency).")
    ] = None,
    confirmed: Annotated[
        bool,
        typer.Option(
            "--confirmed",
            help="Leave out the possible conflicts (their basis says so: a tie through a "
            "line passed from one person to another).",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="Only what is new since WHEN (an ISO date or date and time, UTC unless it "
            "says otherwise; 'lastmile resolve' prints the time it stamped): the conflicts "
            "first seen, or found again after a run that did not find them, then or later "
            "(current_since); with --confirmed, those that became current and confirmed then "
            "or later (a possible one since confirmed is new to you), newest first.",
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also the conflicts the latest resolution no longer finds (is_current "
            "false; last_seen says when they were last found).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    format: FormatOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Targets another agency (or another division) also works.

    Only the other side's agency and point of contact, never its case; the basis says how
    each was found, first_seen when, confirmed_since when it was last confirmed (empty while
    only possible), current_since since when every resolution has found it, last_seen when
    last found. Only those the latest resolution finds, unless --all. Run 'lastmile resolve'
    first."""
    from lastmile.resolve.conflicts import conflicts_of, parse_since
    from lastmile.store import open_workspace

    when = parse_since(since) if since is not None else None
    with open_workspace(workspace, create=False) as ws:
        if not ws.store.rows("SELECT 1 FROM resolution_runs LIMIT 1"):
            # An empty list would read as "no conflicts", which nothing has established.
            raise CommandError("nothing resolved yet; run 'lastmile resolve' first")
        data = conflicts_of(ws, agency, confirmed=confirmed, since=when, include_gone=all_)
    # With --agency the asking agency's own columns repeat what was asked: the terminal
    # gives their width to whom to call (the other formats keep them).
    hide = ("agency_id", "division") if agency else ()
    _emit_table(data, format, out, f"conflicts of {agency}" if agency else "conflicts", hide=hide)
