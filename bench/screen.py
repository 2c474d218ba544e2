"""Figures of social-media sales screening (issue 12), printed as JSON.

    .venv/bin/python bench/screen.py [--posts 20000] [--million 1000000] [--seed 2022]

- synthetic: ``--posts`` posts of the synthetic generator (seed ``--seed``; the score's
  thresholds were set on seed 7, so the default seed is not the calibration data): sale
  precision and recall (``possible`` is not a sale) and contact-selector recall;
- handwritten: the hand-written set in tests/fixtures/screen_handwritten.csv (never used to
  set anything), the same figures;
- speed: ``--million`` synthetic posts (up to 280 characters) screened end to end (prefilter,
  extractors, scores, result table), wall-clock seconds. Generating them is not timed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pyarrow.csv as pacsv

from lastmile.screen import Screener
from lastmile.screen.evaluate import figures
from lastmile.synth.posts import generate

HAND = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "screen_handwritten.csv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--million", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2022)
    args = ap.parse_args()
    screener = Screener()
    out: dict[str, object] = {}

    posts, truth = generate(args.seed, args.posts)
    result = screener.screen(posts["post_id"], posts["text"])
    out["synthetic"] = {"seed": args.seed, **figures(result, truth)}

    hand = pacsv.read_csv(HAND)
    result = screener.screen(hand["post_id"], hand["text"])
    out["handwritten"] = figures(result, hand)

    if args.million:
        posts, _ = generate(args.seed + 1, args.million)
        texts = posts["text"].combine_chunks()
        longest = max(len(t) for t in texts.to_pylist())
        start = time.perf_counter()
        result = screener.screen(posts["post_id"].combine_chunks(), texts)
        seconds = time.perf_counter() - start
        out["speed"] = {
            "posts": result.num_rows,
            "longest_post_chars": longest,
            "seconds": round(seconds, 1),
            "posts_per_second": round(result.num_rows / seconds),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
