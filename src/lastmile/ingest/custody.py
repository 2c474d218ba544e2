"""Chain of custody: which files were read, as what bytes, and whether they still are.

Every file an ingest batch reads is a row of ``source_files`` with its SHA-256 as received,
its size and the time it was read (batch.py). :func:`source_files` lists them;
:func:`verify` compares the files of a folder on disk with them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from lastmile.ingest.batch import file_digest
from lastmile.ingest.files import regular_files
from lastmile.store import Workspace

MATCHED = "matched"
CHANGED = "changed"
NOT_INGESTED = "not ingested"
MISSING = "missing"
NOT_HASHED = "not hashed"  # read before schema version 4, when files were not hashed


def source_files(ws: Workspace) -> list[dict[str, Any]]:
    """Every file read, oldest first: batch, path, name, sha256, size, time read, records
    stored, and the batch that superseded it (if any)."""
    rows = ws.store.query(
        "SELECT f.batch_id, f.path, f.name, f.sha256, f.size_bytes, f.read_at, f.records, "
        "f.superseded_by FROM source_files f LEFT JOIN batches b ON b.batch_id = f.batch_id "
        "ORDER BY b.started_at, f.batch_id, f.path"
    )
    found: list[dict[str, Any]] = rows.to_pylist()
    return found


def _in_folder(recorded: str, folder: Path) -> bool:
    """Whether a path as recorded (relative ones: to the current folder) is in ``folder``."""
    return Path(os.path.abspath(recorded)).parent == Path(os.path.abspath(folder))


def verify(ws: Workspace, folder: Path) -> pa.Table:
    """For each file in ``folder`` (or the file given), whether it still matches what was
    ingested, and for each file once read from that folder that is no longer there:

    - ``matched``: its SHA-256 is one recorded for a file read (of the same name, or of
      another: ``detail`` says which);
    - ``changed``: a file of that name was read, with other content;
    - ``not ingested``: no file of that name or content was read;
    - ``not hashed``: a file of that name was read before hashes were recorded;
    - ``missing``: a file read from this folder (by the path recorded) is not there.

    Files are compared by name and content, not by path: a return moved to another folder
    still matches."""
    on_disk, _ = regular_files(folder)
    recorded = source_files(ws)
    by_hash: dict[str, list[dict[str, Any]]] = {}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in recorded:
        by_name.setdefault(r["name"], []).append(r)
        if r["sha256"]:
            by_hash.setdefault(r["sha256"], []).append(r)
    out: list[dict[str, Any]] = []
    names = set()
    for path in on_disk:
        names.add(path.name)
        d = file_digest(path)
        sha, size = d.sha256, d.size
        same_name = by_name.get(path.name, [])
        same_content = by_hash.get(sha, [])
        if same_content:
            named = [r for r in same_content if r["name"] == path.name] or same_content
            first = named[0]
            detail = "" if first["name"] == path.name else f"read as {first['name']}"
            later = sorted({r["superseded_by"] for r in named if r["superseded_by"]})
            if len(later) == len(named):
                detail = "; ".join(filter(None, [detail, f"superseded by {', '.join(later)}"]))
            status, batch = MATCHED, ", ".join(sorted({r["batch_id"] for r in named}))
        elif any(r["sha256"] for r in same_name):
            status, batch = CHANGED, ", ".join(sorted({r["batch_id"] for r in same_name}))
            detail = "content differs from every file of this name read"
        elif same_name:
            status, batch = NOT_HASHED, ", ".join(sorted({r["batch_id"] for r in same_name}))
            detail = "read before lastmile recorded hashes"
        else:
            status, batch, detail = NOT_INGESTED, "", ""
        out.append(
            {
                "status": status,
                "path": str(path),
                "sha256": sha,
                "size_bytes": size,
                "batch_id": batch,
                "detail": detail,
            }
        )
    if Path(folder).is_dir():
        gone: dict[str, dict[str, Any]] = {}
        for r in recorded:
            if r["name"] not in names and _in_folder(r["path"], folder):
                gone.setdefault(r["path"], r)
        for path_text, r in sorted(gone.items()):
            out.append(
                {
                    "status": MISSING,
                    "path": path_text,
                    "sha256": r["sha256"],
                    "size_bytes": r["size_bytes"],
                    "batch_id": r["batch_id"],
                    "detail": "",
                }
            )
    schema = pa.schema(
        [
            ("status", pa.string()),
            ("path", pa.string()),
            ("sha256", pa.string()),
            ("size_bytes", pa.int64()),
            ("batch_id", pa.string()),
            ("detail", pa.string()),
        ]
    )
    return pa.Table.from_pylist(out, schema=schema)
