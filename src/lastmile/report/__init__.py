"""The operation report: ``compute`` (pure functions over the store) and ``render``."""

from __future__ import annotations

from typing import Any

from lastmile.report.compute import ReportError, ReportOptions, canonical_division, compute_report

FORMATS = ("json", "md", "html")


def render_report(report: dict[str, Any], fmt: str) -> str:
    """The report as text in one of ``FORMATS``."""
    from lastmile.report import render as renderers  # the module, beside this function

    if fmt == "json":
        return renderers.render_json(report)
    if fmt == "md":
        return renderers.render_markdown(report)
    if fmt == "html":
        return renderers.render_html(report)
    raise ReportError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")


__all__ = [
    "FORMATS",
    "ReportError",
    "ReportOptions",
    "canonical_division",
    "compute_report",
    "render_report",
]
