"""The cost of the address levels' SQL against records of many addresses.

    python bench/address_levels.py [--pairs 50000] [--keys 2 10 40] [--marks 3 30] [--words 5 30]

A record's street keys and marks are lists, and the levels compare them pair by pair inside
Splink's comparisons (resolve/addresses.py). Most records hold one or two addresses, but an
entity of the entity pass pools every address of its records, and a hostile list may hold a
record of dozens. Each level is timed over ``--pairs`` pairs of made-up lists, one side of
each size given against the same size and against a short record (two addresses, no marks,
or one address's five words), in DuckDB on one connection with its default threads, each
form written in a CASE as Splink writes a level. Prints JSON: per level and sizes (``left``
and ``right``: addresses per side, each a street key and the key with a qualifier, marks, or
words per side), the seconds of each form and whether both hold for the same pairs (the
level "written with typos" is no longer asked of two sides of more than ``ALIKE_MAX_WORDS``
words each, so there they differ by design).

The peer is the form each level had before 2026-12-03's rewrite, kept below: it
tested every key (every mark) of the left side, so its cost grew with the square of the
longer list even where the other side was short.
"""

from __future__ import annotations

import argparse
import json
import time

import duckdb

from lastmile.resolve import addresses as A

# The forms replaced (2026-12-03), as the peer: a filter over each key of the left side, its
# lambda testing the right side and the qualifiers of the key (each an expression DuckDB
# evaluates again for every element), and for marks a filter of each side's marks per mark.
_OLD_SHARED_KEY = (
    " AND ".join(f"NOT contains(k, '{mark}')" for mark in A.QUALIFIER_MARKS)
    + " AND list_contains(r.addr_streets, k)"
)
OLD = {
    "STREET_SHARED_SQL": (
        "list_has_any(l.addr_streets, r.addr_streets) AND len(list_filter(l.addr_streets, "
        f"lambda k: {_OLD_SHARED_KEY} AND (NOT ends_with(k, '| ') OR {A._SAME_NUMBERS}) "
        f"AND {A._QUALIFIERS_MEET})) > 0"
    ),
    "KEY_APART_SQL": (
        f"coalesce(len(list_filter(l.addr_streets, lambda k: {_OLD_SHARED_KEY} "
        f"AND NOT ({A._QUALIFIERS_MEET}))) > 0, false)"
    ),
    "MARKS_APART_SQL": (
        "coalesce(len(list_filter(l.addr_marks, lambda m: "
        "len(list_filter(r.addr_marks, lambda x: split_part(x, '=', 1) = split_part(m, '=', 1)))"
        " > 0 AND NOT list_has_any("
        "list_filter(l.addr_marks, lambda x: split_part(x, '=', 1) = split_part(m, '=', 1)), "
        "list_filter(r.addr_marks, lambda x: split_part(x, '=', 1) = split_part(m, '=', 1)))"
        ")) > 0, false)"
    ),
    # The level without its bound on the shorter side's words.
    "ALIKE_ADDRESS_SQL": A.ALIKE_ADDRESS_SQL.split(" AND ", 1)[1],
}
WORDS = (
    "['main', 'street', 'springfield', 'oak', 'avenue', 'laidleyplace', 'halfmoon', 'station', "
    "'church', 'lane', 'north', 'hill', 'garden', 'rose', 'cottage', 'calle', 'hidalgo', "
    "'morelos', 'centro', 'colonia']"
)


def _pairs(con: duckdb.DuckDBPyConnection, pairs: int, left: int, right: int) -> None:
    """Pairs of records of ``left`` and ``right`` addresses each, their keys (each with a
    qualifier too) and marks drawn so that some keys are shared, some qualifiers meet and
    some designators part them."""
    con.execute(
        f"""CREATE OR REPLACE TABLE p AS SELECT i,
        list_sort(list_distinct(flatten(list_transform(range({left}), lambda x: [
            ((x + i) % 5)::VARCHAR || ' main | ' || (['', 'town, il'])[1 + (x + i) % 2],
            ((x + i) % 5)::VARCHAR || ' main | ' || (['', 'town, il'])[1 + (x + i) % 2]
                || (['#', '@', '$'])[1 + (x * i) % 3] || ((x + i) % 3)::VARCHAR])))) AS ls,
        list_sort(list_distinct(flatten(list_transform(range({right}), lambda x: [
            ((x * 2 + i) % 5)::VARCHAR || ' main | ' || (['', 'town, il'])[1 + (x * 7 + i) % 2],
            ((x * 2 + i) % 5)::VARCHAR || ' main | ' || (['', 'town, il'])[1 + (x * 7 + i) % 2]
                || (['#', '@', '$'])[1 + (x + i) % 3] || ((x * i) % 3)::VARCHAR])))) AS rs,
        nullif(list_transform(range({left}), lambda x: (['apartment', 'floor', 'manzana'])
            [1 + (x + i) % 3] || '=' || ((x + i) % 7)::VARCHAR), []) AS lm,
        nullif(list_transform(range({right}), lambda x: (['apartment', 'floor', 'lote'])
            [1 + (x * i) % 3] || '=' || ((x * 3 + i) % 5)::VARCHAR), []) AS rm,
        CASE WHEN i % 3 = 0 THEN NULL ELSE [(i % 4)::VARCHAR] END AS ln,
        CASE WHEN i % 5 = 0 THEN NULL ELSE ['1', '2'] END AS rn,
        list_transform(range({left}), lambda x: {WORDS}[1 + (x + i) % 20]
            || CASE WHEN x >= 20 THEN (x // 20)::VARCHAR ELSE '' END) AS lw,
        list_transform(range({right}), lambda x: {WORDS}[1 + (x * 3 + i) % 20]
            || CASE WHEN x >= 20 THEN (x // 20)::VARCHAR ELSE '' END) AS rw
        FROM range({pairs}) t(i)"""
    )


def _on_pairs(sql: str) -> str:
    for column, name in (
        ("addr_streets", "s"),
        ("addr_marks", "m"),
        ("addr_nums", "n"),
        ("addr_words", "w"),
    ):
        sql = sql.replace(f"l.{column}", f"l{name}").replace(f"r.{column}", f"r{name}")
    return sql


def run(pairs: int, keys: list[int], marks: list[int], words: list[int]) -> list[dict[str, object]]:
    con = duckdb.connect()
    results: list[dict[str, object]] = []
    sizes = {
        "STREET_SHARED_SQL": keys,
        "KEY_APART_SQL": keys,
        "MARKS_APART_SQL": marks,
        "ALIKE_ADDRESS_SQL": words,
    }
    # The short side each size is also compared with: a record of two addresses, of no
    # marks, of one address's words.
    short = {"MARKS_APART_SQL": 0, "ALIKE_ADDRESS_SQL": 5}
    for level, levels_sizes in sizes.items():
        for n in levels_sizes:
            for other in sorted({n, short.get(level, 2)}):
                _pairs(con, pairs, n, other)
                row: dict[str, object] = {"level": level, "left": n, "right": other}
                for side, sql in (("lastmile", getattr(A, level)), ("before", OLD[level])):
                    start = time.perf_counter()
                    # In a CASE, as Splink writes a level: DuckDB then evaluates a
                    # conjunction's later terms only where the earlier ones held.
                    held = con.execute(
                        "SELECT list(i ORDER BY i) FILTER (WHERE held) FROM (SELECT i, "
                        f"CASE WHEN {_on_pairs(sql)} THEN true ELSE false END AS held FROM p)"
                    ).fetchone()
                    row[f"{side}_seconds"] = round(time.perf_counter() - start, 3)
                    row[f"{side}_held"] = held[0] if held else None
                # The same pairs held by both forms, as the rewrite must give.
                row["same_pairs"] = row.pop("lastmile_held") == row.pop("before_held")
                results.append(row)
    con.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--keys", type=int, nargs="+", default=[2, 10, 40])
    parser.add_argument("--marks", type=int, nargs="+", default=[3, 30])
    parser.add_argument("--words", type=int, nargs="+", default=[5, 30])
    args = parser.parse_args()
    print(
        json.dumps(
            {"pairs": args.pairs, "levels": run(args.pairs, args.keys, args.marks, args.words)},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
