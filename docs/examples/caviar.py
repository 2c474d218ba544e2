"""The worked example of docs/networks.md: key players and disruption of the CAVIAR network.

    .venv/bin/python docs/examples/caviar.py [--data /work/shared/data/public_networks/caviar]
        [--union union.csv]

prints the Markdown tables of docs/networks.md and draws docs/figures/caviar_disruption.svg
and .png; ``--union`` also writes the union of the 11 phases as an edge list
(source,target,weight), for the command-line check of the same figures. CAVIAR's matrices
count wiretapped communications between anonymised players (numbers only; 1-82 traffickers,
83-110 others) in 11 two-month phases, 1994-1996.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from lastmile.network import build_network, disrupt, key_players, plot_disruption, read_adjacency

HERE = Path(__file__).resolve().parent
DATA = Path("/work/shared/data/public_networks/caviar")


def top(net, method: str, k: int = 5) -> str:  # type: ignore[no-untyped-def]
    table = key_players(net, k, method=method).table
    return ", ".join(str(i) for i in table.column("id").to_pylist())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--figures", type=Path, default=HERE.parent / "figures")
    parser.add_argument("--union", type=Path, help="Also write the union as an edge-list CSV.")
    args = parser.parse_args()

    tables = [read_adjacency(args.data / f"phase{i}.csv") for i in range(1, 12)]
    print("| phase | people | ties | calls | key-player set (k=5) | betweenness | degree |")
    print("|---|---:|---:|---:|---|---|---|")
    for i, table in enumerate(tables, start=1):
        net = build_network(table)
        g = net.graph
        calls = int(sum(g.es["weight"]))
        print(
            f"| {i} | {g.vcount()} | {g.ecount()} | {calls:,} | {top(net, 'keyplayer')} | "
            f"{top(net, 'betweenness')} | {top(net, 'degree')} |"
        )
    union = build_network(pa.concat_tables(tables))
    if args.union is not None:
        from lastmile.export import write_csv

        ties = pa.concat_tables(tables)
        write_csv(ties.filter(pc.is_valid(ties["target"])), args.union)
    g = union.graph
    print(
        f"| all | {g.vcount()} | {g.ecount()} | {int(sum(g.es['weight'])):,} | "
        f"{top(union, 'keyplayer')} | {top(union, 'betweenness')} | {top(union, 'degree')} |"
    )
    print()
    detail = key_players(union, 5).table
    print("| rank | id | score | why |")
    print("|---:|---|---:|---|")
    for row in detail.to_pylist():
        print(f"| {row['rank']} | {row['id']} | {row['score']:.3f} | {row['why']} |")
    print()

    curves = {}
    for strategy, sequential in (
        ("betweenness", True),
        ("betweenness", False),
        ("degree", True),
        ("keyplayer", True),
    ):
        label = f"{strategy} ({'recomputed' if sequential else 'initial ranking'})"
        curves[label] = disrupt(union, strategy=strategy, sequential=sequential, steps=10)
    print("| strategy | removed, in order | largest component after 1 / 3 / 5 / 10 | "
          "efficiency after 5 / 10 |")
    print("|---|---|---|---|")
    for label, table in curves.items():
        rows = table.to_pylist()
        removed = ", ".join(str(r["removed"]) for r in rows[1:])
        sizes = " / ".join(str(rows[s]["largest_component"]) for s in (1, 3, 5, 10))
        eff = f"{rows[5]['efficiency']:.3f} / {rows[10]['efficiency']:.3f}"
        print(f"| {label} | {removed} | {sizes} (of {rows[0]['largest_component']}) | {eff} "
              f"(intact {rows[0]['efficiency']:.3f}) |")
    for suffix in (".svg", ".png"):
        plot_disruption(
            curves,
            args.figures / f"caviar_disruption{suffix}",
            title="CAVIAR, all 11 phases (107 people): removing the top 10",
        )


if __name__ == "__main__":
    main()
