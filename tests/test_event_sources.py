"""Regression tests for ingest rules no other test pinned down (issue 8, items 22 and 26)."""

from __future__ import annotations

from pathlib import Path

from lastmile.ingest import ingest_paths
from lastmile.store import Workspace
from lastmile.store.schema import time_as_written_sql

HEAD = "agency_id,name,kind\nDEA,Drug Enforcement Admin,federal\n"
INV = "investigation_id,agency_id,division,opened\nINV-1,DEA,Rocky Mountain,2022-01-01\n"
EVENT = (
    "communication_id,investigation_id,time,from_selector,to_selector,kind\n"
    "E-1,INV-1,2022-03-01T10:00:00Z,(303) 555-0101,303-555-0102,call\n"
)


def _folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _counts(ws: Workspace) -> tuple[int, int]:
    events = ws.store.rows("SELECT count(*) FROM communications")[0][0]
    sources = ws.store.rows("SELECT count(*) FROM communications_sources")[0][0]
    return int(events), int(sources)


def test_the_same_event_in_a_second_return_keeps_both_sources(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Two returns (files of other names) report one call on the same line: one event, two
    sources, whether they come in one batch or in two."""
    base = _folder(tmp_path / "base", {"agencies.csv": HEAD, "investigations.csv": INV})
    ingest_paths(workspace, [base], rejects=tmp_path / "r0.csv")
    first = _folder(tmp_path / "a", {"communications-att.csv": EVENT})
    second = _folder(tmp_path / "b", {"communications-tmo.csv": EVENT})
    assert ingest_paths(workspace, [first], rejects=tmp_path / "r1.csv").loaded == 1
    result = ingest_paths(workspace, [second], rejects=tmp_path / "r2.csv")
    assert (result.loaded, result.duplicate) == (1, 0)
    assert _counts(workspace) == (1, 2)
    # The same file again adds nothing.
    again = ingest_paths(workspace, [second], rejects=tmp_path / "r3.csv")
    assert (again.loaded, again.duplicate) == (0, 1)
    assert _counts(workspace) == (1, 2)


def test_two_returns_in_one_batch_keep_both_sources(workspace: Workspace, tmp_path: Path) -> None:
    folder = _folder(
        tmp_path / "op",
        {
            "agencies.csv": HEAD,
            "investigations.csv": INV,
            "communications-att.csv": EVENT,
            "communications-tmo.csv": EVENT,
        },
    )
    ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert _counts(workspace) == (1, 2)


def test_the_first_file_in_reading_order_wins_an_id(workspace: Workspace, tmp_path: Path) -> None:
    """docs/format.md: two files of one type with the same id: the file read first (by name
    within a folder) wins, the other's row is rejected with the place of the first."""
    folder = _folder(
        tmp_path / "op",
        {
            "agencies.csv": HEAD,
            "investigations-b.csv": INV.replace("Rocky Mountain", "Houston"),
            "investigations-a.csv": INV,
        },
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.rejected == 1
    rows = workspace.store.rows("SELECT division FROM investigations")
    assert rows == [("Rocky Mountain",)]
    assert "investigations-a.csv:2" in (tmp_path / "r.csv").read_text(encoding="utf-8")


def test_an_event_key_is_the_digest_of_its_documented_canonical_text(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The event key is stable across versions (docs/format.md, "Provenance"): the MD5 of
    time, normalized endpoints, kind, platform and duration joined by \\x1f, an absent value
    as empty text. A change here re-keys every stored event. An event's source carries no
    content hash of its own; the file, line and investigation identify it."""
    from lastmile.store.schema import digest

    folder = _folder(
        tmp_path / "op",
        {"agencies.csv": HEAD, "investigations.csv": INV, "communications.csv": EVENT},
    )
    ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    text = "\x1f".join(["2022-03-01 10:00:00", "+13035550101", "+13035550102", "call", "", ""])
    rows = workspace.store.rows(
        "SELECT CAST(c.event_key AS VARCHAR), s.content_hash, s.source_row "
        "FROM communications c JOIN communications_sources s USING (event_key)"
    )
    assert rows == [(str(digest(text)), None, 2)]


def test_known_keys_and_content_hashes_never_change(workspace: Workspace, tmp_path: Path) -> None:
    """Keys and content hashes stored by earlier versions, written out: a change of how the
    digest is computed (byte order, the text it covers) re-keys every stored record, so that
    a workspace would take the same call loaded again for a new one."""
    events = (
        "communication_id,investigation_id,time,from_selector,to_selector,kind,duration_s\n"
        "E-1,INV-1,2022-03-01T10:00:00Z,(303) 555-0101,303-555-0102,call,95\n"
        "E-2,INV-1,2022-03-01T04:00:05-06:00,+1 720 555 0199,Jaime.R@example.com,text,\n"
    )
    folder = _folder(
        tmp_path / "op",
        {"agencies.csv": HEAD, "investigations.csv": INV, "communications.csv": events},
    )
    assert ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv").loaded == 4
    keys = workspace.store.rows(
        "SELECT CAST(event_key AS VARCHAR), to_selector FROM communications ORDER BY time"
    )
    assert keys == [
        ("00d05596-6fe4-07bc-3506-448fc379700f", "+13035550102"),
        ("6157d8b2-4e9b-ef29-427b-15b2cd48d7bd", "jaime.r@example.com"),
    ]
    hashes = workspace.store.rows(
        "SELECT CAST(content_hash AS VARCHAR) FROM agencies "
        "UNION ALL SELECT CAST(content_hash AS VARCHAR) FROM investigations"
    )
    assert sorted(hashes) == [
        ("36247730-f152-5d21-87de-0b03f1061220",),
        ("4d1540a4-b4cd-4cb2-ddb9-9f6389a1b54f",),
    ]


def test_a_time_is_kept_as_written_only_where_it_differs_from_the_canonical_text(
    workspace: Workspace, tmp_path: Path
) -> None:
    """``time_original`` is NULL where the text is exactly the stored time in the canonical
    form (UTC, T and Z, to the second), and the text otherwise; either way the text as
    written comes back (``time_as_written_sql``), on both stores."""
    written = [
        "2022-03-01T10:00:00Z",  # canonical: not stored again
        "2022-03-01T03:00:01-07:00",  # an offset
        "2022-03-01 10:00:02",  # a space, no zone
        "2022-03-01T10:00:03.250Z",  # a fraction of a second
        "2022-03-01T10:00:04+00:00",  # UTC as an offset
    ]
    lines = "".join(
        f"E-{i},INV-1,{t},(303) 555-0101,303-555-0102,call\n" for i, t in enumerate(written)
    )
    folder = _folder(
        tmp_path / "op",
        {
            "agencies.csv": HEAD,
            "investigations.csv": INV,
            "communications.csv": EVENT.splitlines()[0] + "\n" + lines,
        },
    )
    result = ingest_paths(workspace, [folder], rejects=tmp_path / "r.csv")
    assert result.counts["communications"].loaded == len(written)
    as_written = time_as_written_sql("c.time", "s.time_original", workspace.store.kind)
    rows = workspace.store.rows(
        f"SELECT s.time_original, {as_written} FROM communications_sources s "
        "JOIN communications c ON c.event_key = s.event_key ORDER BY s.source_row"
    )
    assert [r[1] for r in rows] == written
    assert [r[0] for r in rows] == [None, *written[1:]]
