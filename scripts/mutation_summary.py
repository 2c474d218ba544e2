"""Summarize a `mutmut run` (make mutation): the share of mutants killed, per file, with the
mutants inside SQL string literals counted apart (any change there breaks the query, so
killing them proves little about the tests).

    .venv/bin/python scripts/mutation_summary.py      # after .venv/bin/mutmut run
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

SQL = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY|CASE WHEN|regexp_\w+)\b")
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # failed tests, timeouts, type-check catches


def in_sql_literal(name: str, source: str) -> bool:
    """Whether the mutant changes text inside a string literal holding SQL."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(name, path=source)
    added = [line for line in diff.splitlines() if line.startswith("+") and "+++" not in line]
    for line in added:
        if "XX" not in line:  # mutmut marks a mutated string literal with XX at both ends
            continue
        if SQL.search(line):
            return True
        if any(q + "XX" in line or "XX" + q in line for q in ('"""', "'''")) and SQL.search(diff):
            return True  # a triple-quoted SQL text, mutated at its ends
    return False


def main() -> None:
    counts: dict[str, Counter[str]] = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        source = str(meta.relative_to("mutants")).removesuffix(".meta")
        c: Counter[str] = Counter()
        for name, code in data.get("exit_code_by_key", {}).items():
            if code is None or code in (5, 33, 34):
                c["not run"] += 1
                continue
            part = "sql" if in_sql_literal(name, source) else "code"
            c[f"{part} total"] += 1
            c[f"{part} killed"] += code in KILLED
        if c:
            counts[source] = c
    print("| file | mutants (code) | killed | share | in SQL literals | killed |")
    print("|---|---:|---:|---:|---:|---:|")
    total: Counter[str] = Counter()
    for source, c in counts.items():
        total.update(c)
        share = c["code killed"] / c["code total"] if c["code total"] else 0.0
        print(
            f"| {source} | {c['code total']} | {c['code killed']} | {share:.0%} | "
            f"{c['sql total']} | {c['sql killed']} |"
        )
    share = total["code killed"] / total["code total"] if total["code total"] else 0.0
    print(
        f"| all | {total['code total']} | {total['code killed']} | {share:.0%} | "
        f"{total['sql total']} | {total['sql killed']} |"
    )
    if total["not run"]:
        print(f"\n{total['not run']} mutants not run (no test covers them, or skipped)")


if __name__ == "__main__":
    main()
