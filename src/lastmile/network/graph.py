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

import csv
import io
import tempfile
from collections.abc import Iterator
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


DELIMITERS = (",", "\t", ";")
"""The cell separators an edge list may use: a comma, else the first of tab and semicolon
that the header row holds (tab-separated text is what lastmile itself and many tools write;
a semicolon is what a spreadsheet writes where the comma is the decimal mark)."""


CELL_LIMIT = 1 << 24
"""The longest cell the row-by-row diagnosis reads (Python's csv module stops at 128 KiB by
default, which would blame a long but valid cell on a quote)."""


class _BadLine(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _header(path: Path) -> tuple[str, list[str]]:
    """The delimiter of ``path`` and the cells of its header row (row 1)."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NetworkError(f"{path}: row 1: the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)")
    try:
        # A file whose lines end in a bare CR reads as one line: its header ends at the first.
        line = first.decode("utf-8-sig").rstrip("\r\n").split("\r")[0]
    except UnicodeDecodeError:
        raise NetworkError(f"{path}: row 1: not UTF-8 text; save the file as UTF-8") from None
    delim = "," if "," in line else next((d for d in DELIMITERS[1:] if d in line), ",")
    cells = next(csv.reader([line], delimiter=delim), [])
    return delim, [c.strip() for c in cells]


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if len(raw) > LINE_LIMIT:
                raise _BadLine(number, f"line longer than the maximum ({LINE_LIMIT:,} bytes)")
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise _BadLine(number, "not UTF-8 text; save the file as UTF-8") from None


def _diagnose(path: Path, delim: str, width: int) -> str | None:
    """The first row that a CSV reader can not take, and why: read again with Python's csv
    module, only after the fast reader failed (or a quote is left open), so that the message
    names the row as numbered in the file (the header is row 1; blank lines count)."""
    reader = csv.reader(_lines(path), delimiter=delim, strict=True)
    start = 1
    limit = csv.field_size_limit(CELL_LIMIT)
    try:
        for cells in reader:
            if start > 1 and len(cells) > width:
                return (
                    f"row {start}: {len(cells)} cells but the header names {width} "
                    f"(a decimal comma? write 1.5, or quote the cell)"
                )
            start = reader.line_num + 1
    except _BadLine as bad:
        return f"row {bad.line}: {bad.reason}"
    except csv.Error as exc:
        # A quote never closed swallows the rest of the file into one cell: at the end of the
        # data, or sooner at the cell size limit.
        if "end of data" in str(exc) or "EOF" in str(exc):
            return f'row {start}: a quote (") opens a cell that is never closed'
        if "field limit" in str(exc):
            return (
                f"row {start}: a cell longer than {CELL_LIMIT:,} characters "
                '(a quote (") never closed?)'
            )
        if "expected after" in str(exc):
            return (
                f'row {start}: a quoted cell has text after its closing quote ("" writes a quote)'
            )
        return f"row {start}: not a readable CSV ({exc})"
    finally:
        csv.field_size_limit(limit)
    return None


def _record_line(path: Path, delim: str, record: int) -> int:
    """The row of the file (header = row 1) where data record ``record`` (1 = the first after
    the header; blank lines are no record) begins: rows and records differ when the file has
    blank lines or cells that hold line breaks."""
    reader = csv.reader(_lines(path), delimiter=delim)
    start, seen = 1, 0
    for cells in reader:
        if start > 1 and cells:
            seen += 1
            if seen == record:
                return start
        start = reader.line_num + 1
    return record + 1


def _odd_quotes(path: Path) -> bool:
    """Whether the file holds an odd number of quote characters: in a well-formed CSV quotes
    come in pairs, and DuckDB drops a last record whose quote is never closed, silently."""
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b'"')
    return count % 2 == 1


SPACE_CHARS = r"\s\p{Z}\x{200B}\x{2060}\x{FEFF}"
SPACES = f"[{SPACE_CHARS}]"
"""What is trimmed from an id or a weight: ASCII white space (tab, line breaks), every Unicode
space separator (no-break, ideographic, ...), the zero-width space and word joiner, and a
byte-order mark (two files joined with ``cat`` leave one at the start of a line)."""


def _clean(column: str) -> str:
    """SQL for a cell trimmed of :data:`SPACES` and composed (NFC), NULL when nothing is left:
    two spellings of one name that print alike are one id."""
    if column == "NULL":
        return "NULL"
    return f"nullif(regexp_replace(nfc_normalize({column}), '^{SPACES}+|{SPACES}+$', '', 'g'), '')"


def _lone_carriage_returns(path: Path) -> bool:
    """Whether the file's lines end in a carriage return alone (the "CSV (Macintosh)" of old
    spreadsheets): a CR in the first megabyte and no line feed."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    return b"\r" in head and b"\n" not in head


def read_edges(path: Path | str) -> pa.Table:
    """Read and validate an edge-list CSV: ``source,target[,weight]`` with a header row.

    The cells are separated by commas, or by tabs or semicolons when the header row has no
    comma (:data:`DELIMITERS`); the text is UTF-8 (a byte-order mark is allowed). Raises
    :class:`NetworkError` naming the file, row (as numbered in the file: the header is row 1),
    column and reason for the first bad row: more cells than the header names (an unquoted
    decimal comma), a quote never closed, text that is not UTF-8, a missing source, a weight
    that is not a number, or a weight that is zero, negative or too small to invert (weights
    are strengths; a zero tie is no tie).
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise NetworkError(f"{path}: empty file (expected a header row source,target[,weight])")
    if _lone_carriage_returns(path):
        # Read as lines ending in LF, one for one, so every row keeps its number.
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "edges.csv"
            copy.write_bytes(path.read_bytes().replace(b"\r", b"\n"))
            return _read_edges(copy, path)
    return _read_edges(path, path)


def _read_edges(path: Path, shown: Path) -> pa.Table:
    """:func:`read_edges` of the file at ``path``, named ``shown`` in every message."""
    try:
        return _read_edge_file(path)
    except NetworkError as exc:
        raise NetworkError(str(exc).replace(f"{path}: ", f"{shown}: ", 1)) from None


def _shown_header(text: str, limit: int = 120) -> str:
    """The header row as an error shows it: a matrix of 300 labels is cut to its start."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _read_edge_file(path: Path) -> pa.Table:
    delim, header = _header(path)
    columns = [c.lower() for c in header]
    if "source" not in columns or "target" not in columns:
        # The public criminal networks (CAVIAR, UCINET's) come as matrices: a label row whose
        # first cell is blank or a word over the labels, and more columns than an edge list's.
        matrix = not header[0].strip() or len(header) > 3
        hint = (
            " (an adjacency matrix, labels in row 1 and column 1? read it with --matrix)"
            if matrix
            else ""
        )
        raise NetworkError(
            f"{path}: row 1: the header must name the columns source,target[,weight]; "
            f"found {_shown_header(delim.join(header))}{hint}"
        )
    for name in ("source", "target", "weight"):
        if columns.count(name) > 1:
            raise NetworkError(f"{path}: row 1: the header names the column {name} twice")
    if _odd_quotes(path):
        problem = _diagnose(path, delim, len(header))
        if problem is not None:
            raise NetworkError(f"{path}: {problem}")
    at = {
        name: f"c{columns.index(name)}"
        for name in ("source", "target", "weight")
        if name in columns
    }
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    con = duckdb.connect()
    try:
        try:
            # The dialect is given, not sniffed: DuckDB's sniffer takes a row with more cells
            # than the header for a new column (a decimal comma "1,5" read as 1) and may guess
            # an escape or comment character. Not parallel, so a quoted cell may hold a line
            # break; short rows are padded with empty cells (a missing weight is 1).
            rel = con.sql(
                f"SELECT * FROM read_csv(?, header = true, auto_detect = false, "
                f"columns = {{{types}}}, delim = ?, quote = '\"', escape = '\"', "
                f"null_padding = true, parallel = false, "
                f"max_line_size = {LINE_LIMIT})",
                params=[str(path), delim],
            )
            weight = at.get("weight", "NULL")
            # A line of white space only is a blank line; a row with any cell written is a
            # row (",,,note" is refused for its empty source, not skipped).
            # One test over the row's cells joined: a test per cell cost seconds a row on a
            # header of 20,000 columns.
            filled = f"regexp_matches(concat_ws('', *COLUMNS(*)), '[^{SPACE_CHARS}]')"
            con.register("raw", rel)
            con.execute(
                f"""CREATE TEMP TABLE e AS SELECT record, source, target, weight_text FROM (
                    SELECT row_number() OVER () AS record,
                    {_clean(at["source"])} AS source,
                    {_clean(at["target"])} AS target,
                    {_clean(weight)} AS weight_text,
                    {filled} AS filled
                FROM raw) WHERE filled"""
            )
        except duckdb.Error as exc:
            problem = _diagnose(path, delim, len(header))
            raise NetworkError(
                f"{path}: {problem}"
                if problem
                else f"{path}: not a readable CSV ({str(exc).splitlines()[0]})"
            ) from None
        bad = con.execute(
            """SELECT record, CASE
                    WHEN source IS NULL THEN 'source: empty'
                    WHEN weight_text IS NOT NULL AND TRY_CAST(weight_text AS DOUBLE) IS NULL
                        THEN 'weight: ' || weight_text || ' is not a number' || CASE
                            -- "1,000" is a thousand as often as "1,5" is one and a half
                            WHEN regexp_matches(weight_text, '^[0-9]+,[0-9]{3}$')
                            THEN ' (write ' || replace(weight_text, ',', '') || ' for a '
                                 || 'thousands separator, ' || replace(weight_text, ',', '.')
                                 || ' for a decimal comma)'
                            WHEN regexp_matches(weight_text, '^[0-9]+,[0-9]+$')
                            THEN ' (write decimals with a point: '
                                 || replace(weight_text, ',', '.') || ')'
                            ELSE '' END
                    WHEN NOT isfinite(TRY_CAST(weight_text AS DOUBLE))
                        THEN 'weight: ' || weight_text || ' is not finite'
                    WHEN TRY_CAST(weight_text AS DOUBLE) <= 0
                        THEN 'weight: ' || weight_text
                             || ' is not positive (weights count calls or meetings)'
                    WHEN NOT isfinite(1.0 / TRY_CAST(weight_text AS DOUBLE))
                        THEN 'weight: ' || weight_text
                             || ' is too small (its inverse, the length of the tie, is infinite)'
                END AS reason
            FROM e WHERE reason IS NOT NULL ORDER BY record LIMIT 1"""
        ).fetchone()
        if bad is not None:
            raise NetworkError(f"{path}: row {_record_line(path, delim, bad[0])}: {bad[1]}")
        table = con.sql(
            """SELECT source, target, coalesce(TRY_CAST(weight_text AS DOUBLE), 1.0) AS weight
            FROM e ORDER BY record"""
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
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise NetworkError(f"{path}: row {line}: not UTF-8 text; save the file as UTF-8") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
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


SHORTEST_TIE = 1e-9
"""A tie's length (1 / weight) below which lengths are rescaled: igraph's shortest paths
compare lengths to within 1e-10, so shorter ties would read as equal."""

LINE_LIMIT = 2_000_000
"""The longest line of an edge list, in bytes (DuckDB's ``max_line_size``; ingest's too)."""


def _id_order(name: str) -> tuple[int, int, str]:
    """Ids that are numbers in numeric order ("2" before "10"), then the others as text."""
    return (0, int(name), name) if name.isdecimal() and name.isascii() else (1, 0, name)


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
    import pyarrow.compute as pc

    # Vertices in the order of their ids (numbers as numbers), not of the rows: every ranking
    # breaks a tie by the vertex first in order, so one network gives the same picks and
    # figures however its file is sorted or which way round its rows are written.
    unique = pa.chunked_array(src.chunks + tgt.chunks).drop_null().unique().to_pylist()
    names = sorted(unique, key=_id_order)
    both = pa.array(names, pa.string())

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
    overflow = np.flatnonzero(~np.isfinite(merged_w))
    if len(overflow):
        a, b = (names[int(x)] for x in pairs[overflow[0]])
        raise NetworkError(
            f"the weights of the tie between {a} and {b} sum past the largest number "
            "(scale the weights down)"
        )
    distance = 1.0 / merged_w if len(merged_w) else merged_w
    longest = np.finfo(float).max / max(n - 1, 1)  # a path of n - 1 ties stays a number
    if len(distance) and (distance.min() < SHORTEST_TIE or distance.max() > longest):
        # Shortest paths do not change when every length is scaled by one number; igraph
        # compares lengths to within 1e-10, and a path's length must not overflow.
        with np.errstate(over="ignore"):
            distance = distance / distance.min()
        if distance.max() > longest:
            raise NetworkError(
                f"the weights span too wide a range for shortest paths ({merged_w.min():g} to "
                f"{merged_w.max():g}); scale them to a narrower one"
            )
        notes.append("tie lengths (1 / weight) scaled so that the shortest is 1")
    g = ig.Graph(n=n, edges=pairs.tolist() if len(pairs) else [], directed=False)
    g.vs["name"] = names
    if g.ecount():
        g.es["weight"] = merged_w.tolist()
        g.es["distance"] = distance.tolist()
    isolated = int(sum(1 for d in g.degree() if d == 0))
    if isolated:
        notes.append(f"{isolated:,} isolated node{'s' if isolated != 1 else ''} (no ties)")
    return Network(graph=g, notes=notes)


def load_network(path: Path | str, *, matrix: bool = False) -> Network:
    """Read an edge-list CSV (or an adjacency matrix with ``matrix=True``) into a Network."""
    edges = read_adjacency(path) if matrix else read_edges(path)
    try:
        network = build_network(edges)
    except NetworkError as exc:
        raise NetworkError(f"{path}: {exc}") from None
    if not matrix:
        # A count of calls under another name ("calls", "count") is not read: say so, since
        # every ranking on lengths (betweenness) and strengths then counts each tie once.
        columns = [c.lower() for c in _header(Path(path))[1]]
        others = [c for c in columns if c and c not in ("source", "target", "weight")]
        if others and "weight" not in columns:
            network.notes.append(
                f"no weight column: every tie counts 1 (column {', '.join(others)} not read; "
                "name the column weight to weigh ties by it)"
            )
    return network


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
