"""The main job end to end: synthesize, ingest, resolve, analyze networks, report.

``lastmile demo`` and ``make demo`` run this on the synthetic national operation; it is also
the shortest tour of the package: each step is one call into its room.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from lastmile.ingest import BatchResult, ingest_paths
from lastmile.report import ReportOptions, compute_report, render_report
from lastmile.store import open_workspace
from lastmile.synth import generate

Progress = Callable[[str, float], None]

# Operation Last Mile ran from May 1, 2022 to May 1, 2023; the synthetic operation too.
OPERATION_FROM = date(2022, 5, 1)
OPERATION_TO = date(2023, 5, 1)


@dataclass(frozen=True)
class DemoResult:
    workspace: str
    batch: BatchResult
    report: dict[str, Any]
    html: Path
    json: Path
    markdown: Path
    resolution: Any = None  # lastmile.resolve.run.ResolveResult
    analysis: Any = None  # lastmile.network.analyze.Analysis (stored in the workspace)


def run_demo(
    out: Path,
    *,
    scale: str = "national",
    seed: int = 2022,
    communications: int | None = None,
    workspace: str | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    def step(name: str, start: float, span: float) -> Progress:
        return lambda stage, f: progress(f"{name}: {stage}", start + span * f) if progress else None

    out.mkdir(parents=True, exist_ok=True)
    operation = out / "operation"
    if operation.exists():
        shutil.rmtree(operation)
    generate(
        scale, seed, operation, communications=communications, progress=step("synth", 0.0, 0.4)
    )
    if workspace is None:
        # A fresh workspace each run, so the demo's figures are the synthetic operation's alone.
        path = out / "lastmile.duckdb"
        for stale in (path, path.with_suffix(".duckdb.wal")):
            stale.unlink(missing_ok=True)
        workspace = str(path)
    with open_workspace(workspace) as ws:
        batch = ingest_paths(
            ws, [operation], rejects=out / "rejects.csv", progress=step("ingest", 0.4, 0.5)
        )
        if progress:
            progress("resolve", 0.85)
        from lastmile.resolve.run import resolve

        resolution = resolve(ws)
        if progress:
            progress("analyze", 0.88)
        from lastmile.network.analyze import run_analysis

        analysis = run_analysis(ws)
        if progress:
            progress("report", 0.95)
        options = ReportOptions(
            date_from=OPERATION_FROM,
            date_to=OPERATION_TO,
            title="Synthetic national operation (fictional data)",
            command=f"lastmile report --workspace {workspace} --from {OPERATION_FROM} "
            f"--to {OPERATION_TO}",
            network_detail=True,
        )
        report = compute_report(ws, options)
    paths = {fmt: out / f"report.{fmt}" for fmt in ("html", "json", "md")}
    for fmt, path in paths.items():
        path.write_text(render_report(report, fmt), encoding="utf-8")
    if progress:
        progress("done", 1.0)
    return DemoResult(
        workspace, batch, report, paths["html"], paths["json"], paths["md"], resolution, analysis
    )
