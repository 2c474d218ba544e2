"""Edge lists in, igraph graphs out: reading, validating and merging ties.

An edge list is a CSV with a header row and the columns ``source,target[,weight]``. Ids are
text (``"007"`` and ``"7"`` are two people). A weight is a strength: the number of calls or
meetings behind the tie, a positive number (1 when the column is absent or the cell empty). A
row with a source and an empty target declares an isolated node.

Ties are undirected: a call from A to B and one from B to A are one tie whose weight is their
sum. Duplicate rows are merged the same way and self-loops are dropped (a person tied to
himself has no place in a shortest path or a brokerage triad); both are counted in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import igraph as ig
import numpy as np
import pyarrow as pa


class NetworkError(ValueError):
    """A network input or request that cannot be analysed, in one clear line."""


@dataclass(frozen=True)
class Network:
    """An undirected, weighted simple graph and what was done to its input to make it."""

    graph: ig.Graph
    notes: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return list(self.graph.vs["name"]) if self.graph.vcount() else []

    @property
    def weights(self) -> list[float]:
        return list(self.graph.es["weight"]) if self.graph.ecount() else []


EDGE_SCHEMA = pa.schema(
    [("source", pa.string()), ("target", pa.string()), ("weight", pa.float64())]
)


def read_edges(path: Path | str) -> pa.Table:
    """Read and validate an edge-list CSV: ``source,target[,weight]`` with a header row.

    Raises :class:`NetworkError` naming the file, row (the header is row 1), column and
    reason for the first bad row: a missing source, a weight that is not a number, or a
    weight that is zero or negative (weights are strengths; a zero tie is no tie).
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise NetworkError(f"{path}: empty file (expected a header row source,target[,weight])")
    con = duckdb.connect()
    try:
        rel = con.sql(
            "SELECT * FROM read_csv(?, header = true, all_varchar = true, delim = ',', "
            "quote = '\"', null_padding = true)",
            params=[str(path)],
        )
        columns = [c.strip().lower() for c in rel.columns]
        if "source" not in columns or "target" not in columns:
            raise NetworkError(
                f"{path}: row 1: the header must name the columns source,target[,weight]; "
                f"found {','.join(rel.columns)}"
            )
        real = dict(zip(columns, rel.columns, strict=True))
        weight = f'"{real["weight"]}"' if "weight" in real else "NULL"
        con.register("raw", rel)
        con.execute(
            f"""CREATE TEMP TABLE e AS SELECT
                row_number() OVER () + 1 AS row,
                nullif(trim("{real["source"]}"), '') AS source,
                nullif(trim("{real["target"]}"), '') AS target,
                nullif(trim({weight}), '') AS weight_text
            FROM raw"""
        )
        bad = con.execute(
            """SELECT row, CASE
                    WHEN source IS NULL THEN 'source: empty'
                    WHEN weight_text IS NOT NULL AND TRY_CAST(weight_text AS DOUBLE) IS NULL
                        THEN 'weight: ' || weight_text || ' is not a number'
                    WHEN NOT isfinite(TRY_CAST(weight_text AS DOUBLE))
                        THEN 'weight: ' || weight_text || ' is not finite'
                    WHEN TRY_CAST(weight_text AS DOUBLE) <= 0
                        THEN 'weight: ' || weight_text
                             || ' is not positive (weights count calls or meetings)'
                END AS reason
            FROM e WHERE reason IS NOT NULL ORDER BY row LIMIT 1"""
        ).fetchone()
        if bad is not None:
            raise NetworkError(f"{path}: row {bad[0]}: {bad[1]}")
        table = con.sql(
            """SELECT source, target, coalesce(TRY_CAST(weight_text AS DOUBLE), 1.0) AS weight
            FROM e ORDER BY row"""
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise NetworkError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    finally:
        con.close()
    if table.num_rows == 0:
        raise NetworkError(f"{path}: no rows after the header")
    return table.cast(EDGE_SCHEMA)


def read_adjacency(path: Path | str) -> pa.Table:
    """Read an adjacency-matrix CSV (first row and column are labels, cells count ties).

    This is the layout of the public criminal-network data sets (CAVIAR, the UCINET covert
    networks). Returns the edge table of the non-zero cells, row node to column node; every
    label is kept, so nodes without ties stay as isolated nodes.
    """
    path = Path(path)
    import csv

    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows or len(rows[0]) < 2:
        raise NetworkError(f"{path}: not an adjacency matrix (no label row)")
    labels = [c.strip() for c in rows[0][1:]]
    body = rows[1:]
    if len(body) != len(labels):
        raise NetworkError(f"{path}: {len(labels)} column labels but {len(body)} rows")
    sources: list[str] = []
    targets: list[str | None] = []
    weights: list[float] = []
    for i, row in enumerate(body, start=2):
        if len(row) != len(labels) + 1:
            raise NetworkError(f"{path}: row {i}: {len(row) - 1} cells, expected {len(labels)}")
        src = row[0].strip()
        tied = False
        for label, cell in zip(labels, row[1:], strict=True):
            try:
                value = float(cell) if cell.strip() else 0.0
            except ValueError:
                raise NetworkError(
                    f"{path}: row {i}: column {label}: {cell!r} is not a number"
                ) from None
            if value < 0:
                raise NetworkError(f"{path}: row {i}: column {label}: {value} is negative")
            if value > 0:
                sources.append(src)
                targets.append(label)
                weights.append(value)
                tied = True
        if not tied:
            sources.append(src)
            targets.append(None)
            weights.append(1.0)
    return pa.table({"source": sources, "target": targets, "weight": weights}, schema=EDGE_SCHEMA)


def build_network(edges: pa.Table) -> Network:
    """The undirected simple graph of an edge table (``source``, ``target``, ``weight``).

    Duplicate and reversed rows are merged (weights summed), self-loops dropped, rows with
    no target kept as isolated nodes. Vertex attribute ``name`` holds the ids, edge
    attributes ``weight`` (strength) and ``distance`` (1 / weight, for shortest paths).
    """
    if edges.num_rows == 0:
        raise NetworkError("no edges and no nodes: nothing to analyse")
    weight_col = (
        edges.column("weight").to_numpy(zero_copy_only=False).astype(float)
        if "weight" in edges.column_names
        else np.ones(edges.num_rows)
    )
    if np.any(~np.isfinite(weight_col)) or np.any(weight_col <= 0):
        raise NetworkError("weights must be positive numbers (they count calls or meetings)")
    src = edges.column("source").cast(pa.string())
    tgt = edges.column("target").cast(pa.string())
    if src.null_count:
        raise NetworkError("a row has no source id")
    both = pa.chunked_array(src.chunks + tgt.chunks).drop_null().unique()
    names = both.to_pylist()
    import pyarrow.compute as pc

    s = pc.index_in(src, value_set=both).to_numpy(zero_copy_only=False)
    t_arr = pc.index_in(tgt, value_set=both)
    has_t = t_arr.is_valid().to_numpy(zero_copy_only=False)
    t = t_arr.fill_null(-1).to_numpy(zero_copy_only=False)
    s, t, w = s[has_t].astype(np.int64), t[has_t].astype(np.int64), weight_col[has_t]
    notes: list[str] = []
    loops = s == t
    if loops.any():
        notes.append(f"dropped {int(loops.sum()):,} self-loop rows")
        s, t, w = s[~loops], t[~loops], w[~loops]
    lo, hi = np.minimum(s, t), np.maximum(s, t)
    n = len(names)
    keys = lo * n + hi
    uniq, inverse = np.unique(keys, return_inverse=True)
    if len(uniq) < len(keys):
        notes.append(
            f"merged {len(keys) - len(uniq):,} duplicate or reversed rows into "
            f"{len(uniq):,} ties (weights summed)"
        )
    merged_w = np.bincount(inverse, weights=w, minlength=len(uniq))
    pairs = np.column_stack([uniq // n, uniq % n])
    g = ig.Graph(n=n, edges=pairs.tolist() if len(pairs) else [], directed=False)
    g.vs["name"] = names
    if g.ecount():
        g.es["weight"] = merged_w.tolist()
        g.es["distance"] = (1.0 / merged_w).tolist()
    isolated = int(sum(1 for d in g.degree() if d == 0))
    if isolated:
        notes.append(f"{isolated:,} isolated nodes (no ties)")
    return Network(graph=g, notes=notes)


def load_network(path: Path | str, *, matrix: bool = False) -> Network:
    """Read an edge-list CSV (or an adjacency matrix with ``matrix=True``) into a Network."""
    return build_network(read_adjacency(path) if matrix else read_edges(path))


def network_from_graph(graph: ig.Graph) -> Network:
    """Wrap an igraph graph (names and weights are added when missing)."""
    g = graph.copy()
    if g.is_directed():
        g.to_undirected(mode="collapse", combine_edges={"weight": "sum"})
    if "name" not in g.vs.attributes():
        g.vs["name"] = [str(i) for i in range(g.vcount())]
    if g.ecount():
        if "weight" not in g.es.attributes():
            g.es["weight"] = [1.0] * g.ecount()
        g.es["distance"] = [1.0 / w for w in g.es["weight"]]
    return Network(graph=g)
