"""Attaching screened posts to an investigation: posts, their authors' accounts and the
contact selectors found in them become records (an interchange batch, ingested as any other,
with the same validation and provenance). Authors and contacts are ``selectors`` records, so
``lastmile resolve`` ties them to the subjects and selectors other investigations hold; the
report counts the investigation as one involving those platforms from then on."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from lastmile.model import POSTS, SELECTORS
from lastmile.selectors import normalize, resolve_platform
from lastmile.synth.writer import Writer


def _id(investigation: str, *parts: str) -> str:
    digest = hashlib.md5("\x1f".join(parts).encode()).hexdigest()[:12]
    return f"{investigation}-SCR-{digest}"


def attach(
    ws: Any, investigation: str, posts: pa.Table, results: pa.Table, rejects: Path | None = None
) -> Any:
    """Ingest ``posts`` (read_posts' table) with their screening ``results`` (same order) as
    records of ``investigation``; returns the ingest result."""
    from lastmile.ingest import ingest_paths

    known = ws.store.rows(
        "SELECT count(*) FROM investigations WHERE investigation_id = ?", (investigation,)
    )
    if not known[0][0]:
        raise ValueError(f"no investigation {investigation!r} in the workspace")
    post_rows: list[dict[str, str]] = []
    selector_rows: dict[str, dict[str, str]] = {}
    src = posts.to_pylist()
    for p, r in zip(src, results.to_pylist(), strict=True):
        post_id = p.get("post_id") or _id(
            investigation, "post", str(p.get("file")), str(p.get("row")), p.get("text") or ""
        )
        author_id = ""
        platform = resolve_platform(p.get("platform"))
        if p.get("author") and platform is not None:
            norm = normalize("account", p["author"], platform=platform.value)
            author_id = _id(investigation, "account", platform.value, norm.value)
            selector_rows.setdefault(
                author_id,
                {
                    "selector_id": author_id,
                    "investigation_id": investigation,
                    "kind": "account",
                    "value": p["author"],
                    "platform": platform.value,
                },
            )
        for key in r["selectors"]:
            kind, _, rest = key.partition(":")
            if kind == "phone":
                row = {"kind": "phone", "value": rest, "platform": ""}
            else:
                slug, _, handle = rest.partition(":")
                found = resolve_platform(slug)
                row = {"kind": "account", "value": handle, "platform": found.value if found else ""}
            sid = _id(investigation, key)
            selector_rows.setdefault(
                sid, {"selector_id": sid, "investigation_id": investigation, **row}
            )
        post_rows.append(
            {
                "post_id": post_id,
                "investigation_id": investigation,
                "platform": platform.value if platform else (p.get("platform") or ""),
                "author": p.get("author") or "",
                "author_selector_id": author_id,
                "posted_at": p.get("posted_at") or "",
                "text": p.get("text") or "",
                "label": r["label"],
                "score": f"{r['score']:.4f}",
                "indicators": "|".join(i.replace("|", "/") for i in r["indicators"]),
                "drugs": "|".join(r["drugs"]),
                "selectors": "|".join(r["selectors"]),
            }
        )
    with tempfile.TemporaryDirectory(prefix="lastmile-attach-") as tmp:
        writer = Writer(Path(tmp))
        try:
            writer.record_type(SELECTORS, list(selector_rows.values()))
            writer.record_type(POSTS, post_rows)
        finally:
            writer.close()
        return ingest_paths(ws, [Path(tmp)], rejects=rejects)
