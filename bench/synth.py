"""Benchmark: generate the national operation and report time and peak memory as JSON.

.venv/bin/python bench/synth.py [--communications N] [--out DIR] [--toll-records]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from lastmile.synth import DEFAULT_SEED, Scale, generate


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS); children counted too.
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) * scale, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--communications", type=int, default=None)
    ap.add_argument("--scale", default=Scale.NATIONAL.value, choices=[s.value for s in Scale])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--toll-records", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        start = time.perf_counter()
        summary = generate(args.scale, args.seed, out, args.communications, args.toll_records)
        seconds = time.perf_counter() - start
        sizes = {name: (out / name).stat().st_size for name in summary.counts if "*" not in name}
    print(
        json.dumps(
            {
                "scale": args.scale,
                "seed": args.seed,
                "seconds": round(seconds, 2),
                "peak_rss_mb": _peak_rss_mb(),
                "communications": summary.counts.get("communications.csv", 0),
                "files": summary.counts,
                "bytes": sum(sizes.values()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
