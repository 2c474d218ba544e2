"""Benchmark: what the chain of custody (a SHA-256 of every file read) costs ingest.

Writes the folder of `bench/ingest.py`, hashes its files alone (as `lastmile verify` does),
then ingests it ``--repeat`` times with the hash and without it (the hash replaced by a stub),
alternating, each into a fresh workspace; the best time of each side counts. Prints JSON.

    python bench/custody.py [--rows 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import lastmile.ingest.batch as batch
from lastmile.ingest import ingest_paths
from lastmile.store import open_workspace

sys.path.insert(0, str(Path(__file__).parent))
from ingest import write_operation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lastmile-custody-"))
    try:
        folder = work / "op"
        write_operation(folder, args.rows)
        size = sum(p.stat().st_size for p in folder.iterdir())
        real = batch.file_digest

        def stub(path: Path) -> batch.Digest:
            now = datetime.now(UTC).replace(tzinfo=None)
            return batch.Digest("0" * 64, path.stat().st_size, now, False)

        started = time.perf_counter()
        for p in folder.iterdir():
            real(p)
        alone = time.perf_counter() - started
        times: dict[str, list[float]] = {"with_hash": [], "without_hash": []}
        for i in range(args.repeat):
            for side in times:
                batch.file_digest = real if side == "with_hash" else stub  # type: ignore[assignment]
                path = work / f"{side}-{i}.duckdb"
                with open_workspace(path) as ws:
                    started = time.perf_counter()
                    ingest_paths(ws, [folder], rejects=work / "rejects.csv")
                    times[side].append(round(time.perf_counter() - started, 2))
                path.unlink()
        print(
            json.dumps(
                {
                    "rows": args.rows,
                    "bytes": size,
                    "hash_alone_s": round(alone, 2),
                    "best_with_hash_s": min(times["with_hash"]),
                    "best_without_hash_s": min(times["without_hash"]),
                    "runs": times,
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
