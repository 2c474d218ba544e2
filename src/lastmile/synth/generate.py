"""The one entry point: build the world, let investigations see it, write everything."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pyarrow as pa

from lastmile.model import (
    AGENCIES,
    ARRESTS,
    COMMUNICATIONS,
    CURRENCY_SEIZURES,
    DRUG_SEIZURES,
    FIREARM_SEIZURES,
    INVESTIGATIONS,
    ORGANIZATIONS,
    RELATIONSHIPS,
    SELECTORS,
    SUBJECTS,
)
from lastmile.synth import calibration, cases, outcomes, posts, records, truth, world
from lastmile.synth import communications as comms_mod
from lastmile.synth.agencies import AgencyRoster
from lastmile.synth.phones import PhoneBook
from lastmile.synth.writer import Writer

Progress = Callable[[str, float], None]
TOLL_COLUMNS = (
    "orig_number",
    "term_number",
    "start_time",
    "duration_sec",
    "direction",
    "event_type",
)


MAX_SEED = 2**32 - 1
MAX_COMMUNICATIONS = 100_000_000


class SynthError(ValueError):
    """A synthetic operation that cannot be written (bad arguments, output folder, disk)."""


class Scale(StrEnum):
    TINY = "tiny"
    DIVISION = "division"
    NATIONAL = "national"


DEFAULT_COMMUNICATIONS: dict[Scale, int] = {
    Scale.TINY: 2_000,  # enough events for its burner handovers to show
    Scale.DIVISION: 250_000,
    Scale.NATIONAL: 5_000_000,
}
# The tiny operation: DEA, a city police department and a state agency in Rocky Mountain;
# DEA and a tribal police department in Phoenix; HSI (a federal partner) in Los Angeles.
TINY_AGENCY_DRAWS = [0.1, 0.9, 0.75, 0.1, 0.98, 0.6]
TINY_MAX_LOCAL = 14


@dataclass(frozen=True)
class SynthSummary:
    out_dir: Path
    scale: Scale
    seed: int
    counts: dict[str, int]  # rows written per file, by path relative to out_dir


def generate(
    scale: Scale | str,
    seed: int = calibration.DEFAULT_SEED,
    out_dir: Path | str = Path("synth-output"),
    communications: int | None = None,
    toll_records: bool = False,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write a synthetic operation (interchange files + ``truth/``) to ``out_dir``.

    The same scale, seed and options always give byte-identical files.
    """
    try:
        scale = Scale(scale)
    except ValueError:
        choices = ", ".join(s.value for s in Scale)
        raise SynthError(f"unknown scale {scale!r}: choose one of {choices}") from None
    if not 0 <= seed <= MAX_SEED:
        raise SynthError(f"seed {seed} is out of range: use 0 to {MAX_SEED}")
    if communications is not None and not 0 <= communications <= MAX_COMMUNICATIONS:
        raise SynthError(
            f"communications {communications} is out of range: use 0 to {MAX_COMMUNICATIONS:,}"
        )
    target = Path(out_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is not a folder" if not target.is_dir() else "exists and is not empty"
        raise SynthError(f"{target} {what}: choose a new or empty output folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Everything is written into a temporary folder beside the target and renamed into place
    # at the end, so a failed run never leaves a half-written operation that looks complete.
    out = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        summary = _generate(scale, seed, out, communications, toll_records, progress)
        if target.exists():
            target.rmdir()
        out.rename(target)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return SynthSummary(target, summary.scale, summary.seed, summary.counts)


def _generate(
    scale: Scale,
    seed: int,
    out: Path,
    communications: int | None,
    toll_records: bool,
    progress: Progress | None,
) -> SynthSummary:
    n_comms = DEFAULT_COMMUNICATIONS[scale] if communications is None else communications

    def step(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    # Independent streams per stage, so e.g. the communication volume never changes records.
    streams = np.random.SeedSequence(seed).spawn(6)
    r_plan, r_cases, r_world, r_records, r_outcomes, r_comms = (
        np.random.Generator(np.random.PCG64(s)) for s in streams
    )
    step("plan", 0.0)
    if scale is Scale.TINY:
        plans = calibration.tiny_plan()
    else:
        plans = calibration.national_plan(r_plan)
        if scale is Scale.DIVISION:
            plans = [p for p in plans if p.division == "Rocky Mountain"]
    phones = PhoneBook()
    roster = AgencyRoster(r_cases, phones)
    draws = TINY_AGENCY_DRAWS if scale is Scale.TINY else None
    invs, specs, spec_hub = cases.plan(r_cases, plans, roster, draws)
    step("world", 0.1)
    # The tiny operation keeps its networks small enough to read (and its 2,000 events dense
    # enough to show burner handovers).
    max_local = TINY_MAX_LOCAL if scale is Scale.TINY else world.LOCAL_SIZE_MAX
    w, local_ids = world.build(r_world, specs, spec_hub, phones, max_local)
    for inv in invs:
        inv.network = local_ids[inv.spec] if inv.spec >= 0 else w.hubs[inv.hub]
    step("records", 0.25)
    records.views(r_records, w, invs)
    world.furnish(r_world, w, {p for inv in invs for p in inv.view})
    rec = records.build(r_records, w, invs)
    outs = outcomes.build(r_outcomes, w, invs, rec)
    step("communications", 0.4)
    comms, cdr, talked = comms_mod.generate(r_comms, w, invs, rec, n_comms, toll_records)

    step("write", 0.7)
    writer = Writer(out)
    try:
        used = sorted({inv.agency_id for inv in invs})
        writer.record_type(
            AGENCIES,
            [
                {
                    "agency_id": a.agency_id,
                    "name": a.name,
                    "kind": a.kind.value,
                    "poc_name": a.poc_name,
                    "poc_phone": a.poc_phone,
                    "poc_email": a.poc_email,
                }
                for a in (roster.agencies[x] for x in used)
            ],
        )
        writer.record_type(
            INVESTIGATIONS,
            [
                {
                    "investigation_id": v.inv_id,
                    "agency_id": v.agency_id,
                    "case_number": v.case_number,
                    "division": v.division,
                    "city": v.city,
                    "state": v.state,
                    "opened": v.opened.isoformat(),
                    "closed": v.closed.isoformat() if v.closed else "",
                    "status": v.status.value,
                    "cartel": v.cartel,
                }
                for v in invs
            ],
        )
        # Subjects carry ``identifiers`` ("|"-separated ``kind:value``, issue 10), a column of
        # the model since migration 0005.
        writer.rows(SUBJECTS.file_name, tuple(c.name for c in SUBJECTS.columns), rec.subjects)
        writer.record_type(ORGANIZATIONS, rec.organizations)
        writer.record_type(SELECTORS, rec.selectors)
        writer.table(COMMUNICATIONS.file_name, comms)
        writer.record_type(RELATIONSHIPS, rec.relationships)
        writer.record_type(ARRESTS, outs.arrests)
        writer.record_type(DRUG_SEIZURES, outs.drugs)
        writer.record_type(FIREARM_SEIZURES, outs.firearms)
        writer.record_type(CURRENCY_SEIZURES, outs.currency)
        step("truth", 0.85)
        truth.write(writer, w, rec, invs, outs, talked)
        posts.write(writer, seed, posts.COUNTS[scale.value], rec.subjects, rec.selectors)
        if cdr is not None:
            _write_tolls(writer, out, cdr, [v.inv_id for v in invs])
        counts = dict(writer.counts)
    finally:
        writer.close()
    step("done", 1.0)
    return SynthSummary(out, scale, seed, counts)


def _write_tolls(writer: Writer, out: Path, cdr: pa.Table, inv_ids: list[str]) -> None:
    """One carrier return per investigation: ``toll_records/{investigation_id}.csv``."""
    folder = out / "toll_records"
    if folder.exists():
        for old in sorted(folder.glob("*.csv")):
            old.unlink()  # a previous run's returns would otherwise linger
    ids = cdr.column("investigation_id").to_numpy(zero_copy_only=False)
    bounds = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate([[0], bounds]) if len(ids) else np.zeros(0, dtype=np.int64)
    ends = np.concatenate([bounds, [len(ids)]]) if len(ids) else np.zeros(0, dtype=np.int64)
    table = cdr.select(list(TOLL_COLUMNS))
    total = 0
    for s, e in zip(starts, ends, strict=True):
        writer.table(f"toll_records/{ids[s]}.csv", table.slice(int(s), int(e - s)))
        del writer.counts[f"toll_records/{ids[s]}.csv"]
        total += int(e - s)
    writer.counts["toll_records/*.csv"] = total
    del inv_ids
