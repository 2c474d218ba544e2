"""Ingest under random input (issue 8, item 24): random bytes, random CSV structure and random
values. Ingest never crashes; every input line is counted once, as loaded, duplicate or
rejected; every rejected line has a reason. The number of examples is bounded so that the
test runs in CI in a few tens of seconds."""

from __future__ import annotations

import csv
import io
import itertools
import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lastmile.ingest import ingest_paths
from lastmile.ingest.validate import file_columns
from lastmile.model import RECORD_TYPES_BY_NAME
from lastmile.store import Workspace, open_workspace

from .conftest import SMALL_OPERATION

TYPES = ("arrests", "drug_seizures", "communications")

# Values that are valid for some column, mixed with hostile text.
GOOD_VALUES = [
    "INV-1", "INV-2", "S-1", "2022-06-01", "2022-07-04T21:15:09-06:00", "2022-07-04 21:15Z",
    "fentanyl", "PILL", "powder", "count", "kg", "12000", "0.09", "1e3", "3035550187",
    "+52 33 1234 5678", "call", "text", "app_message", "WhatsApp", "74", "CO", "Denver",
]  # fmt: skip
HOSTILE_VALUES = [
    "", " ", "1.7e308", "-1", "NaN", "inf", "9999-12-31", "[/red]", "\x1b[31m", "a\x00b",
    '"', "a,b", "x\ny", "\r", "\u202e", "😀", "é", "0x10", "2022-02-30", "   INV-1  ",
]  # fmt: skip
SAFE_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='",'),
    max_size=12,
)

counter = itertools.count()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("fuzz")
    with open_workspace(folder / "fuzz.duckdb") as workspace:
        ingest_paths(
            workspace,
            [SMALL_OPERATION / n for n in ("agencies.csv", "investigations.csv", "subjects.csv")],
            rejects=folder / "base-rejects.csv",
        )
        yield workspace
    shutil.rmtree(folder, ignore_errors=True)


VALUE = st.sampled_from(GOOD_VALUES) | st.sampled_from(HOSTILE_VALUES) | st.text(max_size=8)


@st.composite
def csv_file(draw: st.DrawFn) -> tuple[str, bytes, int | None]:
    """(record type, file bytes, the number of data lines when the file is well formed)."""
    name = draw(st.sampled_from(TYPES))
    rt = RECORD_TYPES_BY_NAME[name]
    known = [c.name for c in file_columns(rt)]
    kind = draw(st.sampled_from(["bytes", "structure", "values"]))
    if kind == "bytes":
        return name, draw(st.binary(max_size=600)), None
    if kind == "values":
        # A well-formed file: every required column, one field per column on every line, and
        # values that hold no quote or line break, so that lines and records are the same.
        header = list(rt.required_columns) + draw(
            st.lists(st.sampled_from(known), unique=True, max_size=4).map(
                lambda cs: [c for c in cs if c not in rt.required_columns]
            )
        )
        rows = draw(
            st.lists(
                st.lists(
                    st.sampled_from(GOOD_VALUES) | SAFE_TEXT,
                    min_size=len(header),
                    max_size=len(header),
                ).filter(lambda r: any(v.strip() for v in r)),
                max_size=12,
            )
        )
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        # In any encoding the format accepts: UTF-8 (with or without BOM), UTF-16 either way.
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be"]))
        bom = "\ufeff".encode(encoding) if encoding == "utf-16-be" else b""
        return name, bom + buf.getvalue().encode(encoding), len(rows)
    # Random structure: any header (known, unknown, repeated, blank names), ragged rows,
    # hostile values, any line endings and encodings.
    names = st.sampled_from([*known, "", "extra", "_line", "EXTRA"])
    if draw(st.booleans()):
        # Mostly the columns ingest needs, in any order, with others among them.
        header = draw(st.permutations([*rt.required_columns, *draw(st.lists(names, max_size=4))]))
    else:
        header = draw(st.lists(names, min_size=1, max_size=9))
    rows = draw(st.lists(st.lists(VALUE, max_size=10), max_size=10))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.replace('"', draw(st.sampled_from(['"', "", '""'])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "latin-1"]))
    if encoding == "utf-16-be":
        data = "\ufeff".encode(encoding) + text.encode(encoding, errors="replace")
    else:
        data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # cut anywhere
    return name, data, None


# CI replays the same examples every run (derandomize), so that a red CI always names a
# change, not a lucky draw. LASTMILE_FUZZ_RANDOM=1 draws new ones: run it when touching ingest.
# A random run once hit DuckDB's CSV reader stopping with "invalid state" on an arrests file;
# it did not replay, and is noted on issue 8.
@settings(
    max_examples=60,
    deadline=None,
    derandomize=not os.environ.get("LASTMILE_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=csv_file())
def test_ingest_counts_every_line_once_and_never_crashes(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory, case: tuple[str, bytes, int | None]
) -> None:
    name, data, lines = case
    folder = tmp_path_factory.mktemp("case")
    path = folder / f"{name}-{next(counter)}.csv"
    path.write_bytes(data)
    table = "communications_sources" if name == "communications" else name
    before = ws.record_counts()[table]
    result = ingest_paths(ws, [path], rejects=folder / "rejects.csv")  # never raises
    c = result.counts[name]
    assert c.rows == c.loaded + c.duplicate + c.rejected
    assert ws.record_counts()[table] - before == c.loaded
    if lines is not None:
        assert c.rows == lines  # every line of a well-formed file, counted once
    if result.rejects_file is None:
        assert c.rejected == 0
        return
    with result.rejects_file.open(encoding="utf-8") as fh:
        rejected = list(csv.DictReader(fh))
    assert all(r["reason"].strip() and r["reason"] != "None" for r in rejected)
    row_level = {r["row"] for r in rejected if int(r["row"]) > 1}
    file_level = [r for r in rejected if int(r["row"]) <= 1]
    assert len(file_level) <= 1
    if not file_level:
        assert len(row_level) == c.rejected
