"""Charts for the operation report: inline SVG (matplotlib) and Unicode text bars.

Both kinds draw numbers they are given; they compute nothing about the operation.

The SVG charts are made for embedding in a self-contained HTML page:

- drawn with matplotlib's SVG backend on a standalone ``Figure`` (no pyplot state, no GUI);
- text kept as ``<text>`` (``svg.fonttype = "none"``), escaped by matplotlib's XML writer;
- the XML prolog, DOCTYPE and namespace declarations are removed, so the markup holds no
  URL at all (an inline ``<svg>`` in HTML needs none), and ``xlink:href`` becomes ``href``;
- fixed width and height are dropped in favour of the ``viewBox``, so CSS can size it;
- element ids are prefixed with the chart's key, so several charts share a page without id
  clashes, and hashed ids are salted with it (``svg.hashsalt``), so the same input gives
  byte-identical output.

A chart with nothing to draw (no rows, or every value zero) is ``None``; the caller shows a
"no data" note instead of an empty axis.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede any pyplot import elsewhere in the process

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

__all__ = [
    "BLOCKS",
    "INK",
    "PALETTE",
    "compact_number",
    "grouped_bars_svg",
    "hbar_svg",
    "text_bars",
]

# Colours used by the charts and echoed by the page's CSS.
INK = "#1b1f24"
MUTED = "#5b6470"
GRID = "#d9dde3"
PALETTE = {
    "investigations": "#1f3b73",
    "doses": "#9b2226",
    "social_media": "#3a6ea5",
    "encrypted": "#6a4c93",
    "other": "#8a929c",
    "arrests": "#1f3b73",
    "seizures": "#d08c2a",
}

MAX_BARS = 30  # longer lists are cut to their first MAX_BARS rows (they arrive sorted)
LABEL_CHARS = 28  # longer labels are shortened with an ellipsis

_RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 10.0,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "text.color": INK,
    "text.usetex": False,
}


def compact_number(value: float) -> str:
    """Axis-tick style: 950, 12K, 1.5M, 2B (no thousands separators needed)."""
    v = abs(value)
    sign = "-" if value < 0 else ""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= scale:
            return f"{sign}{v / scale:.3g}{suffix}"
    return f"{sign}{v:.3g}" if v != int(v) else f"{sign}{int(v)}"


def _label(text: str, limit: int = LABEL_CHARS) -> str:
    """A label safe for matplotlib: one line, bounded length, no mathtext."""
    one_line = " ".join(str(text).split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1].rstrip() + "…"
    # An even number of unescaped "$" would switch matplotlib into mathtext.
    return one_line.replace("$", r"\$")


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _style_axes(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)
    ax.tick_params(length=0)


def _to_svg(fig: Figure, salt: str, aria_label: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"lastmile-{salt}"}):
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",
            pad_inches=0.08,
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    raw = buf.getvalue()
    svg = raw[raw.index("<svg") :]
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    # matplotlib numbers its groups per figure (figure_1, axes_1, ...): prefix every id and
    # every reference to one, so several charts can share a page.
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", salt)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)

    def opening(match: re.Match[str]) -> str:
        tag = re.sub(r'\s(width|height)="[^"]*"', "", match.group(0))
        extra = f' class="chart" role="img" aria-label="{escape(aria_label, quote=True)}"'
        return tag[:-1] + extra + ">"

    return re.sub(r"<svg\b[^>]*>", opening, svg, count=1).strip() + "\n"


def hbar_svg(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    key: str,
    aria_label: str,
    colors: Sequence[str] | str = PALETTE["investigations"],
    value_format: Callable[[float], str] = compact_number,
    xlabel: str = "",
    legend: Sequence[tuple[str, str]] = (),
) -> str | None:
    """Horizontal bars, first row at the top, value printed at each bar's end.

    ``legend`` is a list of (label, colour) swatches, shown above the plot.
    """
    n = min(len(labels), len(values), MAX_BARS)
    vals = [_finite(float(v)) for v in values[:n]]
    if n == 0 or max(vals, default=0.0) <= 0:
        return None
    colour_list = [colors] * n if isinstance(colors, str) else list(colors[:n])
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.0, 0.7 + 0.3 * n))
        ax = fig.add_subplot()
        ys = list(range(n))
        bars = ax.barh(ys, vals, color=colour_list, height=0.7)
        ax.set_yticks(ys, labels=[_label(s) for s in labels[:n]])
        ax.invert_yaxis()
        ax.set_ylim(n - 0.5, -0.5)
        top = max(vals)
        ax.set_xlim(0, top * 1.22)  # room for the value labels
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: compact_number(x)))
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.bar_label(bars, labels=[value_format(v) for v in vals], padding=3, fontsize=9)
        if xlabel:
            ax.set_xlabel(xlabel)
        if legend:
            handles = [Patch(color=colour, label=_label(name, 40)) for name, colour in legend]
            ax.legend(  # above the plot, where it can cover no bar
                handles=handles,
                frameon=False,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                ncols=len(handles),
                fontsize=9,
                borderaxespad=0.2,
            )
        _style_axes(ax)
        ax.spines["left"].set_visible(False)
        return _to_svg(fig, key, aria_label)


Series = tuple[str, Sequence[float], str]  # (legend name, one value per category, colour)


def grouped_bars_svg(
    categories: Sequence[str],
    panels: Sequence[Sequence[Series]],
    *,
    key: str,
    aria_label: str,
) -> str | None:
    """Vertical grouped bars, one group per category, in panels stacked on a shared x axis.

    Each panel holds series of the same unit (counts, say, or doses); a panel with nothing
    to show is left out, and so is the chart when no panel is left.
    """
    n = len(categories)
    kept = []
    for panel in panels:
        clean = [(name, [_finite(float(v)) for v in vals[:n]], c) for name, vals, c in panel]
        clean = [(name, vals + [0.0] * (n - len(vals)), c) for name, vals, c in clean]
        if clean and max((max(v, default=0.0) for _, v, _c in clean), default=0.0) > 0:
            kept.append(clean)
    if n == 0 or not kept:
        return None
    with matplotlib.rc_context(_RC):
        # Drawn for a full-width slot: twice the width of the bar charts at the same scale.
        fig = Figure(figsize=(14.0, 0.9 + 2.7 * len(kept)))
        axes = fig.subplots(len(kept), 1, sharex=True, squeeze=False)[:, 0]
        for ax, panel in zip(axes, kept, strict=True):
            width = 0.8 / len(panel)
            for i, (name, vals, colour) in enumerate(panel):
                offset = (i - (len(panel) - 1) / 2) * width
                xs = [x + offset for x in range(n)]
                ax.bar(xs, vals, width=width, color=colour, label=_label(name, 40))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: compact_number(y)))
            ax.grid(axis="y", color=GRID, linewidth=0.6)
            ax.legend(frameon=False, loc="upper left", ncols=len(panel), fontsize=9)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.18)  # head-room for the legend
            _style_axes(ax)
        last = axes[-1]
        last.set_xticks(list(range(n)), labels=[_label(c, 12) for c in categories])
        if n > 18:
            for tick in last.get_xticklabels():
                tick.set_rotation(45)
                tick.set_horizontalalignment("right")
                tick.set_rotation_mode("anchor")
        last.set_xlim(-0.6, n - 0.4)
        return _to_svg(fig, key, aria_label)


# ---------------------------------------------------------------------------------------
# Text charts (for Markdown code blocks)

BLOCKS = " ▏▎▍▌▋▊▉█"  # index = eighths of a cell


def text_bars(
    rows: Sequence[tuple[str, float]],
    *,
    width: int = 40,
    value_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    label_chars: int = LABEL_CHARS,
) -> str:
    """A bar chart in Unicode block characters, one row per line, scaled to the largest value.

    Zero-valued or all-zero rows get an empty bar (no division by zero). Labels are made
    single-line and shortened; the caller puts the result in a code block.
    """
    if not rows:
        return ""
    labels = []
    for name, _ in rows:
        one = " ".join(str(name).split())
        labels.append(one if len(one) <= label_chars else one[: label_chars - 1] + "…")
    vals = [max(_finite(float(v)), 0.0) for _, v in rows]
    top = max(vals)
    label_w = max(len(s) for s in labels)
    shown = [value_format(v) for v in vals]
    value_w = max(len(s) for s in shown)
    lines = []
    for label, v, text in zip(labels, vals, shown, strict=True):
        eighths = round(v / top * width * 8) if top > 0 else 0
        if v > 0 and eighths == 0:
            eighths = 1  # a non-zero value always shows a sliver
        bar = "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")
        lines.append(f"{label:<{label_w}}  {bar:<{width}}  {text:>{value_w}}".rstrip())
    return "\n".join(lines)
