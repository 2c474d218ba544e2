"""Resolution against the synthetic ground truth, with plain Splink as the peer.

    python bench/resolve.py --scale division        # or national
    python bench/resolve.py --subjects 1000000      # scale run: time and peak memory

Synthesizes the operation, ingests it, runs ``lastmile resolve``, and prints JSON: pairwise
precision and recall and B-cubed F1 for persons, organizations and selectors against
``truth/records.csv``, the time taken, and the same for plain Splink on the same subject
records (names and date of birth only, Splink's own comparisons, default training).

``--subjects N`` is the scale run: N subject records (and the phone selector records of
about a third of them) of people drawn with the synthetic world's identity model
(``lastmile.synth.world``: census and Spanish names, dates of birth, addresses,
identifiers, monikers, aliases, false identities) and written by its renderer
(``lastmile.synth.render.subject``: the same misspellings, nicknames, swapped fields and
missing values as the operations), spread over 1 investigation per 50 records of 10
agencies. Resolution runs in a child process, whose time, CPU time (its threads and its
worker processes) and peak resident memory are printed with the persons' pairwise scores.
``--records DIR`` keeps the generated records in DIR, and the workspace they were ingested
into (``DIR/ingested.duckdb``, copied for each run), so a rerun measures resolution alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lastmile.ingest import ingest_paths
from lastmile.resolve.run import resolve
from lastmile.store import open_workspace
from lastmile.synth import generate


def scores(con: duckdb.DuckDBPyConnection, pred: str, truth: str) -> dict[str, float]:
    """Pairwise precision/recall and B-cubed F1 of ``pred(record_id, p)`` against
    ``truth(record_id, g)`` over the records both name."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE j AS SELECT p.record_id, p.p, t.g FROM {pred} p "
        f"JOIN {truth} t USING (record_id)"
    )
    con.execute("SELECT 1").fetchall()
    tp, pp, gp, n = con.execute(
        """
        WITH pp AS (SELECT p, count(*) n FROM j GROUP BY p),
             gg AS (SELECT g, count(*) n FROM j GROUP BY g),
             pg AS (SELECT p, g, count(*) n FROM j GROUP BY p, g)
        SELECT (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM pg),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM pp),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM gg), (SELECT count(*) FROM j)
        """
    ).fetchone()
    bp, br = con.execute(
        """
        WITH pg AS (SELECT p, g, count(*) n FROM j GROUP BY p, g),
             pp AS (SELECT p, count(*) n FROM j GROUP BY p),
             gg AS (SELECT g, count(*) n FROM j GROUP BY g)
        SELECT sum(pg.n * pg.n / pp.n) / sum(pg.n), sum(pg.n * pg.n / gg.n) / sum(pg.n)
        FROM pg JOIN pp USING (p) JOIN gg USING (g)
        """
    ).fetchone()
    precision = tp / pp if pp else 1.0
    recall = tp / gp if gp else 1.0
    return {
        "records": int(n),
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "pairwise_f1": round(2 * precision * recall / (precision + recall), 4)
        if precision + recall
        else 0.0,
        "bcubed_f1": round(2 * bp * br / (bp + br), 4) if bp and br else 0.0,
    }


def conflict_recall(ws: object, con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, object]:
    """The share of ``truth/overlaps.csv`` (persons worked by several agencies) for which
    a stored conflict names the person's entity and two of those agencies."""
    store = ws.store  # type: ignore[attr-defined]
    con.execute("SELECT 1").fetchall()
    con.register(
        "stored_c", store.query("SELECT target_id, agency_id, other_agency_id FROM conflicts")
    )
    path = folder / "truth" / "overlaps.csv"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE truth_overlaps AS SELECT DISTINCT entity_id AS g, "
        f"agency_a, agency_b FROM read_csv('{path}', all_varchar = true) "
        "WHERE agency_a <> agency_b"
    )
    found, total, stored = con.execute(
        """
        WITH ent AS (SELECT DISTINCT t.g, m.p FROM members m JOIN truth t USING (record_id)
                     WHERE m.record_type = 'subjects'),
        hit AS (
            SELECT DISTINCT o.g, o.agency_a, o.agency_b FROM truth_overlaps o
            JOIN ent e USING (g) JOIN stored_c c ON c.target_id = e.p
            WHERE c.agency_id = o.agency_a AND c.other_agency_id = o.agency_b
        )
        SELECT (SELECT count(*) FROM hit), (SELECT count(*) FROM truth_overlaps),
            (SELECT count(DISTINCT target_id) FROM stored_c)
        """
    ).fetchone()
    return {
        "truth_cross_agency_overlaps": int(total),
        "found": int(found),
        "recall": round(found / total, 4) if total else 1.0,
        "targets_in_conflict": int(stored),
    }


def joint_check(ws: object, folder: Path) -> dict[str, object]:
    """The report's joint records beside ``truth/joint_records.csv`` (when it exists)."""
    from lastmile.report.compute import compute_report

    report = compute_report(ws)  # type: ignore[arg-type]
    path = folder / "truth" / "joint_records.csv"
    truth_rows = 0
    if path.exists():
        truth_rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
    return {
        "report_joint_records": report.get("joint_records"),
        "distinct_persons_arrested": report.get("distinct_persons_arrested"),
        "arrests": report.get("arrests"),
        "truth_joint_records": truth_rows,
    }


def plain_splink(con: duckdb.DuckDBPyConnection) -> tuple[pa.Table, float]:
    """Splink with a default setup: names and date of birth, Splink's comparisons."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    con.execute("SELECT 1").fetchall()
    data = con.sql(
        "SELECT record_id AS unique_id, lower(strip_accents(given_name)) AS first_name, "
        "lower(strip_accents(family_name)) AS surname, CAST(dob AS VARCHAR) AS dob "
        "FROM src_subjects"
    ).to_arrow_table()
    started = time.time()
    api = DuckDBAPI()
    sdf = api.register(data)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("dob"),
        ],
    )
    linker = Linker(sdf, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95)
    table = clusters.as_pyarrow_table()
    return table, time.time() - started


def plain_splink_view(con: duckdb.DuckDBPyConnection) -> float:
    """:func:`plain_splink`'s clusters as the view ``pred_plain(record_id, p)``, for
    :func:`scores`; returns its seconds."""
    plain, seconds = plain_splink(con)
    con.register("plain", plain)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW pred_plain AS SELECT unique_id AS record_id, "
        "cluster_id AS p FROM plain"
    )
    return seconds


def scale_operation(folder: Path, subjects: int, seed: int) -> int:
    """Write ``subjects`` subject records (and phone selector records) of people drawn with
    the synthetic world's identity model to ``folder``, with ``truth/records.csv``; returns
    the number of people."""
    import numpy as np

    from lastmile.model import Role
    from lastmile.synth import render
    from lastmile.synth.geo import GEO
    from lastmile.synth.phones import render as render_phone
    from lastmile.synth.records import FALSE_IDENTITY_USE, MONIKER_ONLY
    from lastmile.synth.world import Network, World, _Builder

    rng = np.random.default_rng(seed)
    world = World()
    world.networks.append(Network(0, "local", "", "", "", "", -1))
    builder = _Builder(rng, world)
    cities = [(d.division, c) for d in GEO.values() for c in d.cities]
    roles = [r for r in Role if r not in (Role.CUSTOMER, Role.OTHER)]
    agencies = [f"AG{i:02d}" for i in range(10)]
    n_inv = max(1, subjects // 50)
    inv_city = [cities[int(i)] for i in rng.integers(len(cities), size=n_inv)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "truth").mkdir(exist_ok=True)

    def write(name: str, header: list[str], rows: list[list[str]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows)

    write(
        "agencies.csv",
        ["agency_id", "name", "kind", "poc_name", "poc_phone", "poc_email"],
        [[a, f"Agency {a} (fictional)", "federal", "", "", ""] for a in agencies],
    )
    write(
        "investigations.csv",
        ["investigation_id", "agency_id", "case_number", "division", "state", "city", "opened"],
        [
            [f"INV-{i:06d}", agencies[i % len(agencies)], f"C-{i:06d}", div, c.state, c.name,
             "2022-01-01"]
            for i, (div, c) in enumerate(inv_city)
        ],
    )  # fmt: skip
    cols = ["full_name", "given_name", "middle_name", "family_name", "aliases", "monikers",
            "dob", "sex", "addresses", "role", "identifiers"]  # fmt: skip
    subj_rows: list[list[str]] = []
    sel_rows: list[list[str]] = []
    truth_rows: list[list[str]] = []
    phone_of: dict[int, str] = {}
    per_inv = [0] * n_inv
    people = 0
    while len(subj_rows) < subjects:
        division, city = cities[int(rng.integers(len(cities)))]
        person = builder.person(
            0, "", roles[int(rng.integers(len(roles)))], city.name, city.state, division
        )
        p = world.persons[person]
        people += 1
        for k in range(min(int(rng.geometric(0.6)), subjects - len(subj_rows))):
            mode = "true"
            if rng.random() < MONIKER_ONLY:
                mode = "moniker"
            elif p.false_identity is not None and k and rng.random() < FALSE_IDENTITY_USE:
                mode = "false"
            row = render.subject(rng, p, 0, mode)
            inv = int(rng.integers(n_inv))
            per_inv[inv] += 1
            iid = f"INV-{inv:06d}"
            sid = f"{iid}-S{per_inv[inv]:03d}"
            subj_rows.append([sid, iid, *(row.get(c, "") for c in cols)])
            truth_rows.append([sid, f"PER-{person:07d}"])
            if rng.random() < 0.35:
                if person not in phone_of:
                    for area in city.area_codes:
                        if world.phones.free(area):
                            phone_of[person] = world.phones.us(area)
                            break
                if person in phone_of:
                    xid = f"{iid}-P{len(sel_rows):07d}"
                    sel_rows.append(
                        [xid, iid, sid, "phone", render_phone(phone_of[person],
                         int(rng.integers(8))), ""]
                    )  # fmt: skip
                    truth_rows.append([xid, f"PHONE-{phone_of[person]}"])
        world.persons[person] = None  # type: ignore[call-overload]  # not kept: memory
    write("subjects.csv", ["subject_id", "investigation_id", *cols], subj_rows)
    write(
        "selectors.csv",
        ["selector_id", "investigation_id", "subject_id", "kind", "value", "platform"],
        sel_rows,
    )
    write("truth/records.csv", ["record_id", "entity_id"], truth_rows)
    return people


# The steps of ``lastmile.resolve.run.resolve`` that ``--profile`` times and measures:
# (module, function), patched where ``resolve`` looks them up at call time.
PROFILED = (
    ("lastmile.resolve.run", "build_features"),
    ("lastmile.resolve.persons", "train"),
    ("lastmile.resolve.persons", "predict"),
    ("lastmile.resolve.run", "_person_edges"),
    ("lastmile.resolve.anchor", "anchor_nameless"),
    ("lastmile.resolve.collective", "entity_features"),
    ("lastmile.resolve.collective", "corroborated_links"),
    # The entity passes' own clustering and edges (each pass clusters the entities again).
    ("lastmile.resolve.run", "person_components"),
    ("lastmile.resolve.run", "_entity_edges"),
    ("lastmile.resolve.run", "_clusters"),
    ("lastmile.resolve.cluster", "stable_ids"),
    ("lastmile.resolve.run", "_entities"),
    ("lastmile.resolve.conflicts", "load_lines"),
    ("lastmile.resolve.conflicts", "compute"),
    ("lastmile.resolve.run", "_write"),
    ("lastmile.resolve.conflicts", "write"),
)


def _cpu() -> float:
    """CPU seconds of this process (all its threads), of its finished children, and of its
    live children with their own finished children: the worker processes that parse names
    and addresses are children of a fork server (``features.parallel_map``), which lives
    as long as this process."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime + _live_children_cpu()


def _live_children_cpu() -> float:
    """utime + stime + cutime + cstime of this process's live children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            # The fields after the command's closing parenthesis: state is the first,
            # utime, stime, cutime and cstime the 12th to 15th.
            total += sum(int(x) for x in stat.rsplit(")", 1)[1].split()[11:15])
    return total / tick


def _peak_kib() -> int:
    """This process's peak resident memory (VmHWM) since the last reset, in KiB (Linux)."""
    text = Path("/proc/self/status").read_text()
    return int(text.split("VmHWM:")[1].split()[0])


# The highest VmHWM seen before a reset: resetting it resets ru_maxrss too.
_PEAK_BEFORE = [0]


def _reset_peak() -> None:
    _PEAK_BEFORE[0] = max(_PEAK_BEFORE[0], _peak_kib())
    # Linux: writing 5 to clear_refs resets VmHWM to the current resident size.
    Path("/proc/self/clear_refs").write_text("5")


def profile_steps() -> list[dict[str, object]]:
    """Wrap the steps of ``resolve`` (``PROFILED``) so that each call appends its wall time,
    CPU time (all threads: DuckDB's too) and peak resident memory to the list returned."""
    import functools
    import importlib

    steps: list[dict[str, object]] = []

    def wrap(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            _reset_peak()
            wall, cpu = time.time(), _cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                steps.append(
                    {
                        "step": name,
                        "seconds": round(time.time() - wall, 1),
                        "cpu_seconds": round(_cpu() - cpu, 1),
                        "peak_rss_gb": round(_peak_kib() / 1024 / 1024, 2),
                    }
                )
                print(f"step: {steps[-1]}", file=sys.stderr, flush=True)

        return inner

    for module, attr in PROFILED:
        mod = importlib.import_module(module)
        setattr(mod, attr, wrap(f"{module.rsplit('.', 1)[1]}.{attr}", getattr(mod, attr)))
    return steps


def _resolve_child(path: str, profile: bool, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    steps = profile_steps() if profile else []
    with open_workspace(Path(path)) as ws:
        started, cpu = time.time(), _cpu()
        result = resolve(ws)
        queue.put(
            {
                "resolve_seconds": round(time.time() - started, 1),
                "resolve_cpu_seconds": round(_cpu() - cpu, 1),
                "entities": result.entities,
                "edges": result.edges,
                "training_skipped": result.training_skipped,
                "steps": steps,
                # In KiB, as ru_maxrss; --profile's resets make it the maximum of the steps'.
                "peak_kib": max(_PEAK_BEFORE[0], _peak_kib()),
            }
        )


def scale_records(folder: Path, subjects: int, seed: int) -> tuple[int, float]:
    """The scale run's records in ``folder``: generated there, or reused when an earlier run
    wrote as many with the same seed (``GENERATED.json``); returns the number of people and
    the seconds generating took (0 when reused)."""
    marker = folder / "GENERATED.json"
    wanted = {"subjects": subjects, "seed": seed}
    if marker.exists():
        done = json.loads(marker.read_text(encoding="utf-8"))
        if {k: done.get(k) for k in wanted} == wanted:
            return int(done["people"]), 0.0
    started = time.time()
    people = scale_operation(folder, subjects, seed)
    seconds = time.time() - started
    marker.write_text(json.dumps(wanted | {"people": people, "seconds": round(seconds, 1)}))
    return people, seconds


def scale_run(
    subjects: int, seed: int, records: Path | None = None, profile: bool = False
) -> dict[str, object]:
    """The scale run (``--subjects``): generate (or reuse ``records``), ingest, then resolve
    in a child process whose wall time, CPU time and peak resident memory are measured."""
    out: dict[str, object] = {"subjects": subjects}
    with tempfile.TemporaryDirectory() as tmp:
        folder = records if records is not None else Path(tmp) / "op"
        out["people"], seconds = scale_records(folder, subjects, seed)
        out["generate_seconds"] = round(seconds, 1) if seconds else "reused"
        print(f"generated: {out}", file=sys.stderr, flush=True)
        started = time.time()
        path = Path(tmp) / "ws.duckdb"
        # With --records, the ingested workspace is kept beside the records and copied for
        # each run, so a rerun measures resolution without ingesting again.
        kept = records / "ingested.duckdb" if records is not None else None
        marker = folder / "GENERATED.json"
        if kept is not None and kept.exists() and marker.stat().st_mtime <= kept.stat().st_mtime:
            shutil.copyfile(kept, path)
            out["ingest_seconds"] = "reused"
        else:
            with open_workspace(path) as ws:
                ingest_paths(ws, [folder], rejects=Path(tmp) / "rejects.csv")
            out["ingest_seconds"] = round(time.time() - started, 1)
            if kept is not None:
                shutil.copyfile(path, kept)
        print(f"ingested: {out}", file=sys.stderr, flush=True)
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=_resolve_child, args=(str(path), profile, queue))
        child.start()
        measured = queue.get()
        child.join()
        steps = measured.pop("steps")
        peak = measured.pop("peak_kib")
        out |= measured
        # ru_maxrss of the children (only the resolving process here), in KiB on Linux.
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        out["resolve_peak_rss_gb"] = round(peak / 1024 / 1024, 2)
        out["load_average"] = [round(x, 1) for x in os.getloadavg()]
        if profile:
            out["steps"] = steps
        with open_workspace(path) as ws:
            con = ws.store.staging()
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE truth AS SELECT record_id, entity_id AS g "
                f"FROM read_csv('{folder / 'truth' / 'records.csv'}', all_varchar = true)"
            )
            members = ws.store.query(
                "SELECT record_id, entity_id AS p FROM entity_members "
                "WHERE record_type = 'subjects'"
            )
            con.register("members", members)
            out["persons"] = scores(con, "members", "truth")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="division", choices=["tiny", "division", "national"])
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--subjects", type=int, default=0)
    parser.add_argument("--folder", type=Path, help="An operation already synthesized.")
    parser.add_argument(
        "--records",
        type=Path,
        help="With --subjects: keep the generated records in this folder, and reuse them "
        "when it already holds as many generated with the same seed.",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        help="With --folder: a workspace where the folder is already ingested; a copy of it "
        "is resolved (the workspace itself is not changed), so ingest is not timed again.",
    )
    parser.add_argument(
        "--no-plain", action="store_true", help="Skip the plain Splink peer (faster)."
    )
    parser.add_argument(
        "--prior",
        choices=["stated", "estimated"],
        default=None,
        help="With --folder: the trained model's prior (lastmile resolve --prior).",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="With --subjects: each resolution step's time, CPU time and peak memory.",
    )
    args = parser.parse_args()
    if args.subjects:
        print(json.dumps(scale_run(args.subjects, args.seed, args.records, args.profile), indent=2))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp) / "op"
            generate(args.scale, seed=args.seed, out_dir=folder, communications=10_000)
        if args.workspace is not None:
            if args.folder is None:
                parser.error("--workspace needs --folder (the truth is read from it)")
            shutil.copyfile(args.workspace, Path(tmp) / "ws.duckdb")
        with open_workspace(Path(tmp) / "ws.duckdb") as ws:
            if args.workspace is None:
                ingest_paths(ws, [folder], rejects=Path(tmp) / "rejects.csv")
            started = time.time()
            result = resolve(ws, prior=args.prior)
            seconds = time.time() - started
            con = ws.store.staging()
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE truth AS SELECT record_id, entity_id AS g "
                f"FROM read_csv('{folder / 'truth' / 'records.csv'}', all_varchar = true)"
            )
            members = ws.store.query(
                "SELECT record_type, record_id, entity_id AS p FROM entity_members"
            )
            con.register("members", members)
            out: dict[str, object] = {
                "scale": args.scale if args.folder is None else str(args.folder),
                "prior": result.prior,
                "resolve_seconds": round(seconds, 1),
                "entities": result.entities,
            }
            for rt, name in (
                ("subjects", "persons"),
                ("organizations", "organizations"),
                ("selectors", "selectors"),
            ):
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW pred_{rt} AS SELECT record_id, p "
                    f"FROM members WHERE record_type = '{rt}'"
                )
                out[name] = scores(con, f"pred_{rt}", "truth")
            out["conflicts"] = conflict_recall(ws, con, folder)
            out["joint_records"] = joint_check(ws, folder)
            if args.no_plain:
                print(json.dumps(out, indent=2))
                return
            plain_seconds = plain_splink_view(con)
            out["plain_splink_persons"] = scores(con, "pred_plain", "truth") | {
                "seconds": round(plain_seconds, 1)
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
