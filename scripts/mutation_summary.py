"""Summarize mutation runs (make mutation): the share of mutants killed, per file, with the
mutants inside SQL string literals counted apart (any change there breaks the query, so
killing them proves little about the tests).

    .venv/bin/python scripts/mutation_summary.py          # after scripts/mutation.py
    .venv/bin/python scripts/mutation_summary.py --survivors   # and list the survivors

It reads every ``mutation/<target>/mutants`` (scripts/mutation.py) and a ``mutants`` folder at
the root (a plain ``mutmut run``). A mutant no test reaches ("no tests") counts as not killed.
Where a target was run on a random sample (``sample.json``), the share carries its 95 %
confidence interval (Wilson).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY|CASE WHEN|regexp_\w+)\b")
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # failed tests, timeouts, type-check catches
NO_TESTS = {5, 33}
SKIPPED = {34}


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def in_sql_literal(name: str, source: str) -> bool:
    """Whether the mutant changes text inside a string literal holding SQL."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(name, path=source)
    lines = diff.splitlines()
    added = [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")]
    removed = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    if (
        len(added) == len(removed) == 1
        and added[0].lower() == removed[0].lower()
        and SQL.search(removed[0])
    ):
        return True  # the SQL text upper- or lower-cased: SQL keywords and names ignore case
    for line in added:
        if "XX" not in line:  # mutmut marks a mutated string literal with XX at both ends
            continue
        if SQL.search(line):
            return True
        if any(q + "XX" in line or "XX" + q in line for q in ('"""', "'''")) and SQL.search(diff):
            return True  # a triple-quoted SQL text, mutated at its ends
    return False


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def summarize(folder: Path, survivors: list[str]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    sample = folder / "sample.json"
    sampled = json.loads(sample.read_text()) if sample.exists() else None
    with inside(folder):
        for meta in sorted(Path("mutants").rglob("*.py.meta")):
            data = json.loads(meta.read_text())
            source = str(meta.relative_to("mutants")).removesuffix(".meta")
            c: Counter[str] = Counter()
            for name, code in data.get("exit_code_by_key", {}).items():
                c["mutants"] += 1
                if sampled and name not in sampled["mutants"]:
                    c["outside the sample"] += 1
                    continue
                if code is None or code in SKIPPED:
                    c["not run"] += 1
                    continue
                part = "sql" if in_sql_literal(name, source) else "code"
                c[f"{part} total"] += 1
                c[f"{part} killed"] += code in KILLED
                c[f"{part} no tests"] += code in NO_TESTS
                if part == "code" and code not in KILLED:
                    status = "no tests" if code in NO_TESTS else f"exit {code}"
                    survivors.append(f"{folder.name}\t{name}\t{status}")
            if c:
                if sampled:
                    c["sample"] = sampled["size"]
                counts[source] = c
    return counts


def main() -> None:
    folders = sorted(p.parent for p in (ROOT / "mutation").glob("*/mutants"))
    if (ROOT / "mutants").is_dir():
        folders.append(ROOT)
    survivors: list[str] = []
    print(
        "| file | mutants | code mutants tested | killed | share (95 % CI) | no test reaches | "
        "in SQL literals (killed) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    total: Counter[str] = Counter()
    for folder in folders:
        for source, c in summarize(folder, survivors).items():
            total.update({k: v for k, v in c.items() if k != "sample"})
            n, k = c["code total"], c["code killed"]
            share = f"{k / n:.0%}" if n else "-"
            if c["sample"] and n:
                low, high = wilson(k, n)
                share += f" ({low:.0%}–{high:.0%}, sample)"
            print(
                f"| `{source.removeprefix('src/lastmile/')}` | {c['mutants']} | {n} | {k} | "
                f"{share} | {c['code no tests']} | {c['sql total']} ({c['sql killed']}) |"
            )
    n, k = total["code total"], total["code killed"]
    share = f"{k / n:.0%}" if n else "-"
    print(
        f"| all | {total['mutants']} | {n} | {k} | {share} | {total['code no tests']} | "
        f"{total['sql total']} ({total['sql killed']}) |"
    )
    if total["outside the sample"]:
        print(f"\n{total['outside the sample']} mutants outside the random samples")
    if total["not run"]:
        print(f"\n{total['not run']} mutants of the runs or samples not tested yet")
    if "--survivors" in sys.argv:
        print("\n" + "\n".join(survivors))


if __name__ == "__main__":
    main()
