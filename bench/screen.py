"""Figures of social-media sales screening (issue 12), printed as JSON.

    .venv/bin/python bench/screen.py [--posts 20000] [--million 1000000] [--seed 2022]

- synthetic: ``--posts`` posts of the synthetic generator (seed ``--seed``; the score's
  thresholds were set on seed 7, so the default seed is not the calibration data): sale
  precision and recall (``possible`` is not a sale) and contact-selector recall;
- handwritten: the hand-written set in tests/fixtures/screen_handwritten.csv (never used to
  set anything), the same figures;
- written: tests/fixtures/screen_written_{a,b,c}.csv, posts written by three writers who
  never saw the lexicon, and each ``--set FILE`` (a labelled CSV with post_id, label and
  text, and optionally selectors; rows labelled anything but ``sale`` or ``none`` are left
  out and counted): the same figures, under the file's stem;
- speed: ``--million`` synthetic posts (up to 280 characters) screened end to end (prefilter,
  extractors, scores, result table): wall-clock and CPU seconds (all threads), and the load
  average, since the machine is shared. Generating them is not timed; training the combined
  method's model is ``setup``.

Each figure is given for both methods, ``lexicon`` and ``combined``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pyarrow.csv as pacsv

from lastmile.screen import Screener
from lastmile.screen.evaluate import figures, read_labelled
from lastmile.synth.posts import generate

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
HAND = FIXTURES / "screen_handwritten.csv"
# Posts written by three writers who never saw the lexicon (docs/methodology.md, "Screening":
# a and b were read to develop the method, c was held out until measured).
WRITTEN = [FIXTURES / f"screen_written_{x}.csv" for x in "abc"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--million", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument(
        "--set", type=Path, action="append", default=[], help="another labelled set of posts"
    )
    args = ap.parse_args()
    out: dict[str, object] = {}
    posts, truth = generate(args.seed, args.posts)
    hand = pacsv.read_csv(HAND)
    sets = {path.stem: read_labelled(path) for path in [*WRITTEN, *args.set]}
    big = generate(args.seed + 1, args.million)[0] if args.million else None
    for method in ("lexicon", "combined"):
        wall, cpu = time.perf_counter(), time.process_time()
        screener = Screener(method=method)
        figs: dict[str, object] = {
            "setup_seconds": round(time.perf_counter() - wall, 1),
            "setup_cpu_seconds": round(time.process_time() - cpu, 1),
        }
        result = screener.screen(posts["post_id"], posts["text"])
        figs["synthetic"] = {"seed": args.seed, **figures(result, truth)}
        result = screener.screen(hand["post_id"], hand["text"])
        figs["handwritten"] = figures(result, hand)
        for name, (table, left_out) in sets.items():
            result = screener.screen(table["post_id"], table["text"])
            figs[name] = {**figures(result, table), "left_out_unlabelled": left_out}
        if big is not None:
            texts = big["text"].combine_chunks()
            wall, cpu = time.perf_counter(), time.process_time()
            result = screener.screen(big["post_id"].combine_chunks(), texts)
            seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
            figs["speed"] = {
                "posts": result.num_rows,
                "longest_post_chars": max(len(t) for t in texts.to_pylist()),
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu_seconds, 1),
                "load_average_1min": round(os.getloadavg()[0], 1),
            }
        out[method] = figs
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
