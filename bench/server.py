"""Load and leak check of the server (issue 13), on loopback.

Starts ``lastmile serve`` over a workspace (default: a fresh PostgreSQL schema filled with the
synthetic operation), signs in a set of analysts of several agencies, and:

1. **load**: ``--clients`` concurrent clients (default 50), each waiting ``--think`` seconds
   (default 1) between requests as an analyst would, for ``--seconds`` (default 60); half the
   requests are target-deconfliction look-ups (``GET /api/deconflict?selector=...``), half
   entity pages (``GET /api/entities/{id}``). Every request is audited by the server.
   Reports p50/p95/p99 of each and the error count.
2. **highest sustainable rate**: the load again with shorter think times (``--rates``) until a
   goal breaks (errors, p99 > 50 ms look-up, p99 > 200 ms entity page); the highest rate that
   kept them.
3. **leak check**: ``--leak-calls`` (default 10,000) random read calls by random users
   (entity pages, searches, investigation lists, conflicts and, once ``lastmile analyze`` has
   filled them, networks, key players and attributions); a
   response holding a name, selector or id found only in investigations hidden from the caller
   is a leak.

Prints one JSON object. Example:

    python bench/server.py --scale division --workspace postgresql://.../db
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password not for production"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lastmile(*args: str, stdin: str | None = None) -> str:
    exe = str(Path(sys.executable).with_name("lastmile"))
    done = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"lastmile {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def prepare(workspace: str, scale: str, folder: Path) -> dict[str, Any]:
    """Synthesize and ingest the operation, make entities (one per normalized selector and
    per subject record, when `lastmile resolve` is not available) and one analyst per agency."""
    from lastmile.store import open_workspace

    synth = folder / "synth"
    _lastmile("synth", "--scale", scale, "--out", str(synth))
    _lastmile("ingest", str(synth), "--workspace", workspace, "--rejects", str(folder / "r.csv"))
    with open_workspace(workspace) as ws:
        if not ws.store.rows("SELECT 1 FROM entity_members LIMIT 1"):
            ws.store.execute(
                "INSERT INTO entities SELECT DISTINCT 'sel:' || kind || ':' || "
                "coalesce(value_normalized, value), 'selector', coalesce(value_normalized, value), "
                "'', '', CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP) FROM selectors"
            )
            ws.store.execute(
                "INSERT INTO entity_members SELECT 'selectors', selector_id, 'sel:' || kind || "
                "':' || coalesce(value_normalized, value), 1.0 FROM selectors"
            )
            ws.store.execute(
                "INSERT INTO entities SELECT 'sub:' || subject_id, 'person', full_name, '', '', "
                "CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP) FROM subjects"
            )
            ws.store.execute(
                "INSERT INTO entity_members SELECT 'subjects', subject_id, 'sub:' || subject_id, "
                "1.0 FROM subjects"
            )
        agencies = [
            r[0]
            for r in ws.store.rows(
                "SELECT agency_id FROM investigations GROUP BY agency_id "
                "ORDER BY count(*) DESC LIMIT 8"
            )
        ]
    for a in agencies:
        _lastmile(
            "user",
            "add",
            f"bench.{a.lower()}",
            "--agency",
            a,
            "--role",
            "analyst",
            "--password-stdin",
            "--workspace",
            workspace,
            stdin=PASSWORD + "\n",
        )
    return {"agencies": agencies}


def targets(workspace: str, agencies: list[str]) -> dict[str, Any]:
    """Selectors to look up and entities to open, and each agency's secrets for the leak check."""
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        sels = [
            r[0]
            for r in ws.store.rows(
                "SELECT value FROM selectors WHERE kind = 'phone' ORDER BY selector_id LIMIT 2000"
            )
        ]
        ents = ws.store.rows(
            "SELECT m.entity_id, i.agency_id FROM entity_members m "
            "JOIN subjects s ON m.record_type = 'subjects' AND s.subject_id = m.record_id "
            "JOIN investigations i ON i.investigation_id = s.investigation_id "
            "ORDER BY m.entity_id LIMIT 20000"
        )
        # Everything that names a person, group or selector, and the agencies whose records
        # say it: a value is a leak only for a caller whose agency holds it nowhere.
        names = ws.store.rows(
            "SELECT x.v, i.agency_id FROM ("
            "SELECT investigation_id, subject_id AS v FROM subjects "
            "UNION ALL SELECT investigation_id, full_name FROM subjects "
            "UNION ALL SELECT investigation_id, concat_ws(' ', given_name, family_name) "
            "FROM subjects "
            "UNION ALL SELECT investigation_id, unnest(string_to_array(aliases, '|')) "
            "FROM subjects "
            "UNION ALL SELECT investigation_id, unnest(string_to_array(monikers, '|')) "
            "FROM subjects "
            "UNION ALL SELECT investigation_id, name FROM organizations "
            "UNION ALL SELECT investigation_id, unnest(string_to_array(aliases, '|')) "
            "FROM organizations "
            "UNION ALL SELECT investigation_id, value FROM selectors "
            "UNION ALL SELECT investigation_id, value_normalized FROM selectors"
            ") x JOIN investigations i ON i.investigation_id = x.investigation_id "
            "WHERE x.v IS NOT NULL"
        )
        # What analyze concluded, when it has run (migration 0008): networks to open.
        networks = [
            r[0]
            for r in ws.store.rows(
                "SELECT DISTINCT network_id FROM network_members ORDER BY network_id LIMIT 5000"
            )
        ]
        public = {
            v
            for row in ws.store.rows("SELECT name, poc_name, poc_phone, poc_email FROM agencies")
            for v in row
            if v
        }
    by_agency: dict[str, list[str]] = {a: [] for a in agencies}
    for e, a in ents:
        if a in by_agency:
            by_agency[a].append(e)
    owner: dict[str, set[str]] = {}
    for value, agency in names:
        token = str(value).strip()
        if token and token not in public:
            owner.setdefault(token, set()).add(agency)
    return {
        "selectors": sels,
        "entities": by_agency,
        "owner": owner,
        "all_entities": [e for e, _ in ents],
        "networks": networks,
    }


class Server:
    def __init__(self, workspace: str, workers: int) -> None:
        self.port = _free_port()
        exe = str(Path(sys.executable).with_name("lastmile"))
        self.proc = subprocess.Popen(
            [
                exe,
                "serve",
                "--workspace",
                workspace,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("the server did not start")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def sign_in(base: str, agencies: list[str]) -> dict[str, str]:
    tokens = {}
    for a in agencies:
        r = httpx.post(
            base + "/api/token", data={"username": f"bench.{a.lower()}", "password": PASSWORD}
        )
        r.raise_for_status()
        tokens[a] = r.json()["access_token"]
    return tokens


def load(
    base: str, tokens: dict[str, str], t: dict[str, Any], clients: int, think: float, seconds: float
) -> dict[str, Any]:
    lat: dict[str, list[float]] = {"deconflict": [], "entity": []}
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    agencies = [a for a in tokens if t["entities"].get(a)]

    def client(n: int) -> None:
        rng = random.Random(n)
        agency = agencies[n % len(agencies)]
        h = {"Authorization": f"Bearer {tokens[agency]}"}
        with httpx.Client(base_url=base, headers=h, timeout=30) as c:
            time.sleep(rng.random() * think)
            while time.monotonic() < stop_at:
                kind = "deconflict" if rng.random() < 0.5 else "entity"
                if kind == "deconflict":
                    path, params = "/api/deconflict", {"selector": rng.choice(t["selectors"])}
                else:
                    path, params = f"/api/entities/{rng.choice(t['entities'][agency])}", {}
                start = time.perf_counter()
                try:
                    r = c.get(path, params=params)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    lat[kind].append(elapsed)
                    errors[0] += 0 if ok else 1
                time.sleep(think)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.monotonic() - began

    def pct(xs: list[float], q: float) -> float | None:
        if not xs:
            return None
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1)

    total = sum(len(v) for v in lat.values())
    return {
        "clients": clients,
        "think_s": think,
        "requests": total,
        "rate_per_s": round(total / took, 1),
        "errors": errors[0],
        **{
            f"{k}_ms": {
                "p50": pct(v, 0.5),
                "p95": pct(v, 0.95),
                "p99": pct(v, 0.99),
                "mean": round(statistics.fmean(v), 1) if v else None,
            }
            for k, v in lat.items()
        },
    }


def meets(r: dict[str, Any]) -> bool:
    d, e = r["deconflict_ms"]["p99"], r["entity_ms"]["p99"]
    return r["errors"] == 0 and d is not None and d <= 50 and e is not None and e <= 200


def leak_check(
    base: str, tokens: dict[str, str], t: dict[str, Any], calls: int, threads: int = 4
) -> dict[str, Any]:
    """Random read calls by random agencies, from ``threads`` clients at once; a leak is a
    name, alias, selector or id found only in another agency's investigations (no sharing is
    set up, so each sees only its own)."""
    owner: dict[str, set[str]] = t["owner"]
    found = {"leaks": 0, "calls": 0, "refused": 0}
    examples: list[dict[str, str]] = []
    agencies = list(tokens)
    tokens_list = sorted(owner)
    lock = threading.Lock()

    def client(n: int, count: int) -> None:
        rng = random.Random(7 + n)
        with httpx.Client(base_url=base, timeout=120) as c:
            for _ in range(count):
                one(c, rng)

    def one(c: httpx.Client, rng: random.Random) -> None:
        agency = rng.choice(agencies)
        h = {"Authorization": f"Bearer {tokens[agency]}"}
        choice = rng.random()
        if choice < 0.35:
            r = c.get(f"/api/entities/{rng.choice(t['all_entities'])}", headers=h)
        elif choice < 0.6:
            token = rng.choice(tokens_list)
            r = c.get("/api/search", params={"q": token[:12]}, headers=h)
        elif choice < 0.75:
            r = c.get("/api/investigations", params={"limit": 50}, headers=h)
        elif choice < 0.85 or not t["networks"]:
            r = c.get("/api/conflicts", headers=h)
        else:
            tail = rng.choice(["", "/key-players", "/attribution"])
            r = c.get(f"/api/networks/{rng.choice(t['networks'])}{tail}", headers=h)
        with lock:
            found["calls"] += 1
            if r.status_code != 200:
                found["refused"] += 1
                return
        for value in _strings(r.json()):
            holders = owner.get(value)
            if holders is not None and agency not in holders:
                with lock:
                    found["leaks"] += 1
                    if len(examples) < 5:
                        examples.append({"agency": agency, "path": str(r.url), "value": value})

    share = [calls // threads + (1 if i < calls % threads else 0) for i in range(threads)]
    pool = [threading.Thread(target=client, args=(i, n)) for i, n in enumerate(share)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return {**found, "examples": examples}


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [obj] if isinstance(obj, str) else []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--workspace",
        help="A postgresql:// URL (default: a fresh schema of "
        "$LASTMILE_TEST_POSTGRES_URL) or a DuckDB file.",
    )
    ap.add_argument("--scale", default="national", choices=["tiny", "division", "national"])
    ap.add_argument("--prepared", action="store_true", help="The workspace is already filled.")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--think", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rates", default="0.5,0.25,0.1", help="Shorter think times to try.")
    # A server that has just started has cold caches (PostgreSQL's buffers, the workers' first
    # imports and connections); load tools (JMeter, Gatling) ramp up before measuring, and so
    # does this: the warm-up's requests are made the same way and left out of the figures.
    ap.add_argument("--warmup", type=float, default=10, help="Seconds of load not measured.")
    ap.add_argument("--leak-calls", type=int, default=10_000)
    ap.add_argument("--leak-threads", type=int, default=4)
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="lastmile-bench-server-"))
    workspace = args.workspace
    if workspace is None:
        base_url = os.environ.get("LASTMILE_TEST_POSTGRES_URL")
        if not base_url:
            raise SystemExit("give --workspace or set LASTMILE_TEST_POSTGRES_URL")
        import psycopg

        schema = f"bench_{int(time.time())}"
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in base_url else "?"
        workspace = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    workers = args.workers if workspace.startswith("postgres") else 1
    started = time.perf_counter()
    if not args.prepared:
        prepare(workspace, args.scale, folder)
    from lastmile.store import open_workspace

    with open_workspace(workspace, create=False) as ws:
        agencies = [
            r[0]
            for r in ws.store.rows(
                "SELECT agency_id FROM users WHERE username LIKE 'bench.%' ORDER BY agency_id"
            )
        ]
    t = targets(workspace, agencies)
    prepared_s = round(time.perf_counter() - started, 1)
    server = Server(workspace, workers)
    try:
        tokens = sign_in(server.base, agencies)
        if args.warmup > 0:
            load(server.base, tokens, t, args.clients, args.think, args.warmup)
        main_run = load(server.base, tokens, t, args.clients, args.think, args.seconds)
        print(json.dumps({"load": main_run}), file=sys.stderr, flush=True)
        best = main_run["rate_per_s"] if meets(main_run) else None
        tried = []
        for think in [float(x) for x in args.rates.split(",") if x]:
            r = load(server.base, tokens, t, args.clients, think, min(args.seconds, 30))
            tried.append(r)
            print(json.dumps({"faster": r}), file=sys.stderr, flush=True)
            if not meets(r):
                break
            best = r["rate_per_s"]
        leak = leak_check(server.base, tokens, t, args.leak_calls, args.leak_threads)
    finally:
        server.stop()
    print(
        json.dumps(
            {
                "workspace": "postgresql" if workspace.startswith("postgres") else "duckdb",
                "scale": args.scale,
                "workers": workers,
                "prepare_s": prepared_s,
                "warmup_s": args.warmup,
                "load": main_run,
                "goals_met": meets(main_run),
                "faster_runs": tried,
                "highest_rate_meeting_goals_per_s": best,
                "leak_check": leak,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
