"""Untrusted text on the terminal: shown as plain text, its control characters visible.

Anything that comes from data or arguments (values, file names, ids, an error that quotes
them) may hold rich markup (``[/red]``), ANSI escape sequences or characters that reorder
the line (bidirectional overrides). :func:`plain` makes it a ``rich.text.Text`` (never parsed
as markup) with every such character written as an escape: ``ESC`` as ``\\x1b``, U+202E as
``\\u202e``.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls and DEL (tab and line breaks included: a message is one line), and the
# format characters that change how a line is displayed (zero-width, bidirectional controls,
# the byte-order mark).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``str(text)`` with control and invisible format characters written as escapes."""
    return _INVISIBLE.sub(_escape, str(text))


def plain(text: object, style: str = "") -> Text:
    """Untrusted text as a rich Text: never markup, control characters visible."""
    return Text(visible(text), style=style)


def labelled(label: str, style: str, text: object) -> Text:
    """``label`` in ``style`` (our own words), a space, then untrusted ``text``."""
    return Text.assemble((label, style), " ", plain(text))
